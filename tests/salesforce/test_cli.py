"""`qbsf salesforce connect|check|disconnect` and the settings → client factory, against the emulator."""

from __future__ import annotations

import socket
import threading
import webbrowser
from types import SimpleNamespace

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.errors import ConfigError
from qbsf.salesforce.auth import ClientCredentialsAuth, JwtBearerAuth, UsernamePasswordAuth, WebServerAuth
from qbsf.salesforce.connect import auth_from_settings, client_from_settings, make_auth
from qbsf.secrets import SecretStore


@pytest.fixture
def cli_env(sf_emulator, tmp_path, monkeypatch):
    """Environment for the CLI: settings from QBSF_ variables, config and secrets under tmp_path."""
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())  # secrets go to the file under tmp_path
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    env = {"QBSF_CONFIG": str(tmp_path / "config.toml"), "QBSF_SALESFORCE__INSTANCE_URL": sf_emulator.url,
           "QBSF_SALESFORCE__CLIENT_ID": sf_emulator.client_id,
           "QBSF_SALESFORCE__CLIENT_SECRET": sf_emulator.client_secret,
           "QBSF_SALESFORCE__AUTH_FLOW": "client_credentials"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_check_reports_usage_and_package(cli_env) -> None:
    outcome = CliRunner().invoke(app, ["salesforce", "check"])
    assert outcome.exit_code == 0, outcome.output
    assert "✓ Salesforce reachable (client_credentials flow)" in outcome.output
    assert "QuickBooks id fields present" in outcome.output and "qbsf package installed" in outcome.output


def test_connect_then_disconnect(cli_env, sf_emulator, monkeypatch, tmp_path) -> None:
    seen: list[str] = []

    def browser(url: str) -> bool:
        seen.append(url)
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()
        return True

    monkeypatch.setattr(webbrowser, "open", browser)
    port = _free_port()
    outcome = CliRunner().invoke(app, ["salesforce", "connect", "--port", str(port)])
    assert outcome.exit_code == 0, outcome.output
    assert f"✓ Connected to Salesforce at {sf_emulator.url}" in outcome.output
    assert f"redirect_uri=http%3A%2F%2Flocalhost%3A{port}%2Fcallback" in seen[0]
    store = SecretStore(use_keyring=False, environ={}, path=tmp_path / "xdg" / "qbsf" / "secrets.json")
    refresh = store.get("salesforce.refresh_token")
    assert refresh in sf_emulator.state.refresh_tokens
    outcome = CliRunner().invoke(app, ["salesforce", "disconnect"])
    assert outcome.exit_code == 0, outcome.output
    assert "revoked at Salesforce" in outcome.output
    assert refresh not in sf_emulator.state.refresh_tokens and store.get("salesforce.refresh_token") is None


def test_check_without_settings_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("QBSF_CONFIG", str(tmp_path / "config.toml"))
    outcome = CliRunner().invoke(app, ["salesforce", "check"])
    assert isinstance(outcome.exception, ConfigError) and "instance_url" in str(outcome.exception)


def test_factory_picks_each_flow(sf_emulator, tmp_path) -> None:
    base = {"login_url": sf_emulator.url, "client_id": sf_emulator.client_id}
    assert isinstance(make_auth("web", **base), WebServerAuth)
    assert isinstance(make_auth("client_credentials", client_secret="s", **base), ClientCredentialsAuth)
    assert isinstance(make_auth("jwt", username="u", private_key=b"k", **base), JwtBearerAuth)
    assert isinstance(make_auth("password", client_secret="s", username="u", password="p", **base),
                      UsernamePasswordAuth)
    for flow, kwargs, text in [("client_credentials", {}, "client_secret"), ("jwt", {}, "username"),
                               ("jwt", {"username": "u"}, "private key"), ("password", {}, "password flow"),
                               ("saml", {}, "unknown salesforce.auth_flow")]:
        with pytest.raises(ConfigError, match=text):
            make_auth(flow, **base, **kwargs)
    settings = SimpleNamespace(instance_url=sf_emulator.url + "/", client_id=sf_emulator.client_id,
                               auth_flow="client_credentials", username="", api_version="62.0",
                               client_secret=SecretStr(sf_emulator.client_secret), password=None)
    store = SecretStore(path=tmp_path / "s.json", use_keyring=False, environ={})
    with client_from_settings(settings, store, timeout=5) as client:
        assert client.query("SELECT Id FROM Account") == []
    with pytest.raises(ConfigError, match="client_id is not set"):
        auth_from_settings(SimpleNamespace(instance_url=sf_emulator.url, client_id=""), None)


def test_query_command_prints_json_lines(cli_env, sf_state) -> None:
    import json

    sf_state.insert("Account", {"Name": "O'Brien & Sons"})
    gone = sf_state.insert("Account", {"Name": "Gone"})
    sf_state.delete("Account", gone)
    outcome = CliRunner().invoke(app, ["salesforce", "query", "SELECT Name FROM Account ORDER BY Name"])
    assert outcome.exit_code == 0, outcome.output
    assert [json.loads(line) for line in outcome.stdout.splitlines()] == [{"Name": "O'Brien & Sons"}]
    everything = CliRunner().invoke(app, ["salesforce", "query", "--all", "SELECT Name FROM Account ORDER BY Name"])
    assert [json.loads(line)["Name"] for line in everything.stdout.splitlines()] == ["Gone", "O'Brien & Sons"]
    bad = CliRunner().invoke(app, ["salesforce", "query", "SELEKT Id FROM Account"])
    assert bad.exit_code != 0 and "MALFORMED_QUERY" in str(bad.exception)


def test_check_names_every_object_of_the_package() -> None:
    from pathlib import Path

    from qbsf.app.commands.salesforce import PACKAGE_OBJECTS

    objects = Path(__file__).resolve().parents[2] / "salesforce/force-app/main/default/objects"
    custom = {p.name for p in objects.iterdir() if p.name.endswith("__c")} - {"QBSF_Settings__c"}  # a custom setting
    assert set(PACKAGE_OBJECTS) == custom


def test_check_names_a_missing_add_on_object(cli_env, sf_emulator, monkeypatch) -> None:
    monkeypatch.delitem(sf_emulator.state.schema._by_lower, "qb_bill__c")  # an org with an older package
    outcome = CliRunner().invoke(app, ["salesforce", "check"])
    assert outcome.exit_code == 0, outcome.output
    assert "package objects missing: QB_Bill__c" in outcome.output
