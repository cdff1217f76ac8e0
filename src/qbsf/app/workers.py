"""Hosted mode: one deployment serves many companies from several worker processes (`qbsf serve --workers N`).

Each worker process runs a :class:`HostedWorker`: the Web Connector endpoint over the shared session tables (any
worker answers any call), and the sync engines of the companies whose leases it holds — its share of them, taken
with ``SELECT … FOR UPDATE SKIP LOCKED`` and renewed every few seconds. A worker that dies stops renewing; its
companies move to the workers still alive once their leases expire. Everything a company's engine does — the
Salesforce polls, the QuickBooks writes through the Web Connector, the write-backs, the daily OverDue pass — runs
inside that one engine, so it runs in one place at a time.

Until each company is a tenant of one set of tables, a company's own sync state lives in a schema of its own in
the hosted PostgreSQL database (``qbsf_co_<name>_<hash>``), or beside the database file on SQLite.

Beside ``/qbwc`` every worker serves ``/healthz`` (the process answers), ``/readyz`` (its database is reachable and
it has joined the workers) and ``/metrics`` (Prometheus text format, read from the shared tables, so every worker
gives the whole deployment's figures).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from qbsf.errors import ConfigError

log = logging.getLogger(__name__)

#: The environment variable that carries a worker's configuration from `qbsf serve` to each worker process.
CONFIG_ENV = "QBSF_HOSTED_CONFIG"
#: What every worker serves beside the Web Connector endpoint (deploy/ points health checks and scrapes here).
HEALTH_PATH, READY_PATH, METRICS_PATH = "/healthz", "/readyz", "/metrics"


@dataclass
class HostedConfig:
    """What every worker process of one deployment is told."""

    database: str
    registry: str
    companies: dict[str, str | None] = field(default_factory=dict)  # company → its settings TOML (None: default)
    default_config: str | None = None
    lease_ttl: float = 15.0
    poll_wait: float = 10.0
    idle_timeout: float = 300.0
    quiet_timeout: float = 30.0
    stale_after: float = 120.0
    public_url: str | None = None
    engine: bool = True
    pool_size: int = 10
    max_overflow: int = 40

    def to_env(self) -> str:
        """JSON for :data:`CONFIG_ENV`."""
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> HostedConfig:
        """The configuration `qbsf serve` left in :data:`CONFIG_ENV`."""
        raw = os.environ.get(CONFIG_ENV, "")
        if not raw:
            raise ConfigError(f"{CONFIG_ENV} is not set", hint="start hosted workers with `qbsf serve`")
        return cls(**json.loads(raw))


def company_schema(company: str, prefix: str = "qbsf") -> str:
    """The PostgreSQL schema holding ``company``'s sync state: readable, unique, within PostgreSQL's 63 bytes.

    ``prefix`` is the hosted database's own schema when its URL names one (``options=-csearch_path=…``), so two
    deployments sharing a database never share a company's state."""
    slug = re.sub(r"[^a-z0-9]+", "_", company.lower()).strip("_")[:24] or "company"
    return f"{prefix[:20]}_co_{slug}_{hashlib.sha256(company.encode('utf-8')).hexdigest()[:8]}"


def _search_path(url: Any) -> str | None:
    options = url.query.get("options")
    text_value = " ".join(options) if isinstance(options, tuple) else str(options or "")
    match = re.search(r"search_path\s*=\s*([A-Za-z0-9_]+)", text_value)
    return match.group(1) if match else None


def company_state_url(database: str, company: str) -> str:
    """``company``'s state database in the hosted database: its own schema (created when missing) on PostgreSQL,
    a file beside the database on SQLite."""
    url = make_url(database)
    if url.get_backend_name() == "postgresql":
        schema = company_schema(company, _search_path(url) or "qbsf")
        admin = create_engine(url, poolclass=NullPool)
        try:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        finally:
            admin.dispose()
        return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        suffix = path.suffix or ".db"
        return f"sqlite:///{path.with_name(f'{path.stem}-{company_schema(company)}{suffix}')}"
    raise ConfigError(f"hosted mode cannot keep company state in {url.render_as_string(hide_password=True)}",
                      hint="use a PostgreSQL URL (or a SQLite file for a single worker)")


