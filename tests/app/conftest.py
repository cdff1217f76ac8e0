"""Fixtures for the app's tests: an isolated config dir, an in-memory secret store."""

from __future__ import annotations

from pathlib import Path

import pytest


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
