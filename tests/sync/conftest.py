"""Fixtures for the sync engine: both emulators, real clients, a state store and the example mappings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from qbsf.bench.outbound import EXAMPLE_MAPPINGS
from qbsf.sim.quickbooks import QuickBooksSimulator
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


# ---------------------------------------------------------------------------------------------------------------
# The state store on PostgreSQL: `make postgres` starts the test server and writes its URL where this reads it.
POSTGRES_URL_FILE = Path(__file__).resolve().parents[2] / ".venv" / "qbsf-test-postgres.url"
HOW_TO_START_POSTGRES = (
    "start it with `make postgres` (installs Debian's postgresql package when missing, as root) — `make test` does "
    "it first; pytest reads the URL from $QBSF_TEST_POSTGRES_URL, else from .venv/qbsf-test-postgres.url")


def postgres_url() -> str:
    """The test PostgreSQL server's URL; fails the test (never skips) with how to start the server."""
    url = os.environ.get("QBSF_TEST_POSTGRES_URL", "").strip()
    if not url and POSTGRES_URL_FILE.is_file():
        url = POSTGRES_URL_FILE.read_text(encoding="utf-8").strip()
    if not url:
        pytest.fail(f"the state-store tests need a PostgreSQL server and none is set up: {HOW_TO_START_POSTGRES}",
                    pytrace=False)
    return url


@pytest.fixture(scope="session")
def postgres_admin():
    """An engine on the test PostgreSQL database, checked reachable once per session."""
    url = postgres_url()
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        pytest.fail(f"the test PostgreSQL server at {url} is not reachable ({str(exc.orig).strip()}): "
                    f"{HOW_TO_START_POSTGRES}", pytrace=False)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_state_url(postgres_admin) -> Iterator[str]:
    """A state database URL on PostgreSQL, empty for this test: its own schema, dropped afterwards."""
    schema = f"qbsf_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in str(postgres_admin.url) else "?"
    yield f"{postgres_admin.url.render_as_string(hide_password=False)}{separator}options=-csearch_path%3D{schema}"
    with postgres_admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request) -> str:
    """Each state-store test runs twice: on an in-memory SQLite database and on an empty PostgreSQL schema."""
    if request.param == "sqlite":
        return ":memory:"
    return request.getfixturevalue("postgres_state_url")


@pytest.fixture
def cli_env(sf_emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A settings file naming the emulator, an empty simulator company file, a state file and the example mappings,
    for `qbsf …` run from the command line."""
    for name in list(os.environ):
        if name.startswith("QBSF_"):
            monkeypatch.delenv(name)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    paths = {"config": tmp_path / "config.toml", "company": tmp_path / "company.sqlite",
             "state": tmp_path / "state.db"}
    paths["config"].write_text(
        f'state_url = "sqlite:///{paths["state"]}"\nmappings_dir = "{EXAMPLE_MAPPINGS}"\n'
        f'[salesforce]\ninstance_url = "{sf_emulator.url}"\nclient_id = "{sf_emulator.client_id}"\n'
        f'auth_flow = "client_credentials"\n'
        f'[quickbooks]\ntransport = "simulator"\nsimulator_path = "{paths["company"]}"\n'
        f'[quickbooks.default_accounts]\nincome = "Sales"\n', encoding="utf-8")
    monkeypatch.setenv("QBSF_CONFIG", str(paths["config"]))
    monkeypatch.setenv("QBSF_SALESFORCE__CLIENT_SECRET", sf_emulator.client_secret)
    # The simulator file must exist with its default chart of accounts before the CLI opens it.
    QuickBooksSimulator(paths["company"]).close()
    return paths
