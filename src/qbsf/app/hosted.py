"""Hosted mode: one deployment serving many companies (tenants) from one state database.

:class:`Tenancy` gives each company what a single-company set-up gets from its settings file and the keyring:
its settings (its own settings file, or the deployment's), its secrets (encrypted in the state database,
qbsf.sync.tenant_secrets), its state store (scoped to it) and its Salesforce login.

:class:`HostedLogin` is the Salesforce login of a hosted company: the OAuth 2.0 web-server flow with PKCE whose
callback is served by the deployment's public address (``https://HOST/salesforce/callback``), not a loopback port on
the user's machine. The login is started from the admin page (signed in, same-origin); the callback carries a
``state`` that only this deployment can have made — the company, the PKCE verifier and an expiry, encrypted and
authenticated with the deployment's secret key — so any worker can finish it and nobody can aim it at another
company. The tokens Salesforce returns, and every rotated refresh token after them, are stored encrypted for that
company alone.
"""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from qbsf.app.context import AppContext
from qbsf.app.settings import LoadedSettings
from qbsf.errors import ConfigError, QbsfError
from qbsf.secret_box import KeyRing, SecretBoxError

log = logging.getLogger(__name__)

CALLBACK_PATH = "/salesforce/callback"
#: How long a started login may take (the user signs in to Salesforce meanwhile).
LOGIN_LIFETIME_SECONDS = 600
_STATE_CONTEXT = "qbsf hosted salesforce login state"


@dataclass
class Tenancy:
    """The companies of one deployment: their settings, encrypted secrets, state stores and Salesforce logins."""

    state_url: str
    #: The deployment's own settings file: used by companies registered without one.
    deployment_config: str | None = None
    ring: KeyRing | None = None
    _stores: dict[str, Any] = field(default_factory=dict, repr=False)
    _registry: Any = field(default=None, repr=False)

    def key_ring(self) -> KeyRing:
        if self.ring is None:
            self.ring = KeyRing.from_environment()
        return self.ring

    def registry(self) -> Any:
        """The tenant registry (qbsf.sync.tenants.TenantRegistry) of the deployment's state database."""
        if self._registry is None:
            from qbsf.sync.tenants import TenantRegistry

            self._registry = TenantRegistry(self.state_url)
        return self._registry

    def store(self, tenant: str) -> Any:
        """The company's state store (opened once; refused for a company not registered)."""
        if tenant not in self._stores:
            self._stores[tenant] = self.registry().open(tenant)
        return self._stores[tenant]

    def secrets(self, tenant: str) -> Any:
        """The company's encrypted secret store."""
        from qbsf.sync.tenant_secrets import TenantSecretStore

        return TenantSecretStore(self.store(tenant), self.key_ring())

    def settings(self, tenant: str) -> Any:
        """The company's settings: its own settings file (else the deployment's), with its own secrets."""
        from qbsf.app.settings import load_settings

        config = self.registry().get(tenant).config or self.deployment_config
        return load_settings(config, self.secrets(tenant)).settings

    def salesforce_login(self, tenant: str) -> Any:
        """The company's web-server-flow login (qbsf.salesforce.auth.WebServerAuth), never interactive here."""
        from qbsf.salesforce.auth import WebServerAuth
        from qbsf.salesforce.connect import _secret

        sf = self.settings(tenant).salesforce
        login_url = (sf.login_url or sf.instance_url).rstrip("/")
        if not login_url or not sf.client_id:
            raise ConfigError(f"company {tenant!r} has no Salesforce connected app set",
                              hint="set salesforce.instance_url (or login_url) and salesforce.client_id in its "
                                   "settings file")
        return WebServerAuth(login_url, sf.client_id, _secret(sf.client_secret), secrets=self.secrets(tenant),
                             interactive=False)

    def web_connector_statuses(self) -> list[Any]:
        """Every company's Web Connector state as the deployment's workers left it in the shared session tables
        (qbsf.quickbooks.webconnector.shared): the last session whichever worker served it."""
        from qbsf.quickbooks.webconnector.shared import SharedSessions

        shared = SharedSessions(self.registry().state.engine, listen=False)
        try:
            return shared.statuses()
        finally:
            shared.close()

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores.clear()
        if self._registry is not None:
            self._registry.close()
            self._registry = None


