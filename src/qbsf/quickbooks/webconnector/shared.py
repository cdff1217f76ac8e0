"""Web Connector sessions kept in a database every worker process shares, so any worker answers any call.

In one process, :class:`~qbsf.quickbooks.webconnector.bridge.CompanyBridge` holds a company's queue in memory.
Behind several workers (``qbsf serve --workers N``) the Web Connector's calls of one session land on different
processes, and the process running a company's sync engine may not be the one a call reaches. Here the same
meeting point lives in three tables of the state database:

- ``wc_company``: per company, the active session, what the engine announced (work wanted, finished), its progress,
  the last session's outcome, what QuickBooks said about itself, and the *engine epoch* — which engine may talk to
  QuickBooks now;
- ``wc_ticket``: one row per Web Connector ticket (keyed by the ticket's SHA-256, never the ticket itself);
- ``wc_request``: the engine's qbXML requests on their way to QuickBooks and back.

A company's engine runs in one worker at a time (a lease, :mod:`qbsf.sync.leases`); each lease taken over raises
the epoch. :meth:`SharedSessions.attach_engine` fences the engines of earlier epochs off: their waiting requests are
never handed out, a request of theirs already in QuickBooks gets its answer recorded and dropped (the new engine's
journal reconcile finds what QuickBooks did), and a stale engine's next ``send`` raises
:class:`~qbsf.quickbooks.webconnector.bridge.SessionCutOff`. A worker killed in the middle of a call leaves the
session in the database: the Web Connector's retry (or next call) continues on another worker.

Waiting (an engine for its answer, a poll for the engine's next request) is woken by PostgreSQL's LISTEN/NOTIFY
within a process and across processes, and re-checks the tables at least every second in case a signal is lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from qbsf.errors import ConfigError, SyncError
from qbsf.log_context import enter_company
from qbsf.quickbooks.webconnector.bridge import (
    BridgeBusy,
    CompanyStatus,
    Next,
    PendingRequest,
    SessionCutOff,
    SessionRecord,
    _iterator_continued,
)
from qbsf.quickbooks.webconnector.hcp import CompanySettings, HcpResponse, HostInfo
from qbsf.quickbooks.webconnector.service import WebConnectorService, WebSession, ticket_label
from qbsf.quickbooks.webconnector.users import (
    LoginMemo,
    LoginThrottle,
    ProcessLoginMemo,
    Refusal,
    ThrottleStatus,
    UserDirectory,
    WebConnectorUser,
    memo_digest,
    user_key,
)
from qbsf.secret_box import KEY_ENV, KEY_FILE_ENV, KeyRing

log = logging.getLogger(__name__)

#: The tables; the state store's migrations create them (revision 0007_hosted_workers).
metadata = MetaData()

wc_company = Table(
    "wc_company", metadata,
    Column("company", String(200), primary_key=True),
    Column("active_session", String(64)),  # the active ticket's key (SHA-256), not the ticket
    Column("engine_epoch", Integer, nullable=False, default=0),
    Column("wanted", Boolean, nullable=False, default=False),
    Column("announced", Boolean, nullable=False, default=False),
    Column("finished", Boolean, nullable=False, default=False),
    Column("engine_activity", Float, nullable=False, default=0.0),
    Column("progress_done", Integer),
    Column("progress_total", Integer),
    Column("percent_shown", Integer, nullable=False, default=0),
    Column("sessions_opened", Integer, nullable=False, default=0),
    Column("current_session", Text),
    Column("last_session", Text),
    Column("iterators", Text, nullable=False, default=""),
    Column("host", Text),
    Column("settings", Text),
    Column("qbxml_version", String(16)),
    Column("country", String(8), nullable=False, default=""),
    Column("company_file", Text, nullable=False, default=""),
    Column("run_every_minutes", Float),
    # What the company's engine has done, for metrics wherever they are scraped
    Column("cycles", Integer, nullable=False, default=0),
    Column("records_synced", Integer, nullable=False, default=0),
    Column("records_failed", Integer, nullable=False, default=0),
    Column("last_cycle_end", Float),
)

wc_ticket = Table(
    "wc_ticket", metadata,
    Column("ticket_key", String(64), primary_key=True),
    Column("company", String(200), nullable=False, index=True),
    Column("username", String(200), nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("hcp_read", Boolean, nullable=False, default=False),
    Column("noop", Boolean, nullable=False, default=False),
    Column("closing", Boolean, nullable=False, default=False),
    Column("ended", Boolean, nullable=False, default=False),
    Column("outcome", Text, nullable=False, default=""),
    Column("last_error", Text, nullable=False, default=""),
    Column("messages", Integer, nullable=False, default=0),
)

wc_request = Table(
    "wc_request", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("company", String(200), nullable=False),
    Column("epoch", Integer, nullable=False),
    # queued → sent → answered | failed; "orphaned": answered after its engine was superseded
    Column("state", String(12), nullable=False),
    Column("session", String(64)),
    Column("request_xml", Text, nullable=False),
    Column("response_xml", Text),
    Column("error", Text),
    Column("created", Float, nullable=False),
    Index("wc_request_company_state", "company", "state"),
)

wc_login_throttle = Table(
    "wc_login_throttle", metadata,
    # The company the attempted user name serves ("" for a name no company has) and the caller's address.
    Column("company", String(200), primary_key=True),
    Column("client", String(200), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("refused", Integer, nullable=False, default=0),
    Column("last_failure", Float, nullable=False),  # wall-clock seconds
    Column("blocked_until", Float, nullable=False),
)

wc_login_memo = Table(
    "wc_login_memo", metadata,
    # The case-folded user name; the HMAC of (its stored hash, the password that matched it) under the memo key.
    Column("user_key", String(200), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),  # wall-clock seconds
)

#: A ticket's ``last_seen`` is written again once it moved this many seconds (it measures silences of minutes).
SEEN_RESOLUTION = 5.0
#: How long a wait goes without looking at the tables again, in case a wake-up signal was lost.
RECHECK_SECONDS = 1.0
_CHANNEL = "qbsf_wc"


def ticket_key(ticket: str) -> str:
    """What the database keeps of a ticket: its SHA-256 (a stolen table holds no usable ticket)."""
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


def _record_json(record: SessionRecord | None) -> str | None:
    if record is None:
        return None
    return json.dumps({"number": record.number, "started": record.started.isoformat(),
                       "ended": record.ended.isoformat() if record.ended else None, "outcome": record.outcome,
                       "messages": record.messages})


def _record(text: str | None) -> SessionRecord | None:
    if not text:
        return None
    data = json.loads(text)
    return SessionRecord(number=data["number"], started=datetime.fromisoformat(data["started"]),
                         ended=datetime.fromisoformat(data["ended"]) if data["ended"] else None,
                         outcome=data["outcome"], messages=data["messages"])


class Signals:
    """Per-company wake-ups: in this process at once, in the other workers through PostgreSQL NOTIFY."""

    def __init__(self, engine: Engine, *, listen: bool = True) -> None:
        self._engine = engine
        # One condition per company over one lock: a change wakes that company's waiters only, not every waiting
        # thread of the process (hundreds with hundreds of companies).
        self._lock = threading.Lock()
        self._conds: dict[str, threading.Condition] = {}
        self._generations: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.postgres = engine.dialect.name == "postgresql"
        # Names this process's notifications: its own come back through LISTEN too, but their waiters were woken at
        # commit already — a second wake-up would only send each of them to the tables once more for nothing.
        self.origin = os.urandom(6).hex()
        if self.postgres and listen:
            self._thread = threading.Thread(target=self._listen, name="qbsf-wc-listen", daemon=True)
            self._thread.start()

    def _cond(self, company: str) -> threading.Condition:
        cond = self._conds.get(company)
        if cond is None:
            cond = self._conds[company] = threading.Condition(self._lock)
        return cond

    def generation(self, company: str) -> int:
        """A counter that changes whenever ``company``'s Web Connector state changes."""
        with self._lock:
            return self._generations.get(company, 0)

    def wait(self, company: str, since: int, timeout: float) -> None:
        """Until ``company`` changes after generation ``since``, at most ``timeout`` (and RECHECK_SECONDS)."""
        with self._lock:
            self._cond(company).wait_for(lambda: self._generations.get(company, 0) != since,
                                         max(0.0, min(timeout, RECHECK_SECONDS)))

    def bump(self, company: str) -> None:
        """Wake this process's waiters on ``company``."""
        with self._lock:
            self._generations[company] = self._generations.get(company, 0) + 1
            self._cond(company).notify_all()

    def notify(self, connection: Connection, company: str) -> None:
        """Within ``connection``'s transaction: tell every worker ``company`` changed (sent at commit)."""
        if self.postgres:
            connection.exec_driver_sql(f"SELECT pg_notify('{_CHANNEL}', %(payload)s)",
                                       {"payload": f"{self.origin} {company}"})

    def _listen(self) -> None:
        import psycopg

        args, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
        while not self._stop.is_set():
            try:
                with psycopg.connect(*args, **kwargs, autocommit=True) as conn:
                    conn.execute(f"LISTEN {_CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            origin, _, company = note.payload.partition(" ")
                            if origin != self.origin:
                                self.bump(company)
            except Exception as exc:  # the server restarted or the socket closed: waits fall back to rechecks
                log.warning("Web Connector change signals interrupted (%s); reconnecting", exc)
                self._stop.wait(1.0)

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(3)


class SharedSessions:
    """The shared Web Connector tables on one database (``engine``), and the signals that wake waiters."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time, listen: bool = True,
                 idle_timeout: float = 300.0, quiet_timeout: float = 30.0) -> None:
        self.engine = engine
        self.clock = clock
        self.idle_timeout = idle_timeout
        self.quiet_timeout = quiet_timeout
        self.signals = Signals(engine, listen=listen)
        self._bridges: dict[str, SharedBridge] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop the signal listener (the engine belongs to the caller)."""
        self.signals.close()

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction; the companies it marked :meth:`changed` wake their waiters once it has committed."""
        with self.engine.begin() as connection:
            connection.info["qbsf_changed"] = changed = set()
            try:
                yield connection
            finally:
                connection.info.pop("qbsf_changed", None)
        for company in changed:
            self.signals.bump(company)

    def changed(self, connection: Connection, company: str) -> None:
        """``company`` changed in ``connection``'s transaction: its waiters here and in every worker wake at commit."""
        changed = connection.info.setdefault("qbsf_changed", set())
        if company not in changed:  # one NOTIFY per company and transaction is enough (the payload is the name)
            self.signals.notify(connection, company)
            changed.add(company)

    def ensure_company(self, company: str, *, company_file: str = "", run_every_minutes: float | None = None,
                       ) -> None:
        """The company's row, created when missing; a given file or schedule replaces the stored one."""
        with self.begin() as connection:
            row = connection.execute(select(wc_company.c.company).where(wc_company.c.company == company)).first()
            if row is None:
                try:
                    with connection.begin_nested():
                        connection.execute(insert(wc_company).values(
                            company=company, engine_epoch=0, wanted=False, announced=False, finished=False,
                            engine_activity=self.clock(), percent_shown=0, sessions_opened=0, iterators="",
                            country="", company_file=company_file or "", run_every_minutes=run_every_minutes,
                            cycles=0, records_synced=0, records_failed=0))
                except Exception:  # another worker created it first
                    log.debug("company %r registered by another worker", company)
            changes: dict[str, Any] = {}
            if company_file:
                changes["company_file"] = company_file
            if run_every_minutes:
                changes["run_every_minutes"] = run_every_minutes
            if changes:
                connection.execute(update(wc_company).where(wc_company.c.company == company).values(**changes))

    def bridge(self, company: str, *, epoch: int | None = None) -> SharedBridge:
        """``company``'s bridge; ``epoch`` for the engine side (the lease epoch its worker holds)."""
        if epoch is not None:
            return SharedBridge(self, company, epoch=epoch)
        with self._lock:
            bridge = self._bridges.get(company)
            if bridge is None:
                bridge = self._bridges[company] = SharedBridge(self, company)
            return bridge

    def companies(self) -> list[str]:
        """Every company with a row."""
        with self.begin() as connection:
            return sorted(connection.execute(select(wc_company.c.company)).scalars())

    def attach_engine(self, company: str, epoch: int) -> bool:
        """Make the engine of lease ``epoch`` the one that talks to ``company``'s QuickBooks; fence older ones.

        Requests of older engines still waiting are failed (never sent); one already in QuickBooks is marked
        orphaned, so its answer is recorded and nobody waits for it. False if a newer engine is already attached.
        """
        self.ensure_company(company)
        with self.begin() as connection:
            current = connection.execute(select(wc_company.c.engine_epoch).where(
                wc_company.c.company == company).with_for_update()).scalar_one()
            if current > epoch:
                return False
            old = wc_request.c.epoch < epoch
            mine = wc_request.c.company == company
            # Waiting requests of earlier engines are withdrawn (an engine still alive gets SessionCutOff).
            connection.execute(delete(wc_request).where(mine, old, wc_request.c.state.in_(("queued", "failed"))))
            connection.execute(update(wc_request).where(mine, old, wc_request.c.state == "sent").values(
                state="orphaned"))
            connection.execute(update(wc_company).where(wc_company.c.company == company).values(
                engine_epoch=epoch, finished=False, engine_activity=self.clock()))
            self.changed(connection, company)
        return True

    def record_cycle(self, company: str, epoch: int, *, synced: int, failed: int) -> None:
        """Count one finished sync cycle of ``company``'s engine of lease ``epoch`` (ignored once superseded)."""
        with self.begin() as connection:
            connection.execute(update(wc_company).where(
                wc_company.c.company == company, wc_company.c.engine_epoch == epoch).values(
                cycles=wc_company.c.cycles + 1, records_synced=wc_company.c.records_synced + max(synced, 0),
                records_failed=wc_company.c.records_failed + max(failed, 0), last_cycle_end=self.clock()))

    def active_companies(self) -> set[str]:
        """The companies with a Web Connector session open now (one query)."""
        with self.begin() as connection:
            return set(connection.execute(select(wc_company.c.company).where(
                wc_company.c.active_session.is_not(None))).scalars())

    def company_rows(self) -> list[Any]:
        """Every company's row with its queued request count, for metrics and status pages."""
        queued = (select(func.count()).select_from(wc_request).where(
            wc_request.c.company == wc_company.c.company, wc_request.c.state == "queued",
            wc_request.c.epoch == wc_company.c.engine_epoch).scalar_subquery().label("queued"))
        with self.begin() as connection:
            return list(connection.execute(select(wc_company, queued).order_by(wc_company.c.company)).all())

    def statuses(self) -> list[CompanyStatus]:
        """Every company's Web Connector state as the workers left it in the shared tables (one query): what
        status pages show wherever they run, whichever worker served the session."""
        return [_status(row) for row in self.company_rows()]

    # ----- tickets -----------------------------------------------------------------------------------------------

    def put_ticket(self, session: WebSession) -> None:
        """Store a new ticket."""
        with self.begin() as connection:
            connection.execute(insert(wc_ticket).values(
                ticket_key=ticket_key(session.ticket), **self._ticket_values(session)))

    def get_ticket(self, ticket: str) -> WebSession | None:
        """The session of ``ticket``, if the database knows it."""
        with self.begin() as connection:
            row = connection.execute(select(wc_ticket).where(wc_ticket.c.ticket_key == ticket_key(ticket))).first()
        if row is None:
            return None
        session = self._session_from(ticket, row)
        session._stored = self._ticket_values(session)  # type: ignore[attr-defined]  # what save_ticket compares
        return session

    def save_ticket(self, session: WebSession) -> None:
        """Write back what a call changed in ``session`` (no-op if the ticket was removed meanwhile).

        Nothing is written when only ``last_seen`` moved, by less than :data:`SEEN_RESOLUTION` seconds: most calls
        change nothing else, and the expiry and silence checks work in tens of seconds."""
        if self._ticket_changes(session) is None:
            return
        with self.begin() as connection:
            self.write_ticket(connection, session)

    def _ticket_changes(self, session: WebSession) -> dict[str, Any] | None:
        values = self._ticket_values(session)
        stored = getattr(session, "_stored", None)
        if stored is not None and {k: v for k, v in values.items() if k != "last_seen"} == {
                k: v for k, v in stored.items() if k != "last_seen"} and \
                values["last_seen"] - stored["last_seen"] < SEEN_RESOLUTION:
            return None
        return values

    def write_ticket(self, connection: Connection, session: WebSession) -> None:
        """Within ``connection``'s transaction: write what changed in ``session`` as :meth:`save_ticket` would, and
        remember it written (the call's closing :meth:`save_ticket` then has nothing left to write)."""
        values = self._ticket_changes(session)
        if values is None:
            return
        connection.execute(update(wc_ticket).where(wc_ticket.c.ticket_key == ticket_key(session.ticket))
                           .values(**values))
        session._stored = values  # type: ignore[attr-defined]

    def pop_ticket(self, ticket: str) -> WebSession | None:
        """Remove ``ticket`` and return its session."""
        with self.begin() as connection:
            row = connection.execute(delete(wc_ticket).where(wc_ticket.c.ticket_key == ticket_key(ticket))
                                     .returning(*wc_ticket.c)).first()
        return None if row is None else self._session_from(ticket, row)

    def take_expired(self, older_than: float) -> list[tuple[str, str, bool]]:
        """Remove tickets not heard from since ``older_than``: (ticket key, company, ended) for each."""
        with self.begin() as connection:
            rows = connection.execute(delete(wc_ticket).where(wc_ticket.c.last_seen < older_than).returning(
                wc_ticket.c.ticket_key, wc_ticket.c.company, wc_ticket.c.ended)).all()
        return [(row.ticket_key, row.company, row.ended) for row in rows]

    def tickets(self) -> int:
        """How many tickets are open (for metrics)."""
        with self.begin() as connection:
            return int(connection.execute(select(func.count()).select_from(wc_ticket)).scalar_one())

    @staticmethod
    def _ticket_values(session: WebSession) -> dict[str, Any]:
        return {"company": session.company, "username": session.username, "last_seen": session.last_seen,
                "hcp_read": session.hcp_read, "noop": session.noop, "closing": session.closing,
                "ended": session.ended, "outcome": session.outcome, "last_error": session.last_error,
                "messages": session.messages}

    @staticmethod
    def _session_from(ticket: str, row: Any) -> WebSession:
        return WebSession(ticket=ticket, company=row.company, username=row.username, last_seen=row.last_seen,
                          hcp_read=row.hcp_read, noop=row.noop, closing=row.closing, ended=row.ended,
                          outcome=row.outcome, last_error=row.last_error, messages=row.messages)


class SharedBridge:
    """:class:`~qbsf.quickbooks.webconnector.bridge.CompanyBridge`'s contract over the shared tables.

    The Web Connector side (any worker) uses it without an epoch; the engine side is built with the lease epoch
    of the worker running the company's engine (:meth:`SharedSessions.bridge`).
    """

    def __init__(self, shared: SharedSessions, company: str, *, epoch: int | None = None) -> None:
        self.shared = shared
        self.company = company
        self.epoch = epoch
        self.idle_timeout = shared.idle_timeout
        self.quiet_timeout = shared.quiet_timeout

    # ----- helpers -----------------------------------------------------------------------------------------------

    def _row(self, connection: Connection, *, lock: bool = False) -> Any:
        query = select(wc_company).where(wc_company.c.company == self.company)
        row = connection.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise SessionCutOff(f"company {self.company!r} is not registered for the Web Connector")
        return row

    def _set(self, connection: Connection, **values: Any) -> None:
        connection.execute(update(wc_company).where(wc_company.c.company == self.company).values(**values))

    def _engine_set(self, connection: Connection, **values: Any) -> None:
        # What an engine announces counts only while it is the company's current engine.
        connection.execute(update(wc_company).where(wc_company.c.company == self.company,
                                                    wc_company.c.engine_epoch == self._engine_epoch())
                           .values(**values))

    def _now(self) -> float:
        return self.shared.clock()

    def _wait(self, since: int, deadline: float) -> bool:
        remaining = deadline - self._now()
        if remaining <= 0:
            return False
        self.shared.signals.wait(self.company, since, remaining)
        return True

    def _read(self) -> Any:
        with self.shared.begin() as connection:
            return self._row(connection)

    # ----- configuration and QuickBooks' self-description ----------------------------------------------------------

    @property
    def company_file(self) -> str:
        """The .QBW path the Web Connector opens ("" = the file open in QuickBooks)."""
        return str(self._read().company_file or "")

    @property
    def run_every_minutes(self) -> float | None:
        """The Web Connector's schedule for this company."""
        return self._read().run_every_minutes

    @property
    def qbxml_version(self) -> str | None:
        """The negotiated qbXML version, once a session has told it."""
        return self._read().qbxml_version

    @property
    def country(self) -> str:
        """QuickBooks' edition country."""
        return str(self._read().country or "")

    @property
    def host(self) -> HostInfo | None:
        """QuickBooks' HostRet from the latest session."""
        text = self._read().host
        if not text:
            return None
        data = json.loads(text)
        data["supported_versions"] = tuple(data.get("supported_versions", ()))
        return HostInfo(**data)

    @property
    def settings(self) -> CompanySettings | None:
        """The company's name and preferences from the latest session."""
        text = self._read().settings
        return CompanySettings(**json.loads(text)) if text else None

    def learn(self, hcp: HcpResponse, *, qbxml_version: str | None, country: str) -> None:
        """Remember what QuickBooks said about itself, for every worker."""
        values: dict[str, Any] = {}
        if hcp.host is not None:
            values["host"] = json.dumps(dataclasses.asdict(hcp.host))
        if hcp.company is not None:
            values["settings"] = json.dumps(dataclasses.asdict(hcp.company))
        if qbxml_version:
            values["qbxml_version"] = qbxml_version
        if country:
            values["country"] = country[:8]
        if values:
            with self.shared.begin() as connection:
                self._set(connection, **values)

    # ----- engine side -------------------------------------------------------------------------------------------

    def _engine_epoch(self) -> int:
        if self.epoch is None:
            raise RuntimeError("the engine side of a shared bridge needs its lease epoch")
        return self.epoch

    def _fenced(self, row: Any) -> None:
        if row.engine_epoch != self._engine_epoch():
            raise SessionCutOff(f"company {self.company!r}'s sync has moved to another worker",
                                hint="nothing was sent from here; the worker that runs it now carries on")

    def submit(self, request_xml: str, *, session_wait: float, response_timeout: float) -> str:
        """Queue ``request_xml`` for the Web Connector and wait for QuickBooks' answer (see CompanyBridge.submit)."""
        epoch = self._engine_epoch()
        continued = _iterator_continued(request_xml)
        with self.shared.begin() as connection:
            row = self._row(connection, lock=True)
            self._fenced(row)
            if continued is not None and (row.active_session is None or continued not in row.iterators.split()):
                raise SessionCutOff(f"qbXML iterator {continued!r} belongs to an earlier Web Connector session",
                                    hint="start the query again with iterator=\"Start\"")
            request_id = connection.execute(insert(wc_request).values(
                company=self.company, epoch=epoch, state="queued", request_xml=request_xml,
                created=self._now()).returning(wc_request.c.id)).scalar_one()
            self._engine_set(connection, finished=False, wanted=True, engine_activity=self._now())
            self.shared.changed(connection, self.company)
        deadline = self._now() + session_wait
        sent_at: float | None = None
        while True:
            since = self.shared.signals.generation(self.company)
            with self.shared.begin() as connection:
                request = connection.execute(select(wc_request).where(wc_request.c.id == request_id)).first()
                row = self._row(connection)
            if request is None or request.state == "failed" or request.state == "orphaned":
                message = request.error if request is not None and request.error else "request withdrawn"
                self._forget(request_id)
                raise SessionCutOff(message, hint="nothing was left half-done; the work resumes in the next session")
            if request.state == "answered":
                self._forget(request_id)
                return str(request.response_xml)
            if row.engine_epoch != epoch:
                self._forget(request_id)
                self._fenced(row)
            now = self._now()
            if request.state == "queued" and now >= deadline:
                with self.shared.begin() as connection:
                    gone = connection.execute(update(wc_request).where(
                        wc_request.c.id == request_id, wc_request.c.state == "queued").values(
                        state="failed", error="no session")).rowcount
                if gone:
                    self._forget(request_id)
                    raise SessionCutOff(
                        f"no QuickBooks Web Connector session for company {self.company!r} within {session_wait:g} s",
                        hint="check that the Web Connector is running with this company's .qwc file and scheduled")
                continue
            if request.state == "sent":
                sent_at = sent_at if sent_at is not None else now
                if now - sent_at >= response_timeout:
                    self.cut_off(str(request.session), f"no answer from the Web Connector within "
                                                       f"{response_timeout:g} s")
                    continue
                self._wait(since, sent_at + response_timeout)
            else:
                self._wait(since, deadline)

    def _forget(self, request_id: int) -> None:
        # A request never handed out, or failed, goes now; one a session took stays until that session closes: its
        # answer may still come (orphaned: the engine is gone) or come again (a repeated delivery is recognised).
        with self.shared.begin() as connection:
            connection.execute(delete(wc_request).where(wc_request.c.id == request_id, or_(
                wc_request.c.session.is_(None), wc_request.c.state == "failed")))

    def finish(self) -> None:
        """The engine has no more work for now: the session ends (100 %) once the last answer is in."""
        with self.shared.begin() as connection:
            self._engine_set(connection, finished=True, wanted=False, announced=False, engine_activity=self._now())
            self.shared.changed(connection, self.company)

    def want_session(self) -> None:
        """The engine has work coming: the next poll opens a session instead of hearing "none"."""
        with self.shared.begin() as connection:
            self._engine_set(connection, wanted=True, announced=True, finished=False, engine_activity=self._now())
            self.shared.changed(connection, self.company)

    def cancel_waiting(self, reason: str) -> int:
        """Fail this engine's requests still waiting for a session; returns how many."""
        with self.shared.begin() as connection:
            count = connection.execute(update(wc_request).where(
                wc_request.c.company == self.company, wc_request.c.state == "queued",
                wc_request.c.epoch == self._engine_epoch()).values(
                state="failed", error=f"request for company {self.company!r} cancelled: {reason}")).rowcount
            self._engine_set(connection, wanted=False, announced=False)
            self.shared.changed(connection, self.company)
        return int(count or 0)

    def report_progress(self, done: int, total: int) -> None:
        """The engine's progress, for the percentage the Web Connector shows."""
        with self.shared.begin() as connection:
            self._engine_set(connection, progress_done=max(done, 0), progress_total=max(total, 0))

    def wait_for_session(self, timeout: float) -> bool:
        """Until a Web Connector session is open (True) or ``timeout`` seconds pass (False)."""
        deadline = self._now() + timeout
        while True:
            since = self.shared.signals.generation(self.company)
            if self._read().active_session is not None:
                return True
            if not self._wait(since, deadline):
                return False

    # ----- Web Connector side ------------------------------------------------------------------------------------

    def has_work(self) -> bool:
        """Whether the current engine queued a request or announced work."""
        with self.shared.begin() as connection:
            row = self._row(connection)
            if row.wanted:
                return True
            return connection.execute(select(wc_request.c.id).where(
                wc_request.c.company == self.company, wc_request.c.state == "queued",
                wc_request.c.epoch == row.engine_epoch).limit(1)).first() is not None

    @property
    def active_session(self) -> str | None:
        """The key of the company's open session's ticket, if any."""
        return self._read().active_session

    def open_session(self, session: str) -> None:
        """Make ticket ``session`` the company's active one; BridgeBusy if another is open."""
        with self.shared.begin() as connection:
            row = self._row(connection, lock=True)
            if row.active_session is not None:
                raise BridgeBusy(self.company)
            number = row.sessions_opened + 1
            self._set(connection, active_session=ticket_key(session), progress_done=None, progress_total=None,
                      percent_shown=0, iterators="", sessions_opened=number,
                      current_session=_record_json(SessionRecord(number=number, started=datetime.now(UTC))))
            self.shared.changed(connection, self.company)
        log.info("Web Connector session %d opened for company %r", number, self.company)

    def take_request(self, session: str, wait: float) -> tuple[Next, PendingRequest | None]:
        """The next request for ``session``, waiting up to ``wait`` seconds for the engine.

        Asked again before answering, it hands out the same request: the Web Connector asks again only when the
        first hand-out never reached it (the worker answering was killed), so QuickBooks has not run it.
        """
        key = ticket_key(session)
        deadline = self._now() + wait
        while True:
            since = self.shared.signals.generation(self.company)
            with self.shared.begin() as connection:
                row = self._row(connection, lock=True)
                if row.active_session != key:
                    return Next.CUT, None
                inflight = connection.execute(select(wc_request).where(
                    wc_request.c.company == self.company, wc_request.c.session == key,
                    wc_request.c.state.in_(("sent",))).order_by(wc_request.c.id).limit(1)).first()
                if inflight is not None:
                    return Next.REQUEST, PendingRequest(inflight.request_xml, session=session)
                handed = self._hand_out(connection, row, key, session)
                if handed is not None:
                    return Next.REQUEST, handed
                limit = self.idle_timeout if row.announced else self.quiet_timeout
                if row.finished or self._now() - row.engine_activity > limit:
                    return Next.DONE, None
            if not self._wait(since, deadline):
                return Next.WAIT, None

    def _hand_out(self, connection: Connection, row: Any, key: str, session: str) -> PendingRequest | None:
        iterators = set(row.iterators.split())
        while True:
            queued = connection.execute(select(wc_request).where(
                wc_request.c.company == self.company, wc_request.c.state == "queued",
                wc_request.c.epoch == row.engine_epoch).order_by(wc_request.c.id).limit(1)
                .with_for_update(skip_locked=True)).first()
            if queued is None:
                return None
            continued = _iterator_continued(queued.request_xml)
            if continued is not None and continued not in iterators:
                connection.execute(update(wc_request).where(wc_request.c.id == queued.id).values(
                    state="failed", error=f"qbXML iterator {continued!r} belongs to an earlier Web Connector "
                                          "session"))
                self.shared.changed(connection, self.company)
                continue
            connection.execute(update(wc_request).where(wc_request.c.id == queued.id).values(
                state="sent", session=key))
            self.shared.changed(connection, self.company)
            return PendingRequest(queued.request_xml, session=session)

    def deliver(self, session: str, response_xml: str, *, ticket: WebSession | None = None) -> int:
        """Record QuickBooks' answer to the request ``session`` took; a repeated delivery of it changes nothing.

        One transaction: the answer, the session's row (iterators, message count, the percentage shown — counted
        from the engine's progress as it stands, one message behind at most) and, given the call's ``ticket``,
        what changed in the ticket. Returns the percentage to show (1–99, never going back)."""
        key = ticket_key(session)
        with self.shared.begin() as connection:
            row = self._row(connection, lock=True)
            if row.active_session != key:
                raise SessionCutOff("a response arrived but no request of this session is waiting for one")
            oldest = (select(wc_request.c.id).where(
                wc_request.c.company == self.company, wc_request.c.session == key,
                wc_request.c.state.in_(("sent", "orphaned")), wc_request.c.response_xml.is_(None))
                .order_by(wc_request.c.id).limit(1).scalar_subquery())
            answered = connection.execute(update(wc_request).where(wc_request.c.id == oldest).values(
                state=case((and_(wc_request.c.state == "sent", wc_request.c.epoch == row.engine_epoch), "answered"),
                           else_="orphaned"),
                response_xml=response_xml).returning(wc_request.c.id)).first()
            if answered is None:
                last = connection.execute(select(wc_request.c.response_xml).where(
                    wc_request.c.company == self.company, wc_request.c.session == key,
                    wc_request.c.response_xml.is_not(None)).order_by(wc_request.c.id.desc()).limit(1)).scalar()
                if last is not None and last == response_xml:
                    # the Web Connector sent the same answer again (its first try hit a dying worker)
                    return min(max(row.percent_shown, 1), 99)
                raise SessionCutOff("a response arrived but no request of this session is waiting for one")
            from qbsf.quickbooks.webconnector.bridge import _ITERATOR_ID

            iterators = set(row.iterators.split()) | set(_ITERATOR_ID.findall(response_xml[:65536]))
            current = _record(row.current_session)
            if current is not None:
                current.messages += 1
            shown = _percent(row, current)
            self._set(connection, iterators=" ".join(sorted(iterators)), engine_activity=self._now(),
                      current_session=_record_json(current), percent_shown=shown)
            if ticket is not None:
                self.shared.write_ticket(connection, ticket)
            self.shared.changed(connection, self.company)
        return shown

    def wait_next(self, session: str, wait: float, *, since: int | None = None) -> Next:
        """After an answer: up to ``wait`` seconds for the engine's next request or its finish.

        Given ``since`` (the company's signal generation right after the answer was delivered), it waits for the
        engine's next change before it looks: the engine cannot have answered before the delivery it answers."""
        key = ticket_key(session)
        deadline = self._now() + wait
        if since is not None and not self._wait(since, deadline):
            since = None  # no time left: one look
        while True:
            since = self.shared.signals.generation(self.company)
            queued = select(wc_request.c.id).where(
                wc_request.c.company == self.company, wc_request.c.state == "queued",
                wc_request.c.epoch == wc_company.c.engine_epoch).exists()
            with self.shared.begin() as connection:
                row = connection.execute(select(wc_company.c.active_session, wc_company.c.finished,
                                                queued.label("queued")).where(
                    wc_company.c.company == self.company)).first()
            if row is None or row.active_session != key:
                return Next.CUT
            if row.queued:
                return Next.REQUEST
            if row.finished:
                return Next.DONE
            if not self._wait(since, deadline):
                return Next.WAIT

    def percent_done(self) -> int:
        """1–99, never going back (as CompanyBridge.percent_done)."""
        with self.shared.begin() as connection:
            row = self._row(connection, lock=True)
            shown = _percent(row, _record(row.current_session))
            self._set(connection, percent_shown=shown)
        return shown

    def end_session(self, session: str, outcome: str = "completed") -> None:
        """Close ``session`` normally (cut off instead if a request is still in QuickBooks)."""
        key = ticket_key(session)
        with self.shared.begin() as connection:
            row = self._row(connection, lock=True)
            if row.active_session != key:
                return
            inflight = connection.execute(select(wc_request.c.id).where(
                wc_request.c.company == self.company, wc_request.c.session == key,
                wc_request.c.state == "sent")).first()
            if inflight is not None:
                self._cut_off_locked(connection, row, key, f"session ended ({outcome}) while a request was in "
                                                           "QuickBooks")
                return
            self._close_locked(connection, row, key, outcome)

    def cut_off(self, session: str, reason: str) -> None:
        """End ``session`` early: every waiting request of the engine fails with SessionCutOff."""
        key = session if len(session) == 64 and session.isalnum() and session == session.lower() else (
            ticket_key(session))
        with self.shared.begin() as connection:
            row = self._row(connection, lock=True)
            if row.active_session != key:
                return
            self._cut_off_locked(connection, row, key, reason)

    def _cut_off_locked(self, connection: Connection, row: Any, key: str, reason: str) -> None:
        error = f"Web Connector session for company {self.company!r} was cut off: {reason}"
        connection.execute(update(wc_request).where(
            wc_request.c.company == self.company, wc_request.c.state.in_(("queued", "sent"))).values(
            state="failed", error=error))
        log.warning("Web Connector session for company %r cut off: %s", self.company, reason)
        self._close_locked(connection, row, key, f"cut off: {reason}")

    def _close_locked(self, connection: Connection, row: Any, key: str, outcome: str) -> None:
        current = _record(row.current_session)
        values: dict[str, Any] = {"active_session": None, "iterators": "", "progress_done": None,
                                  "progress_total": None, "current_session": None}
        if current is not None:
            current.ended, current.outcome = datetime.now(UTC), outcome
            values["last_session"] = _record_json(current)
        self._set(connection, **values)
        # The session's requests are done with: nobody can deliver an answer for them any more.
        connection.execute(delete(wc_request).where(
            wc_request.c.company == self.company, wc_request.c.session == key,
            wc_request.c.state.in_(("answered", "orphaned"))))
        self.shared.changed(connection, self.company)
        log.info("Web Connector session for company %r ended: %s", self.company, outcome)

    def status(self) -> CompanyStatus:
        """The company's Web Connector state for the dashboard and metrics."""
        with self.shared.begin() as connection:
            row = self._row(connection)
            queued = int(connection.execute(select(func.count()).select_from(wc_request).where(
                wc_request.c.company == self.company, wc_request.c.state == "queued",
                wc_request.c.epoch == row.engine_epoch)).scalar_one())
        return _status(row, queued)


def _percent(row: Any, current: SessionRecord | None) -> int:
    """The percentage a session shows: the engine's progress, else a curve of the messages exchanged; 1–99 and
    never below what it showed before."""
    if row.progress_total:
        percent = 100 * (row.progress_done or 0) // row.progress_total
    else:
        messages = current.messages if current else 0
        percent = 100 * messages // (messages + 20)
    return min(max(percent, row.percent_shown, 1), 99)


def _status(row: Any, queued: int | None = None) -> CompanyStatus:
    current, last = _record(row.current_session), _record(row.last_session)
    next_poll = None
    if last is not None and row.run_every_minutes:
        next_poll = last.started + timedelta(minutes=row.run_every_minutes)
    return CompanyStatus(company=row.company, active=row.active_session is not None, last_session=current or last,
                         next_poll_expected=next_poll,
                         queued_requests=int(row.queued if queued is None else queued))


def _dialect_insert(connection: Connection) -> Any:
    """The INSERT with ON CONFLICT of the connection's database."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


class SharedLoginThrottle(LoginThrottle):
    """:class:`~qbsf.quickbooks.webconnector.users.LoginThrottle`'s delays, counted in the shared database per
    (company, client address): every worker sees every failure, so a caller cannot dodge its delay by reaching
    another worker; and the key is the company the attempted user name serves, so wrong passwords for one company
    never hold back another company's Web Connector from the same address (an accounting firm's office runs many).
    A user name no company has counts under company "" for that address: guessing names holds back only guessing.

    Times are wall-clock seconds, as every worker reads them.
    """

    def __init__(self, engine: Engine, company_of: Callable[[str], str], **options: Any) -> None:
        options.setdefault("clock", time.time)
        options.setdefault("wall_clock", options["clock"])
        super().__init__(**options)
        self.engine = engine
        self.company_of = company_of
        self._clean = threading.local()

    def _key(self, user: str) -> str:
        return self.company_of(user) or ""

    def check(self, user: str, client: str) -> Refusal | None:
        """A refusal while (the user's company, ``client``) waits out its delay, else None."""
        company, now = self._key(user), self._clock()
        with self.engine.begin() as connection:
            row = connection.execute(select(wc_login_throttle).where(
                wc_login_throttle.c.company == company, wc_login_throttle.c.client == client)).first()
            # A good login right after a check that found nothing to forget skips the delete (one statement less
            # per session).
            self._clean.key = (company, client) if row is None else None
            if row is None or now >= row.blocked_until:
                return None
            connection.execute(update(wc_login_throttle).where(
                wc_login_throttle.c.company == company, wc_login_throttle.c.client == client).values(
                refused=wc_login_throttle.c.refused + 1))
        return Refusal(user, client, row.failures, row.blocked_until - now, False, company=company)

    def failed(self, user: str, client: str) -> None:
        """Count one wrong password (or unknown user name) from ``client``."""
        company, now = self._key(user), self._clock()
        with self.engine.begin() as connection:
            # Failures not repeated for ``forget_after`` are forgotten: the table stays small.
            connection.execute(delete(wc_login_throttle).where(
                wc_login_throttle.c.last_failure < now - self.forget_after, wc_login_throttle.c.blocked_until < now))
            connection.execute(_dialect_insert(connection)(wc_login_throttle).values(
                company=company, client=client, failures=0, refused=0, last_failure=now, blocked_until=now)
                .on_conflict_do_nothing(index_elements=["company", "client"]))
            row = connection.execute(select(wc_login_throttle).where(
                wc_login_throttle.c.company == company, wc_login_throttle.c.client == client).with_for_update()).one()
            failures = row.failures + 1
            connection.execute(update(wc_login_throttle).where(
                wc_login_throttle.c.company == company, wc_login_throttle.c.client == client).values(
                failures=failures, last_failure=now,
                blocked_until=max(row.blocked_until, now + self._delay(failures, self.free_failures))))

    def succeeded(self, user: str, client: str) -> None:
        """A good login forgets that company's failures from ``client``."""
        if getattr(self._clean, "key", None) == (self._key(user), client):
            return
        with self.engine.begin() as connection:
            connection.execute(delete(wc_login_throttle).where(
                wc_login_throttle.c.company == self._key(user), wc_login_throttle.c.client == client))

    def tracked(self) -> int:
        """How many (company, address) keys have failures not yet forgotten."""
        return len(self.statuses())

    def statuses(self) -> list[ThrottleStatus]:
        """Every (company, address) with failures not yet forgotten, most recent first (``username`` holds the
        company here)."""
        now = self._clock()
        with self.engine.begin() as connection:
            rows = connection.execute(select(wc_login_throttle).where(or_(
                wc_login_throttle.c.last_failure >= now - self.forget_after,
                wc_login_throttle.c.blocked_until > now)).order_by(wc_login_throttle.c.last_failure.desc())).all()
        return [ThrottleStatus(row.company, row.client, row.failures, row.refused, row.last_failure,
                               row.blocked_until) for row in rows]


#: The fixed context the memo's HMAC key is derived with from the deployment key: the key itself is never used
#: for anything but encrypting the companies' secrets.
MEMO_KEY_CONTEXT = b"qbsf web connector login memo v1"


def memo_key(ring: KeyRing) -> bytes:
    """The memo's HMAC key, derived from the deployment's current secret key (the same in every worker)."""
    return hmac.new(ring.keys[0], MEMO_KEY_CONTEXT, hashlib.sha256).digest()


class SharedLoginMemo:
    """Passwords verified with scrypt, remembered in the shared database (``wc_login_memo``) so that every worker
    recognises them: any worker answers any Web Connector call, and a worker started after a restart, a deploy or
    a crash would otherwise run scrypt (tens of ms of a core) once for every company before its first sessions.

    A row holds the case-folded user name, an HMAC-SHA256 of (the user's stored hash, the password) keyed by a key
    derived from the deployment's secret key, and until when it counts (wall-clock seconds). A wrong password or a
    changed hash never matches; an expired row is not used. One read per login; one upsert after a scrypt success.

    Trade-off: someone holding both the database and the deployment key could test password guesses at HMAC speed
    instead of scrypt's — but that key already decrypts every company's Salesforce tokens.
    """

    def __init__(self, engine: Engine, key: bytes, *, seconds: float = UserDirectory.REMEMBER_SECONDS,
                 clock: Callable[[], float] = time.time, sweep_every: float = 60.0) -> None:
        self.engine = engine
        self.seconds = seconds
        self.sweep_every = sweep_every
        self._key = key
        self._clock = clock
        self._next_sweep = 0.0

    def remembered(self, user: WebConnectorUser, password: str) -> bool:
        """Whether this password matched this user's current hash within :attr:`seconds`, on any worker."""
        with self.engine.connect() as connection:
            row = connection.execute(select(wc_login_memo.c.digest, wc_login_memo.c.expires_at).where(
                wc_login_memo.c.user_key == user_key(user.username))).first()
        return (row is not None and row.expires_at > self._clock()
                and hmac.compare_digest(row.digest, memo_digest(self._key, user, password).hex()))

    def remember(self, user: WebConnectorUser, password: str) -> None:
        """Remember a password scrypt just verified; rows expired long enough ago are deleted now and then."""
        now = self._clock()
        digest, expires_at = memo_digest(self._key, user, password).hex(), now + self.seconds
        try:
            with self.engine.begin() as connection:
                if now >= self._next_sweep:  # users removed or silent leave no row behind for long
                    self._next_sweep = now + self.sweep_every
                    connection.execute(delete(wc_login_memo).where(wc_login_memo.c.expires_at <= now))
                connection.execute(_dialect_insert(connection)(wc_login_memo).values(
                    user_key=user_key(user.username), digest=digest, expires_at=expires_at).on_conflict_do_update(
                    index_elements=["user_key"], set_={"digest": digest, "expires_at": expires_at}))
        except SQLAlchemyError as exc:  # the login stands; the next one is verified with scrypt again
            # The class only: the statement's parameters would carry the digest.
            log.warning("the Web Connector login of %r was verified but not remembered for the other workers (%s)",
                        user.username, type(exc).__name__)


_said_memo_is_per_process = False


def login_memo(engine: Engine, *, clock: Callable[[], float] = time.time,
               seconds: float = UserDirectory.REMEMBER_SECONDS) -> LoginMemo:
    """The shared memo when the deployment has a secret key; else this process's own, said once at INFO."""
    global _said_memo_is_per_process
    try:
        ring = KeyRing.from_environment()
    except ConfigError as exc:
        if not _said_memo_is_per_process:
            _said_memo_is_per_process = True
            log.info("Web Connector logins verified by this worker are remembered by this worker only (%s): set "
                     "%s or %s for every worker to share them", exc.message, KEY_FILE_ENV, KEY_ENV)
        return ProcessLoginMemo(seconds)
    return SharedLoginMemo(engine, memo_key(ring), seconds=seconds, clock=clock)


class SharedWebConnectorService(WebConnectorService):
    """The Web Connector service whose tickets and company bridges live in the shared tables: every worker
    process runs one, and any of them answers any call of any session."""

    def __init__(self, users: UserDirectory, shared: SharedSessions, **options: Any) -> None:
        options.setdefault("clock", shared.clock)
        # Wrong passwords are counted where every worker sees them, per company and address.
        users.throttle = SharedLoginThrottle(shared.engine, lambda name: getattr(users.get(name), "company", ""),
                                             clock=shared.clock)
        # A password verified on one worker is recognised by every worker (the default memo is this process's).
        if isinstance(users.memo, ProcessLoginMemo):
            users.memo = login_memo(shared.engine, clock=shared.clock, seconds=users.REMEMBER_SECONDS)
        super().__init__(users, idle_timeout=shared.idle_timeout, quiet_timeout=shared.quiet_timeout, **options)
        self.shared = shared
        self._loaded = threading.local()
        self._next_expiry = 0.0

    def add_company(self, company: str, *, company_file: str = "", run_every_minutes: float | None = None,
                    ) -> SharedBridge:  # type: ignore[override]
        """Register a company (its row in the shared tables) and return its Web Connector-side bridge."""
        self.shared.ensure_company(company, company_file=company_file, run_every_minutes=run_every_minutes)
        return self.shared.bridge(company)

    def bridge(self, company: str) -> SharedBridge:  # type: ignore[override]
        """The Web Connector-side bridge of ``company``."""
        return self.shared.bridge(company)

    def statuses(self) -> list[CompanyStatus]:
        """Every company's status, from the shared tables."""
        return [self.shared.bridge(company).status() for company in self.shared.companies()]

    def companies(self) -> list[str]:
        """Every company with a row in the shared tables."""
        return self.shared.companies()

    def dispatch(self, call: Any, *, client: str = "") -> Any:
        """Run one call; whatever it changed in its ticket's session is written back for the next worker."""
        self._loaded.sessions = []
        try:
            return super().dispatch(call, client=client)
        finally:
            for session in self._loaded.sessions:
                if not getattr(session, "_popped", False):
                    self.shared.save_ticket(session)
            self._loaded.sessions = []

    def receive_response_xml(self, ticket: str, response: str, hresult: str, message: str) -> int:
        """As the base service, in three transactions: the ticket read, the answer delivered (with the session's
        row, its percentage and the ticket written together), and one look once the engine has moved. An answer
        repeated after the session completed gets its 100 % again."""
        session = self._session(ticket)
        if session is None:
            return -1
        if session.ended and session.outcome == "completed":
            return 100  # the first 100 % was lost with the worker that sent it
        if session.closing or hresult.strip() or not response.strip():
            return super().receive_response_xml(ticket, response, hresult, message)  # the ends of a session
        bridge = self.bridge(session.company)
        try:
            shown = bridge.deliver(ticket, response, ticket=session)
        except SyncError as exc:
            return self._fail(session, exc.message)
        what = bridge.wait_next(ticket, self.poll_wait, since=self.shared.signals.generation(session.company))
        ended = self._ended_by(session, bridge, what)
        return shown if ended is None else ended

    def login_throttles(self) -> list[dict[str, object]]:
        """Logins held back after wrong passwords, per company and client address, from the shared table."""
        return [{**status.to_dict(), "username": "", "company": status.username}
                for status in self.users.throttle.statuses()]

    def sessions(self) -> list[WebSession]:
        """Not listed across workers (tickets are kept hashed); use :meth:`SharedSessions.tickets` for a count."""
        return []

    def _track(self, session: WebSession | None) -> WebSession | None:
        if session is not None:
            enter_company(session.company)  # the call's log lines name the ticket's company
            loaded = getattr(self._loaded, "sessions", None)
            if loaded is not None:
                loaded.append(session)
        return session

    def _put_session(self, session: WebSession) -> None:
        self.shared.put_ticket(session)

    def _get_session(self, ticket: str) -> WebSession | None:
        return self._track(self.shared.get_ticket(ticket))

    def _pop_session(self, ticket: str) -> WebSession | None:
        for loaded in getattr(self._loaded, "sessions", None) or []:
            if loaded.ticket == ticket:
                loaded._popped = True  # type: ignore[attr-defined]
        session = self.shared.pop_ticket(ticket)
        if session is not None:
            enter_company(session.company)
        return session

    def _retire_silent_session(self, company: str) -> bool:
        bridge = self.bridge(company)
        with self.shared.begin() as connection:
            row = bridge._row(connection)
            active = row.active_session
            seen = connection.execute(select(wc_ticket.c.last_seen).where(
                wc_ticket.c.ticket_key == active)).scalar() if active else None
        if active is None:
            return True
        if seen is not None and self._clock() - seen < self.stale_after:
            return False
        with self.shared.begin() as connection:
            connection.execute(delete(wc_ticket).where(wc_ticket.c.ticket_key == active))
        reason = ("its ticket is gone" if seen is None else
                  f"the Web Connector went silent for {self.stale_after:g} s and logged in again")
        bridge.cut_off(active, reason)
        return True

    def _expire_sessions(self) -> None:
        now = self._clock()
        if now < self._next_expiry:
            return
        self._next_expiry = now + min(30.0, self.ticket_ttl / 4)
        for key, company, ended in self.shared.take_expired(now - self.ticket_ttl):
            if not ended:
                self.bridge(company).cut_off(key, f"no call from the Web Connector for {self.ticket_ttl:g} s")
            log.info("Web Connector session %s of company %r expired", key[:8], company)


__all__ = ["SharedBridge", "SharedLoginMemo", "SharedSessions", "SharedWebConnectorService", "Signals", "login_memo",
           "metadata", "ticket_key", "ticket_label"]
