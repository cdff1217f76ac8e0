"""OAuth 2.0 grants and the authorize redirect, with Salesforce's response and error shapes."""

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from qbsf.sim.salesforce import EmulatorSettings, start_emulator

REDIRECT = "http://localhost:8080/callback"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(emulator, challenge: str) -> str:
    response = httpx.get(f"{emulator.url}/services/oauth2/authorize", params={
        "response_type": "code", "client_id": emulator.client_id, "redirect_uri": REDIRECT, "state": "xyz",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert response.status_code == 302
    location = urlparse(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def test_client_credentials_response_shape(sf_emulator):
    body = sf_emulator.login()
    assert set(body) == {"access_token", "instance_url", "id", "token_type", "issued_at", "signature", "scope"}
    assert "expires_in" not in body and body["token_type"] == "Bearer"
    assert body["instance_url"] == sf_emulator.url
    assert body["id"].endswith(f"/{sf_emulator.state.user_id}") and body["issued_at"].isdigit()


def test_pkce_code_flow_then_refresh_with_rotation(sf_emulator):
    verifier, challenge = _pkce()
    code = _authorize(sf_emulator, challenge)
    token = httpx.post(sf_emulator.token_url, data={
        "grant_type": "authorization_code", "code": code, "client_id": sf_emulator.client_id,
        "redirect_uri": REDIRECT, "code_verifier": verifier}).json()
    assert token["refresh_token"] and token["access_token"]
    reused = httpx.post(sf_emulator.token_url, data={
        "grant_type": "authorization_code", "code": code, "client_id": sf_emulator.client_id,
        "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"

    refreshed = httpx.post(sf_emulator.token_url, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": sf_emulator.client_id,
        "client_secret": sf_emulator.client_secret}).json()
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"]
    stale = httpx.post(sf_emulator.token_url, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": sf_emulator.client_id})
    assert stale.status_code == 400
    assert stale.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    data = httpx.get(f"{sf_emulator.data_url}/limits",
                     headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert data.status_code == 200


def test_pkce_wrong_verifier_is_invalid_grant(sf_emulator):
    _verifier, challenge = _pkce()
    code = _authorize(sf_emulator, challenge)
    response = httpx.post(sf_emulator.token_url, data={
        "grant_type": "authorization_code", "code": code, "client_id": sf_emulator.client_id,
        "redirect_uri": REDIRECT, "code_verifier": "not-the-verifier"})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}


@pytest.mark.parametrize("form, error", [
    ({"grant_type": "password", "client_id": "qbsf-demo-client", "client_secret": "qbsf-demo-secret",
      "username": "demo@qbsf.example", "password": "bad"}, ("invalid_grant", "authentication failure")),
    ({"grant_type": "client_credentials", "client_id": "other", "client_secret": "x"},
     ("invalid_client_id", "client identifier invalid")),
    ({"grant_type": "client_credentials", "client_id": "qbsf-demo-client", "client_secret": "x"},
     ("invalid_client", "invalid client credentials")),
    ({"grant_type": "magic"}, ("unsupported_grant_type", "grant type not supported")),
])
def test_token_errors(sf_emulator, form, error):
    response = httpx.post(sf_emulator.token_url, data=form)
    assert response.status_code == 400
    assert response.json() == {"error": error[0], "error_description": error[1]}


def test_password_grant_succeeds(sf_emulator):
    response = httpx.post(sf_emulator.token_url, data={
        "grant_type": "password", "client_id": sf_emulator.client_id, "client_secret": sf_emulator.client_secret,
        "username": sf_emulator.username, "password": sf_emulator.password})
    assert response.status_code == 200 and "refresh_token" not in response.json()


def test_authorize_rejects_unknown_clients(sf_emulator):
    response = httpx.get(f"{sf_emulator.url}/services/oauth2/authorize",
                         params={"response_type": "code", "client_id": "nope", "redirect_uri": REDIRECT})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_id"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwt_emulator(sf_state, rsa_key):
    public = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    emulator = start_emulator(sf_state, EmulatorSettings(jwt_public_key=public))
    yield emulator
    emulator.stop()


def _assertion(key, **claims) -> str:
    payload = {"iss": "qbsf-demo-client", "sub": "demo@qbsf.example", "aud": "https://login.salesforce.com",
               "exp": int(time.time()) + 180, **claims}
    return jwt.encode(payload, key, algorithm="RS256")


def test_jwt_bearer_verifies_the_signature(jwt_emulator, rsa_key):
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    ok = httpx.post(jwt_emulator.token_url, data={"grant_type": grant, "assertion": _assertion(rsa_key)})
    assert ok.status_code == 200 and ok.json()["access_token"]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = httpx.post(jwt_emulator.token_url, data={"grant_type": grant, "assertion": _assertion(other_key)})
    assert forged.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}
    wrong_aud = httpx.post(jwt_emulator.token_url, data={"grant_type": grant,
                                                          "assertion": _assertion(rsa_key, aud="https://evil")})
    assert wrong_aud.json()["error_description"] == "audience is invalid"
    stranger = httpx.post(jwt_emulator.token_url, data={"grant_type": grant,
                                                         "assertion": _assertion(rsa_key, sub="who@x.example")})
    assert stranger.json()["error_description"] == "user hasn't approved this consumer"


def test_refresh_tokens_survive_a_restart_and_can_be_revoked(sf_schema, tmp_path):
    from qbsf.sim.salesforce import SalesforceState

    first = start_emulator(SalesforceState(sf_schema, path=tmp_path / "org.sqlite"))
    try:
        verifier, challenge = _pkce()
        code = _authorize(first, challenge)
        token = httpx.post(first.token_url, data={
            "grant_type": "authorization_code", "code": code, "client_id": first.client_id,
            "redirect_uri": REDIRECT, "code_verifier": verifier}).json()
    finally:
        first.stop()
        first.state.close()
    second = start_emulator(SalesforceState(sf_schema, path=tmp_path / "org.sqlite"))
    try:
        old_access = httpx.get(f"{second.data_url}/limits",
                               headers={"Authorization": f"Bearer {token['access_token']}"})
        assert old_access.status_code == 401  # sessions end with the server; refresh tokens don't
        refreshed = httpx.post(second.token_url, data={
            "grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": second.client_id})
        assert refreshed.status_code == 200
        new_refresh = refreshed.json()["refresh_token"]
        revoke = httpx.post(f"{second.url}/services/oauth2/revoke", data={"token": new_refresh})
        assert revoke.status_code == 200
        after = httpx.post(second.token_url, data={
            "grant_type": "refresh_token", "refresh_token": new_refresh, "client_id": second.client_id})
        assert after.json()["error"] == "invalid_grant"
        assert httpx.post(f"{second.url}/services/oauth2/revoke", data={"token": "nope"}).status_code == 400
    finally:
        second.stop()
        second.state.close()


def test_identity_url_and_userinfo(sf_emulator):
    token = sf_emulator.login()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    identity = httpx.get(token["id"], headers=headers).json()
    assert identity["username"] == sf_emulator.username and identity["user_id"] == sf_emulator.state.user_id
    assert identity["urls"]["rest"] == f"{sf_emulator.url}/services/data/v{{version}}/"
    info = httpx.get(f"{sf_emulator.url}/services/oauth2/userinfo", headers=headers).json()
    assert info["preferred_username"] == sf_emulator.username and info["sub"] == token["id"]
    assert httpx.get(token["id"]).status_code == 403