class CompanyEngine(Protocol):
    """A company's running sync engine, as the worker starts and stops it."""

    def start(self) -> None: ...

    def stop(self, wait: float) -> None: ...


EngineFactory = Callable[[str, Any, int], CompanyEngine]


class ConnectorEngine:
    """The production engine of one company: `qbsf run`'s connector over the shared Web Connector bridge."""

    def __init__(self, config: HostedConfig, shared: Any, company: str, bridge: Any, epoch: int) -> None:
        from qbsf.app.commands.qbwc import WebConnectorServices
        from qbsf.app.context import AppContext
        from qbsf.app.runtime import Connector, count_report
        from qbsf.quickbooks.transports.webconnector import WebConnectorTransport

        context = AppContext(config=config.companies.get(company) or config.default_config)
        settings = context.load().settings
        settings = settings.model_copy(update={"state_url": company_state_url(config.database, company)})
        transport = WebConnectorTransport(bridge, session_wait=3600.0, response_timeout=900.0)

        class HostedServices(WebConnectorServices):
            def run_cycle(self, request: Any) -> Any:
                report = super().run_cycle(request)
                synced, failed = count_report(report)
                shared.record_cycle(company, epoch, synced=synced, failed=failed)
                return report

        self.services = HostedServices(settings, context.secret_store(), transport)
        self.connector = Connector(self.services, settings)

    def start(self) -> None:
        """Start the company's cycles."""
        self.connector.start()

    def stop(self, wait: float) -> None:
        """Unblock a wait for the Web Connector, stop after the record in hand, release the clients."""
        self.services.stop()
        self.connector.stop(wait=wait)
        self.services.close()


