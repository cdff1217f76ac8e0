"""qbsf.secrets: environment override, keyring when usable, 0600 file fallback, no values in logs."""

from __future__ import annotations

import json
import logging
import stat
import sys

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

from qbsf.errors import ConfigError
from qbsf.secrets import SecretStore, env_name


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps passwords in a dict (the platform ones need a desktop session)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, broken: bool = False) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}
        self.broken = broken

    def get_password(self, service: str, username: str) -> str | None:
        if self.broken:
            raise KeyringError("locked")
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.broken:
            raise KeyringError("locked")
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.passwords:
            raise PasswordDeleteError(username)
        del self.passwords[(service, username)]


def test_env_name_follows_the_settings_rule() -> None:
    assert env_name("salesforce.refresh_token") == "QBSF_SALESFORCE__REFRESH_TOKEN"
    assert env_name("sf-token") == "QBSF_SF_TOKEN"


def test_file_fallback_round_trip_with_mode_0600(tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="qbsf.secrets")
    path = tmp_path / "cfg" / "secrets.json"
    store = SecretStore(path=path, use_keyring=False, environ={})
    assert store.get("salesforce.refresh_token") is None
    store.set("salesforce.refresh_token", "5Aep861-very-secret")
    store.set("salesforce.client_secret", "s3cr3t-value")
    assert store.get("salesforce.refresh_token") == "5Aep861-very-secret"
    assert json.loads(path.read_text())["salesforce.client_secret"] == "s3cr3t-value"
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store.delete("salesforce.refresh_token")
    store.delete("salesforce.refresh_token")  # absent: no error
    assert store.get("salesforce.refresh_token") is None
    assert SecretStore(path=path, use_keyring=False, environ={}).get("salesforce.client_secret") == "s3cr3t-value"
    assert "very-secret" not in caplog.text and "s3cr3t" not in caplog.text
    assert "salesforce.refresh_token" in caplog.text


def test_environment_wins_over_stores(tmp_path) -> None:
    backend = MemoryKeyring()
    store = SecretStore(path=tmp_path / "s.json", keyring_backend=backend,
                        environ={"QBSF_SALESFORCE__PASSWORD": "from-env"})
    store.set("salesforce.password", "from-keyring")
    assert backend.passwords[("qbsf", "salesforce.password")] == "from-keyring"
    assert store.get("salesforce.password") == "from-env"
    assert not (tmp_path / "s.json").exists(), "a usable keyring means no secrets file"


def test_keyring_round_trip_and_delete(tmp_path) -> None:
    backend = MemoryKeyring()
    store = SecretStore(path=tmp_path / "s.json", keyring_backend=backend, environ={})
    store.set("salesforce.access_token", "00Dxx!token")
    assert store.get("salesforce.access_token") == "00Dxx!token"
    assert store.backend.startswith("keyring")
    store.delete("salesforce.access_token")
    store.delete("salesforce.access_token")
    assert store.get("salesforce.access_token") is None


def test_broken_keyring_falls_back_to_the_file(tmp_path) -> None:
    store = SecretStore(path=tmp_path / "s.json", keyring_backend=MemoryKeyring(broken=True), environ={})
    store.set("salesforce.refresh_token", "rotated-1")
    assert json.loads((tmp_path / "s.json").read_text()) == {"salesforce.refresh_token": "rotated-1"}
    assert store.get("salesforce.refresh_token") == "rotated-1"


def test_headless_linux_uses_the_file(tmp_path, monkeypatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    store = SecretStore(path=tmp_path / "s.json", environ={})
    assert store.backend.startswith("file ")
    store.set("x", "y")
    assert store.get("x") == "y"


def test_world_readable_file_is_tightened(tmp_path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"a": "b"}))
    path.chmod(0o644)
    assert SecretStore(path=path, use_keyring=False, environ={}).get("a") == "b"
    expected = 0o600 if sys.platform != "win32" else stat.S_IMODE(path.stat().st_mode)  # Windows: ACLs, not modes
    assert stat.S_IMODE(path.stat().st_mode) == expected


def test_bad_input_is_a_clear_error_without_the_content(tmp_path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json hunter2")
    store = SecretStore(path=path, use_keyring=False, environ={})
    with pytest.raises(ConfigError) as caught:
        store.get("a")
    assert str(path) in str(caught.value) and "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match="invalid secret name"):
        store.get("../etc/passwd")
    with pytest.raises(ConfigError, match="non-empty"):
        SecretStore(path=tmp_path / "t.json", use_keyring=False, environ={}).set("a", "")
    path.write_text(json.dumps({"a": 1}))
    with pytest.raises(ConfigError, match="name → string"):
        store.get("a")
