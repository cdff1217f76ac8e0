"""Open the state store and a ready engine from qbsf's settings (read by attribute: no import of the app layer).

Used by the `qbsf sync …` and `qbsf link` commands for one-shot passes; the long-running connector builds its
engine the same way, but with its own Web Connector transport. The QuickBooks transport comes from the caller
(``qbsf.app.transports`` builds them from settings): the sync layer never imports the simulator.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from qbsf.errors import ConfigError
from qbsf.sync.engine import SyncConfig, SyncEngine, load_mappings
from qbsf.sync.state import StateStore

logger = logging.getLogger(__name__)


def state_url(settings: Any) -> str:
    """The state database URL the settings name (SQLite in the data dir by default)."""
    resolve = getattr(settings, "resolved_state_url", None)
    if callable(resolve):
        return str(resolve())
    return getattr(settings, "state_url", "") or "qbsf-state.db"


@contextlib.contextmanager
def open_state(settings: Any, *, tenant: str | None = None) -> Iterator[StateStore]:
    """The state store the settings name (``tenant``'s rows of it: a hosted deployment's company), closed
    afterwards."""
    state = StateStore(state_url(settings), tenant=tenant)
    try:
        yield state
    finally:
        state.close()


def mappings_dir(settings: Any) -> Path:
    """The mapping CSV folder the settings name."""
    resolve = getattr(settings, "resolved_mappings_dir", None)
    return Path(resolve()) if callable(resolve) else Path(getattr(settings, "mappings_dir", "") or "mappings")


@contextlib.contextmanager
def open_engine(settings: Any, secrets: Any, transport_for: Callable[[Any], Any], *,
                tenant: str | None = None) -> Iterator[SyncEngine]:
    """A :class:`SyncEngine` on the configured Salesforce org, QuickBooks company, state (``tenant``'s rows of it)
    and mappings.

    ``transport_for(settings.quickbooks)`` builds the QuickBooks transport (``qbsf.app.transports``)."""
    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
    from qbsf.salesforce.connect import client_from_settings

    config = SyncConfig.from_settings(settings)
    mappings = load_mappings(mappings_dir(settings))
    if not mappings:
        raise ConfigError(f"no mapping CSVs in {mappings_dir(settings)}",
                          hint="copy examples/mappings/*.csv there, or set mappings_dir")
    sf = client_from_settings(settings.salesforce, secrets)
    transport = transport_for(settings.quickbooks)
    qb = QuickBooksClient(transport, default_accounts=DefaultAccounts(
        income=config.income_account or None, cogs=config.cogs_account or None,
        asset=config.asset_account or None, expense=config.expense_account or None, ar=config.ar_account or None))
    state = StateStore(state_url(settings), tenant=tenant)
    try:
        yield SyncEngine(settings, sf, qb, state, mappings)  # the settings: QB → SF reads its own from them
    finally:
        state.close()
        qb.close()
        sf.close()
        simulator = getattr(transport, "sim", None)
        if simulator is not None:
            simulator.close()