class HostedWorker:
    """One worker process: the shared Web Connector service and the engines of its share of the companies."""

    def __init__(self, config: HostedConfig, *, holder: str | None = None,
                 engine_factory: EngineFactory | None = None, clock: Callable[[], float] = time.time) -> None:
        from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry
        from qbsf.quickbooks.webconnector.shared import SharedSessions, SharedWebConnectorService
        from qbsf.sync.leases import COMPANY_PREFIX, WORKER_PREFIX, Leases
        from qbsf.sync.state import StateStore

        self.config = config
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        StateStore(config.database).close()  # creates or upgrades the tables, once for all workers
        url = make_url(config.database)
        options: dict[str, Any] = {"pool_pre_ping": True}
        if url.get_backend_name() == "postgresql":
            options.update(pool_size=config.pool_size, max_overflow=config.max_overflow)
        else:
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = create_engine(url, **options)
        self.shared = SharedSessions(self.engine, clock=clock, idle_timeout=config.idle_timeout,
                                     quiet_timeout=config.quiet_timeout)
        registry = WebConnectorRegistry.load(Path(config.registry))
        users = registry.users()
        if not users.users():
            raise ConfigError(f"no Web Connector user in {registry.path}",
                              hint="register each company first: qbsf qwc --company NAME --url https://HOST/qbwc")
        self.service = SharedWebConnectorService(users, self.shared, poll_wait=config.poll_wait,
                                                 stale_after=config.stale_after)
        for company, registration in sorted(registry.companies.items()):
            self.service.add_company(company, company_file=registration.company_file or "",
                                     run_every_minutes=registration.run_every_minutes)
        self.companies = sorted(config.companies) if config.engine else []
        self.leases = Leases(self.engine, self.holder, ttl=config.lease_ttl, clock=clock)
        self._company_prefix, self._worker_lease = COMPANY_PREFIX, WORKER_PREFIX + self.holder
        self._factory = engine_factory or (lambda company, bridge, epoch: ConnectorEngine(
            config, self.shared, company, bridge, epoch))
        self.held: dict[str, int] = {}
        self.engines: dict[str, CompanyEngine] = {}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="qbsf-engine")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = False

    # ----- scheduling --------------------------------------------------------------------------------------------

    def tick(self) -> None:
        """One round: renew what this worker holds, drop what it lost, take its share of the free companies."""
        with self._lock:
            lost = self.leases.renew(self.held)
            for name in lost:
                epoch = self.held.pop(name)
                if name.startswith(self._company_prefix):
                    log.warning("worker %s lost company %s (epoch %d) to another worker", self.holder,
                                name[len(self._company_prefix):], epoch)
                    self._stop_engine(name[len(self._company_prefix):])
            if self._worker_lease not in self.held:
                self.held.update(self.leases.claim([self._worker_lease], 1))
            target = self.leases.share(len(self.companies), self.leases.live_workers())
            mine = [name for name in self.held if name.startswith(self._company_prefix)]
            if len(mine) < target:
                names = [self._company_prefix + c for c in self.companies if self._company_prefix + c not in self.held]
                for name, epoch in self.leases.claim(names, target - len(mine)).items():
                    self.held[name] = epoch
                    self._start_engine(name[len(self._company_prefix):], epoch)
            elif len(mine) > target + 1:
                # More workers are alive than when this one took its share: hand one company back.
                name = sorted(mine)[-1]
                epoch = self.held.pop(name)
                company = name[len(self._company_prefix):]
                self._pool.submit(self._hand_back, company, name, epoch)
            self.ready = self._worker_lease in self.held

    def _start_engine(self, company: str, epoch: int) -> None:
        def start() -> None:
            if not self.shared.attach_engine(company, epoch):
                return
            try:
                engine = self._factory(company, self.shared.bridge(company, epoch=epoch), epoch)
                engine.start()
            except Exception as exc:  # one company's bad settings never stop the others
                log.error("company %r could not start its sync engine: %s", company, exc)
                return
            with self._lock:
                if self.held.get(self._company_prefix + company) == epoch:
                    self.engines[company] = engine
                    return
            engine.stop(10.0)  # the lease went while it was starting

        self._pool.submit(start)

    def _stop_engine(self, company: str) -> None:
        engine = self.engines.pop(company, None)
        if engine is not None:
            self._pool.submit(engine.stop, 30.0)

    def _hand_back(self, company: str, name: str, epoch: int) -> None:
        with self._lock:
            engine = self.engines.pop(company, None)
        if engine is not None:
            engine.stop(30.0)
        self.leases.release(name, epoch)

    def _run(self) -> None:
        interval = max(0.2, self.config.lease_ttl / 5)
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # the database went away for a moment: try again next round
                log.warning("worker %s could not renew its leases: %s", self.holder, exc)
            self._stop.wait(interval)

    def start(self) -> HostedWorker:
        """Join the workers and keep the leases in a background thread."""
        self._thread = threading.Thread(target=self._run, name="qbsf-hosted-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait: float = 30.0) -> None:
        """Stop every engine after the record in hand and let go of the leases at once (others take over)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait)
        with self._lock:
            engines, self.engines = dict(self.engines), {}
            held, self.held = dict(self.held), {}
        for engine in engines.values():
            engine.stop(wait)
        for name, epoch in held.items():
            with contextlib.suppress(Exception):
                self.leases.release(name, epoch)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.shared.close()
        self.engine.dispose()

    # ----- health and metrics ------------------------------------------------------------------------------------

    def check_ready(self) -> str | None:
        """None when this worker can serve (database reachable, joined the workers), else why not."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return f"database unreachable: {type(exc).__name__}"
        if not self.ready:
            return "not yet joined the workers"
        return None

    def metrics(self) -> str:
        """The deployment's figures in Prometheus text format."""
        now = self.shared.clock()
        rows = self.shared.company_rows()
        leases = {lease.name[len(self._company_prefix):]: lease
                  for lease in self.leases.all(self._company_prefix)}
        lines = [
            "# HELP qbsf_workers Worker processes alive (holding their worker lease).",
            "# TYPE qbsf_workers gauge",
            f"qbsf_workers {self.leases.live_workers()}",
            "# HELP qbsf_worker_companies Companies whose sync engine runs in this worker process.",
            "# TYPE qbsf_worker_companies gauge",
            f"qbsf_worker_companies{{worker={_label(self.holder)}}} {len(self.engines)}",
            "# HELP qbsf_webconnector_open_tickets Web Connector tickets not yet closed or expired.",
            "# TYPE qbsf_webconnector_open_tickets gauge",
            f"qbsf_webconnector_open_tickets {self.shared.tickets()}",
        ]
        series: list[tuple[str, str, str, Callable[[Any], float]]] = [
            ("qbsf_webconnector_sessions_total", "counter", "Web Connector sessions opened.",
             lambda r: r.sessions_opened),
            ("qbsf_webconnector_session_active", "gauge", "1 while a Web Connector session is open.",
             lambda r: 1 if r.active_session else 0),
            ("qbsf_webconnector_queued_requests", "gauge", "qbXML requests waiting for the Web Connector.",
             lambda r: r.queued),
            ("qbsf_sync_cycles_total", "counter", "Sync cycles finished.", lambda r: r.cycles),
            ("qbsf_records_synced_total", "counter", "Records synced, both directions.", lambda r: r.records_synced),
            ("qbsf_records_failed_total", "counter", "Records that failed (see qbsf status).",
             lambda r: r.records_failed),
            ("qbsf_sync_lag_seconds", "gauge", "Seconds since the company's last finished sync cycle.",
             lambda r: now - r.last_cycle_end if r.last_cycle_end else float("nan")),
        ]
        for name, kind, help_text, value in series:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            lines += [f"{name}{{company={_label(row.company)}}} {_number(value(row))}" for row in rows]
        lines += ["# HELP qbsf_company_lease_epoch How many times the company's sync has been placed on a worker.",
                  "# TYPE qbsf_company_lease_epoch counter"]
        lines += [f"qbsf_company_lease_epoch{{company={_label(company)}}} {lease.epoch}"
                  for company, lease in sorted(leases.items())]
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _number(value: float) -> str:
    if value != value:  # NaN
        return "NaN"
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def create_worker_app(config: HostedConfig | None = None, *, worker: HostedWorker | None = None) -> Any:
    """The ASGI app of one worker process: /qbwc, /healthz, /readyz, /metrics; the worker starts and stops with it.

    uvicorn calls it (``factory=True``) in every worker process; the configuration comes from :data:`CONFIG_ENV`.
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from qbsf.quickbooks.webconnector import create_app

    config = config or (worker.config if worker is not None else HostedConfig.from_env())
    hosted = worker or HostedWorker(config)
    soap = create_app(hosted.service, public_url=config.public_url)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_request: Request) -> Response:
        problem = await run_in_threadpool(hosted.check_ready)
        if problem:
            return PlainTextResponse(f"not ready: {problem}\n", status_code=503)
        return PlainTextResponse("ready\n")

    async def metrics(_request: Request) -> Response:
        body = await run_in_threadpool(hosted.metrics)
        return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        import anyio.to_thread

        # Web Connector calls wait for the engine in threads: room for every company's session at once.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 512
        hosted.start()
        try:
            yield
        finally:
            await run_in_threadpool(hosted.stop)

    routes = [*soap.routes, Route(HEALTH_PATH, healthz, methods=["GET"]), Route(READY_PATH, readyz, methods=["GET"]),
              Route(METRICS_PATH, metrics, methods=["GET"])]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.webconnector = hosted.service
    app.state.worker = hosted
    return app
