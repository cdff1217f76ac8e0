"""FastAPI application behind the dashboard. Build it with :func:`create_app` around a :class:`Dashboard`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sse_starlette.sse import EventSourceResponse

from qbsf import __version__
from qbsf.app.context import AppContext
from qbsf.app.dashboard import security
from qbsf.app.dashboard.admin import add_admin_routes
from qbsf.app.license import LicenseError, license_status, verify_key
from qbsf.app.logging import LogBuffer, LogEntry
from qbsf.app.runtime import Connector, Heartbeat, State
from qbsf.app.settings import (
    SECRET_KEYS,
    SLOT_LABELS,
    ChartAccount,
    QBAccounts,
    Settings,
    check_default_accounts,
    update_settings,
)
from qbsf.app.words import entity_word
from qbsf.errors import ConfigError, QbsfError
from qbsf.quickbooks.transports.choice import transport_not_chosen
from qbsf.sync.entities import ENTITIES as OUTBOUND_ENTITIES
from qbsf.sync.entities import INBOUND_SPECS

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_UPLOAD_BYTES = 1_000_000
LARGE_RESET_WARNING = ("Reset All re-syncs every QuickBooks record of every entity from scratch; with large data sets "
                       "this takes several minutes and many API calls.")
# The per-object settings rows follow the declared entities, so a new entity gets its rows without an edit here.
_SF_OBJECTS = tuple(spec.sf_object for spec in OUTBOUND_ENTITIES)
_QB_ENTITIES = tuple(spec.name for spec in INBOUND_SPECS)

#: The settings the Settings form edits (dotted name, label, input type, choices).
SETTINGS_FORM: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("salesforce.instance_url", "Instance URL", "url", ()),
    ("salesforce.client_id", "Client ID", "text", ()),
    ("salesforce.client_secret", "Client Secret", "password", ()),
    ("salesforce.auth_flow", "Auth flow", "select", ("client_credentials", "jwt", "password", "web")),
    ("salesforce.username", "Username", "text", ()),
    ("salesforce.password", "Password + security token (password flow)", "password", ()),
    ("quickbooks.app_name", "QB App Name", "text", ()),
    ("quickbooks.company_file", "Company File", "text", ()),
    ("quickbooks.transport", "QuickBooks connection", "select", ("", "com", "webconnector", "simulator")),
    ("quickbooks.time_zone", "QuickBooks time zone", "text", ()),
    ("sync.polling_interval", "Polling Interval (s)", "number", ()),
    ("sync.inbound_every", "QB → SF every N cycles", "number", ()),
    ("sync.conflict_policy", "Conflict policy", "select", ("newest", "salesforce", "quickbooks")),
    ("sync.change_source", "Change source", "select", ("poll", "queue")),
    *((f"sync.eligibility.{obj}", f"{obj} eligibility (SOQL condition)", "text", ())
      for obj in _SF_OBJECTS),
    ("sync.integration_user_id", "Integration user Id (its own edits are not synced back)", "text", ()),
    ("sync.on_existing_name", "Same name already in QuickBooks", "select", ("link", "report")),
    ("sync.max_attempts", "Attempts before a failing record is parked", "number", ()),
    ("sync.salesforce_heartbeat", "Heartbeat and sync requests in Salesforce", "select", ("True", "False")),
    ("sync.default_item_type", "Item type when a Product2 has none", "select", ("Service", "NonInventory",
                                                                                 "Inventory")),
    ("sync.batch_size", "Records per batch", "number", ()),
    ("sync.qb_batch_size", "QuickBooks requests per message", "number", ()),
    ("sync.inbound_overlap_seconds", "QB → SF read overlap (s)", "number", ()),
    ("sync.company_utc_offset_minutes", "QuickBooks company UTC offset (minutes; blank = learned)", "text", ()),
    ("sync.line_owner.Opportunity", "Invoice lines owned by (both, or salesforce)", "select", ("both", "salesforce")),
    *((f"sync.on_sf_gone.{obj}", f"When a synced {obj} leaves Salesforce (report, inactivate, memo, void)", "text", ())
      for obj in _SF_OBJECTS),
    ("sync.lifecycle_check_minutes", "Minutes between checks for records gone from Salesforce", "number", ()),
    *((f"sync.on_qb_delete.{entity}", f"When a QuickBooks {entity_word(entity)} is deleted (record, or "
       "set:Field=value)", "text", ()) for entity in _QB_ENTITIES),
)


@dataclass
class Dashboard:
    """What the dashboard shows and drives. Only ``app_context`` and ``log_buffer`` are required: without a
    connector the dashboard still edits settings and mappings and shows the heartbeat."""

    app_context: AppContext
    log_buffer: LogBuffer
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    connector: Connector | None = None
    state: Any = None  # qbsf.sync.state.StateStore
    heartbeat: Heartbeat | None = None
    machine_id: str = ""
    chart_of_accounts: Callable[[], Sequence[ChartAccount]] | None = None
    fetch_record: Callable[[str, str], Mapping[str, Any] | None] | None = None
    #: One QuickBooks record as the inbound mappings read it (entity Customer/Item/Invoice, ListID or TxnID).
    fetch_qb_record: Callable[[str, str], Mapping[str, Any] | None] | None = None
    reset_inbound: Callable[[list[str] | None], list[str]] | None = None
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    #: The Web Connector panel's source (``WebConnectorService.statuses``); None hides the panel.
    webconnector_statuses: Callable[[], Sequence[Any]] | None = None
    #: The org's field check for uploads: returns ``missing(sobject, paths)`` (``SalesforceClient.missing_fields``)
    #: while Salesforce is connected, else None.
    org_fields: Callable[[], Callable[[str, Any], list[str]] | None] | None = None
    #: A company's .qwc file (``qbsf qwc``'s document for the served endpoint); None = no download link.
    webconnector_qwc: Callable[[str], bytes] | None = None
    #: Web Connector logins held back after wrong passwords (``WebConnectorService.login_throttles``).
    webconnector_throttles: Callable[[], Sequence[Mapping[str, Any]]] | None = None
    #: Hosted mode: the companies this deployment serves (``qbsf.app.hosted.Tenancy``); None hides /admin.
    tenancy: Any = None
    #: Hosted mode: the Salesforce login through the public address (``qbsf.app.hosted.HostedLogin``).
    hosted_login: Any = None

    def settings(self) -> Settings:
        """Current settings (re-read each request, so the page shows what is on disk)."""
        return self.app_context.load().settings

    def mappings_dir(self) -> Path:
        """Where mapping CSVs live."""
        return self.settings().resolved_mappings_dir()


def dashboard_url(host: str, port: int, token: str) -> str:
    """The URL printed at startup: opening it logs the browser in."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?{urlencode({'token': token})}"


