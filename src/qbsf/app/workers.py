"""Hosted mode: one deployment serves many companies from several worker processes (`qbsf serve --workers N`).

Each worker process runs a :class:`HostedWorker`: the Web Connector endpoint over the shared session tables (any
worker answers any call), and the sync engines of the companies whose leases it holds — its share of them, taken
with ``SELECT … FOR UPDATE SKIP LOCKED`` and renewed every few seconds. A worker that dies stops renewing; its
companies move to the workers still alive — at once on PostgreSQL, where its advisory lock went with its process's
database session, else once their leases expire. Everything a company's engine does — the
Salesforce polls, the QuickBooks writes through the Web Connector, the write-backs, the daily OverDue pass — runs
inside that one engine, so it runs in one place at a time.

Every company is a tenant of the one state database (``qbsf tenants add``): its sync state lives in the shared
state tables, every row carrying its company and every statement scoped to it (qbsf.sync.tenant_scope), opened
with ``TenantRegistry.open(company)`` over one connection pool per worker process. Without explicit companies a
worker serves every tenant that has a Web Connector user, and picks up companies added while it runs.

Beside ``/qbwc`` every worker serves ``/healthz`` (the process answers), ``/readyz`` (its database is reachable and
it has joined the workers) and ``/metrics`` (Prometheus text format, read from the shared tables, so every worker
gives the whole deployment's figures).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, make_url, select, text

from qbsf.errors import ConfigError
from qbsf.log_context import company_context, in_current_context

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
    engine_stop_wait: float = 30.0  # how long a company leaving this worker waits for its cycle's record in hand
    poll_wait: float = 10.0
    idle_timeout: float = 300.0
    quiet_timeout: float = 30.0
    stale_after: float = 120.0
    public_url: str | None = None
    engine: bool = True
    pool_size: int = 10  # the companies' engines (their state transactions)
    max_overflow: int = 40
    webconnector_pool_size: int = 10  # the Web Connector calls and the companies' qbXML queues (session tables)
    webconnector_max_overflow: int = 30
    log_level: str = "INFO"

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


class CompanyEngine(Protocol):
    """A company's running sync engine, as the worker starts and stops it (an engine may also tell whether a
    cycle is running: ``busy() -> bool``; one that cannot is taken as idle between Web Connector sessions)."""

    def start(self) -> None: ...

    def stop(self, wait: float) -> None: ...


EngineFactory = Callable[[str, Any, int], CompanyEngine]


def in_company(company: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``target`` run in a context naming ``company``: its log lines (and its engine thread's) say which company."""
    def wrap(target: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            with company_context(company):
                return target(*args, **kwargs)
        return in_current_context(run)
    return wrap


def ensure_tenant(registry: Any, company: str, settings_file: str = "") -> None:
    """Register ``company`` as a tenant of the deployment's database when it is not yet (with its settings file);
    several workers starting at once may all try."""
    from sqlalchemy.exc import IntegrityError

    if company in {tenant.id for tenant in registry.list()}:
        return
    try:
        registry.add(company, config=settings_file)
    except (ConfigError, IntegrityError):  # another worker (or `qbsf serve`) registered it first
        if company not in {tenant.id for tenant in registry.list()}:
            raise
    else:
        log.info("company %s registered as a tenant of the state database", company)


class ConnectorEngine:
    """The production engine of one company: `qbsf run`'s connector over the shared Web Connector bridge, its state
    the company's rows of the deployment's state database, its secrets the company's own (encrypted there).

    Its loop runs in a thread of its own, which closes the company's clients when the loop has ended: a stop that
    waits less long than a cycle lasts (the company moves to another worker mid-cycle) leaves the cycle its clients
    until it finishes, never closes them under it.
    """

    def __init__(self, services: Any, connector: Any) -> None:
        self.services = services
        self.connector = connector
        self._thread: threading.Thread | None = None
        self._cycles = 0  # cycles running (0 or 1)

    @classmethod
    def for_company(cls, worker: HostedWorker, company: str, bridge: Any, epoch: int) -> ConnectorEngine:
        """``company``'s engine as ``worker`` runs it, talking to QuickBooks through ``bridge`` for lease ``epoch``."""
        from qbsf.app.commands.qbwc import WebConnectorServices
        from qbsf.app.context import AppContext
        from qbsf.app.runtime import Connector, count_report
        from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
        from qbsf.sync.tenant_secrets import TenantSecretStore

        config, shared = worker.config, worker.shared
        state = worker.tenants.open(company)
        context = AppContext(config=worker.settings_file(company), secrets=TenantSecretStore(state))
        settings = context.load().settings
        settings = settings.model_copy(update={"state_url": config.database})
        transport = WebConnectorTransport(bridge, session_wait=3600.0, response_timeout=900.0)
        engine: ConnectorEngine

        class HostedServices(WebConnectorServices):
            def run_cycle(self, request: Any) -> Any:
                engine._cycles += 1
                try:
                    report = super().run_cycle(request)
                finally:
                    engine._cycles -= 1
                synced, failed = count_report(report)
                shared.record_cycle(company, epoch, synced=synced, failed=failed)
                return report

        # Its own heartbeat row in Salesforce: companies of one deployment share the state database's URL.
        services = HostedServices(settings, context.secret_store(), transport, state=state, owns_state=True,
                                  machine_id=f"hosted:{company}")
        engine = cls(services, Connector(services, settings))
        return engine

    def start(self) -> None:
        """Start the company's cycles."""
        self._thread = threading.Thread(target=in_current_context(self._run), name="qbsf-connector", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.connector.run()
        finally:
            # The loop has ended, its last cycle with it: nothing uses the clients any more.
            try:
                self.services.close()
            except Exception as exc:
                log.warning("the sync engine's connections did not close cleanly: %s", exc)

    def busy(self) -> bool:
        """Whether a sync cycle is running."""
        return self._cycles > 0

    def stop(self, wait: float) -> None:
        """Unblock a wait for the Web Connector and stop after the record in hand; wait up to ``wait`` seconds.

        A cycle still running then finishes in its thread, which closes the clients after it."""
        self.services.stop()
        self.connector.stop()
        thread = self._thread
        if thread is None:  # never started: nothing else will close them
            self.services.close()
            return
        thread.join(wait)
        if thread.is_alive():
            log.info("the sync engine's cycle is still running after %g s: it stops after the record in hand and "
                     "closes its connections then", wait)


class HostedWorker:
    """One worker process: the shared Web Connector service and the engines of its share of the companies."""

    def __init__(self, config: HostedConfig, *, holder: str | None = None,
                 engine_factory: EngineFactory | None = None, clock: Callable[[], float] = time.time) -> None:
        from qbsf.quickbooks.webconnector.shared import SharedSessions, SharedWebConnectorService
        from qbsf.sync.leases import COMPANY_PREFIX, WORKER_PREFIX, Leases, WorkerLock
        from qbsf.sync.state import StateStore
        from qbsf.sync.tenants import TenantRegistry

        self.config = config
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        url = make_url(config.database)
        # No ping before each use: it doubled the round trips of every short transaction. After a database restart
        # the first statement on a dead connection fails and SQLAlchemy renews the whole pool; that company's cycle
        # (or that Web Connector call, which the Web Connector repeats) is retried.
        pool = ({"pool_size": config.pool_size, "max_overflow": config.max_overflow, "pool_pre_ping": False}
                if url.get_backend_name() == "postgresql" else None)
        # One store (and one connection pool) for the deployment's tables and every company's rows: it creates or
        # upgrades the tables; each company's engine gets a store scoped to it (TenantRegistry.open).
        self.store = StateStore(config.database, pool=pool)
        self.engine = self.store.engine
        self.tenants = TenantRegistry(config.database, state=self.store)
        # The Web Connector's session tables have connections of their own: when the companies' cycles held every
        # connection of one shared pool, Web Connector calls waited 30 s for one and failed (the Web Connector
        # logs those as errors), and a busy Web Connector could starve the cycles the same way.
        self.webconnector_engine = (create_engine(url, pool_size=config.webconnector_pool_size,
                                                  max_overflow=config.webconnector_max_overflow,
                                                  pool_pre_ping=False)
                                    if url.get_backend_name() == "postgresql" else self.engine)
        self.shared = SharedSessions(self.webconnector_engine, clock=clock, idle_timeout=config.idle_timeout,
                                     quiet_timeout=config.quiet_timeout)
        self._registry_path = Path(config.registry)
        self._registry_stamp: float | None = None
        registry = self._load_registry()
        users = registry.users()
        if not users.users():
            raise ConfigError(f"no Web Connector user in {registry.path}",
                              hint="register each company first: qbsf qwc --company NAME --url https://HOST/qbwc")
        self.service = SharedWebConnectorService(users, self.shared, poll_wait=config.poll_wait,
                                                 stale_after=config.stale_after)
        self._web_connector_companies: set[str] = set()
        self._add_web_connector_companies(registry)
        for company, settings_file in sorted(config.companies.items()):
            ensure_tenant(self.tenants, company, settings_file or "")
        self._known_tenants: dict[str, str] = {}
        self.companies: list[str] = []
        # The lease rounds have connections of their own: when every connection of the shared pool is busy with
        # the companies' cycles and Web Connector calls, a round waiting for one came late enough to lose leases.
        self.lease_engine = (create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=False)
                             if url.get_backend_name() == "postgresql" else self.engine)
        # A lease expired for less than its own length stays with its holder (a round came late, nothing moves).
        self.leases = Leases(self.lease_engine, self.holder, ttl=config.lease_ttl, grace=config.lease_ttl,
                             clock=clock)
        # On PostgreSQL the worker holds an advisory lock for its life: when its process ends, the lock goes with its
        # session and the other workers take its companies at once, not when its leases expire (qbsf.sync.leases).
        self.worker_lock = (WorkerLock(config.database, self.holder)
                            if url.get_backend_name() == "postgresql" else None)
        self.clock = clock
        # How long a worker waits after joining before it takes companies (so workers starting together see each
        # other instead of the first taking every company), and how long a company stays before it may be handed
        # back to even out the workers' shares (and how long a worker is seen before its short share counts).
        self.join_wait = config.lease_ttl / 2
        self.min_hold = 4 * config.lease_ttl
        self._company_prefix, self._worker_lease = COMPANY_PREFIX, WORKER_PREFIX + self.holder
        self._factory = engine_factory or (lambda company, bridge, epoch: ConnectorEngine.for_company(
            self, company, bridge, epoch))
        self.held: dict[str, int] = {}
        self.taken_at: dict[str, float] = {}  # lease name → when this worker took it
        self.handing_back: set[str] = set()  # companies whose engine is stopping before their lease is let go
        self.starting: set[str] = set()  # companies whose engine is being started
        self._joined_at: float | None = None
        self._last_round: float | None = None
        self._seen: dict[str, float] = {}  # worker → when this worker first saw it alive
        self.engines: dict[str, CompanyEngine] = {}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="qbsf-engine")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._skipped: set[str] = set()
        self.ready = False

    # ----- companies ---------------------------------------------------------------------------------------------

    def _load_registry(self) -> Any:
        from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry

        with contextlib.suppress(OSError):
            self._registry_stamp = self._registry_path.stat().st_mtime
        return WebConnectorRegistry.load(self._registry_path)

    def _add_web_connector_companies(self, registry: Any) -> None:
        for company, registration in sorted(registry.companies.items()):
            if company not in self._web_connector_companies:
                self.service.add_company(company, company_file=registration.company_file or "",
                                         run_every_minutes=registration.run_every_minutes)
                self._web_connector_companies.add(company)

    def _reload_registry(self) -> None:
        """A company given a Web Connector user (`qbsf qwc`) while the worker runs can log in at once."""
        try:
            stamp = self._registry_path.stat().st_mtime
        except OSError:
            return
        if stamp == self._registry_stamp:
            return
        registry = self._load_registry()
        for user in registry.users().users():
            if self.service.users.get(user.username) != user:
                self.service.users.add_hashed(user.username, user.password_hash, user.company)
        self._add_web_connector_companies(registry)

    def settings_file(self, company: str) -> str | None:
        """``company``'s settings file: the one `qbsf serve` named, else the one registered with the company
        (`qbsf tenants add --company-config`), else the deployment's."""
        explicit = self.config.companies.get(company)
        if explicit:
            return explicit
        if company not in self._known_tenants:
            self._known_tenants = {tenant.id: tenant.config for tenant in self.tenants.list()}
        return self._known_tenants.get(company) or self.config.default_config

    def served_companies(self) -> list[str]:
        """The companies whose engines the workers run: those `qbsf serve` named, else every registered company
        (tenant) of the database with a Web Connector user — so one added while the workers run is served."""
        if not self.config.engine:
            return []
        if self.config.companies:
            return sorted(self.config.companies)
        self._reload_registry()
        from qbsf.sync.tenants import tenant_table

        with self.lease_engine.begin() as connection:  # a lease round's read: on the rounds' own connections
            self._known_tenants = dict(connection.execute(select(tenant_table.c.id, tenant_table.c.config)).all())
        served = sorted(set(self._known_tenants) & self._web_connector_companies)
        for company in sorted(set(self._known_tenants) - self._web_connector_companies - self._skipped):
            from qbsf.sync.tenants import DEFAULT_TENANT

            if company != DEFAULT_TENANT:
                log.warning("company %s has no Web Connector user yet: run `qbsf qwc --company %s --url …`",
                            company, company)
            self._skipped.add(company)
        return served

    # ----- scheduling --------------------------------------------------------------------------------------------

    def tick(self) -> None:
        """One round: renew what this worker holds, drop what it lost, take its share of the free companies, and
        hand a company back only when another worker's share is really short (see :meth:`_balance`)."""
        companies = self.served_companies()
        if self.worker_lock is not None:
            # Before any lease is taken or renewed: every lease written carries the key of a lock already held.
            self.leases.lock_key = self.worker_lock.hold()
        with self._lock:
            now = self.clock()
            if self._last_round is not None and now - self._last_round > self.config.lease_ttl:
                log.warning("worker %s: this lease round came %.1f s after the last one (leases last %g s): the "
                            "machine is short of CPU", self.holder, now - self._last_round, self.config.lease_ttl)
            self._last_round = now
            self.companies = companies
            lost = self.leases.renew(self.held)
            for name in lost:
                epoch = self.held.pop(name)
                self.taken_at.pop(name, None)
                if name.startswith(self._company_prefix):
                    log.warning("worker %s lost company %s (epoch %d) to another worker", self.holder,
                                name[len(self._company_prefix):], epoch)
                    self._stop_engine(name[len(self._company_prefix):])
            if self._worker_lease not in self.held:
                self.held.update(self.leases.claim([self._worker_lease], 1))
                if self._worker_lease in self.held:
                    self._joined_at = now
            for name in [n for n in self.held if n.startswith(self._company_prefix)
                         and n[len(self._company_prefix):] not in companies]:
                # The company was removed (`qbsf tenants remove`): its engine stops here, and nowhere takes it.
                self._hand_back_later(name)
            self.ready = self._worker_lease in self.held
            if self.ready and self._joined_at is not None:
                self._balance(companies, now, joining=now - self._joined_at < self.join_wait)

    def _balance(self, companies: list[str], now: float, *, joining: bool = False) -> None:
        """Take this worker's share of the free companies; hand companies back only when the balance is really off.

        One read of every lease: the workers alive (their last round may have come late, within the grace), who
        holds which company, and which are free. A worker takes free companies up to its share (the ceiling of an
        even split). It hands companies back only when nothing is free or waiting for its holder's grace to run
        out (those settle by themselves), when a worker it has seen for a while holds clearly less than an even
        split (a tenth of it, at least one company, below), and only as many as that worker lacks: the workers
        holding more than their share give in a fixed order, so two of them never both give for one short one.
        A company handed back is one taken at least :attr:`min_hold` seconds ago with no Web Connector session
        open and no sync cycle running.

        A worker that has just joined (``joining``) waits :attr:`join_wait` before taking anything while no other
        worker holds a company — the workers are starting together, and the first would take them all — but joins
        a running deployment at once: a worker started in place of one that died takes the free companies in its
        first round.
        """
        prefix = self._company_prefix
        leases = self.leases.all()
        gone = self.leases.gone_keys(leases)  # workers whose process has ended: their companies are free at once
        live = self.leases.live_holders(leases, now, gone) | {self.holder}
        self._seen = {holder: self._seen.get(holder, now) for holder in live}
        by_name = {lease.name: lease for lease in leases}
        held_by: dict[str, int] = dict.fromkeys(live, 0)
        free: list[str] = []
        unsettled = 0
        for company in companies:
            lease = by_name.get(prefix + company)
            if lease is None or self.leases.abandoned(lease, now, gone):
                free.append(prefix + company)
            elif lease.holder in live and lease.expires_at > now:
                held_by[lease.holder] += 1
            else:  # expired but within the grace, or its worker is gone: it settles without anyone giving
                unsettled += 1
        if joining and not any(count for holder, count in held_by.items() if holder != self.holder):
            return
        target = self.leases.share(len(companies), len(live))
        mine = [name for name in self.held if name.startswith(prefix)]
        if len(mine) < target and free:
            wanted = [n for n in free if n not in self.held]
            for name, epoch in self.leases.claim(wanted, target - len(mine), gone).items():
                before = by_name.get(name)
                if (before is not None and before.holder and before.holder != self.holder
                        and before.lock_key is not None and before.lock_key in gone):
                    log.warning("company %s taken over from worker %s, whose process has ended (its database "
                                "session closed; its lease had %.0f s left)", name[len(prefix):], before.holder,
                                max(0.0, before.expires_at - now))
                elif before is not None and before.holder and before.holder != self.holder and before.expires_at:
                    log.warning("company %s taken over from worker %s, silent for %.0f s", name[len(prefix):],
                                before.holder, now - before.expires_at + self.leases.ttl)
                self.held[name] = epoch
                self.taken_at[name] = now
                self._start_engine(name[len(prefix):], epoch)
            return
        if free or unsettled or self.handing_back:
            return
        even = len(companies) // len(live)
        slack = max(1, even // 10)
        short = [holder for holder in live if now - self._seen[holder] >= self.min_hold
                 and held_by[holder] < even - slack]
        lacking = sum(even - held_by[holder] for holder in short)
        give = 0
        for holder in sorted((h for h in live if held_by[h] > target), key=lambda h: (-held_by[h], h)):
            if lacking <= 0:
                break
            count = min(held_by[holder] - target, lacking)
            lacking -= count
            if holder == self.holder:
                give = count
                break
        if give <= 0:
            return
        active = self.shared.active_companies()
        candidates = sorted((name for name in mine if now - self.taken_at.get(name, now) >= self.min_hold
                             and name[len(prefix):] not in active and not self._busy(name[len(prefix):])),
                            key=lambda name: (self.taken_at.get(name, now), name))
        for name in candidates[:give]:
            self._hand_back_later(name)

    def _busy(self, company: str) -> bool:
        engine = self.engines.get(company)
        if engine is None:
            return company in self.starting
        busy = getattr(engine, "busy", None)
        return bool(busy()) if callable(busy) else False

    def _hand_back_later(self, name: str) -> None:
        epoch = self.held.pop(name)
        self.taken_at.pop(name, None)
        company = name[len(self._company_prefix):]
        self.handing_back.add(company)
        self._pool.submit(in_company(company)(self._hand_back), company, name, epoch)

    def _start_engine(self, company: str, epoch: int) -> None:
        @in_company(company)
        def start() -> None:
            try:
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
            finally:
                with self._lock:
                    self.starting.discard(company)

        self.starting.add(company)
        self._pool.submit(start)

    def _stop_engine(self, company: str) -> None:
        engine = self.engines.pop(company, None)
        if engine is not None:
            self._pool.submit(in_company(company)(engine.stop), self.config.engine_stop_wait)

    def _hand_back(self, company: str, name: str, epoch: int) -> None:
        try:
            with self._lock:
                engine = self.engines.pop(company, None)
            if engine is not None:
                engine.stop(self.config.engine_stop_wait)
            self.leases.release(name, epoch)
        finally:
            with self._lock:
                self.handing_back.discard(company)

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
        for company, engine in engines.items():
            in_company(company)(engine.stop)(wait)
        for name, epoch in held.items():
            with contextlib.suppress(Exception):
                self.leases.release(name, epoch)
        if self.worker_lock is not None:
            self.worker_lock.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.shared.close()
        for engine in (self.lease_engine, self.webconnector_engine):
            if engine is not self.engine:
                engine.dispose()
        self.store.close()

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
    if worker is None:
        from qbsf.app.logging import configure_logging

        # Each worker process logs to its standard error (the process manager keeps it), every company's lines
        # naming the company.
        configure_logging(console=True, level=config.log_level)
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
