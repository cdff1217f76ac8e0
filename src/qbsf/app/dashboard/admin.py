"""The hosted admin page: every company the deployment serves, with its status lights, last Web Connector session
and failures, and a Salesforce login button per company (the web-server flow through the public address).

Shown when the dashboard runs with a :class:`qbsf.app.hosted.Tenancy` (``Dashboard.tenancy``). Its routes sit
behind the dashboard's own guard: signed-in browser, same origin, CSRF token on the login button's form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from qbsf.errors import QbsfError

log = logging.getLogger(__name__)

_TOKEN_SECRETS = ("salesforce.refresh_token", "salesforce.access_token")


def _light(level: str, label: str, detail: str) -> dict[str, str]:
    return {"level": level, "label": label, "detail": detail}


def company_rows(dash: Any, webconnector: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """One row per company: lights (Web Connector, Salesforce, sync), last session, failures, last activity."""
    tenancy = dash.tenancy
    sessions = {row["company"]: row for row in webconnector or []}
    rows = []
    for tenant in tenancy.registry().list():
        row: dict[str, Any] = {"id": tenant.id, "name": tenant.name, "settings": tenant.config or "deployment's"}
        try:
            store = tenancy.store(tenant.id)
            failures = store.failures()
            recent = store.recent(1)
            secret_names = set(tenancy.secrets(tenant.id).names())
        except QbsfError as exc:  # one company's problem never hides the others
            row.update(lights=[_light("fail", "State", str(exc))], failures=[], failing=0, parked=0,
                       last_activity="—", session=sessions.get(tenant.id))
            rows.append(row)
            continue
        parked = [failure for failure in failures if failure.parked]
        session = sessions.get(tenant.id)
        if session is None:
            wc = _light("muted", "Web Connector", "not registered with this server (qbsf qwc --company …)")
        elif session["level"] == "fail":
            wc = _light("fail", "Web Connector", f"last session: {session['outcome']} {session['message']}".strip())
        elif session["level"] == "ok":
            wc = _light("ok", "Web Connector", f"last session ended {session['ended']}")
        else:
            wc = _light("warn" if session["active"] else "muted", "Web Connector", session["outcome"])
        salesforce = (_light("ok", "Salesforce", "connected (login stored encrypted)")
                      if secret_names & set(_TOKEN_SECRETS)
                      else _light("warn", "Salesforce", "not connected: use Connect Salesforce"))
        sync = (_light("fail", "Sync", f"{len(parked)} record(s) waiting for you") if parked
                else _light("warn", "Sync", f"{len(failures)} record(s) retrying") if failures
                else _light("ok", "Sync", "no failures"))
        row.update(lights=[wc, salesforce, sync], session=session, failing=len(failures), parked=len(parked),
                   failures=[{"entity": f.entity, "record": f.record_key, "message": f.message, "parked": f.parked}
                             for f in failures[:5]],
                   last_activity=recent[0].at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                   if recent and recent[0].at else "never")
        rows.append(row)
    return rows


def session_statuses(dash: Any) -> list[Any]:
    """Each company's latest Web Connector session: from the deployment's shared session tables (any worker of
    `qbsf serve` may have served it) or from this process's own endpoint (`qbsf qbwc serve`), the newer of the two."""
    own = list(dash.webconnector_statuses()) if dash.webconnector_statuses is not None else []
    try:
        shared = dash.tenancy.web_connector_statuses()
    except Exception as exc:  # the page still shows this process's sessions
        log.warning("the admin page could not read the shared Web Connector sessions: %s", exc)
        shared = []
    latest: dict[str, Any] = {}
    for status in [*shared, *own]:
        known = latest.get(status.company)
        if known is None or _order(status) >= _order(known):
            latest[status.company] = status
    return [latest[company] for company in sorted(latest)]


def _order(status: Any) -> tuple[bool, datetime]:
    started = status.last_session.started if status.last_session is not None else None
    return status.active, started or datetime.min.replace(tzinfo=UTC)


def add_admin_routes(app: FastAPI, dash: Any, templates: Any,
                     webconnector: Callable[..., list[dict[str, Any]] | None]) -> None:
    """``GET /admin``, ``GET /api/admin/companies``, ``POST /admin/companies/{company}/salesforce-login``."""

    def hosted() -> bool:
        return getattr(dash, "tenancy", None) is not None

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request) -> HTMLResponse:
        """Every company of the deployment at a glance."""
        if not hosted():
            return HTMLResponse("qbsf is not serving several companies here", status_code=404)
        from qbsf import __version__

        return templates.TemplateResponse(request, "admin.html", {
            "companies": company_rows(dash, webconnector(dash, session_statuses(dash))), "version": __version__,
            "hosted_login": getattr(dash, "hosted_login", None),
            "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")})

    @app.get("/api/admin/companies")
    def admin_api() -> JSONResponse:
        """The same as JSON (for monitoring)."""
        if not hosted():
            return JSONResponse({"error": "qbsf is not serving several companies here"}, status_code=404)
        return JSONResponse({"companies": company_rows(dash, webconnector(dash, session_statuses(dash)))})

    @app.post("/admin/companies/{company}/salesforce-login")
    def salesforce_login(company: str) -> Response:
        """Send this browser to Salesforce to connect the company (the answer comes back to the public address)."""
        login = getattr(dash, "hosted_login", None)
        if not hosted() or login is None:
            return Response("hosted Salesforce login is not set up (qbsf serves no public address)", status_code=404)
        try:
            url = login.start(company)
        except QbsfError as exc:
            log.warning("Salesforce login for company %s not started: %s", company, exc)
            return RedirectResponse("/admin?notice=" + _quote(str(exc)), status_code=303)
        return RedirectResponse(url, status_code=303)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300])
