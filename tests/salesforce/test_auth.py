"""Auth flows against the emulator's OAuth endpoints: PKCE web-server login, refresh rotation, client credentials,
JWT bearer, username-password (deprecated), and the one re-authentication after a 401."""

from __future__ import annotations

import logging
import socket
import threading

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from qbsf.errors import ConfigError
from qbsf.salesforce import (
    AuthError,
    ClientCredentialsAuth,
    JwtBearerAuth,
    SalesforceClient,
    StaticTokenAuth,
    UsernamePasswordAuth,
    WebServerAuth,
)
from qbsf.salesforce.auth import REFRESH_TOKEN_KEY, bind_callback, default_audience, pkce_pair
from qbsf.secrets import SecretStore
from qbsf.sim.salesforce import EmulatorSettings, start_emulator


@pytest.fixture
def store(tmp_path) -> SecretStore:
    """A file-backed SecretStore in a temp dir (no keyring, no environment)."""
    return SecretStore(path=tmp_path / "secrets.json", use_keyring=False, environ={})


def _browser(seen: list[str]):
    """A 'browser' that follows the authorize redirect to our callback, as a user clicking Allow would."""
    def open_url(url: str) -> bool:
        seen.append(url)
        # a thread, like a real browser: webbrowser.open returns before the user finishes
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True).start()
        return True
    return open_url


