"""`qbsf bench hosted`: many companies, each with its own Web Connector, against `qbsf serve --workers W`.

The bench builds a whole hosted deployment on this machine:

- a PostgreSQL server of its own (Debian's binaries, a unix socket in a temporary folder, as
  tests/postgres/server.sh does), or ``--database URL``; without PostgreSQL binaries it falls back to an embedded
  SQLite file with one worker and says so;
- one Salesforce emulator org holding every company's Accounts — the same names in every company, each company's
  marked by its ``Site``, which that company's eligibility condition selects;
- ``qbsf serve --workers W`` as a child process, serving every company registered in the database (as ``qbsf
  tenants add NAME --company-config FILE`` does), each with its settings file (Account → Customer);
- one QuickBooks simulator and one Web Connector stand-in per company, speaking SOAP to the one address over
  loopback, each running sessions back to back until its company is in sync (its Customers in QuickBooks, their
  ListIDs written back to Salesforce);
- with ``--kill-every S``, one worker process SIGKILLed every S seconds (uvicorn starts a new one).

Every company's engine cycles each second, so every company wants a Web Connector session all the time: once all
are in sync, the bench keeps them running for ``steady`` seconds and ``sessions_per_s`` is the rate the deployment
sustains at saturation. ``seconds`` is how long it took until every company was in sync (``records_per_s`` over
that time); p50/p99 cover every SOAP call, including the time a call waits for the engine's next request.

It ends with what it measured and what it checked: sessions per second, p50/p99 per SOAP call, records synced,
and duplicates (a record twice in one QuickBooks), lost (an Account missing from its company's QuickBooks or
never linked back), cross-tenant (a record, link or state row of one company found in another's).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from qbsf.errors import QbsfError

BENCH_PASSWORD = "bench-web-connector-{company}"
MAPPING = "Acct_to_Customer.csv"


@dataclass
class HostedBenchResult:
    """One run's figures and checks."""

    companies: int
    workers: int
    accounts_per_company: int
    database: str
    seconds: float
    sessions: int
    sessions_per_s: float
    calls: int
    p50_ms: float
    p99_ms: float
    records: int
    records_per_s: float
    duplicates: int
    repeat_adds: int
    lost: int
    cross_tenant: int
    kills: int
    in_sync: int
    steady_seconds: float = 0.0  # the window sessions_per_s was measured in (0: over the whole run)
    moves: int = 0  # times a company's sync moved from one worker to another (lease take-overs after the first)
    max_moves: int = 0  # the most any one company moved
    salesforce_calls: int = 0  # API calls the emulated org counted, every company's together
    note: str = ""

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(asdict(self), sort_keys=False)


# ----- a PostgreSQL server of the bench's own ---------------------------------------------------------------------

def _pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+",
                                                                                                       p.parent.name)])
    for candidate in reversed(found):
        if (candidate / "initdb").is_file():
            return candidate
    return None


