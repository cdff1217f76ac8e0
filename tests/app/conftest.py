"""Fixtures for the app's tests: an isolated config dir, an in-memory secret store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from qbsf.app.runtime import CycleRequest
from qbsf.errors import Retriable
from qbsf.sync.outbound import EntityReport


class MemorySecrets:
    """A dict with the SecretStore interface (get/set/delete) — the OS keyring is not available in CI."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


@pytest.fixture
def memory_secrets() -> MemorySecrets:
    """A fresh in-memory secret store."""
    return MemorySecrets()


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings path under tmp_path, with every QBSF_ variable of the real environment removed and the user dirs
    (secrets file, generated machine id, logs) moved under tmp_path too."""
    import os

    for name in list(os.environ):
        if name.startswith("QBSF_"):
            monkeypatch.delenv(name)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    path = tmp_path / "cfg" / "config.toml"
    monkeypatch.setenv("QBSF_CONFIG", str(path))
    return path


class Systems:
    """Services double: records what the loop asks; QuickBooks can refuse the first N connections."""

    def __init__(self, qb_failures: int = 0, qb_error: type[Exception] = Retriable, records: int = 3,
                 record_seconds: float = 0.0) -> None:
        self.qb_failures = qb_failures
        self.qb_error = qb_error
        self.records = records
        self.record_seconds = record_seconds
        self.requests: list[CycleRequest] = []
        self.processed = 0
        self.qb_open = False
        self.qb_connects = 0
        self.cycle_started = threading.Event()
        self.raise_in_cycle: Exception | None = None

    def connect_salesforce(self) -> str:
        return "ann@example.com"

    def connect_quickbooks(self) -> str:
        self.qb_connects += 1
        if self.qb_failures:
            self.qb_failures -= 1
            raise self.qb_error("QuickBooks is not running")
        self.qb_open = True
        return "Demo Company"

    def close_quickbooks(self) -> None:
        self.qb_open = False

    def run_cycle(self, request: CycleRequest):
        self.requests.append(request)
        self.cycle_started.set()
        if self.raise_in_cycle is not None:
            error, self.raise_in_cycle = self.raise_in_cycle, None
            raise error
        done = 0
        for _ in range(self.records):
            if request.should_stop():
                break
            threading.Event().wait(self.record_seconds)
            done += 1
            self.processed += 1
        return {"Account": EntityReport(read=done, created=done)}


@pytest.fixture
def make_systems():
    """Factory for the Services double the run loop drives (Salesforce/QuickBooks/engine stand-in)."""
    return Systems


@pytest.fixture
def dashboard_client():
    """Factory: a TestClient logged in to a dashboard that behaves like its own page (Origin + CSRF token)."""
    from fastapi.testclient import TestClient

    from qbsf.app.dashboard import create_app
    from qbsf.app.dashboard.security import csrf_token

    def make(dash, *, log_in: bool = True) -> TestClient:
        client = TestClient(create_app(dash), headers={"Origin": "http://testserver",
                                                       "X-CSRF-Token": csrf_token(dash.token)})
        if log_in:
            assert client.get(f"/?token={dash.token}").status_code == 200  # sets the cookie
        return client

    return make