def _two_ports() -> tuple[socket.socket, int, int]:
    """A busy port (held open, listening) and a free one, both picked by the OS."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    free = probe.getsockname()[1]
    probe.close()
    return busy, busy.getsockname()[1], free


def test_pkce_pair_is_s256() -> None:
    import base64
    import hashlib

    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_web_server_flow_with_pkce_then_refresh_rotation(sf_emulator, store) -> None:
    busy, busy_port, free_port = _two_ports()
    seen: list[str] = []
    try:
        auth = WebServerAuth(sf_emulator.url, sf_emulator.client_id, secrets=store, ports=(busy_port, free_port),
                             open_browser=_browser(seen), login_timeout=10)
        client = SalesforceClient(sf_emulator.url, auth, backoff=0.001)
        assert client.query("SELECT Id FROM User WHERE Username = 'demo@qbsf.example'")
    finally:
        busy.close()
    url = httpx.URL(seen[0])
    assert url.params["code_challenge_method"] == "S256" and url.params["code_challenge"]
    assert url.params["redirect_uri"] == f"http://localhost:{free_port}/callback", "first FREE port of the range"
    first_refresh = store.get(REFRESH_TOKEN_KEY)
    assert first_refresh and first_refresh in sf_emulator.state.refresh_tokens

    sf_emulator.state.expire_tokens()  # every access token dies: the next call gets a 401 INVALID_SESSION_ID
    calls_before = client.calls
    assert client.query("SELECT Id FROM Account") == []
    assert client.calls == calls_before + 2, "one rejected call, one retry after the refresh"
    rotated = store.get(REFRESH_TOKEN_KEY)
    assert rotated and rotated != first_refresh, "the NEW refresh token is stored (rotation)"
    assert first_refresh not in sf_emulator.state.refresh_tokens

    # a later process starts from the store alone: no browser, the stored refresh token works
    later = WebServerAuth(sf_emulator.url, sf_emulator.client_id, secrets=store, interactive=False)
    store.delete("salesforce.access_token")
    assert SalesforceClient(sf_emulator.url, later).query("SELECT Id FROM Account") == []
    assert len(seen) == 1
    client.close()


def test_revoked_refresh_token_asks_for_login(sf_emulator, store) -> None:
    store.set(REFRESH_TOKEN_KEY, "5Aep861-revoked")
    auth = WebServerAuth(sf_emulator.url, sf_emulator.client_id, secrets=store, interactive=False)
    with pytest.raises(AuthError, match="refresh token was rejected") as caught:
        SalesforceClient(sf_emulator.url, auth).query("SELECT Id FROM Account")
    assert "qbsf salesforce connect" in caught.value.hint
    assert store.get(REFRESH_TOKEN_KEY) is None
    with pytest.raises(AuthError, match="interactive login is off"):
        SalesforceClient(sf_emulator.url, auth).query("SELECT Id FROM Account")


def test_denied_or_forged_callback(sf_emulator) -> None:
    def deny(url: str) -> bool:
        redirect = httpx.URL(url).params["redirect_uri"]
        threading.Thread(target=lambda: httpx.get(redirect, params={"error": "access_denied",
                                                                    "error_description": "end-user denied"}),
                         daemon=True).start()
        return True

    def forge(url: str) -> bool:
        redirect = httpx.URL(url).params["redirect_uri"]
        threading.Thread(target=lambda: httpx.get(redirect, params={"code": "x", "state": "not-ours"}),
                         daemon=True).start()
        return True

    with pytest.raises(AuthError, match="end-user denied"):
        WebServerAuth(sf_emulator.url, sf_emulator.client_id, ports=(0,), open_browser=deny,
                      login_timeout=10).login(httpx.Client())
    with pytest.raises(AuthError, match="state does not match"):
        WebServerAuth(sf_emulator.url, sf_emulator.client_id, ports=(0,), open_browser=forge,
                      login_timeout=10).login(httpx.Client())
    with pytest.raises(AuthError, match="no answer from the browser"):
        WebServerAuth(sf_emulator.url, sf_emulator.client_id, ports=(0,), open_browser=lambda url: True,
                      login_timeout=0.2).login(httpx.Client())


def test_no_free_callback_port() -> None:
    busy, busy_port, _ = _two_ports()
    try:
        with pytest.raises(ConfigError, match=f"tried {busy_port}"):
            bind_callback((busy_port,))
    finally:
        busy.close()


def test_client_credentials_and_bad_secret(sf_emulator, store) -> None:
    auth = ClientCredentialsAuth(sf_emulator.url, sf_emulator.client_id, sf_emulator.client_secret, secrets=store)
    assert SalesforceClient(None, auth).limits()["DailyApiRequests"]["Max"] > 0
    assert store.get("salesforce.access_token") and store.get("salesforce.instance_url") == sf_emulator.url
    bad = ClientCredentialsAuth(sf_emulator.url, sf_emulator.client_id, "wrong")
    with pytest.raises(AuthError) as caught:
        SalesforceClient(None, bad).limits()
    assert caught.value.error_code == "invalid_client" and "client_secret" in caught.value.hint
    with pytest.raises(ConfigError, match="client_secret is empty"):
        ClientCredentialsAuth(sf_emulator.url, sf_emulator.client_id, "")
    for url in ("login.salesforce.com", "http://login.salesforce.com", "ftp://127.0.0.1", "https://"):
        with pytest.raises(ConfigError, match="must be an https:// URL"):
            ClientCredentialsAuth(url, "id", "secret")
    with pytest.raises(ConfigError, match="instance_url"):
        SalesforceClient("http://acme.my.salesforce.com", auth)


def test_saved_token_is_reused_then_renewed_on_401(sf_emulator, store) -> None:
    auth = ClientCredentialsAuth(sf_emulator.url, sf_emulator.client_id, sf_emulator.client_secret, secrets=store)
    SalesforceClient(sf_emulator.url, auth).limits()
    again = ClientCredentialsAuth(sf_emulator.url, sf_emulator.client_id, sf_emulator.client_secret, secrets=store)
    client = SalesforceClient(sf_emulator.url, again)
    client.limits()
    assert again.token_requests == 0, "a restart reuses the stored access token"
    sf_emulator.state.expire_tokens()
    client.limits()
    assert again.token_requests == 1


def test_second_401_is_an_auth_error(sf_emulator) -> None:
    client = SalesforceClient(sf_emulator.url, StaticTokenAuth("00Dbogus!token", sf_emulator.url))
    with pytest.raises(AuthError, match="cannot be renewed"):
        client.query("SELECT Id FROM Account")


def _rsa_pair() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def test_jwt_bearer(sf_state, tmp_path) -> None:
    private, public = _rsa_pair()
    with start_emulator(sf_state, EmulatorSettings(jwt_public_key=public)) as emulator:
        key_file = tmp_path / "server.key"
        key_file.write_bytes(private)
        auth = JwtBearerAuth(emulator.url, emulator.client_id, emulator.username, key_file,
                             audience="https://login.salesforce.com")
        assert SalesforceClient(None, auth).query("SELECT Username FROM User WHERE Username = 'demo@qbsf.example'")
        other, _ = _rsa_pair()
        with pytest.raises(AuthError) as caught:
            SalesforceClient(None, JwtBearerAuth(emulator.url, emulator.client_id, emulator.username,
                                                 other)).limits()
        assert caught.value.error_code == "invalid_grant"
    with pytest.raises(ConfigError, match="not a usable RSA key"):
        JwtBearerAuth("https://login.salesforce.com", "id", "u", b"not a key").assertion()
    assert default_audience("https://test.salesforce.com") == "https://test.salesforce.com"
    assert default_audience("https://acme.my.salesforce.com") == "https://login.salesforce.com"
    assert default_audience("https://acme--dev.sandbox.my.salesforce.com") == "https://test.salesforce.com"
    assert default_audience("http://127.0.0.1:5000/") == "http://127.0.0.1:5000"


def test_username_password_warns_about_retirement(sf_emulator, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="qbsf.salesforce.auth")
    auth = UsernamePasswordAuth(sf_emulator.url, sf_emulator.client_id, sf_emulator.client_secret,
                                sf_emulator.username, sf_emulator.password)
    assert "20 Feb 2027" in caplog.text
    assert SalesforceClient(None, auth).limits()
    assert sf_emulator.password not in caplog.text
    wrong = UsernamePasswordAuth(sf_emulator.url, sf_emulator.client_id, sf_emulator.client_secret,
                                 sf_emulator.username, "nope")
    with pytest.raises(AuthError, match="authentication failure"):
        SalesforceClient(None, wrong).limits()


def test_login_server_down_is_retriable() -> None:
    from qbsf.errors import Retriable

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    auth = ClientCredentialsAuth(f"http://127.0.0.1:{port}", "id", "secret")
    with pytest.raises(Retriable, match="cannot reach"):
        auth.token(httpx.Client(timeout=2))


def test_concurrent_401s_refresh_once(sf_emulator, store) -> None:
    seen: list[str] = []
    auth = WebServerAuth(sf_emulator.url, sf_emulator.client_id, secrets=store, ports=(0,),
                         open_browser=_browser(seen), login_timeout=10)
    client = SalesforceClient(sf_emulator.url, auth, backoff=0.001)
    client.limits()
    grants = auth.token_requests
    sf_emulator.state.expire_tokens()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            client.query("SELECT Id FROM Account")
        except BaseException as exc:  # collected and asserted below: a thread cannot fail the test itself
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert failures == []
    assert auth.token_requests == grants + 1, "one refresh for all threads (rotation would kill a second one)"
    assert store.get(REFRESH_TOKEN_KEY) in sf_emulator.state.refresh_tokens


def test_begin_login_for_the_dashboard(sf_emulator, store) -> None:
    auth = WebServerAuth(sf_emulator.url, sf_emulator.client_id, secrets=store, ports=(0,))
    pending = auth.begin_login()
    assert not pending.answered
    # the dashboard redirects its own tab: here the same browser hop, synchronously
    landed = httpx.get(pending.url, follow_redirects=True, timeout=10)
    assert landed.status_code == 200 and "connected to Salesforce" in landed.text
    assert pending.answered
    with httpx.Client() as http:
        token = pending.finish(http, 5)
        assert token.refresh_token and store.get(REFRESH_TOKEN_KEY) == token.refresh_token
        assert SalesforceClient(sf_emulator.url, auth).query("SELECT Id FROM Account") == []
    abandoned = auth.begin_login()
    port = httpx.URL(httpx.URL(abandoned.url).params["redirect_uri"]).port
    abandoned.cancel()
    abandoned.cancel()
    bind_callback((port,)).server_close()  # the port is free again


def test_revoke_forgets_everything(sf_emulator, store) -> None:
    auth = WebServerAuth(sf_emulator.url, sf_emulator.client_id, secrets=store, ports=(0,), open_browser=_browser([]),
                         login_timeout=10)
    with httpx.Client() as http:
        token = auth.login(http)
        assert auth.revoke(http) is True
        assert token.refresh_token not in sf_emulator.state.refresh_tokens
        assert auth.refresh_token is None and store.get("salesforce.access_token") is None
    memory_only = WebServerAuth(sf_emulator.url, sf_emulator.client_id, ports=(0,), open_browser=_browser([]),
                                login_timeout=10)
    with httpx.Client() as http:
        token = memory_only.login(http)
        memory_only.revoke(http)
    assert token.refresh_token not in sf_emulator.state.refresh_tokens and memory_only.refresh_token is None