@dataclass
class TenantContext(AppContext):
    """One company of a hosted deployment for a command (``--tenant COMPANY``): its own settings file (else the
    deployment's), its encrypted secrets, and the deployment's state database, scoped to it."""

    tenant: str = ""
    state_url: str = ""
    #: The company's state store (qbsf.sync.state.StateStore), open for the command.
    store: Any = None

    def load(self) -> LoadedSettings:
        """The company's settings; its state is always the deployment's database (its own ``state_url`` is
        ignored, as `qbsf serve` ignores it)."""
        import dataclasses

        loaded = super().load()
        return dataclasses.replace(loaded, settings=loaded.settings.model_copy(update={"state_url": self.state_url}))


def tenant_context(config: str | None, tenant: str) -> TenantContext:
    """``tenant``'s context in the deployment whose settings (its ``state_url``) ``config`` names; a ConfigError
    naming the registered companies when it is not one of them."""
    from qbsf.sync.tenant_secrets import TenantSecretStore
    from qbsf.sync.tenants import TenantRegistry

    url = AppContext(config=config).load().settings.resolved_state_url()
    registry = TenantRegistry(url)
    try:
        found = registry.get(tenant)
        store = registry.open(tenant)
    except QbsfError:
        registry.close()
        raise
    # The store stays open for the command (it holds the company's secrets); the process ends with it.
    return TenantContext(config=found.config or config, secrets=TenantSecretStore(store), tenant=tenant,
                         state_url=url, store=store)


def company_status(context: TenantContext, *, now: float | None = None) -> dict[str, Any]:
    """A hosted company's status for `qbsf status --tenant`: which worker runs its sync (lease), its last finished
    cycle and Web Connector session (the shared tables), and its failing records (its own state)."""
    from datetime import UTC, datetime

    from qbsf.app.runtime import ONLINE_WINDOW
    from qbsf.quickbooks.webconnector.shared import SharedSessions
    from qbsf.sync.leases import COMPANY_PREFIX, Leases

    store = context.store
    now = time.time() if now is None else now
    shared = SharedSessions(store.engine, listen=False)
    try:
        row = next((r for r in shared.company_rows() if r.company == context.tenant), None)
        session = next((s for s in shared.statuses() if s.company == context.tenant), None)
    finally:
        shared.close()
    lease = next((lease for lease in Leases(store.engine, "status").all(COMPANY_PREFIX)
                  if lease.name == COMPANY_PREFIX + context.tenant), None)
    failures = store.failures()
    worker = lease.holder if lease is not None and lease.expires_at > now else None
    last_cycle = row.last_cycle_end if row is not None else None
    last = session.last_session if session is not None else None
    return {
        "company": context.tenant, "worker": worker,
        "last_cycle": datetime.fromtimestamp(last_cycle, UTC).isoformat() if last_cycle else None,
        "last_cycle_seconds_ago": round(now - last_cycle, 1) if last_cycle else None,
        "cycles": row.cycles if row is not None else 0,
        "online": bool(worker and last_cycle and now - last_cycle <= ONLINE_WINDOW.total_seconds()),
        "web_connector_session": {"number": last.number, "started": last.started.isoformat(),
                                  "outcome": last.outcome or ("running" if session.active else "")}
        if last is not None and session is not None else None,
        "failures": len(failures), "parked": sum(1 for f in failures if f.parked),
    }


class LoginError(QbsfError):
    """A hosted Salesforce login could not be finished."""


