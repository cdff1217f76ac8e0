"""``/services/oauth2/*``: the token endpoint's grants and the authorize redirect, shaped as Salesforce's."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from qbsf.sim.salesforce.ids import ORG_ID
from qbsf.sim.salesforce.settings import EmulatorSettings
from qbsf.sim.salesforce.state import DEMO_PASSWORD, SalesforceState, TokenGrant

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OAuthError(Exception):
    """An OAuth error response: ``{"error", "error_description"}`` with HTTP 400 (or 401 for bad clients)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        """The JSON error response."""
        return JSONResponse({"error": self.error, "error_description": self.description}, status_code=self.status)


def _public_key(pem: str) -> Any:
    data = pem.encode()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


class OAuth:
    """The emulated login server."""

    def __init__(self, state: SalesforceState, settings: EmulatorSettings) -> None:
        self.state = state
        self.settings = settings

    # ---- helpers -----------------------------------------------------------------------------------------------
    def _client(self, request: Request, form: dict[str, str], *, secret_required: bool) -> str:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "invalid client credentials") from None
        if client_id != self.settings.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if (secret_required or client_secret is not None) and not hmac.compare_digest(
                (client_secret or "").encode(), self.settings.client_secret.encode()):
            raise OAuthError("invalid_client", "invalid client credentials")
        return client_id

    def _user_by_name(self, username: str | None) -> str | None:
        if not username:
            return None
        wanted = username.lower()
        return next((rid for rid, rec in self.state.table("User").items()
                     if (rec.get("Username") or "").lower() == wanted and not rec.get("IsDeleted")), None)

    def _issue(self, request: Request, user_id: str, client_id: str, *, refresh: bool) -> dict[str, Any]:
        issued_at = str(int(self.state.clock().timestamp() * 1000))
        access_token = f"{ORG_ID[:15]}!AR{secrets.token_urlsafe(60)}"
        self.state.tokens[access_token] = TokenGrant(access_token, user_id, client_id,
                                                     self.state.clock().timestamp(), self.settings.scope)
        instance_url = self.settings.instance_url or str(request.base_url).rstrip("/")
        identity = f"{instance_url}/id/{ORG_ID}/{user_id}"
        signature = base64.b64encode(hmac.new(self.settings.client_secret.encode(), (identity + issued_at).encode(),
                                              hashlib.sha256).digest()).decode()
        body: dict[str, Any] = {"access_token": access_token, "signature": signature, "scope": self.settings.scope,
                                "instance_url": instance_url, "id": identity, "token_type": "Bearer",
                                "issued_at": issued_at}
        if refresh:
            token = f"5Aep861{secrets.token_urlsafe(64)}"
            self.state.grant_refresh_token(token, user_id, client_id)
            body["refresh_token"] = token
        return body

    # ---- endpoints ---------------------------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        """POST /services/oauth2/token."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        with self.state.lock:
            try:
                return JSONResponse(self._grant(request, form))
            except OAuthError as exc:
                return exc.response()

    def _grant(self, request: Request, form: dict[str, str]) -> dict[str, Any]:
        grant = form.get("grant_type")
        if grant == "password":
            client_id = self._client(request, form, secret_required=True)
            user_id = self._user_by_name(form.get("username"))
            if user_id is None or form.get("password") != DEMO_PASSWORD:
                raise OAuthError("invalid_grant", "authentication failure")
            return self._issue(request, user_id, client_id, refresh=False)
        if grant == "client_credentials":
            client_id = self._client(request, form, secret_required=True)
            return self._issue(request, self.state.user_id, client_id, refresh=False)
        if grant == "authorization_code":
            return self._authorization_code(request, form)
        if grant == "refresh_token":
            client_id = self._client(request, form, secret_required=False)
            owner = self.state.refresh_tokens.get(form.get("refresh_token", ""))
            if owner is None or owner[1] != client_id:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            body = self._issue(request, owner[0], client_id, refresh=self.settings.rotate_refresh_tokens)
            if self.settings.rotate_refresh_tokens:
                self.state.revoke_refresh_token(form["refresh_token"])
            return body
        if grant == JWT_BEARER:
            return self._jwt_bearer(request, form)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _authorization_code(self, request: Request, form: dict[str, str]) -> dict[str, Any]:
        pending = self.state.auth_codes.pop(form.get("code", ""), None)
        client_id = self._client(request, form, secret_required=False)
        if pending is None or pending["client_id"] != client_id or pending["expires"] < time.time():
            raise OAuthError("invalid_grant", "invalid authorization code")
        if not pending.get("challenge"):
            self._client(request, form, secret_required=True)  # without PKCE the web-server flow needs the secret
        if pending["redirect_uri"] != form.get("redirect_uri"):
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        challenge = pending.get("challenge")
        if challenge:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            expected = digest if pending.get("method", "S256") == "S256" else verifier
            if not verifier or not hmac.compare_digest(expected, challenge):
                raise OAuthError("invalid_grant", "invalid code verifier")
        return self._issue(request, pending["user_id"], client_id, refresh=True)

    def _jwt_bearer(self, request: Request, form: dict[str, str]) -> dict[str, Any]:
        assertion = form.get("assertion", "")
        if self.settings.jwt_public_key is None:
            raise OAuthError("invalid_grant", "invalid assertion")
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if unverified.get("iss") != self.settings.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        try:
            claims = jwt.decode(assertion, _public_key(self.settings.jwt_public_key), algorithms=["RS256"],
                                options={"verify_aud": False, "require": ["exp", "sub", "iss"]})
        except jwt.ExpiredSignatureError:
            raise OAuthError("invalid_grant", "expired authorization code") from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        instance = (self.settings.instance_url or str(request.base_url)).rstrip("/")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        # Salesforce wants its login URL; the emulator also takes its own URL (clients build aud from the domain).
        if not any(isinstance(a, str) and (a in self.settings.login_audiences or a.startswith(instance))
                   for a in audiences):
            raise OAuthError("invalid_grant", "audience is invalid")
        user_id = self._user_by_name(claims.get("sub"))
        if user_id is None:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return self._issue(request, user_id, self.settings.client_id, refresh=False)

    async def authorize(self, request: Request) -> Response:
        """GET /services/oauth2/authorize: the demo user approves at once; redirect back with a code."""
        params = request.query_params
        if params.get("client_id") != self.settings.client_id:
            return JSONResponse({"error": "invalid_client_id", "error_description": "client identifier invalid"},
                                status_code=400)
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return JSONResponse({"error": "redirect_uri_missing", "error_description": "redirect_uri must be set"},
                                status_code=400)
        if params.get("response_type") != "code":
            query = {"error": "unsupported_response_type", "error_description": "response type not supported"}
            return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)
        method = params.get("code_challenge_method", "S256")
        if params.get("code_challenge") and method not in ("S256", "plain"):
            query = {"error": "invalid_request", "error_description": "invalid code_challenge_method"}
            return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)
        code = f"aPrx{secrets.token_urlsafe(32)}"
        with self.state.lock:
            self.state.auth_codes[code] = {"client_id": self.settings.client_id, "redirect_uri": redirect_uri,
                                           "challenge": params.get("code_challenge"), "method": method,
                                           "user_id": self.state.user_id, "expires": time.time() + 900}
        query = {"code": code}
        if params.get("state") is not None:
            query["state"] = params["state"]
        return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)

    def _bearer_user(self, request: Request) -> dict[str, Any] | None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.query_params.get(
            "oauth_token", "")
        with self.state.lock:
            grant = self.state.token_user(token) if token else None
            return self.state.get("User", grant.user_id) if grant else None

    async def identity(self, request: Request) -> Response:
        """GET /id/{orgId}/{userId}: the identity service's user and endpoint details."""
        user = self._bearer_user(request)
        if user is None:
            return Response("Bad_OAuth_Token", status_code=403, media_type="text/plain")
        if request.path_params["user_id"] != user["Id"] or request.path_params["org_id"] != ORG_ID:
            return Response("Bad_Id", status_code=403, media_type="text/plain")
        base = self.settings.instance_url or str(request.base_url).rstrip("/")
        data = f"{base}/services/data/v{{version}}"
        return JSONResponse({
            "id": f"{base}/id/{ORG_ID}/{user['Id']}", "asserted_user": True, "user_id": user["Id"],
            "organization_id": ORG_ID, "username": user["Username"], "nick_name": user.get("Alias"),
            "display_name": user.get("Name"), "email": user.get("Email"), "email_verified": True,
            "first_name": user.get("FirstName"), "last_name": user.get("LastName"), "active": True,
            "user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": 0,
            "last_modified_date": user.get("LastModifiedDate"),
            "urls": {"rest": f"{data}/", "sobjects": f"{data}/sobjects/", "query": f"{data}/query/",
                     "search": f"{data}/search/", "recent": f"{data}/recent/", "profile": f"{base}/{user['Id']}"}})

    async def userinfo(self, request: Request) -> Response:
        """GET /services/oauth2/userinfo: the OpenID Connect view of the same user."""
        user = self._bearer_user(request)
        if user is None:
            return Response("Bad_OAuth_Token", status_code=403, media_type="text/plain")
        return JSONResponse({"sub": f"{self.settings.instance_url or str(request.base_url).rstrip('/')}/id/"
                                    f"{ORG_ID}/{user['Id']}", "user_id": user["Id"], "organization_id": ORG_ID,
                             "preferred_username": user["Username"], "name": user.get("Name"),
                             "email": user.get("Email"), "email_verified": True, "active": True,
                             "user_type": "STANDARD", "locale": "en_US", "zoneinfo": "GMT"})

    async def revoke(self, request: Request) -> Response:
        """POST /services/oauth2/revoke: forget an access or refresh token."""
        form = await request.form()
        token = str(form.get("token") or request.query_params.get("token") or "")
        with self.state.lock:
            known = self.state.tokens.pop(token, None) is not None or self.state.revoke_refresh_token(token)
        if not known:
            return JSONResponse({"error": "unsupported_token_type", "error_description": "this token type is not "
                                 "supported"}, status_code=400)
        return Response(status_code=200)
