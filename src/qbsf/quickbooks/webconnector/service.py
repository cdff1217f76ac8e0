"""The eight Web Connector operations, with Intuit's documented semantics, over per-company bridges.

:class:`WebConnectorService` knows nothing of HTTP: :mod:`qbsf.quickbooks.webconnector.endpoint`
decodes SOAP and calls :meth:`WebConnectorService.dispatch`. A ticket is bound
at ``authenticate`` to the one company its user serves, and every later call
with that ticket reaches that company's :class:`CompanyBridge` only.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qbsf import __version__
from qbsf.errors import SyncError
from qbsf.log_context import enter_company
from qbsf.quickbooks.webconnector.bridge import BridgeBusy, CompanyBridge, CompanyStatus, Next
from qbsf.quickbooks.webconnector.hcp import parse_hcp_response
from qbsf.quickbooks.webconnector.soap import SoapCall, SoapFault
from qbsf.quickbooks.webconnector.users import UserDirectory

log = logging.getLogger(__name__)

#: authenticate's second element: no work now, bad credentials, busy with another session.
NO_WORK, INVALID_USER, BUSY = "none", "nvu", "busy"
#: getLastError's answer that makes the Web Connector wait a few seconds and ask sendRequestXML again.
NO_OP = "NoOp"
#: Web Connector builds older than this cannot run qbsf's sessions; older than the second get a warning.
MIN_CLIENT_VERSION = (2, 1, 0, 30)
WARN_CLIENT_VERSION = (2, 2, 0, 0)
UNKNOWN_TICKET = ("The Web Connector's ticket is unknown or has expired (qbsf may have restarted): "
                  "run the update again")


def parse_version(text: str) -> tuple[int, ...]:
    """``"2.3.0.217"`` → ``(2, 3, 0, 217)``; junk parts count as 0 (only ASCII digits count: ``"3¹"`` is 3)."""
    parts = []
    for chunk in text.strip().split(".")[:8]:
        digits = "".join(ch for ch in chunk if "0" <= ch <= "9")[:9]
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def closing_request(version: str) -> str:
    """The request that ends a session with 100 % when the engine finished while QBWC was pausing (NoOp)."""
    return (f'<?xml version="1.0" encoding="utf-8"?><?qbxml version="{version}"?><QBXML>'
            '<QBXMLMsgsRq onError="stopOnError"><HostQueryRq requestID="qbsf-end"/></QBXMLMsgsRq></QBXML>')


def _named(session: WebSession | None) -> WebSession | None:
    """``session``, after naming its company in the call's log lines."""
    if session is not None:
        enter_company(session.company)
    return session


def ticket_label(ticket: str) -> str:
    """A short, non-reversible label for a ticket, safe for log lines."""
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()[:8]


@dataclass
class WebSession:
    """One ticket: the company it is bound to and where its session stands."""

    ticket: str
    company: str
    username: str
    last_seen: float
    hcp_read: bool = False
    noop: bool = False
    closing: bool = False
    ended: bool = False
    outcome: str = ""
    last_error: str = ""
    messages: int = 0


