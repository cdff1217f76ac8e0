"""Hosted Salesforce login: the web-server flow with PKCE, its callback served by the deployment's public endpoint
(beside /qbwc), per company; the tokens and every rotated refresh token stored encrypted for that company alone.
Against the Salesforce emulator's OAuth endpoints."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from qbsf.app.hosted import CALLBACK_PATH, HostedLogin, LoginError, Tenancy, hosted_endpoint
from qbsf.quickbooks.webconnector import WebConnectorService
from qbsf.quickbooks.webconnector.server import BackgroundServer
from qbsf.quickbooks.webconnector.users import UserDirectory
from qbsf.salesforce.client import SalesforceClient
from qbsf.secret_box import KeyRing, new_key
from qbsf.sync.tenants import TenantRegistry, secret_table


def _settings(tmp_path: Path, name: str, sf_emulator) -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[salesforce]\ninstance_url = "{sf_emulator.url}"\nclient_id = "{sf_emulator.client_id}"\n'
                    'auth_flow = "web"\n', encoding="utf-8")
    return str(path)


@pytest.fixture
def tenancy(tmp_path: Path, sf_emulator, config_file):
    url = str(tmp_path / "state.db")
    with TenantRegistry(url) as registry:
        registry.add("acme", config=_settings(tmp_path, "acme", sf_emulator))
        registry.add("beta", config=_settings(tmp_path, "beta", sf_emulator))
    hosted = Tenancy(url, ring=KeyRing.parse(new_key(), source="test"))
    yield hosted
    hosted.close()


@pytest.fixture
def public(tenancy):
    """The public endpoint (Web Connector at /qbwc + the login callback) on a free port, and its HostedLogin."""
    login = HostedLogin(tenancy, "http://127.0.0.1")
    with BackgroundServer(hosted_endpoint(WebConnectorService(UserDirectory()), login)) as server:
        login.public_url = f"http://127.0.0.1:{server.port}"  # known once bound
        assert httpx.get(server.url).status_code == 200, "the Web Connector endpoint shares the address"
        yield login


def _authorize(url: str) -> str:
    """The emulator approves at once: the callback URL its redirect names."""
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def test_a_company_connects_through_the_public_callback_and_keeps_rotated_tokens_encrypted(
        public: HostedLogin, tenancy: Tenancy, sf_emulator) -> None:
    url = public.start("acme")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["redirect_uri"] == [public.redirect_uri] and public.redirect_uri.endswith(CALLBACK_PATH)
    callback = _authorize(url)
    assert callback.startswith(public.redirect_uri)
    answer = httpx.get(callback)
    assert answer.status_code == 200 and "Salesforce connected for company acme" in answer.text
    assert parse_qs(urlsplit(callback).query)["code"][0] not in answer.text, "the code is never shown"

    acme = tenancy.secrets("acme")
    first = acme.get("salesforce.refresh_token")
    assert first and acme.get("salesforce.access_token")
    assert tenancy.secrets("beta").names() == [], "beta got nothing"
    with tenancy.registry().state.engine.connect() as connection:
        stored = connection.execute(select(secret_table.c.tenant, secret_table.c.ciphertext)).all()
    assert {row.tenant for row in stored} == {"acme"} and all(first not in row.ciphertext for row in stored)

    # The company's client works with the stored login; a refresh rotates the refresh token, kept encrypted.
    auth = tenancy.salesforce_login("acme")
    client = SalesforceClient(sf_emulator.url, auth)
    try:
        assert client.query("SELECT Id FROM Account") == []
        with httpx.Client() as http:
            auth.refresh(http)
    finally:
        client.close()
    rotated = tenancy.secrets("acme").get("salesforce.refresh_token")
    assert rotated and rotated != first
    assert first not in sf_emulator.state.refresh_tokens, "the emulator rotates: the old token is spent"

    replay = httpx.get(callback)
    assert replay.status_code == 400 and "Salesforce was not connected" in replay.text, "a code works once"


def test_a_callback_this_deployment_did_not_start_changes_nothing(public: HostedLogin, tenancy: Tenancy) -> None:
    callback = _authorize(public.start("acme"))
    parts = parse_qs(urlsplit(callback).query)
    code, state = parts["code"][0], parts["state"][0]
    forged = state[:-6] + ("AAAAAA" if not state.endswith("AAAAAA") else "BBBBBB")
    answer = httpx.get(public.redirect_uri, params={"code": code, "state": forged})
    assert answer.status_code == 400 and "not started by this deployment" in answer.text
    other = HostedLogin(Tenancy(tenancy.state_url, ring=KeyRing.parse(new_key(), source="another")),
                        public.redirect_uri.removesuffix(CALLBACK_PATH))
    with pytest.raises(LoginError, match="not started by this deployment"):
        other.finish(code, state)
    late = HostedLogin(tenancy, public.public_url, clock=lambda: 10**12)
    with pytest.raises(LoginError, match="took longer than"):
        late.finish(code, state)
    denied = httpx.get(public.redirect_uri, params={"error": "access_denied", "error_description": "end-user denied "
                                                    "authorization", "state": state})
    assert denied.status_code == 400 and "not connected for company acme" in denied.text
    assert "end-user denied authorization" in denied.text
    assert tenancy.secrets("acme").names() == [] and tenancy.secrets("beta").names() == []


def test_the_public_address_must_be_https_beyond_this_machine(tenancy: Tenancy) -> None:
    from qbsf.errors import ConfigError

    with pytest.raises(ConfigError):
        HostedLogin(tenancy, "http://qbsf.example.com")
    assert HostedLogin(tenancy, "https://qbsf.example.com/").redirect_uri == (
        "https://qbsf.example.com/salesforce/callback")
