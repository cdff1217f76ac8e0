"""Wire the real pieces into the run loop: Salesforce client, QuickBooks client, state store and sync engine.

:class:`EngineServices` is the :class:`qbsf.app.runtime.Services` the connector drives in production (and in the
demo, against the emulators). It also answers the dashboard's two questions that need a live system: the
QuickBooks chart of accounts (QB Default Accounts check) and one Salesforce record by Id (mapping preview).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

from qbsf.app.runtime import CycleRequest
from qbsf.app.settings import ChartAccount, SecretStoreLike, Settings, chart_from_records
from qbsf.errors import ConfigError, QbsfError, Retriable

log = logging.getLogger(__name__)


class EngineServices:
    """The connector's systems, built from settings. QuickBooks calls are serialised with a lock because a
    QuickBooks session serves one request at a time (the dashboard's account check shares the cycle's session)."""

    def __init__(self, settings: Settings, secrets: SecretStoreLike | None, state: Any, *,
                 transport_factory: Callable[[], Any] | None = None,
                 sf_client_factory: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self.secrets = secrets
        self.state = state
        self._transport_factory = transport_factory
        self._sf_client_factory = sf_client_factory
        self._qb_lock = threading.RLock()
        self.sf: Any = None
        self.qb: Any = None
        self._transport_in_use: Any = None
        self._mappings_seen: tuple[tuple[str, int, int], ...] = ()
        self.engine: Any = None

    def apply_settings(self, settings: Settings) -> None:
        """New settings before a Start: a changed Salesforce section means a new client (and a new login)."""
        if settings.salesforce != self.settings.salesforce and self.sf is not None:
            self.sf.close()
            self.sf = None
        self.settings = settings

    # ---- Salesforce ----------------------------------------------------------------------------------------------
    def connect_salesforce(self) -> str:
        """Authenticate and make one cheap call (limits) so a bad setting shows now, not in the first cycle."""
        if self.sf is None:
            if self._sf_client_factory is not None:
                self.sf = self._sf_client_factory()
            else:
                from qbsf.salesforce.connect import client_from_settings

                self.sf = client_from_settings(self.settings.salesforce, self.secrets)
        self.sf.limits()
        url = getattr(self.sf, "instance_url", None) or self.settings.salesforce.instance_url
        return str(url)

    def fetch_record(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """One Salesforce record by Id (mapping preview); None when it does not exist."""
        if self.sf is None:
            raise ConfigError("Salesforce is not connected", hint="Start the connector first")
        from qbsf.salesforce.errors import SalesforceError

        try:
            return dict(self.sf.get(sobject, record_id))
        except SalesforceError as exc:
            if "NOT_FOUND" in str(exc) or "404" in str(exc):
                return None
            raise

    # ---- QuickBooks ----------------------------------------------------------------------------------------------
    def _transport(self) -> Any:
        if self._transport_factory is not None:
            return self._transport_factory()
        from qbsf.sync.runtime import qb_transport

        return qb_transport(self.settings.quickbooks)

    def connect_quickbooks(self) -> str:
        """Open the QuickBooks session and build the sync engine over it; return the company name."""
        from qbsf.quickbooks.client import QuickBooksClient

        with self._qb_lock:
            try:
                transport = self._transport()
            except ConfigError:
                raise
            except QbsfError as exc:
                raise Retriable(f"QuickBooks is not reachable: {exc}") from exc
            except OSError as exc:
                raise Retriable(f"QuickBooks is not reachable: {exc}") from exc
            self._transport_in_use = transport
            client = QuickBooksClient(transport)
            try:
                company = client.company()
            except Exception:
                client.close()
                raise
            self.qb = client
            self.engine = self._build_engine()
            return str(getattr(company, "CompanyName", None) or "QuickBooks company")

    def _mappings_fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        from qbsf.sync.runtime import mappings_dir

        folder = mappings_dir(self.settings)
        if not folder.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.csv")))

    def _build_engine(self) -> Any:
        from qbsf.sync.engine import SyncConfig, SyncEngine, load_mappings
        from qbsf.sync.runtime import mappings_dir

        folder = mappings_dir(self.settings)
        self._mappings_seen = self._mappings_fingerprint()
        mappings = load_mappings(folder) if folder.is_dir() else {}
        if not mappings:
            log.warning("no mapping CSVs in %s: nothing will sync until one is uploaded", folder,
                        extra={"mark": "warn"})
        return SyncEngine(SyncConfig.from_settings(self.settings), self.sf, self.qb, self.state, mappings)

    def _reload_mappings_if_changed(self) -> None:
        # Between cycles is the safe moment: an uploaded or deleted mapping applies from the next cycle on.
        if self._mappings_fingerprint() == self._mappings_seen:
            return
        try:
            self.engine = self._build_engine()
        except QbsfError as exc:
            log.error("mappings not reloaded, keeping the previous ones: %s", exc, extra={"mark": "fail"})
            return
        log.info("Mappings reloaded: %s", ", ".join(sorted(self.engine.mappings)) or "none", extra={"mark": "ok"})

    def close_quickbooks(self) -> None:
        """End the QuickBooks session (and with it the engine built on it)."""
        with self._qb_lock:
            if self.qb is not None:
                try:
                    self.qb.close()
                finally:
                    self.qb = None
                    self.engine = None
                    # a simulator opened from settings is ours to close (its SQLite file stays consistent)
                    sim = getattr(self._transport_in_use, "sim", None)
                    if sim is not None and self._transport_factory is None:
                        sim.close()
                    self._transport_in_use = None

    def chart_of_accounts(self) -> list[ChartAccount]:
        """The company's chart of accounts (for the QB Default Accounts check)."""
        with self._qb_lock:
            if self.qb is None:
                raise Retriable("QuickBooks is not connected")
            accounts = self.qb.query_accounts(include_inactive=True)
        return chart_from_records(accounts)

    # ---- cycles --------------------------------------------------------------------------------------------------
    def run_cycle(self, request: CycleRequest) -> Any:
        """SF → QB (every eligible record when asked for), then QB → SF when the engine offers it."""
        with self._qb_lock:
            if self.engine is None:
                raise Retriable("QuickBooks is not connected")
            self._reload_mappings_if_changed()
            reports: dict[str, Any] = {}
            if request.outbound and not request.should_stop():
                reports["sf_to_qb"] = self.engine.sync_sf_to_qb(full=request.full_outbound,
                                                                **self._stop_option(self.engine.sync_sf_to_qb, request))
            inbound = getattr(self.engine, "sync_qb_to_sf", None)
            if request.inbound and callable(inbound) and not request.should_stop():
                reports["qb_to_sf"] = inbound(full=request.full_inbound, **self._stop_option(inbound, request))
            return reports

    @staticmethod
    def _stop_option(method: Callable[..., Any], request: CycleRequest) -> dict[str, Any]:
        # Engines that can stop between records take should_stop; older ones stop between passes.
        try:
            accepted = inspect.signature(method).parameters
        except (TypeError, ValueError):
            return {}
        return {"should_stop": request.should_stop} if "should_stop" in accepted else {}

    def close(self) -> None:
        """Close everything (the loop has already ended the QuickBooks session)."""
        self.close_quickbooks()
        if self.sf is not None:
            self.sf.close()
            self.sf = None
