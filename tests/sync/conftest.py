"""Fixtures for the sync engine: both emulators, real clients, a state store and the example mappings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from qbsf.bench.outbound import EXAMPLE_MAPPINGS
from qbsf.sync.engine import SyncConfig, SyncEngine, load_mappings
from qbsf.sync.state import StateStore


@pytest.fixture(scope="session")
def example_mappings() -> dict[str, Any]:
    """The example mapping CSVs, compiled once."""
    return load_mappings(EXAMPLE_MAPPINGS)


@pytest.fixture
def sf_client(sf_emulator):
    """A SalesforceClient on the emulator (client-credentials flow, fast retries)."""
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient

    client = SalesforceClient(sf_emulator.url, ClientCredentialsAuth(
        sf_emulator.url, sf_emulator.client_id, sf_emulator.client_secret), backoff=0.001, backoff_max=0.01)
    yield client
    client.close()


@dataclass
class SyncWorld:
    """Everything one end-to-end sync test touches."""

    sf_state: Any
    sf: Any
    qb_sim: Any
    qb: Any
    state: StateStore
    mappings: dict[str, Any]
    config: SyncConfig

    def engine(self, **changes: Any) -> SyncEngine:
        """A fresh engine over the same systems and state (as after a restart)."""
        for name, value in changes.items():
            setattr(self.config, name, value)
        return SyncEngine(self.config, self.sf, self.qb, self.state, self.mappings)

    def customers(self) -> list[dict[str, Any]]:
        return self.qb_sim.customers()

    def customer_named(self, full_name: str) -> dict[str, Any]:
        found = [c for c in self.customers() if c.get("FullName") == full_name]
        assert len(found) == 1, f"{len(found)} QuickBooks customers named {full_name!r}"
        return found[0]


@pytest.fixture
def world(sf_state, sf_client, qb_sim, qb_client, example_mappings, tmp_path) -> SyncWorld:
    """Both emulators with real clients, a file state store, the example mappings and an engine config."""
    config = SyncConfig(retry_base=timedelta(0), retry_cap=timedelta(0), income_account="Sales",
                        cogs_account="Cost of Goods Sold", asset_account="Inventory Asset")
    state = StateStore(Path(tmp_path) / "state.db")
    yield SyncWorld(sf_state, sf_client, qb_sim, qb_client, state, dict(example_mappings), config)
    state.close()