@dataclass
class HostedLogin:
    """Start and finish a company's Salesforce login through the deployment's public address."""

    tenancy: Tenancy
    #: The deployment's public address, e.g. https://qbsf.example.com (the callback is served under it).
    public_url: str
    clock: Callable[[], float] = time.time
    #: Options for the httpx client that exchanges the code (tests pass ``verify``).
    http_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from qbsf.salesforce.auth import require_https

        require_https(self.public_url, "the deployment's public address")
        self.public_url = self.public_url.rstrip("/")

    @property
    def redirect_uri(self) -> str:
        """The callback URL to register in the connected app (Callback URL)."""
        return self.public_url + CALLBACK_PATH

    def start(self, tenant: str) -> str:
        """The Salesforce authorize URL to send the company's user to."""
        from qbsf.salesforce.auth import pkce_pair

        self.tenancy.registry().get(tenant)
        auth = self.tenancy.salesforce_login(tenant)
        verifier, challenge = pkce_pair()
        payload = json.dumps({"tenant": tenant, "verifier": verifier,
                              "expires": int(self.clock()) + LOGIN_LIFETIME_SECONDS})
        sealed, key = self.tenancy.key_ring().encrypt(payload, context=_STATE_CONTEXT)
        log.info("Salesforce login started for company %s", tenant)
        return auth.authorize_url(self.redirect_uri, challenge, f"{key}~{sealed}")

    def _open_state(self, state: str) -> dict[str, Any]:
        key, _, sealed = state.partition("~")
        try:
            payload = json.loads(self.tenancy.key_ring().decrypt(sealed, context=_STATE_CONTEXT,
                                                                 stored_key_id=key))
        except (SecretBoxError, ValueError):
            raise LoginError("this Salesforce login was not started by this deployment (or was changed on the way)",
                             hint="start it again from the admin page") from None
        if int(payload.get("expires", 0)) < self.clock():
            raise LoginError(f"the Salesforce login for company {payload.get('tenant')!r} took longer than "
                             f"{LOGIN_LIFETIME_SECONDS // 60} minutes", hint="start it again from the admin page")
        return payload

    def finish(self, code: str, state: str) -> str:
        """Exchange the callback's code for the company's tokens (stored encrypted); returns the company."""
        payload = self._open_state(state)
        tenant = str(payload["tenant"])
        auth = self.tenancy.salesforce_login(tenant)
        with httpx.Client(timeout=30, **self.http_options) as http:
            auth.exchange_code(http, code, self.redirect_uri, str(payload["verifier"]))
        log.info("Salesforce connected for company %s (tokens stored encrypted)", tenant)
        return tenant

    def routes(self) -> list[Route]:
        """The callback route, for the deployment's public application."""
        return [Route(CALLBACK_PATH, self._callback, methods=["GET"])]

    async def _callback(self, request: Request) -> HTMLResponse:
        import anyio.to_thread

        params = request.query_params
        state = params.get("state", "")
        if params.get("error"):
            # Salesforce sends the user back with an error (they denied access, or the app is misconfigured).
            try:
                tenant = str(self._open_state(state)["tenant"])
            except LoginError:
                tenant = "?"
            return _page(f"Salesforce was not connected for company {tenant}",
                         f"Salesforce answered: {params.get('error_description') or params.get('error')}. "
                         "Start the login again from the admin page.", 400)
        if not params.get("code") or not state:
            return _page("Not a Salesforce login", "This address receives Salesforce's answer to a login started "
                                                   "from the admin page.", 400)
        try:
            tenant = await anyio.to_thread.run_sync(self.finish, params["code"], state)
        except QbsfError as exc:
            log.warning("hosted Salesforce login failed: %s", exc)
            return _page("Salesforce was not connected", str(exc), 400)
        return _page(f"Salesforce connected for company {tenant}",
                     "qbsf keeps the login (encrypted) and renews it by itself. You can close this page.", 200)


def _page(title: str, text: str, status: int) -> HTMLResponse:
    body = (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>")
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store",
                                                           "Referrer-Policy": "no-referrer"})


def hosted_endpoint(service: Any, login: HostedLogin | None, *, public_url: str | None = None) -> Any:
    """The deployment's public application: the Web Connector endpoint at /qbwc and, when set up, the Salesforce
    login callback (:data:`CALLBACK_PATH`) — both on the one public address."""
    from qbsf.quickbooks.webconnector import create_app

    app = create_app(service, public_url=public_url)
    if login is not None:
        app.router.routes.extend(login.routes())
    return app