class BenchPostgres:
    """Debian's PostgreSQL in a temporary folder, on a unix socket only, stopped at the end."""

    def __init__(self, *, max_connections: int = 800) -> None:
        # Its own folder beside (not inside) the bench's private one: the server's user must reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="qbsf-bench-pg-"))
        self.bindir = _pg_bindir()
        self.max_connections = max_connections
        self.url: str | None = None

    def _as_server_user(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the package's postgres user runs it
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def start(self) -> str | None:
        """Start it and return its SQLAlchemy URL, or None when PostgreSQL is not installed."""
        if self.bindir is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data = self.folder / "data"
        self._step([str(self.bindir / "initdb"), "-D", str(data), "-U", "qbsf", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], server_user=True)
        options = (f"-k {self.folder} -p 5432 -c listen_addresses= -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off -c shared_buffers=128MB -c max_connections={self.max_connections}")
        self._step([str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "server.log"), "-w", "-t",
                    "60", "-o", options, "start"], server_user=True)
        self._step([str(self.bindir / "createdb"), "-h", str(self.folder), "-p", "5432", "-U", "qbsf",
                    "qbsf_bench"])
        self.url = f"postgresql+psycopg://qbsf@/qbsf_bench?host={self.folder}&port=5432"
        return self.url

    def _step(self, args: list[str], *, server_user: bool = False) -> None:
        done = subprocess.run(self._as_server_user(args) if server_user else args, capture_output=True, text=True)
        if done.returncode != 0:
            raise QbsfError(f"starting the bench's PostgreSQL failed at {Path(args[0]).name}: "
                            f"{(done.stderr or done.stdout).strip()[-400:]}",
                            hint="pass --database URL of a PostgreSQL server you run")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.url is not None and self.bindir is not None:
            subprocess.run(self._as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"),
                                                 "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


# ----- the companies ------------------------------------------------------------------------------------------------

class CountingBook:
    """A company's QuickBooks simulator that counts Adds QuickBooks refused because the name was already there."""

    _REFUSED = re.compile(r'<CustomerAddRs[^>]*statusCode="3100"')

    def __init__(self, company: str, index: int = 0) -> None:
        from datetime import UTC, datetime, timedelta

        from qbsf.sim.quickbooks import QuickBooksSimulator

        # QuickBooks stamps a ListID with its creation second: company files made the same second number their
        # records alike. Here every company's id lands in one org whose QB id fields are unique, so each company's
        # clock runs a day apart from the next (in real life each company has its own org).
        behind = timedelta(days=index)
        self.sim = QuickBooksSimulator(company_name=company, clock=lambda: datetime.now(UTC) - behind)
        self.repeat_adds = 0
        self._lock = threading.Lock()

    def process(self, request_xml: str) -> str:
        """Answer like QuickBooks, one message at a time."""
        with self._lock:
            response = self.sim.process(request_xml)
        self.repeat_adds += len(self._REFUSED.findall(response))
        return response

    def customers(self) -> list[dict[str, Any]]:
        """The company's Customers."""
        with self._lock:
            return self.sim.customers()


def company_names(count: int) -> list[str]:
    """``co001`` … — short, so every derived name stays readable."""
    return [f"co{number:03d}" for number in range(1, count + 1)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker_pids(master: int) -> list[int]:
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


@dataclass
class _Run:
    latencies: list[float] = field(default_factory=list)
    sessions: int = 0
    kills: int = 0
    done: set[str] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_hosted_bench(companies: int = 200, *, workers: int = 1, kill_every: float | None = None,
                     database: str | None = None, accounts: int = 3, timeout: float = 900.0, steady: float = 20.0,
                     noop_pause: float = 0.2, progress: Callable[[str], None] | None = None) -> HostedBenchResult:
    """Run the hosted deployment bench and return its figures (see the module docstring)."""
    from qbsf.bench.outbound import EXAMPLE_MAPPINGS
    from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry
    from qbsf.sim.salesforce import SalesforceState, start_emulator
    from qbsf.sim.webconnector import WebConnectorStandIn

    say = progress or (lambda _line: None)
    names = company_names(companies)
    with tempfile.TemporaryDirectory(prefix="qbsf-bench-hosted-") as tmp_text:
        tmp = Path(tmp_text)
        server: BenchPostgres | None = None
        note = ""
        if database is None:
            server = BenchPostgres()
            database = server.start()
            label = "postgresql (started by the bench)"
            if database is None:
                database = f"sqlite:///{tmp / 'hosted.db'}"
                label = "sqlite (embedded fallback: PostgreSQL is not installed)"
                note = "no PostgreSQL binaries found: embedded SQLite, one worker"
                workers = 1
        else:
            label = database.split("://", 1)[0]
        try:
            return _run(names, workers, kill_every, database, label, note, accounts, timeout, steady, noop_pause, tmp,
                        say, EXAMPLE_MAPPINGS, WebConnectorRegistry, SalesforceState, start_emulator,
                        WebConnectorStandIn)
        finally:
            if server is not None:
                server.stop()


def _run(names: list[str], workers: int, kill_every: float | None, database: str, label: str, note: str,
         accounts: int, timeout: float, steady: float, noop_pause: float, tmp: Path, say: Callable[[str], None],
         example_mappings: Path, registry_class: Any, state_class: Any, start_emulator: Any,
         standin_class: Any) -> HostedBenchResult:
    from qbsf.quickbooks.bodies import external_guid

    # Salesforce: one org, every company's Accounts with the same names, told apart by Site.
    # Each company has an org of its own, with its own daily API allowance (15,000 calls and up); here they share
    # one, so it allows each of them that much. With one allowance for all, 200 companies moved every few seconds
    # used it up and every engine paused its Salesforce calls for the rest of the run.
    org = state_class(daily_api_limit=15_000 * len(names))
    owner: dict[str, str] = {}
    with org.batch():
        for company in names:
            for number in range(accounts):
                account = org.insert("Account", {"Name": f"Customer {number:03d}", "Site": company,
                                                 "Phone": f"(415) 555-{number:04d}"})
                owner[account] = company
    guid_owner = {external_guid(account).upper(): (account, company) for account, company in owner.items()}
    emulator = start_emulator(org)
    say(f"Salesforce emulator at {emulator.url}: {len(owner)} Accounts for {len(names)} companies")

    settings_dir = tmp / "companies"
    settings_dir.mkdir()
    registry = registry_class.load(tmp / "webconnector.json")
    for company in names:
        registry.register(company, username=f"{company}-qbwc", password=BENCH_PASSWORD.format(company=company),
                          run_every_minutes=1)
    registry.save()
    register_companies(database, {company: settings_dir / f"{company}.toml" for company in names})
    mappings = tmp / "mappings"
    mappings.mkdir()
    shutil.copy(example_mappings / MAPPING, mappings / MAPPING)
    for company in names:
        (settings_dir / f"{company}.toml").write_text(
            f'mappings_dir = "{mappings}"\n\n[salesforce]\ninstance_url = "{emulator.url}"\n'
            f'client_id = "{emulator.client_id}"\n\n[quickbooks]\ntransport = "webconnector"\n\n'
            f'[sync]\npolling_interval = 1\n\n[sync.eligibility]\nAccount = "Site = \'{company}\'"\n',
            encoding="utf-8")

    _compile_package()
    port = _free_port()
    from qbsf.secret_box import KEY_ENV, new_key

    # Each company's tokens are stored encrypted in the database: the deployment's key, for this run only.
    env = {**os.environ, "QBSF_SALESFORCE__CLIENT_SECRET": emulator.client_secret, KEY_ENV: new_key(),
           "XDG_DATA_HOME": str(tmp / "data"), "XDG_STATE_HOME": str(tmp / "state"),
           "XDG_CONFIG_HOME": str(tmp / "config"), "HOME": str(tmp)}
    command = [sys.executable, "-m", "qbsf.app.cli", "serve", "--workers", str(workers), "--database", database,
               "--registry", str(tmp / "webconnector.json"), "--port", str(port),
               "--poll-wait", "2", "--lease-seconds", "6", "--stale-after", "15", "--log-level", "warning"]
    log_file = (tmp / "serve.log").open("w")
    serve = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    run = _Run()
    books = {company: CountingBook(company, index) for index, company in enumerate(names)}
    try:
        _wait_ready(base, serve, tmp / "serve.log", timeout=120 + len(names))
        say(f"qbsf serve --workers {workers} ready at {base}/qbwc ({label})")
        stop = threading.Event()

        def record(_operation: str, seconds: float) -> None:
            with run.lock:
                run.latencies.append(seconds)

        def company_loop(company: str) -> None:
            book = books[company]
            with standin_class(f"{base}/qbwc", f"{company}-qbwc", BENCH_PASSWORD.format(company=company), book,
                               noop_pause=noop_pause, retries=5, retry_pause=0.3, on_call=record,
                               timeout=60) as wc:
                while not stop.is_set():
                    try:
                        transcript = wc.run_session()
                    except Exception as exc:  # the Web Connector logs it and tries again on its next run
                        with run.lock:
                            run.errors[_failed_call(exc)] += 1
                        stop.wait(0.5)
                        continue
                    if transcript.completed:
                        with run.lock:
                            run.sessions += 1
                    stop.wait(0.2 if transcript.completed else 0.5)

        accounts_of = {company: [a for a, owning in owner.items() if owning == company] for company in names}

        def count_in_sync() -> None:
            # A company counts once its records are in sync, looked at here every half second rather than after
            # each of its stand-in's sessions: a session can run on for minutes (NoOps while its engine moves), and
            # the company was then counted late. With kills it counts only once a worker has been killed: the run
            # must cross one. Its stand-in goes on running sessions (its engine's idle cycles) for the steady window.
            if kill_every and not run.kills:
                return
            for company in names:
                if company not in run.done and _in_sync(org, books[company], accounts_of[company]):
                    with run.lock:
                        run.done.add(company)

        def killer() -> None:
            rng = random.Random(19)
            while not stop.wait(kill_every or 0):
                pids = _worker_pids(serve.pid)
                if not pids:
                    continue
                victim = rng.choice(pids)
                try:
                    os.kill(victim, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                with run.lock:
                    run.kills += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=company_loop, args=(c,), daemon=True) for c in names]
        for thread in threads:
            thread.start()
        kill_thread = None
        if kill_every:
            kill_thread = threading.Thread(target=killer, daemon=True)
            kill_thread.start()
        deadline = time.monotonic() + timeout
        last_report = 0.0
        while time.monotonic() < deadline and len(run.done) < len(names):
            time.sleep(0.5)
            count_in_sync()
            if time.monotonic() - last_report > 15:
                last_report = time.monotonic()
                say(f"  {len(run.done)}/{len(names)} companies in sync, {run.sessions} sessions, {run.kills} kills")
        seconds = time.perf_counter() - started
        steady_from, steady_started = run.sessions, time.perf_counter()
        if len(run.done) == len(names) and steady > 0:
            say(f"  every company in sync after {seconds:.1f} s; {steady:g} s of steady sessions")
            time.sleep(steady)
        steady_seconds = time.perf_counter() - steady_started
        steady_sessions = run.sessions - steady_from
        stop.set()
        # The stand-ins finish the call in hand; one stuck in a call (a worker just killed) is left behind rather
        # than stretching the run past --timeout.
        join_until = time.monotonic() + 15
        for thread in threads:
            thread.join(max(0.0, join_until - time.monotonic()))
        if kill_thread is not None:
            kill_thread.join(5)
    finally:
        _stop(serve)
        log_file.close()
        emulator.stop()
        log_text = (tmp / "serve.log").read_text(errors="replace")
        note = "; ".join(filter(None, [note, _lease_trouble(log_text), _worker_errors(log_text)]))
        if len(run.done) < len(names):
            kept = Path(tempfile.gettempdir()) / f"qbsf-bench-hosted-serve-{os.getpid()}.log"
            shutil.copy(tmp / "serve.log", kept)
            with kept.open("a", encoding="utf-8") as out:
                out.write(_shared_state(database))
            say(f"not every company got in sync: the workers' log and the shared tables are in {kept}")
    result = _check(names, workers, label, note, accounts, seconds, run, books, org, owner, guid_owner, database)
    if steady_sessions and steady_seconds > 0:
        result.sessions_per_s = round(steady_sessions / steady_seconds, 2)
        result.steady_seconds = round(steady_seconds, 1)
    return result


def _compile_package() -> None:
    """Compile qbsf's modules once, as installing its wheel does: a checkout's editable install is never compiled
    when PYTHONDONTWRITEBYTECODE is set, and each worker uvicorn starts after a kill would compile every module
    again (≈0.6 s of a core of its ≈2 s start)."""
    import compileall

    import qbsf

    compileall.compile_dir(str(Path(qbsf.__file__).parent), quiet=2, workers=1)


def register_companies(database: str, settings: dict[str, Path]) -> None:
    """Register every company as a tenant of the deployment's database with its settings file, as `qbsf tenants add
    NAME --company-config FILE` does: `qbsf serve` then serves every one of them."""
    from qbsf.sync.tenants import TenantRegistry

    with TenantRegistry(database) as registry:
        for company, path in settings.items():
            registry.add(company, config=str(path))


def _wait_ready(base: str, serve: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise QbsfError(f"qbsf serve stopped during start-up: {log_path.read_text()[-800:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise QbsfError(f"qbsf serve was not ready within {timeout:g} s: {log_path.read_text()[-800:]}")


def _stop(serve: subprocess.Popen[bytes]) -> None:
    if serve.poll() is None:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(10)


def _sync_gaps(org: Any, book: CountingBook, accounts: list[str]) -> list[str]:
    """What keeps a company from being in sync: Accounts not linked back to a Customer of its QuickBooks."""
    listids = {customer.get("ListID") for customer in book.customers()}
    gaps = []
    for account in accounts:
        record = org.get("Account", account) or {}
        linked = record.get("QB_Customer_ID__c")
        if not linked:
            gaps.append(f"{record.get('Name')} ({account}) not linked back")
        elif linked not in listids:
            gaps.append(f"{record.get('Name')} ({account}) linked to {linked}, not in its QuickBooks")
    return gaps


def _in_sync(org: Any, book: CountingBook, accounts: list[str]) -> bool:
    return not _sync_gaps(org, book, accounts)


def _check(names: list[str], workers: int, label: str, note: str, accounts: int, seconds: float, run: _Run,
           books: dict[str, CountingBook], org: Any, owner: dict[str, str],
           guid_owner: dict[str, tuple[str, str]], database: str) -> HostedBenchResult:
    from qbsf.quickbooks.bodies import external_guid

    duplicates = lost = cross = records = 0
    guid_by_listid: dict[str, dict[str, str]] = {}
    for company in names:
        customers = books[company].customers()
        records += len(customers)
        guids = Counter(str(c.get("ExternalGUID", "")).upper() for c in customers)
        for guid, count in guids.items():
            duplicates += count - 1
            found = guid_owner.get(guid)
            if found is not None and found[1] != company:
                cross += count
        names_seen = Counter(c.get("FullName") or c.get("Name") for c in customers)
        duplicates += sum(count - 1 for count in names_seen.values() if count > 1)
        guid_by_listid[company] = {str(c.get("ListID")): str(c.get("ExternalGUID", "")).upper() for c in customers}
        present = {guid_owner[g][0] for g in guids if g in guid_owner}
        lost += sum(1 for account, owning in owner.items() if owning == company and account not in present)
    for account, company in owner.items():
        # The ListID written back must be, in the account's own company, the Customer made from that account.
        linked = org.get("Account", account).get("QB_Customer_ID__c")
        made_from = guid_by_listid[company].get(str(linked)) if linked else None
        if made_from is not None and made_from != external_guid(account).upper():
            cross += 1
    cross += _cross_tenant_state(names, owner, database)
    moves = _lease_moves(database)
    latencies = sorted(run.latencies)
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000 if latencies else 0.0
    behind = [company for company in names if company not in run.done]
    if behind:
        first = behind[0]
        gaps = _sync_gaps(org, books[first], [a for a, c in owner.items() if c == first])
        note = "; ".join(filter(None, [note, f"{len(behind)} compan{'y' if len(behind) == 1 else 'ies'} not in "
                                             f"sync, e.g. {first}: {', '.join(gaps[:2]) or 'in sync at the end'}"]))
    if run.errors:
        note = "; ".join(filter(None, [note, "calls that failed after retries: " + ", ".join(
            f"{name} × {count}" for name, count in run.errors.most_common())]))
    return HostedBenchResult(
        companies=len(names), workers=workers, accounts_per_company=accounts, database=label,
        seconds=round(seconds, 2), sessions=run.sessions, sessions_per_s=round(run.sessions / seconds, 2),
        calls=len(latencies), p50_ms=round(p50, 1), p99_ms=round(p99, 1), records=records,
        records_per_s=round(records / seconds, 2), duplicates=duplicates,
        repeat_adds=sum(book.repeat_adds for book in books.values()), lost=lost, cross_tenant=cross,
        kills=run.kills, in_sync=len(run.done), moves=sum(moves), max_moves=max(moves, default=0),
        salesforce_calls=int(getattr(org, "api_calls", 0)), note=note)


def _shared_state(database: str) -> str:
    """The shared Web Connector tables and leases as text, for a run that did not finish."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(database, poolclass=NullPool)
    lines = ["", "--- shared tables at the end ---"]
    try:
        with engine.connect() as connection:
            for query in ("SELECT company, active_session IS NOT NULL AS active, engine_epoch, wanted, announced, "
                          "finished, cycles, records_synced FROM wc_company ORDER BY company",
                          "SELECT company, epoch, state, session IS NOT NULL AS taken FROM wc_request ORDER BY id",
                          "SELECT name, holder, epoch, expires_at FROM work_lease ORDER BY name"):
                lines += [str(tuple(row)) for row in connection.execute(text(query)).all()]
    except Exception as exc:  # the database may be gone already
        lines.append(f"could not read them: {exc}")
    finally:
        engine.dispose()
    return "\n".join(lines) + "\n"


def _failed_call(exc: BaseException) -> str:
    """How a stand-in's failed call is counted: its kind, and for a SOAP fault the operation and the fault's text."""
    operation, status, message = (getattr(exc, name, None) for name in ("operation", "status_code", "message"))
    if operation is None:
        return type(exc).__name__
    return f"{type(exc).__name__} on {operation} (HTTP {status}: {re.sub(r'co[0-9]+', 'coN', str(message))[:90]})"


_LOGGED_ERROR = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Fault|Exit)): ?(.{0,80})", re.MULTILINE)


def _worker_errors(log_text: str) -> str:
    """The errors the workers logged with a traceback, counted by kind and message (company names left out)."""
    found = Counter(f"{kind}: {re.sub(r'co[0-9]+', 'coN', message).strip()}"
                    for kind, message in _LOGGED_ERROR.findall(log_text))
    if not found:
        return ""
    return "workers' log: " + ", ".join(f"{text} × {count}" for text, count in found.most_common(5))


def _lease_trouble(log_text: str) -> str:
    """What the workers' log says about lease rounds that came late and companies taken from another worker: one
    whose process had ended (its lock gone), or one silent until its lease expired."""
    late = log_text.count("this lease round came")
    ended = log_text.count("whose process has ended")
    silent = log_text.count("taken over from worker") - ended
    if not late and not ended and not silent:
        return ""
    return (f"{late} lease round(s) came later than a lease lasts; {ended} company take-over(s) from a worker whose "
            f"process had ended, {silent} from a silent worker")


def _lease_moves(database: str) -> list[int]:
    """Per company, how many times its lease was taken after the first time (each take raises the epoch)."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.pool import NullPool

    from qbsf.sync.leases import COMPANY_PREFIX, work_lease

    engine = create_engine(database, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            epochs = connection.execute(select(work_lease.c.epoch).where(
                work_lease.c.name.startswith(COMPANY_PREFIX))).scalars().all()
    except Exception:  # no worker ever started: no leases
        epochs = []
    finally:
        engine.dispose()
    return [max(epoch - 1, 0) for epoch in epochs]


def _cross_tenant_state(names: list[str], owner: dict[str, str], database: str) -> int:
    """Crosswalk rows of a company (tenant) that name another company's Salesforce record."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.pool import NullPool

    from qbsf.sync.state import crosswalk_table as crosswalk

    engine = create_engine(database, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(crosswalk.c.tenant, crosswalk.c.sf_id)).all()
    except Exception:  # no engine ever started: no state yet
        rows = []
    finally:
        engine.dispose()
    return sum(1 for tenant, sf_id in rows if sf_id in owner and owner[sf_id] != tenant)