class WebConnectorService:
    """The Web Connector's server side for any number of companies, each reached only through its own users."""

    def __init__(self, users: UserDirectory, *, poll_wait: float = 10.0, ticket_ttl: float = 1800.0,
                 idle_timeout: float = 300.0, quiet_timeout: float = 30.0, stale_after: float = 120.0,
                 server_version: str = f"qbsf {__version__}",
                 min_client_version: tuple[int, ...] = MIN_CLIENT_VERSION,
                 warn_client_version: tuple[int, ...] = WARN_CLIENT_VERSION,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.users = users
        self.poll_wait = poll_wait
        self.ticket_ttl = ticket_ttl
        self.idle_timeout = idle_timeout
        self.quiet_timeout = quiet_timeout
        self.stale_after = stale_after
        self.server_version_text = server_version
        self.min_client_version = min_client_version
        self.warn_client_version = warn_client_version
        self._clock = clock
        self._bridges: dict[str, CompanyBridge] = {}
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    # ----- companies ---------------------------------------------------------------------------------------------

    def add_company(self, company: str, *, company_file: str = "", run_every_minutes: float | None = None,
                    ) -> CompanyBridge:
        """Register a company profile (its bridge); ``company_file`` "" means the file open in QuickBooks."""
        with self._lock:
            bridge = self._bridges.get(company)
            if bridge is None:
                bridge = CompanyBridge(company, company_file=company_file, run_every_minutes=run_every_minutes,
                                       idle_timeout=self.idle_timeout, quiet_timeout=self.quiet_timeout)
                self._bridges[company] = bridge
            else:
                bridge.company_file = company_file or bridge.company_file
                bridge.run_every_minutes = run_every_minutes or bridge.run_every_minutes
            return bridge

    def bridge(self, company: str) -> CompanyBridge:
        """The bridge of ``company``, created with defaults on first use."""
        with self._lock:
            existing = self._bridges.get(company)
        return existing if existing is not None else self.add_company(company)

    def statuses(self) -> list[CompanyStatus]:
        """Per company: active session, last session and its outcome, next expected poll (for the dashboard)."""
        with self._lock:
            bridges = [self._bridges[name] for name in sorted(self._bridges)]
        return [bridge.status() for bridge in bridges]

    def login_throttles(self) -> list[dict[str, object]]:
        """Web Connector logins held back after wrong passwords, per (user name, client address) and per address
        (user name ""), most recent first, with the company the user name serves ("" if it serves none)."""
        rows = []
        for status in self.users.throttle.statuses():
            user = self.users.get(status.username) if status.username else None
            rows.append({**status.to_dict(), "company": user.company if user else ""})
        return rows

    def companies(self) -> list[str]:
        """The companies with a bridge."""
        with self._lock:
            return sorted(self._bridges)

    # ----- dispatch ----------------------------------------------------------------------------------------------

    def dispatch(self, call: SoapCall, *, client: str = "") -> str | int | Sequence[str]:
        """Run one decoded call and return its result (raises :class:`SoapFault` for a bad part).

        It runs in a context of its own: once the ticket (or user) names the company, the call's log lines do."""
        return contextvars.copy_context().run(self._dispatch, call, client)

    def _dispatch(self, call: SoapCall, client: str) -> str | int | Sequence[str]:
        self._expire_sessions()
        op = call.operation
        if op == "serverVersion":
            return self.server_version()
        if op == "clientVersion":
            return self.client_version(call.get("strVersion"))
        if op == "authenticate":
            return self.authenticate(call.get("strUserName"), call.get("strPassword"), client=client)
        if op == "sendRequestXML":
            return self.send_request_xml(call.get("ticket"), call.get("strHCPResponse"),
                                         call.get("strCompanyFileName"), call.get("qbXMLCountry"),
                                         _int_part(call, "qbXMLMajorVers"), _int_part(call, "qbXMLMinorVers"))
        if op == "receiveResponseXML":
            return self.receive_response_xml(call.get("ticket"), call.get("response"), call.get("hresult"),
                                             call.get("message"))
        if op == "connectionError":
            return self.connection_error(call.get("ticket"), call.get("hresult"), call.get("message"))
        if op == "getLastError":
            return self.get_last_error(call.get("ticket"))
        if op == "closeConnection":
            return self.close_connection(call.get("ticket"))
        raise SoapFault(f"unknown Web Connector operation {op!r}")

    # ----- the eight operations ----------------------------------------------------------------------------------

    def server_version(self) -> str:
        """This server's version, shown in the Web Connector's log."""
        return self.server_version_text

    def client_version(self, version: str) -> str:
        """"" to go on, "W:…" to warn about an old Web Connector, "E:…" to refuse one too old to work."""
        if not version.strip():
            return ""
        parsed = parse_version(version)
        if parsed < self.min_client_version:
            needed = ".".join(map(str, self.min_client_version))
            return (f"E:This Web Connector ({version}) is too old for qbsf; install version {needed} or newer "
                    "from Intuit's Web Connector download page.")
        if parsed < self.warn_client_version:
            return (f"W:This Web Connector ({version}) is outdated; qbsf works with it, but please update to the "
                    "latest version from Intuit.")
        return ""

    def authenticate(self, username: str, password: str, *, client: str = "") -> list[str]:
        """[ticket, company file | "" | "none" | "nvu" | "busy"]: open a session bound to the user's company."""
        user = self.users.authenticate(username, password, client=client)
        if user is None:
            # A random decoy ticket: it is never registered, so nothing can be done with it.
            return [secrets.token_urlsafe(16), INVALID_USER]
        enter_company(user.company)
        bridge = self.bridge(user.company)
        if not bridge.has_work():
            log.info("Web Connector %r: no work for company %r", user.username, user.company)
            return [secrets.token_urlsafe(16), NO_WORK]
        ticket = secrets.token_urlsafe(32)
        try:
            bridge.open_session(ticket)
        except BridgeBusy:
            if not self._retire_silent_session(user.company):
                log.info("Web Connector %r: company %r already has a session running", user.username, user.company)
                return [secrets.token_urlsafe(16), BUSY]
            try:
                bridge.open_session(ticket)
            except BridgeBusy:
                return [secrets.token_urlsafe(16), BUSY]
        self._put_session(WebSession(ticket=ticket, company=user.company, username=user.username,
                                     last_seen=self._clock()))
        log.info("Web Connector %r authenticated for company %r, session %s", user.username, user.company,
                 ticket_label(ticket))
        return [ticket, bridge.company_file]

    def send_request_xml(self, ticket: str, hcp_response: str, company_file_name: str, country: str,
                         major_version: int | None, minor_version: int | None) -> str:
        """The next qbXML request of the ticket's company, or "" (then getLastError says NoOp or why)."""
        session = self._session(ticket)
        if session is None:
            return ""
        bridge = self.bridge(session.company)
        if not session.hcp_read:
            session.hcp_read = True
            hcp = parse_hcp_response(hcp_response)
            for problem in hcp.problems:
                log.info("company %r, first sendRequestXML: %s", session.company, problem)
            offered = f"{major_version}.{minor_version}" if major_version is not None else None
            version = (hcp.host.best_version() if hcp.host else None) or offered
            bridge.learn(hcp, qbxml_version=version, country=country)
        if session.closing or session.ended:
            session.last_error = session.last_error or "this session has already finished"
            return ""
        what, pending = bridge.take_request(ticket, self.poll_wait)
        if what is Next.REQUEST and pending is not None:
            session.messages += 1
            return pending.request_xml
        if what is Next.DONE:
            session.closing = True
            return closing_request(bridge.qbxml_version or "13.0")
        if what is Next.WAIT:
            session.noop = True
            return ""
        self._mark_cut(session, bridge)
        return ""

    def receive_response_xml(self, ticket: str, response: str, hresult: str, message: str) -> int:
        """Pass QuickBooks' answer to the engine; return percent done (100 ends, negative = see getLastError)."""
        session = self._session(ticket)
        if session is None:
            return -1
        bridge = self.bridge(session.company)
        if session.closing:
            self._end(session, bridge, "completed")
            return 100
        if hresult.strip():
            reason = f"QuickBooks could not process the request ({hresult.strip()}): {message.strip()}"
            bridge.cut_off(ticket, reason)
            return self._fail(session, reason)
        if not response.strip():
            reason = "the Web Connector returned an empty response"
            bridge.cut_off(ticket, reason)
            return self._fail(session, reason)
        try:
            bridge.deliver(ticket, response)
        except SyncError as exc:
            return self._fail(session, exc.message)
        ended = self._ended_by(session, bridge, bridge.wait_next(ticket, self.poll_wait))
        return bridge.percent_done() if ended is None else ended

    def _ended_by(self, session: WebSession, bridge: CompanyBridge, what: Next) -> int | None:
        """receiveResponseXML's answer when the engine's next move ends the session (100 done, -1 cut off), else
        None: the session goes on."""
        if what is Next.DONE:
            self._end(session, bridge, "completed")
            return 100
        if what is Next.CUT:
            self._mark_cut(session, bridge)
            return -1
        return None

    def connection_error(self, ticket: str, hresult: str, message: str) -> str:
        """The Web Connector could not reach QuickBooks: end the session ("done"), failing what was waiting."""
        session = self._session(ticket)
        if session is None:
            return "done"
        reason = f"the Web Connector could not reach QuickBooks ({hresult.strip()}): {message.strip()}"
        self.bridge(session.company).cut_off(ticket, reason)
        self._fail(session, reason)
        return "done"

    def get_last_error(self, ticket: str) -> str:
        """"NoOp" while the engine is still preparing work, else what went wrong in plain words."""
        session = self._get_session(ticket)
        if session is None:
            return UNKNOWN_TICKET
        session.last_seen = self._clock()
        if session.noop and not session.last_error:
            session.noop = False
            return NO_OP
        return session.last_error or "No error: qbsf has nothing to report"

    def close_connection(self, ticket: str) -> str:
        """End the session and say how it went (shown in the Web Connector's status column)."""
        session = self._pop_session(ticket)
        if session is None:
            return "OK"
        bridge = self.bridge(session.company)
        if not session.ended:
            reason = "the Web Connector closed the connection before qbsf had finished"
            bridge.cut_off(ticket, reason)
            session.outcome, session.last_error = f"cut off: {reason}", session.last_error or reason
        log.info("Web Connector session %s of company %r closed: %s", ticket_label(ticket), session.company,
                 session.outcome)
        if session.last_error:
            return f"qbsf: {session.last_error}"
        return f"qbsf: sync finished, {session.messages} message(s) exchanged with QuickBooks"

    # ----- internals ---------------------------------------------------------------------------------------------

    def sessions(self) -> list[WebSession]:
        """The tickets currently known (for status pages and tests)."""
        with self._lock:
            return list(self._sessions.values())

    # Where tickets live: this process's memory here; a database shared by every worker in
    # :class:`qbsf.quickbooks.webconnector.shared.SharedWebConnectorService`.

    def _put_session(self, session: WebSession) -> None:
        with self._lock:
            self._sessions[session.ticket] = session

    def _get_session(self, ticket: str) -> WebSession | None:
        with self._lock:
            return _named(self._sessions.get(ticket))

    def _pop_session(self, ticket: str) -> WebSession | None:
        with self._lock:
            return _named(self._sessions.pop(ticket, None))

    def _session(self, ticket: str) -> WebSession | None:
        session = self._get_session(ticket)
        if session is None:
            log.info("Web Connector call with an unknown ticket %s", ticket_label(ticket or "-"))
            return None
        session.last_seen = self._clock()
        return session

    def _end(self, session: WebSession, bridge: CompanyBridge, outcome: str) -> None:
        bridge.end_session(session.ticket, outcome)
        session.ended, session.outcome = True, outcome

    def _fail(self, session: WebSession, reason: str) -> int:
        session.ended, session.outcome, session.last_error = True, f"cut off: {reason}", reason
        return -1

    def _mark_cut(self, session: WebSession, bridge: CompanyBridge) -> None:
        last = bridge.status().last_session
        reason = last.outcome.removeprefix("cut off: ") if last and last.outcome.startswith("cut off") else (
            "the session was ended by qbsf")
        self._fail(session, reason)

    def _retire_silent_session(self, company: str) -> bool:
        """End ``company``'s running session if its Web Connector has been silent for ``stale_after`` seconds.

        The Web Connector runs one session per application at a time, so a new login while the old session is
        silent means the old one died (QuickBooks or the PC restarted); making the user wait for its ticket to
        expire would only delay the sync.
        """
        bridge = self.bridge(company)
        active = bridge.active_session
        session = self._get_session(active) if active else None
        if session is None:
            if active is None:
                return True
            # A bridge session without a ticket cannot be continued by anyone: end it.
            bridge.cut_off(active, "its ticket is gone")
            return True
        if self._clock() - session.last_seen < self.stale_after:
            return False
        self._pop_session(session.ticket)
        bridge.cut_off(session.ticket, f"the Web Connector went silent for {self.stale_after:g} s and logged in again")
        return True

    def _take_expired(self, now: float) -> list[WebSession]:
        """Remove and return the sessions not heard from for ``ticket_ttl`` seconds."""
        with self._lock:
            stale = [s for s in self._sessions.values() if now - s.last_seen > self.ticket_ttl]
            for session in stale:
                del self._sessions[session.ticket]
        return stale

    def _expire_sessions(self) -> None:
        for session in self._take_expired(self._clock()):
            bridge = self.bridge(session.company)
            if not session.ended:
                bridge.cut_off(session.ticket, f"no call from the Web Connector for {self.ticket_ttl:g} s")
            log.info("Web Connector session %s of company %r expired", ticket_label(session.ticket), session.company)


def _int_part(call: SoapCall, name: str) -> int | None:
    raw = call.get(name).strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SoapFault(f"{call.operation}: part {name} must be an integer, got {raw[:40]!r}") from None