def _redirect(anchor: str = "", notice: str = "", level: str = "ok") -> RedirectResponse:
    query = f"?{urlencode({'notice': notice, 'level': level})}" if notice else ""
    return RedirectResponse(f"/{query}#{anchor}" if anchor else f"/{query}", status_code=303)


def create_app(dash: Dashboard) -> FastAPI:
    """The dashboard's FastAPI application."""
    app = FastAPI(title="qbsf dashboard", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(security.require_csrf_token(lambda: dash.token))])
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["entity_word"] = entity_word
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.dashboard = dash

    security.protect_templates(templates, dash.token)
    add_admin_routes(app, dash, templates, _webconnector)

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Any]) -> Response:
        """Host check, token login, cookie or bearer check, cross-site refusal (see security.py)."""
        # the locked page is for anyone who reaches the port: no CSRF token in it
        locked_page = templates.get_template("locked.html")
        return await security.guard(request, call_next, token=dash.token, allowed_hosts=dash.allowed_hosts,
                                    locked=lambda: HTMLResponse(locked_page.render(csrf_token=""), status_code=401))

    @app.exception_handler(QbsfError)
    async def qbsf_error(request: Request, exc: QbsfError) -> HTMLResponse:
        """Any QbsfError becomes a message on the page."""
        # a bad settings file or an unreachable system is a message on the page, never a traceback
        log.warning("dashboard %s %s: %s", request.method, request.url.path, exc)
        return render(request, "index.html", status_code=400, page_error=str(exc))

    def render(request: Request, name: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
        """Render a template with the whole page context plus ``extra``."""
        context = _page_context(dash, request)
        context.update(extra)
        context.update(_refusal(extra))
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        """The dashboard page."""
        return render(request, "index.html")

    @app.get("/partials/{panel}", response_class=HTMLResponse)
    def partial(request: Request, panel: str) -> HTMLResponse:
        """One panel, for in-place refresh."""
        if panel not in ("status", "activity", "mappings", "timestamps", "webconnector"):
            return HTMLResponse("unknown panel", status_code=404)
        if panel == "webconnector" and dash.webconnector_statuses is None:
            return HTMLResponse("qbsf is not serving the Web Connector", status_code=404)
        return render(request, f"_{panel}.html")

    @app.get("/api/status")
    def api_status() -> JSONResponse:
        """Status as JSON (for scripts)."""
        return JSONResponse(_status(dash))

    @app.get("/api/webconnector")
    def api_webconnector() -> JSONResponse:
        """Per company: the Web Connector's last session, its outcome and the next expected poll, as JSON."""
        if dash.webconnector_statuses is None:
            return JSONResponse({"error": "qbsf is not serving the Web Connector"}, status_code=404)
        throttles = list(dash.webconnector_throttles()) if dash.webconnector_throttles is not None else []
        return JSONResponse({"companies": [status.to_dict() for status in dash.webconnector_statuses()],
                             "login_throttles": throttles})

    @app.get("/webconnector/{company}.qwc")
    def download_qwc(company: str) -> Response:
        """The company's .qwc file, to load into the Web Connector (Add an application)."""
        if dash.webconnector_qwc is None or dash.webconnector_statuses is None:
            return Response("qbsf is not serving the Web Connector", status_code=404)
        if company not in {status.company for status in dash.webconnector_statuses()}:
            return Response(f"no Web Connector company named {company}", status_code=404)
        document = dash.webconnector_qwc(company)
        filename = re.sub(r"[^A-Za-z0-9_.-]", "_", company) + ".qwc"
        # QBWC opens .qwc files from disk: an attachment, never rendered by the browser.
        return Response(document, media_type="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @app.get("/api/activity")
    def api_activity(entity: str | None = None, failed: bool = False, limit: int = 50) -> JSONResponse:
        """Recent activity and totals as JSON."""
        rows = _activity(dash, entity, failed, min(max(limit, 1), 500))
        return JSONResponse({"activity": rows, "totals": dash.state.totals() if dash.state is not None else {}})

    # ---- actions ------------------------------------------------------------------------------------------------
    @app.post("/actions/{action}")
    def action(action: str) -> Response:
        """▶ Start, ■ Stop, ↑ SF → QB, ↓ QB → SF."""
        connector = dash.connector
        if connector is None:
            return _redirect("status", "This dashboard was started without a connector (`qbsf run` starts one).",
                             "fail")
        if action == "start":
            started = connector.start()
            return _redirect("status", "Connector starting" if started else "Connector is already running")
        if action == "stop":
            connector.stop()
            return _redirect("status", "Stopping after the record in hand — wait for “Sync engine stopped”")
        if connector.status().state != State.RUNNING:
            return _redirect("status", "Start the connector first", "fail")
        if action == "sf-to-qb":
            connector.trigger_outbound()
            return _redirect("status", "↑ SF → QB queued: every eligible Salesforce record syncs now")
        if action == "qb-to-sf":
            connector.trigger_inbound()
            return _redirect("status", "↓ QB → SF queued: every mapped QuickBooks entity syncs now")
        return Response("unknown action", status_code=404)

    @app.post("/failures/retry")
    def retry(entity: str = Form(""), key: str = Form("")) -> Response:
        """Retry one failed record, one entity's, or all."""
        if dash.state is None:
            return _redirect("activity", "No state database", "fail")
        count = dash.state.retry(entity=entity or None, keys=[key] if key else None)
        if dash.connector is not None and dash.connector.status().state == State.RUNNING:
            dash.connector.trigger_outbound()
        return _redirect("activity", f"{count} record(s) queued for retry")

    @app.post("/timestamps/reset")
    def reset_timestamp(source: str = Form(...)) -> Response:
        """Forget one watermark: the next sync of that source starts from scratch."""
        if dash.state is None:
            return _redirect("timestamps", "No state database", "fail")
        system, _, entity = source.partition(":")
        if system == "qb" and dash.reset_inbound is not None:
            # the inbound engine also forgets what it last sent, so every record is written again (by external id)
            dash.reset_inbound([entity])
            return _redirect("timestamps", f"{_watermark_label(source)} reset: the next QB → SF sync re-sends "
                                           f"every {entity} record")
        done = dash.state.reset_watermark(source)
        label = _watermark_label(source)
        message = f"{label} reset: the next sync re-reads it from scratch" if done else f"{label} had no timestamp"
        return _redirect("timestamps", message)

    @app.post("/timestamps/reset-all")
    def reset_all(confirm: str = Form("")) -> Response:
        """Forget every QB → SF timestamp, as the manual's Reset All (needs the confirmation box)."""
        if dash.state is None:
            return _redirect("timestamps", "No state database", "fail")
        if confirm != "yes":
            return _redirect("timestamps", "Reset All needs confirmation", "fail")
        if dash.reset_inbound is not None:
            names = dash.reset_inbound(None)
            return _redirect("timestamps", f"QB → SF timestamps reset ({', '.join(names)}): the next QB → SF sync "
                                           f"re-sends every record")
        count = dash.state.reset_all_watermarks("qb:")
        return _redirect("timestamps", f"{count} QB → SF timestamp(s) reset")

    # ---- mappings -----------------------------------------------------------------------------------------------
    @app.post("/mappings/upload", response_class=HTMLResponse)
    async def upload_mapping(request: Request, file: UploadFile = File(...)) -> Response:
        """Install an uploaded mapping CSV, or show its line errors and replace nothing."""
        from qbsf.mapping import MappingFileError, load_mapping_bytes

        name = Path(file.filename or "").name
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        problems: list[str]
        if not name.lower().endswith(".csv"):
            problems = [f"{name or '(no name)'}: upload a .csv file (export the template sheet as CSV)"]
        elif len(data) > MAX_UPLOAD_BYTES:
            problems = [f"{name}: larger than {MAX_UPLOAD_BYTES:,} bytes — is this the right file?"]
        else:
            from qbsf.app.mapping_fields import field_problems

            try:
                mapping = load_mapping_bytes(data, name)
            except MappingFileError as exc:
                problems = [str(p) for p in exc.problems]
            else:
                # checked against QuickBooks' fields and, when connected, the org's describe before it replaces
                # the active mapping: a field the org lacks would stop every cycle of that entity
                missing = dash.org_fields() if dash.org_fields is not None else None
                problems = [str(p) for p in field_problems(mapping, missing)]
                if not problems:
                    target = _install_mapping(dash.mappings_dir(), mapping.kind.sheet, data)
                    log.info("mapping %s installed from upload %s", target.name, name)
                    unchecked = "" if missing is not None else " (Salesforce fields not checked: not connected)"
                    return _redirect("mappings", f"{mapping.summary()} — active as {target.name}{unchecked}")
        return render(request, "index.html", status_code=400, upload_problems=problems, upload_name=name,
                      focus="upload-file")

    @app.get("/mappings/{name}/download")
    def download_mapping(name: str) -> Response:
        """The mapping CSV as stored."""
        path = _mapping_file(dash, name)
        if path is None:
            return Response("no such mapping", status_code=404)
        return FileResponse(path, media_type="text/csv", filename=path.name)

    @app.post("/mappings/{name}/delete")
    def delete_mapping(name: str) -> Response:
        """Remove a mapping CSV."""
        path = _mapping_file(dash, name)
        if path is None:
            return _redirect("mappings", f"No mapping named {name}", "fail")
        path.unlink()
        log.info("mapping %s deleted from the dashboard", path.name)
        return _redirect("mappings", f"{path.name} deleted")

    @app.post("/mappings/{name}/preview", response_class=HTMLResponse)
    def preview_mapping(request: Request, name: str, record_id: str = Form(""), record_json: str = Form("")
                        ) -> Response:
        """Apply a mapping to one record (fetched by Id or pasted as JSON)."""
        path = _mapping_file(dash, name)
        if path is None:
            return Response("no such mapping", status_code=404)
        preview = _preview(dash, path, record_id.strip(), record_json.strip())
        return render(request, "index.html", status_code=200 if preview["ok"] else 400, preview=preview)

    # ---- forms --------------------------------------------------------------------------------------------------
    @app.post("/settings", response_class=HTMLResponse)
    async def save_settings_form(request: Request) -> Response:
        """Save the Settings form, all or nothing."""
        form = await request.form()
        current = _flat_values(dash.settings())
        changes: dict[str, str] = {}
        for key, _label, _kind, _choices in SETTINGS_FORM:
            if key not in form:  # a field left out of the post is left as it is
                continue
            value = str(form.get(key, "")).strip()
            if key in SECRET_KEYS:
                if value:  # blank password field = keep the stored secret
                    changes[key] = value
            elif value != current.get(key, ""):
                changes[key] = value
        if not changes:
            return _redirect("settings", "No changes")
        try:
            update_settings(changes, dash.app_context.config, dash.app_context.secret_store())
        except ConfigError as exc:
            named = next((key for key in changes if key in str(exc)), next(iter(changes)))
            return render(request, "index.html", status_code=400, settings_error=str(exc),
                          focus=f"f-{named}")
        note = "" if dash.connector is None else " — polling interval applies next cycle, the rest on next Start"
        return _redirect("settings", f"Saved {', '.join(sorted(changes))}{note}")

    @app.post("/accounts", response_class=HTMLResponse)
    async def save_accounts(request: Request) -> Response:
        """Save QB Default Accounts after checking them against the chart of accounts."""
        form = await request.form()
        wanted = QBAccounts(**{slot: str(form.get(slot, "")).strip() for slot in SLOT_LABELS})
        if not wanted.income:
            return render(request, "index.html", status_code=400,
                          accounts_error="Income / Sales Account is required for every item type", focus="a-income")
        warning = ""
        if dash.chart_of_accounts is not None:
            try:
                chart = dash.chart_of_accounts()
                wanted = check_default_accounts(wanted, chart)
            except ConfigError as exc:
                named = next((slot for slot, label in SLOT_LABELS.items()
                              if getattr(wanted, slot) and (f"'{getattr(wanted, slot)}'" in str(exc)
                                                            or label in str(exc))), "income")
                return render(request, "index.html", status_code=400, accounts_error=str(exc),
                              accounts_form=wanted.model_dump(), focus=f"a-{named}")
            except QbsfError as exc:
                warning = f" (not checked: QuickBooks did not answer: {exc})"
        else:
            warning = " (not checked against QuickBooks: start the connector to check names)"
        changes = {f"quickbooks.default_accounts.{slot}": getattr(wanted, slot) for slot in SLOT_LABELS}
        update_settings(changes, dash.app_context.config)
        return _redirect("accounts", "QB Default Accounts saved" + warning, "warn" if warning else "ok")

    @app.post("/license", response_class=HTMLResponse)
    def save_license(request: Request, key: str = Form("")) -> Response:
        """Verify a license key offline and save it."""
        key = "".join(key.split())
        if not key:
            update_settings({"license_key": ""}, dash.app_context.config)
            return _redirect("license", "License key removed: free edition")
        try:
            status = verify_key(key, machine=dash.machine_id)
        except LicenseError as exc:
            return render(request, "index.html", status_code=400, license_error=str(exc), focus="l-key")
        update_settings({"license_key": key}, dash.app_context.config)
        return _redirect("license", status.message, "warn" if status.state == "grace" else "ok")

    # ---- Live Log -----------------------------------------------------------------------------------------------
    @app.get("/events/log")
    async def log_events(request: Request, after: int = 0, limit: int = 0) -> EventSourceResponse:
        """Live Log over Server-Sent Events: the backlog after ``after``/Last-Event-ID, then new lines."""
        last_id = request.headers.get("last-event-id", "")
        since = int(last_id) if last_id.isdigit() else after
        queue, stop = dash.log_buffer.subscribe_async()

        async def stream() -> Any:
            """Yield log entries as SSE events until the client leaves or ``limit`` is reached."""
            sent = 0
            try:
                for entry in dash.log_buffer.since(since, limit=200):
                    yield _sse(entry)
                    sent += 1
                    if limit and sent >= limit:
                        return
                last = dash.log_buffer.last_seq
                while True:
                    try:
                        entry = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        continue
                    if entry.seq <= last:
                        continue
                    yield _sse(entry)
                    sent += 1
                    if limit and sent >= limit:
                        return
            finally:
                stop()

        return EventSourceResponse(stream(), ping=15)

    return app


def _sse(entry: LogEntry) -> dict[str, str]:
    return {"id": str(entry.seq), "event": "log", "data": json.dumps(entry.as_dict(), ensure_ascii=False)}


# ---- page data ------------------------------------------------------------------------------------------------------


#: Where each refused form's message is (the section's anchor), for the banner at the top of the page.
_REFUSALS = (("settings_error", "settings", "Settings not saved"), ("accounts_error", "accounts",
             "QB Default Accounts not saved"), ("license_error", "license", "License key not saved"),
             ("upload_problems", "mappings", "Mapping not installed"))


def _refusal(extra: Mapping[str, Any]) -> dict[str, Any]:
    """A refused Save / Verify / Upload: a banner at the top of the page naming what happened, and which field to
    focus — the page reloads at its top, so an error only shown in its section would be below the fold."""
    for key, anchor, title in _REFUSALS:
        value = extra.get(key)
        if not value:
            continue
        text = value[0] if isinstance(value, list) else str(value)
        more = f" (and {len(value) - 1} more)" if isinstance(value, list) and len(value) > 1 else ""
        return {"form_error": f"{title}: {text}{more}", "form_anchor": anchor}
    return {}


def _number_bounds(key: str) -> dict[str, str]:
    """The HTML min/max of a number setting, from the same rule the settings model checks (gt/ge/lt/le)."""
    import annotated_types

    section, _, name = key.partition(".")
    model = Settings.model_fields.get(section)
    field_info = getattr(getattr(model, "annotation", None), "model_fields", {}).get(name) if model else None
    bounds: dict[str, str] = {}
    is_int = field_info is not None and field_info.annotation is int
    for rule in getattr(field_info, "metadata", []) or []:
        if isinstance(rule, annotated_types.Ge):
            bounds["min"] = f"{rule.ge:g}"
        elif isinstance(rule, annotated_types.Gt):
            bounds["min"] = f"{rule.gt + (1 if is_int else 0.1):g}"  # the smallest value the rule accepts
        elif isinstance(rule, annotated_types.Le):
            bounds["max"] = f"{rule.le:g}"
        elif isinstance(rule, annotated_types.Lt):
            bounds["max"] = f"{rule.lt - (1 if is_int else 0.1):g}"
    return bounds


def _eligibility_defaults() -> dict[str, str]:
    """The conditions the engine applies when the setting is empty (the manual's StageName = 'Closed Won' …)."""
    from qbsf.sync.entities import entity

    found = {}
    for obj in _SF_OBJECTS:
        try:
            condition = getattr(entity(obj), "eligibility", "") or ""
        except (KeyError, QbsfError):
            continue
        if condition:
            found[f"sync.eligibility.{obj}"] = condition
    return found


def _flat_values(settings: Settings) -> dict[str, str]:
    from qbsf.app.settings import flatten, masked_view

    flat = {k: ("" if v is None else str(v)) for k, v in flatten(masked_view(settings)).items()}
    flat.update({key: condition for key, condition in _eligibility_defaults().items() if not flat.get(key)})
    flat.update({f"sync.eligibility.{obj}": condition for obj, condition in settings.sync.eligibility.items()})
    flat.update({f"sync.on_qb_delete.{name}": action for name, action in settings.sync.on_qb_delete.items()})
    flat["sync.line_owner.Opportunity"] = "both"  # the default, shown as such on the form
    flat.update({f"sync.line_owner.{name}": owner for name, owner in settings.sync.line_owner.items()})
    flat.update({f"sync.on_sf_gone.{name}": action for name, action in settings.sync.on_sf_gone.items()})
    return flat


def _status(dash: Dashboard) -> dict[str, Any]:
    beat = dash.heartbeat.read() if dash.heartbeat is not None else None
    online = dash.heartbeat.online() if dash.heartbeat is not None else False
    data: dict[str, Any] = {"version": __version__, "machine_id": dash.machine_id, "heartbeat": beat}
    if dash.connector is not None:
        st = dash.connector.status()
        running = st.state == State.RUNNING
        last = st.last_cycle
        data.update({
            "state": str(st.state), "salesforce": st.salesforce, "quickbooks": st.quickbooks,
            "salesforce_detail": st.salesforce_detail, "quickbooks_detail": st.quickbooks_detail,
            "connector_online": running or online, "cycles": st.cycles, "error": st.error,
            "polling_interval": st.polling_interval, "halted": bool(last is not None and last.error),
            "next_cycle_at": st.next_cycle_at.isoformat() if st.next_cycle_at else None,
            "last_cycle": None if last is None else {
                "number": last.number, "synced": last.synced, "failed": last.failed, "error": last.error,
                "finished_at": last.finished_at.isoformat(), "seconds": round(last.seconds, 3)},
        })
    else:
        data.update({"state": "running" if online else "stopped", "salesforce": False, "quickbooks": bool(
            beat and beat.get("quickbooks")), "salesforce_detail": "", "quickbooks_detail": "",
            "connector_online": online, "cycles": beat.get("cycle", 0) if beat else 0, "error": None,
            "halted": bool(online and beat and beat.get("error")),
            "polling_interval": None, "next_cycle_at": None, "last_cycle": None})
    return data


def _activity(dash: Dashboard, entity: str | None, failed: bool, limit: int = 50) -> list[dict[str, Any]]:
    if dash.state is None:
        return []
    rows = dash.state.recent(limit, entity=entity or None, failed_only=failed)
    return [{"at": a.at.isoformat() if a.at else "", "entity": a.entity, "direction": str(a.direction),
             "operation": a.operation, "outcome": str(a.outcome), "failed": a.failed, "sf_id": a.sf_id or "",
             "qb_id": a.qb_id or "", "message": a.message or ""} for a in rows]


def _mapping_files(folder: Path) -> list[dict[str, Any]]:
    from qbsf.mapping import MappingFileError, load_mapping

    found = []
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        try:
            mapping = load_mapping(path)
        except MappingFileError as exc:
            found.append({"name": path.name, "ok": False, "summary": "", "problems": [str(p) for p in exc.problems],
                          "direction": "", "fields": 0})
            continue
        found.append({"name": path.name, "ok": True, "summary": mapping.summary(), "problems": [],
                      "direction": mapping.kind.direction.value, "fields": len(mapping.rules),
                      "source": mapping.kind.source_object, "target": mapping.kind.target_object})
    return found


def _mapping_file(dash: Dashboard, name: str) -> Path | None:
    # Only a plain file name inside the mappings folder: never a path the browser made up.
    if Path(name).name != name or not name.lower().endswith(".csv"):
        return None
    path = dash.mappings_dir() / name
    return path if path.is_file() else None


def _install_mapping(folder: Path, sheet: str, data: bytes) -> Path:
    """Write the uploaded CSV as ``<sheet>.csv``, replacing whichever file held that sheet before (atomic)."""
    from qbsf.mapping import UnknownKind, kind_from_filename

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sheet}.csv"
    tmp = folder / f".{sheet}.csv.upload"
    tmp.write_bytes(data)
    tmp.replace(target)
    for other in folder.glob("*.csv"):
        if other == target:
            continue
        try:
            same = kind_from_filename(other.name).sheet == sheet
        except UnknownKind:
            same = False
        if same:  # one active mapping per sheet: the upload replaces the old file
            other.unlink()
    return target


def _preview(dash: Dashboard, path: Path, record_id: str, record_json: str) -> dict[str, Any]:
    from qbsf.mapping import LinkPreview, MappingFileError, RecordError, load_mapping

    result: dict[str, Any] = {"name": path.name, "ok": False, "record": None, "target": None, "error": ""}
    try:
        mapping = load_mapping(path)
    except MappingFileError as exc:
        result["error"] = str(exc)
        return result
    record: Mapping[str, Any] | None = None
    if record_json:
        try:
            loaded = json.loads(record_json)
        except ValueError as exc:
            result["error"] = f"record JSON is not valid: {exc}"
            return result
        except RecursionError:
            result["error"] = "record JSON is nested too deeply: paste one object of field → value"
            return result
        if not isinstance(loaded, dict):
            result["error"] = "record JSON must be an object of field → value"
            return result
        record = loaded
    elif record_id:
        from qbsf.mapping import Direction

        # an inbound mapping reads a QuickBooks record (by ListID or TxnID), an outbound one a Salesforce record
        inbound = mapping.kind.direction is Direction.QB_TO_SF
        fetch = dash.fetch_qb_record if inbound else dash.fetch_record
        if fetch is None:
            result["error"] = "fetching records needs the connector running; paste the record as JSON instead"
            return result
        try:
            record = fetch(mapping.kind.source_object, record_id)
        except QbsfError as exc:
            result["error"] = f"could not fetch {mapping.kind.source_object} {record_id}: {exc}"
            return result
        if record is None:
            result["error"] = f"no {mapping.kind.source_object} with {'ListID/TxnID' if inbound else 'Id'} {record_id}"
            return result
    else:
        result["error"] = "enter a record Id, or paste a record as JSON"
        return result
    mapped = mapping.apply(dict(record), LinkPreview())
    result["record"] = json.dumps(record, indent=2, default=str)
    if isinstance(mapped, RecordError):
        result["error"] = str(mapped)
        return result
    result["ok"] = True
    result["target"] = json.dumps(mapped, indent=2, default=str)
    return result


#: How the service words a session QuickBooks or the Web Connector failed (rather than one merely cut short).
_QB_REFUSED = ("QuickBooks could not process", "the Web Connector returned an empty response")


def _when(moment: datetime | None, now: datetime) -> str:
    """``2026-11-24 20:31:05 UTC (3 min ago)`` — absolute for the record, relative for a glance."""
    if moment is None:
        return ""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    amount = f"{size:.0f} s" if size < 90 else (f"{size / 60:.0f} min" if size < 5400 else f"{size / 3600:.1f} h")
    relative = f"in {amount}" if seconds > 0 else f"{amount} ago"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC ({relative})"


def _webconnector(dash: Dashboard, statuses: Sequence[Any] | None = None) -> list[dict[str, Any]] | None:
    """The Web Connector panel's rows: one per company, with the outcome in plain words; None hides the panel.
    ``statuses``: these instead of this process's own (the admin page passes the deployment's)."""
    if statuses is None and dash.webconnector_statuses is None:
        return None
    now = datetime.now(UTC)
    rows = []
    for status in statuses if statuses is not None else dash.webconnector_statuses():
        last = status.last_session
        outcome, level, message = "no session yet", "muted", ""
        if status.active:
            outcome, level = "running", "warn"
        elif last is not None:
            if last.outcome == "completed":
                outcome, level = "completed", "ok"
            elif last.outcome.startswith("cut off"):
                reason = last.outcome.removeprefix("cut off").lstrip(": ")
                # QuickBooks refusing a message is an error to look at; a dropped connection just retries
                outcome = "error" if reason.startswith(_QB_REFUSED) else "cut off"
                outcome, level, message = outcome, "fail", reason
            else:
                outcome, level, message = "error", "fail", last.outcome
        next_poll = status.next_poll_expected
        rows.append({
            "company": status.company, "active": status.active, "outcome": outcome, "level": level,
            "message": message, "number": last.number if last else None,
            "started": _when(last.started if last else None, now),
            "ended": _when(last.ended if last else None, now),
            "messages": last.messages if last else 0, "queued": status.queued_requests,
            "next_poll": _when(next_poll, now),
            # a poll more than a minute late: the Web Connector (or its PC) is probably not running
            "overdue": bool(next_poll and (now - next_poll).total_seconds() > 60),
            "qwc": dash.webconnector_qwc is not None,
        })
    return rows


def _webconnector_throttles(dash: Dashboard) -> list[dict[str, Any]]:
    """Logins held back after wrong passwords: who, from where, how many failures, until when."""
    if dash.webconnector_throttles is None:
        return []
    now = datetime.now(UTC)
    rows = []
    for row in dash.webconnector_throttles():
        until = datetime.fromtimestamp(float(row["blocked_until"]), UTC)
        rows.append({"username": row["username"] or "any user name", "company": row.get("company", ""),
                     "client": row["client"], "failures": row["failures"], "refused": row.get("refused", 0),
                     "blocked": until > now,
                     "until": _when(until, now) if until > now else "",
                     "last": _when(datetime.fromtimestamp(float(row["last_failure"]), UTC), now)})
    return rows


# Entity watermarks (qb:Customer, sf:Account); the engine's bookkeeping rows (qb:Invoice:status_day,
# qb:company_utc_offset) are not timestamps a person should reset one by one.
_ENTITY_WATERMARK = re.compile(r"^(qb|sf):[A-Z][A-Za-z0-9_]*$")


def _watermark_label(source: str) -> str:
    """``qb:Customer`` → ``↓ QB → SF · Customer`` (the state store names sources by system and entity)."""
    system, _, entity = source.partition(":")
    direction = {"qb": "↓ QB → SF", "sf": "↑ SF → QB"}.get(system.lower())
    return f"{direction} · {entity_word(entity)}" if direction and entity else source


def _page_context(dash: Dashboard, request: Request) -> dict[str, Any]:
    try:
        settings = dash.settings()
        settings_problem = ""
    except ConfigError as exc:
        settings, settings_problem = Settings.model_validate({}), str(exc)
    if not settings_problem and not settings.quickbooks.transport:
        settings_problem = str(transport_not_chosen())
    entity = request.query_params.get("entity", "")
    failed = request.query_params.get("failed", "") == "1"
    flat = _flat_values(settings)
    state = dash.state
    watermarks = state.watermarks() if state is not None else {}
    failures = state.failures() if state is not None else []
    totals = state.totals() if state is not None else {}
    lic = license_status(settings.license_key, machine=dash.machine_id) if dash.machine_id else None
    return {
        "version": __version__,
        "status": _status(dash),
        "notice": request.query_params.get("notice", ""),
        "notice_level": request.query_params.get("level", "ok"),
        "activity": _activity(dash, entity, failed),
        "entity_filter": entity,
        "failed_filter": failed,
        "entities": sorted(totals),
        "totals": totals,
        "failures": failures,
        "has_state": state is not None,
        "has_connector": dash.connector is not None,
        "mappings": _mapping_files(settings.resolved_mappings_dir()),
        "mappings_dir": str(settings.resolved_mappings_dir()),
        "watermarks": [{"source": s, "label": _watermark_label(s), "value": v, "updated_at": at}
                       for s, (v, at) in watermarks.items() if _ENTITY_WATERMARK.match(s)],
        "reset_warning": LARGE_RESET_WARNING,
        "settings_form": [(key, label, kind, choices, flat.get(key, ""), _number_bounds(key) if kind == "number"
                           else {}) for key, label, kind, choices in SETTINGS_FORM],
        "settings_problem": settings_problem,
        "accounts_form": settings.quickbooks.default_accounts.model_dump(),
        "account_labels": SLOT_LABELS,
        "license": lic,
        "machine_id": dash.machine_id,
        "log_lines": [e.as_dict() for e in dash.log_buffer.since(0, limit=200)],
        "now": datetime.now(UTC),
        "webconnector": _webconnector(dash),
        "webconnector_throttles": _webconnector_throttles(dash),
    }
