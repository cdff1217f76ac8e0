"""Getting and renewing Salesforce access tokens: OAuth 2.0 flows over httpx, tokens kept in the SecretStore.

Flows (pick one per connector):

- :class:`WebServerAuth` — the interactive login the manual describes: the browser opens Salesforce's authorize page,
  the user approves, Salesforce redirects to ``http://localhost:<port>/callback`` on the first free port of
  8080–8084, and the code is exchanged with PKCE (S256). Afterwards the refresh token renews access unattended;
  every refresh stores the NEW refresh token, so refresh-token rotation works.
- :class:`ClientCredentialsAuth` — server-to-server with the connected app's key and secret.
- :class:`JwtBearerAuth` — server-to-server with an RS256-signed assertion (certificate uploaded to the app).
- :class:`UsernamePasswordAuth` — legacy; Salesforce retires it (enforced 20 Feb 2027), so it logs a warning.

Every flow implements :class:`Auth`: ``token(http)`` gives a valid :class:`Token` (cached), ``renew(http)`` gets a new
one after a 401. The client calls ``renew`` once per rejected request.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import logging
import secrets as pysecrets
import threading
import time
import webbrowser
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt

from qbsf.errors import ConfigError
from qbsf.salesforce.errors import AuthError, SalesforceRetriable, from_response_body

log = logging.getLogger(__name__)

ACCESS_TOKEN_KEY = "salesforce.access_token"
REFRESH_TOKEN_KEY = "salesforce.refresh_token"
INSTANCE_URL_KEY = "salesforce.instance_url"
CALLBACK_PORTS = (8080, 8081, 8082, 8083, 8084)
CALLBACK_PATH = "/callback"
PASSWORD_FLOW_RETIREMENT = "20 Feb 2027"


class SecretStoreLike(Protocol):
    """What auth needs from :class:`qbsf.secrets.SecretStore`."""

    def get(self, name: str) -> str | None:
        """Return the stored secret or None."""
        ...

    def set(self, name: str, value: str) -> None:
        """Store a secret."""
        ...

    def delete(self, name: str) -> None:
        """Forget a secret."""
        ...


@dataclass
class Token:
    """An access token and where to use it."""

    access_token: str
    instance_url: str
    issued_at: float
    refresh_token: str | None = None
    identity_url: str | None = None

    def __repr__(self) -> str:  # tokens must never end up in a log line via repr()
        return f"Token(instance_url={self.instance_url!r}, issued_at={self.issued_at!r})"


class Auth(ABC):
    """A way to obtain access tokens from a Salesforce login server (``login_url``)."""

    def __init__(self, login_url: str, client_id: str, *, secrets: SecretStoreLike | None = None) -> None:
        """``login_url`` is https://login.salesforce.com, https://test.salesforce.com or the My Domain URL."""
        require_https(login_url, "salesforce login URL")
        if not client_id:
            raise ConfigError("salesforce.client_id is empty", hint="copy the connected app's consumer key")
        self.login_url = login_url.rstrip("/")
        self.client_id = client_id
        self.secrets = secrets
        self._token: Token | None = None
        self.token_requests = 0
        # one token fetch at a time: with refresh-token rotation a second, concurrent refresh would spend a token
        # the first has already replaced, and lose the login
        self._lock = threading.RLock()

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint."""
        return f"{self.login_url}/services/oauth2/token"

    def token(self, http: httpx.Client) -> Token:
        """A token to use now: the cached one, one saved in the SecretStore, or a fresh one."""
        with self._lock:
            if self._token is None:
                self._token = self._saved_token() or self._obtain(http)
            return self._token

    def renew(self, http: httpx.Client, rejected: Token | None = None) -> Token:
        """A new token after Salesforce rejected ``rejected`` (401 INVALID_SESSION_ID).

        When another thread already replaced the rejected token, that newer token is returned without a new grant.
        """
        with self._lock:
            if rejected is not None and self._token is not None and self._token.access_token != rejected.access_token:
                return self._token
            if self.secrets is not None:
                self.secrets.delete(ACCESS_TOKEN_KEY)  # the saved token is dead; don't reuse it after a restart
            self._token = self._obtain(http)
            return self._token

    def revoke(self, http: httpx.Client) -> bool:
        """Revoke the refresh token (else the access token) at Salesforce and forget every stored token.

        Returns True when Salesforce confirmed the revocation; the local copies are deleted either way.
        """
        stored = self.secrets.get(REFRESH_TOKEN_KEY) if self.secrets is not None else None
        token = stored or (self._token.access_token if self._token else None)
        if token is None and self.secrets is not None:
            token = self.secrets.get(ACCESS_TOKEN_KEY)
        confirmed = False
        if token:
            try:
                response = http.post(f"{self.login_url}/services/oauth2/revoke", data={"token": token})
                confirmed = response.status_code == 200
            except httpx.HTTPError as exc:  # offline: still forget the tokens locally
                log.warning("could not reach Salesforce to revoke the token (%s)", type(exc).__name__)
        self._token = None
        if self.secrets is not None:
            for key in (ACCESS_TOKEN_KEY, REFRESH_TOKEN_KEY, INSTANCE_URL_KEY):
                self.secrets.delete(key)
        return confirmed

    def _saved_token(self) -> Token | None:
        if self.secrets is None:
            return None
        access, instance = self.secrets.get(ACCESS_TOKEN_KEY), self.secrets.get(INSTANCE_URL_KEY)
        if not access or not instance:
            return None
        log.debug("reusing the saved Salesforce access token for %s", instance)
        return Token(access, instance, 0.0)

    @abstractmethod
    def _obtain(self, http: httpx.Client) -> Token:
        """Run this flow's grant and return a new token."""

    def _grant(self, http: httpx.Client, form: dict[str, str], *, auth: tuple[str, str] | None = None) -> Token:
        """POST a grant to the token endpoint; save and return the token. OAuth errors become :class:`AuthError`."""
        self.token_requests += 1
        try:
            response = http.post(self.token_url, data=form, auth=auth, headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise SalesforceRetriable(f"timed out reaching {self.token_url}", error_code="TIMEOUT",
                                      hint="check the network; qbsf retries on the next cycle") from exc
        except httpx.TransportError as exc:
            raise SalesforceRetriable(f"cannot reach {self.token_url}: {type(exc).__name__}",
                                      error_code="CONNECTION_ERROR",
                                      hint="check the network and salesforce.login_url") from exc
        body = _json_or_text(response)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = from_response_body(body, response.status_code)
            if response.status_code >= 500:
                raise SalesforceRetriable(error.sf_message, error_code=error.error_code, status=response.status_code,
                                          hint="the login server failed; qbsf retries")
            raise error
        token = Token(access_token=str(body["access_token"]), instance_url=str(body.get("instance_url") or ""),
                      issued_at=float(body.get("issued_at") or time.time() * 1000) / 1000,
                      refresh_token=body.get("refresh_token"), identity_url=body.get("id"))
        if not token.instance_url:
            raise AuthError("the token response has no instance_url", error_code="invalid_response",
                            hint="check salesforce.login_url points at a Salesforce login server")
        require_https(token.instance_url, "the instance_url the login server returned")
        self._save(token)
        log.info("Salesforce token obtained by %s for %s", type(self).__name__, token.instance_url)
        return token

    def _save(self, token: Token) -> None:
        if self.secrets is None:
            return
        self.secrets.set(ACCESS_TOKEN_KEY, token.access_token)
        self.secrets.set(INSTANCE_URL_KEY, token.instance_url)
        if token.refresh_token:
            # rotation: the old refresh token may already be invalid, so the new one must be kept every time
            self.secrets.set(REFRESH_TOKEN_KEY, token.refresh_token)


def require_https(url: str, what: str) -> None:
    """Refuse URLs that would send tokens in clear text: https everywhere, plain http only on loopback."""
    parsed = urlparse(url)
    loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and loopback:
        return  # the emulator and tests: nothing leaves the machine
    raise ConfigError(f"{what} {url!r} must be an https:// URL (plain http only on 127.0.0.1/localhost)",
                      hint="use https://login.salesforce.com, https://test.salesforce.com or your My Domain")


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


class StaticTokenAuth(Auth):
    """A fixed access token (e.g. from `sf org display`); cannot renew, so a 401 asks the user for a new one."""

    def __init__(self, access_token: str, instance_url: str) -> None:
        """Use ``access_token`` at ``instance_url`` as-is."""
        super().__init__(instance_url, "static-token")
        self._token = Token(access_token, instance_url.rstrip("/"), time.time())

    def _obtain(self, http: httpx.Client) -> Token:
        raise AuthError("the access token was rejected and cannot be renewed", error_code="INVALID_SESSION_ID",
                        hint="log in with an OAuth flow (`qbsf salesforce connect`) instead of a fixed token")


class ClientCredentialsAuth(Auth):
    """OAuth 2.0 client-credentials flow (the connected app runs as its configured 'Run As' user)."""

    def __init__(self, login_url: str, client_id: str, client_secret: str, *,
                 secrets: SecretStoreLike | None = None) -> None:
        """``client_secret`` is the connected app's consumer secret."""
        super().__init__(login_url, client_id, secrets=secrets)
        if not client_secret:
            raise ConfigError("salesforce.client_secret is empty",
                              hint="`qbsf config set salesforce.client_secret` (the connected app's consumer secret)")
        self._client_secret = client_secret

    def _obtain(self, http: httpx.Client) -> Token:
        return self._grant(http, {"grant_type": "client_credentials", "client_id": self.client_id,
                                  "client_secret": self._client_secret})


class JwtBearerAuth(Auth):
    """OAuth 2.0 JWT bearer flow: an RS256 assertion signed with the key whose certificate the connected app holds."""

    def __init__(self, login_url: str, client_id: str, username: str, private_key: str | bytes | Path, *,
                 audience: str | None = None, secrets: SecretStoreLike | None = None, lifetime: int = 180) -> None:
        """``private_key`` is PEM text/bytes or a path to a PEM file; ``audience`` defaults from ``login_url``."""
        super().__init__(login_url, client_id, secrets=secrets)
        if isinstance(private_key, Path):
            try:
                private_key = private_key.read_bytes()
            except OSError as exc:
                raise ConfigError(f"cannot read JWT private key {private_key}: {exc.strerror}",
                                  hint="set salesforce.jwt_key_file to the PEM key matching the app's certificate"
                                  ) from exc
        self._private_key = private_key
        self.username = username
        self.audience = audience or default_audience(self.login_url)
        self.lifetime = lifetime

    def assertion(self) -> str:
        """A fresh signed assertion (iss = consumer key, sub = username, aud = login server, exp = now + 3 min)."""
        claims = {"iss": self.client_id, "sub": self.username, "aud": self.audience,
                  "exp": int(time.time()) + self.lifetime}
        try:
            return jwt.encode(claims, self._private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise ConfigError("the JWT private key is not a usable RSA key in PEM format",
                              hint="use the private key (not the certificate) created with the connected app's "
                                   "certificate") from exc

    def _obtain(self, http: httpx.Client) -> Token:
        return self._grant(http, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                  "assertion": self.assertion()})


def default_audience(login_url: str) -> str:
    """The JWT ``aud``: test.salesforce.com for sandboxes, login.salesforce.com for Salesforce, else the URL."""
    host = urlparse(login_url).hostname or ""
    if host == "test.salesforce.com" or ".sandbox." in host:
        return "https://test.salesforce.com"
    if host.endswith(("salesforce.com", "force.com")):
        return "https://login.salesforce.com"
    return login_url.rstrip("/")


class UsernamePasswordAuth(Auth):
    """Legacy OAuth username-password flow. Salesforce retires it; prefer the web-server or JWT flow."""

    def __init__(self, login_url: str, client_id: str, client_secret: str, username: str, password: str,
                 security_token: str = "", *, secrets: SecretStoreLike | None = None) -> None:
        """``security_token`` is appended to the password, as Salesforce requires outside trusted IP ranges."""
        super().__init__(login_url, client_id, secrets=secrets)
        self._client_secret = client_secret
        self.username = username
        self._password = password + security_token
        log.warning("the OAuth username-password flow is deprecated and stops working when Salesforce retires it "
                    "(%s); switch to `qbsf salesforce connect` (web-server flow) or JWT bearer",
                    PASSWORD_FLOW_RETIREMENT)

    def _obtain(self, http: httpx.Client) -> Token:
        return self._grant(http, {"grant_type": "password", "client_id": self.client_id,
                                  "client_secret": self._client_secret, "username": self.username,
                                  "password": self._password})


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``(code_verifier, code_challenge)``: 86-character verifier, S256 challenge (RFC 7636)."""
    verifier = pysecrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


class _CallbackServer(http.server.HTTPServer):
    result: dict[str, str] | None
    arrived: threading.Event


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:
        parsed = urlparse(self.path)
        if parsed.path != CALLBACK_PATH:
            self.send_error(404)
            return
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        self.server.result = query
        self.server.arrived.set()  # before the page: the browser must never see "connected" while answered is False
        ok = "code" in query
        page = ("<h1>qbsf is connected to Salesforce</h1><p>You can close this window.</p>" if ok else
                "<h1>Salesforce login failed</h1><p>Return to qbsf for details.</p>").encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("oauth callback: %s", format % args)  # the query holds the code: keep it out of INFO logs


def bind_callback(ports: Iterable[int] = CALLBACK_PORTS, host: str = "127.0.0.1") -> _CallbackServer:
    """A callback server on the first free port of ``ports`` (8080–8084 by default, as the connected app lists)."""
    tried: list[int] = []
    for port in ports:
        try:
            server = _CallbackServer((host, port), _CallbackHandler)
        except OSError:
            tried.append(port)
            continue
        server.result = None
        server.arrived = threading.Event()
        return server
    raise ConfigError(f"no free port for the OAuth callback (tried {', '.join(map(str, tried))})",
                      hint="close the programs using those ports (often another local web server) and retry")


class WebServerAuth(Auth):
    """OAuth 2.0 web-server flow with PKCE, then refresh tokens (stored anew each time: rotation-safe)."""

    def __init__(self, login_url: str, client_id: str, client_secret: str | None = None, *,
                 secrets: SecretStoreLike | None = None, ports: Iterable[int] = CALLBACK_PORTS,
                 open_browser: Callable[[str], object] = webbrowser.open, scope: str = "api refresh_token",
                 login_timeout: float = 300.0, interactive: bool = True, callback_host: str = "localhost") -> None:
        """``client_secret`` is optional (PKCE); ``interactive=False`` never opens a browser (unattended runs)."""
        super().__init__(login_url, client_id, secrets=secrets)
        self._client_secret = client_secret
        self.ports = tuple(ports)
        self.open_browser = open_browser
        self.scope = scope
        self.login_timeout = login_timeout
        self.interactive = interactive
        self.callback_host = callback_host
        self._refresh_token: str | None = None

    @property
    def refresh_token(self) -> str | None:
        """The current refresh token (memory first, then the SecretStore)."""
        if self._refresh_token is None and self.secrets is not None:
            self._refresh_token = self.secrets.get(REFRESH_TOKEN_KEY)
        return self._refresh_token

    def _obtain(self, http: httpx.Client) -> Token:
        if self.refresh_token:
            return self.refresh(http)
        if not self.interactive:
            raise AuthError("no Salesforce refresh token stored and interactive login is off",
                            error_code="login_required", hint="run `qbsf salesforce connect` once on this machine")
        return self.login(http)

    def refresh(self, http: httpx.Client) -> Token:
        """Exchange the refresh token for a new access token; keep the new refresh token if one is issued."""
        form = {"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": self.refresh_token or ""}
        if self._client_secret:
            form["client_secret"] = self._client_secret
        try:
            token = self._grant(http, form)
        except AuthError as exc:
            if exc.error_code == "invalid_grant":
                self._forget_refresh_token()
                raise AuthError("the Salesforce refresh token was rejected (expired, revoked or already rotated)",
                                error_code="invalid_grant",
                                hint="run `qbsf salesforce connect` to connect again") from exc
            raise
        if token.refresh_token:
            self._refresh_token = token.refresh_token
        return token

    def revoke(self, http: httpx.Client) -> bool:
        """As :meth:`Auth.revoke`, and forget the refresh token held in memory too."""
        if self._refresh_token and self.secrets is None:
            # nothing stored: revoke the in-memory refresh token itself
            try:
                http.post(f"{self.login_url}/services/oauth2/revoke", data={"token": self._refresh_token})
            except httpx.HTTPError as exc:
                log.warning("could not reach Salesforce to revoke the token (%s)", type(exc).__name__)
        confirmed = super().revoke(http)
        self._refresh_token = None
        return confirmed

    def _forget_refresh_token(self) -> None:
        self._refresh_token = None
        if self.secrets is not None:
            self.secrets.delete(REFRESH_TOKEN_KEY)

    def authorize_url(self, redirect_uri: str, challenge: str, state: str) -> str:
        """The Salesforce authorize URL the browser opens."""
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
                 "code_challenge": challenge, "code_challenge_method": "S256", "state": state, "scope": self.scope}
        return f"{self.login_url}/services/oauth2/authorize?{urlencode(query)}"

    def begin_login(self) -> PendingLogin:
        """Start a login without blocking: the callback server listens; send the user's browser to ``.url``.

        The dashboard redirects its own browser tab there; :meth:`login` opens a browser window instead.
        """
        verifier, challenge = pkce_pair()
        state = pysecrets.token_urlsafe(16)
        server = bind_callback(self.ports)
        port = server.server_address[1]
        redirect_uri = f"http://{self.callback_host}:{port}{CALLBACK_PATH}"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="qbsf-oauth-callback", daemon=True)
        thread.start()
        log.info("Salesforce login started (callback on port %d)", port)
        return PendingLogin(self, self.authorize_url(redirect_uri, challenge, state), redirect_uri, server, thread,
                            verifier, state)

    def login(self, http: httpx.Client) -> Token:
        """The interactive login: open the browser, wait for the callback, exchange the code (PKCE S256)."""
        pending = self.begin_login()
        try:
            self.open_browser(pending.url)
        except BaseException:
            pending.cancel()
            raise
        return pending.finish(http, self.login_timeout)

    def exchange_code(self, http: httpx.Client, code: str, redirect_uri: str, verifier: str) -> Token:
        """Finish a login whose callback another server received (a hosted deployment's public address): exchange
        the authorization code with its PKCE verifier; the tokens go to the SecretStore."""
        return self._exchange(http, code, redirect_uri, verifier)

    def _exchange(self, http: httpx.Client, code: str, redirect_uri: str, verifier: str) -> Token:
        form = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id,
                "redirect_uri": redirect_uri, "code_verifier": verifier}
        if self._client_secret:
            form["client_secret"] = self._client_secret
        with self._lock:
            token = self._grant(http, form)
            self._refresh_token = token.refresh_token
            self._token = token
        return token


class PendingLogin:
    """A browser login in progress: ``url`` to visit; :meth:`finish` waits for the callback and gets the token."""

    def __init__(self, auth: WebServerAuth, url: str, redirect_uri: str, server: _CallbackServer,
                 thread: threading.Thread, verifier: str, state: str) -> None:
        """Created by :meth:`WebServerAuth.begin_login`."""
        self.auth = auth
        self.url = url
        self.redirect_uri = redirect_uri
        self._server = server
        self._thread = thread
        self._verifier = verifier
        self._state = state

    @property
    def answered(self) -> bool:
        """True once the browser came back to the callback (approved or not)."""
        return self._server.arrived.is_set()

    def cancel(self) -> None:
        """Stop listening for the callback (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def finish(self, http: httpx.Client, timeout: float) -> Token:
        """Wait up to ``timeout`` s for the callback, check it, and exchange the code for tokens."""
        try:
            if not self._server.arrived.wait(timeout):
                raise AuthError(f"no answer from the browser within {timeout:.0f} s", error_code="login_timeout",
                                hint=f"finish the login in the browser, or open this URL yourself: {self.url}")
        finally:
            self.cancel()
        result = self._server.result or {}
        if "error" in result:
            raise AuthError(result.get("error_description") or result["error"], error_code=result["error"],
                            hint=f"approve the qbsf connected app, and check its callback URLs list "
                                 f"{self.redirect_uri}")
        if not pysecrets.compare_digest(result.get("state", ""), self._state):
            raise AuthError("the OAuth callback's state does not match this login", error_code="state_mismatch",
                            hint="start the login again; close other login tabs first")
        return self.auth._exchange(http, result.get("code", ""), self.redirect_uri, self._verifier)

