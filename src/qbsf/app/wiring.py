"""Wire the real pieces into the run loop: Salesforce client, QuickBooks client, state store and sync engine.

:class:`EngineServices` is the :class:`qbsf.app.runtime.Services` the connector drives in production (and in the
demo, against the emulators). It also answers the dashboard's two questions that need a live system: the
QuickBooks chart of accounts (QB Default Accounts check) and one Salesforce record by Id (mapping preview).
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qbsf.app.context import AppContext
from qbsf.app.runtime import CycleRequest
from qbsf.app.settings import SECRET_KEYS, ChartAccount, SecretStoreLike, Settings, chart_from_records, default_data_dir
from qbsf.errors import ConfigError, QbsfError, Retriable, Skippable

if TYPE_CHECKING:
    from qbsf.app.dashboard import Dashboard
    from qbsf.app.logging import LogBuffer
    from qbsf.app.runtime import Connector, Heartbeat

log = logging.getLogger(__name__)


class EngineServices:
    """The connector's systems, built from settings. QuickBooks calls are serialised with a lock because a
    QuickBooks session serves one request at a time (the dashboard's account check shares the cycle's session)."""

    def __init__(self, settings: Settings, secrets: SecretStoreLike | None, state: Any, *,
                 transport_factory: Callable[[], Any] | None = None,
                 sf_client_factory: Callable[[], Any] | None = None, machine_id: str = "") -> None:
        self.settings = settings
        self.machine_id = machine_id
        self.presence: Any = None
        self.cycle_call: Any = None  # qbsf.sync.cycle_reads.CycleCall over self.sf
        self.org_app: Any = None  # the QuickBooks Sync app in the org (qbsf.app.org_app), with the presence
        self._requests: list[str] = []
        self.secrets = secrets
        self.state = state
        self._transport_factory = transport_factory
        self._sf_client_factory = sf_client_factory
        self._qb_lock = threading.RLock()
        self.sf: Any = None
        self.qb: Any = None
        self._transport_in_use: Any = None
        self._mappings_seen: tuple[tuple[str, int, int], ...] = ()
        self.engine: Any = None

    def apply_settings(self, settings: Settings) -> None:
        """New settings before a Start: a changed Salesforce section means a new client (and a new login)."""
        if settings.salesforce != self.settings.salesforce and self.sf is not None:
            self.sf.close()
            self.sf = None
            self.presence = None
            self.org_app = None
            self.cycle_call = None
        self.settings = settings

    # ---- Salesforce ----------------------------------------------------------------------------------------------
    def connect_salesforce(self) -> str:
        """Authenticate and make one cheap call (limits) so a bad setting shows now, not in the first cycle."""
        if self.sf is None:
            if self._sf_client_factory is not None:
                self.sf = self._sf_client_factory()
            else:
                from qbsf.salesforce.connect import client_from_settings

                self.sf = client_from_settings(self.settings.salesforce, self.secrets)
        self.sf.limits()
        from qbsf.sync.cycle_reads import CycleCall

        if self.cycle_call is None or self.cycle_call.sf is not self.sf:
            self.cycle_call = CycleCall(self.sf)  # the package's cycle resource, else /composite (found out once)
        if self.settings.sync.salesforce_heartbeat:
            from qbsf.app.presence import SalesforcePresence, connector_id

            self.presence = SalesforcePresence(self.sf, machine_id=self.machine_id, call=self.cycle_call,
                                               connector=connector_id(self.machine_id,
                                                                      self.settings.resolved_state_url()))
            from qbsf.app.org_app import OrgApp
            from qbsf.sync.runtime import mappings_dir

            self.org_app = OrgApp(self.sf, self.state, mappings_dir=mappings_dir(self.settings),
                                  reset=self.reset_qb_to_sf)
        url = getattr(self.sf, "instance_url", None) or self.settings.salesforce.instance_url
        return str(url)

    def begin_cycle(self, *, quickbooks_connected: bool) -> Any:
        """The cycle's one Salesforce call: heartbeat, sync requests, the in-org app's reads and the engine's change
        polls (or queue claim read) and life-cycle reads, sent to the package's cycle resource (or as /composite
        where the package is older); returns what users asked for (None without the Salesforce package)."""
        from qbsf.sync.cycle_reads import read_in_one_call

        with self._qb_lock:  # the engine is rebuilt under this lock
            engine = self.engine
            queries = engine.cycle_reads() if engine is not None and hasattr(engine, "cycle_reads") else {}
        wants = None
        pages: dict[str, Any] = {}
        if self.presence is not None and self.presence.enabled:
            org_reads = self.org_app.reads() if self.org_app is not None else {}
            wants = self.presence.beat(quickbooks_connected=quickbooks_connected, reads={**queries, **org_reads})
            self._requests = list(wants.ids)
            pages = wants.pages
            if self.org_app is not None:
                self.org_app.accept(pages)
        elif queries and self.sf is not None:
            pages = read_in_one_call(self.cycle_call if self.cycle_call is not None else self.sf, queries)
        if wants is None and self.presence is not None:
            from qbsf.app.presence import Requests

            wants = Requests(pages=pages)  # the package is missing: nobody asked for anything
        if queries:
            engine.accept_cycle_reads(pages)
        return wants

    def end_cycle(self, summary: Any) -> None:
        """Close the Salesforce sync requests this cycle answered (sent with the next heartbeat), and write what the
        org's QuickBooks Sync app shows (activity, timestamps, mapping checks) when the cycle changed any of it."""
        if self.org_app is not None:
            self.org_app.after_cycle(summary.started_at)
        if self.presence is None or not self._requests:
            return
        ok = summary.error is None and not summary.failed
        message = summary.error or (f"{summary.synced} synced, {summary.failed} failed")
        self.presence.finish(self._requests, ok=ok, message=message)
        self._requests = []

    def org_fields(self) -> Callable[[str, Any], list[str]] | None:
        """The connected org's field check for mapping uploads (``missing_fields``), None while not connected."""
        return getattr(self.sf, "missing_fields", None) if self.sf is not None else None

    def fetch_qb_record(self, entity: str, qb_id: str) -> dict[str, Any] | None:
        """One QuickBooks record by ListID (Customer, Item) or TxnID (Invoice), flat as the inbound mappings read it
        (the dashboard's preview of an inbound mapping); None when QuickBooks has no such record."""
        from qbsf.quickbooks.records import to_flat
        from qbsf.sync.entities import INBOUND_SPECS

        spec = next((spec for spec in INBOUND_SPECS if spec.name.casefold() == entity.casefold()), None)
        if spec is None:
            raise ConfigError(f"no QuickBooks {entity} records to preview",
                              hint=f"use {', '.join(spec.name for spec in INBOUND_SPECS)}")
        with self._qb_lock:
            if self.qb is None:
                raise ConfigError("QuickBooks is not connected", hint="Start the connector first")
            try:
                found = next(iter(spec.hooks.read(spec.declared, self.qb, ids=[qb_id], missing_ok=True)), None)
            except Skippable:  # QuickBooks' "not found"
                found = None
        return to_flat(found) if found is not None else None

    def fetch_record(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """One Salesforce record by Id (mapping preview); None when it does not exist."""
        if self.sf is None:
            raise ConfigError("Salesforce is not connected", hint="Start the connector first")
        from qbsf.salesforce.errors import SalesforceError

        try:
            return dict(self.sf.get(sobject, record_id))
        except SalesforceError as exc:
            if "NOT_FOUND" in str(exc) or "404" in str(exc):
                return None
            raise

    # ---- QuickBooks ----------------------------------------------------------------------------------------------
    def _transport(self) -> Any:
        from qbsf.quickbooks.transports.choice import require_transport

        if self._transport_factory is not None:
            return self._transport_factory()
        if require_transport(self.settings.quickbooks) == "webconnector":
            raise ConfigError("quickbooks.transport = webconnector: QuickBooks calls qbsf through the Web Connector, "
                              "so the connector runs inside the Web Connector service",
                              hint="start it with `qbsf run` (it serves the /qbwc endpoint) or `qbsf qbwc serve "
                                   "--sync COMPANY`, or set quickbooks.transport to com (Windows) or simulator")
        from qbsf.app.transports import quickbooks_transport

        return quickbooks_transport(self.settings.quickbooks)

    def connect_quickbooks(self) -> str:
        """Open the QuickBooks session and build the sync engine over it; return the company name."""
        from qbsf.quickbooks.client import QuickBooksClient

        with self._qb_lock:
            try:
                transport = self._transport()
            except ConfigError:
                raise
            except QbsfError as exc:
                raise Retriable(f"QuickBooks is not reachable: {exc}") from exc
            except OSError as exc:
                raise Retriable(f"QuickBooks is not reachable: {exc}") from exc
            self._transport_in_use = transport
            client = QuickBooksClient(transport, qbxml_version=self._known_qbxml_version())
            try:
                name = self._known_company_name() or self._read_company_name(client)
            except Exception:
                client.close()
                raise
            self.qb = client
            self.engine = self._build_engine()
            return name

    def _known_qbxml_version(self) -> str | None:
        """The qbXML version to speak when it is known without asking QuickBooks (None: a HostQuery negotiates)."""
        return None

    def _known_company_name(self) -> str | None:
        """The company's name when it is known without asking QuickBooks (None: a CompanyQuery reads it)."""
        return None

    @staticmethod
    def _read_company_name(client: Any) -> str:
        company = client.company()
        return str(getattr(company, "CompanyName", None) or "QuickBooks company")

    def _mappings_fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        from qbsf.sync.runtime import mappings_dir

        folder = mappings_dir(self.settings)
        if not folder.is_dir():
            return ()
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.csv")))

    def _build_engine(self) -> Any:
        from qbsf.sync.engine import SyncEngine, load_mappings
        from qbsf.sync.runtime import mappings_dir

        folder = mappings_dir(self.settings)
        self._mappings_seen = self._mappings_fingerprint()
        mappings = load_mappings(folder) if folder.is_dir() else {}
        if not mappings:
            log.warning("no mapping CSVs in %s: nothing will sync until one is uploaded", folder,
                        extra={"mark": "warn"})
        # The settings themselves, not a SyncConfig: the QB → SF side reads its own (sync.on_qb_delete,
        # quickbooks.time_zone, sync.inbound_overlap_seconds…) from them.
        return SyncEngine(self.settings, self.sf, self.qb, self.state, mappings)

    def _reload_mappings_if_changed(self) -> None:
        # Between cycles is the safe moment: an uploaded or deleted mapping applies from the next cycle on.
        if self._mappings_fingerprint() == self._mappings_seen:
            return
        try:
            self.engine = self._build_engine()
        except QbsfError as exc:
            log.error("mappings not reloaded, keeping the previous ones: %s", exc, extra={"mark": "fail"})
            return
        log.info("Mappings reloaded: %s", ", ".join(sorted(self.engine.mappings)) or "none", extra={"mark": "ok"})

    def close_quickbooks(self) -> None:
        """End the QuickBooks session (and with it the engine built on it)."""
        with self._qb_lock:
            if self.qb is not None:
                try:
                    self.qb.close()
                finally:
                    self.qb = None
                    self.engine = None
                    # a simulator opened from settings is ours to close (its SQLite file stays consistent)
                    sim = getattr(self._transport_in_use, "sim", None)
                    if sim is not None and self._transport_factory is None:
                        sim.close()
                    self._transport_in_use = None

    def chart_of_accounts(self) -> list[ChartAccount]:
        """The company's chart of accounts (for the QB Default Accounts check)."""
        with self._qb_lock:
            if self.qb is None:
                raise Retriable("QuickBooks is not connected")
            accounts = self.qb.query_accounts(include_inactive=True)
        return chart_from_records(accounts)

    def reset_qb_to_sf(self, entities: list[str] | None) -> list[str]:
        """Reset QB → SF timestamps (and what was last sent) for ``entities`` or all; returns the entity names."""
        with self._qb_lock:  # never in the middle of a cycle
            if self.engine is not None and hasattr(self.engine, "inbound"):
                return list(self.engine.inbound.reset(entities))
            from qbsf.sync.inbound import reset_inbound

            return reset_inbound(self.state, entities)  # the same reset while QuickBooks is not connected

    # ---- cycles --------------------------------------------------------------------------------------------------
    def run_cycle(self, request: CycleRequest) -> Any:
        """SF → QB (every eligible record when asked for), then QB → SF when the engine offers it."""
        with self._qb_lock:
            if self.engine is None:
                raise Retriable("QuickBooks is not connected")
            self._reload_mappings_if_changed()
            reports: dict[str, Any] = {}
            if request.outbound and not request.should_stop():
                reports["sf_to_qb"] = self.engine.sync_sf_to_qb(full=request.full_outbound,
                                                                **self._stop_option(self.engine.sync_sf_to_qb, request))
            inbound = getattr(self.engine, "sync_qb_to_sf", None)
            if request.inbound and callable(inbound) and not request.should_stop():
                reports["qb_to_sf"] = inbound(full=request.full_inbound, **self._stop_option(inbound, request))
            return reports

    @staticmethod
    def _stop_option(method: Callable[..., Any], request: CycleRequest) -> dict[str, Any]:
        # Engines that can stop between records take should_stop; older ones stop between passes.
        try:
            accepted = inspect.signature(method).parameters
        except (TypeError, ValueError):
            return {}
        return {"should_stop": request.should_stop} if "should_stop" in accepted else {}

    def close(self) -> None:
        """Close everything (the loop has already ended the QuickBooks session)."""
        self.close_quickbooks()
        if self.sf is not None:
            self.sf.close()
            self.sf = None
            self.presence = None


@dataclass
class ConnectorApp:
    """Everything `qbsf run` (and the demo) assembles: settings, logging buffer, state, services, the run loop and
    the dashboard model. ``close()`` stops the loop (finishing the record in hand) and closes the rest."""

    context: AppContext
    settings: Settings
    log_buffer: LogBuffer
    machine_id: str
    state: Any
    services: EngineServices
    connector: Connector
    heartbeat: Heartbeat
    dashboard: Dashboard

    def close(self, wait: float = 120.0) -> None:
        """Stop the connector and release the QuickBooks session, Salesforce client and state database."""
        self.connector.stop(wait=wait)
        self.services.close()
        self.state.close()


def secret_values(settings: Settings, context: AppContext) -> list[str]:
    """Every secret value qbsf loaded, so the log redactor masks them wherever they appear."""
    values: list[str] = []
    for key in SECRET_KEYS:
        section, _, name = key.partition(".")
        value = getattr(getattr(settings, section), name, None)
        if value is not None:
            values.append(value.get_secret_value())
    store = context.secret_store()
    if store is not None:
        extra = store.get("salesforce.jwt_private_key")
        if extra:
            values.append(extra)
    return values


def heartbeat_path(settings: Settings) -> Path:
    """Next to a SQLite state database when there is one (two installs on one machine keep separate heartbeats)."""
    url = settings.resolved_state_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///")).with_name("heartbeat.json")
    return default_data_dir() / "heartbeat.json"


def refuse_second_instance(heartbeat: Heartbeat) -> None:
    """Refuse to start when another live qbsf process beats on the same heartbeat (same state database): two
    connectors on one company would fight over the QuickBooks session and the watermarks."""
    import os

    beat = heartbeat.read()
    if not beat or not heartbeat.online():
        return
    pid = beat.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return
    try:
        os.kill(pid, 0)  # signal 0: is that process alive? (sends nothing)
    except ProcessLookupError:
        return  # stale heartbeat of a process that is gone
    except (PermissionError, OSError):
        pass  # alive but not ours (or a platform without signals): treat as running
    raise ConfigError(f"another qbsf connector (process {pid}) is running with this state database "
                      f"(heartbeat {beat.get('at')})",
                      hint="stop it first (■ Stop or Ctrl-C); only one connector may serve a QuickBooks company")


def open_connector_app(context: AppContext, *, log_level: str = "INFO", console: Any = True,
                       transport_factory: Callable[[], Any] | None = None) -> ConnectorApp:
    """Load settings, configure logging, open the state store and build the connector and its dashboard model.

    Nothing connects yet: call ``app.connector.start()`` (or ``run()``), and serve ``app.dashboard``.
    ``transport_factory`` overrides the QuickBooks transport the settings name (the demo passes its simulator).
    """
    from qbsf.app.dashboard import Dashboard
    from qbsf.app.license import license_status, machine_id
    from qbsf.app.logging import configure_logging
    from qbsf.app.runtime import Connector, Heartbeat
    from qbsf.sync.state import StateStore

    settings = context.load().settings
    refuse_second_instance(Heartbeat(heartbeat_path(settings)))
    buffer = configure_logging(log_dir=settings.resolved_log_dir(), level=log_level, console=console,
                               secrets=secret_values(settings, context))
    mid = machine_id()
    state = StateStore(settings.resolved_state_url())
    services = EngineServices(settings, context.secret_store(), state, transport_factory=transport_factory,
                              machine_id=mid)
    heartbeat = Heartbeat(heartbeat_path(settings))
    connector = Connector(services, settings, machine_id=mid, license=license_status(settings.license_key, machine=mid),
                          heartbeat=heartbeat, reload_settings=lambda: context.load().settings)
    dashboard = Dashboard(app_context=context, log_buffer=buffer, connector=connector, state=state,
                          heartbeat=heartbeat, machine_id=mid, chart_of_accounts=services.chart_of_accounts,
                          fetch_record=services.fetch_record, fetch_qb_record=services.fetch_qb_record,
                          reset_inbound=services.reset_qb_to_sf,
                          org_fields=services.org_fields)
    return ConnectorApp(context=context, settings=settings, log_buffer=buffer, machine_id=mid, state=state,
                        services=services, connector=connector, heartbeat=heartbeat, dashboard=dashboard)
