"""The meeting point of one company's sync engine and its Web Connector.

The engine is synchronous: it calls ``send(request_xml)`` and wants the
response back. The Web Connector polls: it asks for a request
(``sendRequestXML``), runs it in QuickBooks, and returns the answer
(``receiveResponseXML``). A :class:`CompanyBridge` holds the engine's request
until a poll hands it out and holds the engine's thread until the answer comes
back, all under one condition variable.

A session that ends early — QuickBooks unreachable, the Web Connector closing
mid-way, no answer in time — fails every request still waiting with
:class:`SessionCutOff` (a :class:`~qbsf.errors.Retriable`), so the engine
stops its cycle and its journal resumes the work next time. qbXML iterators
live only as long as the session that opened them; a ``Continue`` for an
iterator of an earlier session is refused the same way.
"""

from __future__ import annotations

import enum
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from qbsf.errors import Retriable
from qbsf.quickbooks.webconnector.hcp import CompanySettings, HcpResponse, HostInfo

log = logging.getLogger(__name__)

_ITERATOR_CONTINUE = re.compile(r"""iterator\s*=\s*["']Continue["']""")
_ITERATOR_ID = re.compile(r"""iteratorID\s*=\s*["']([^"']+)["']""")


class SessionCutOff(Retriable):
    """The Web Connector session ended before this request got its answer: retry in a later session."""


class BridgeBusy(Exception):
    """Another Web Connector session of the same company is still running."""


class Next(enum.Enum):
    """What the Web Connector side should do next."""

    REQUEST = "request"  # a request is ready to hand out
    DONE = "done"  # the engine has finished: end the session with 100 %
    WAIT = "wait"  # the engine is still working: poll again (NoOp)
    CUT = "cut"  # this session is no longer the company's active one


@dataclass
class PendingRequest:
    """One engine request on its way to QuickBooks and back."""

    request_xml: str
    response_xml: str | None = None
    error: Exception | None = None
    session: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def fail(self, error: Exception) -> None:
        """Wake the engine's thread with ``error`` (no-op if it already has its answer)."""
        if not self.done.is_set():
            self.error = error
            self.done.set()

    def answer(self, response_xml: str) -> None:
        """Wake the engine's thread with QuickBooks' response."""
        self.response_xml = response_xml
        self.done.set()


@dataclass
class SessionRecord:
    """What the dashboard shows about one Web Connector session of a company."""

    number: int
    started: datetime
    ended: datetime | None = None
    outcome: str = "running"
    messages: int = 0


@dataclass(frozen=True)
class CompanyStatus:
    """A company's Web Connector state at a glance: active session, last session, next expected poll."""

    company: str
    active: bool
    last_session: SessionRecord | None
    next_poll_expected: datetime | None
    queued_requests: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (ISO 8601 times) for the dashboard's API."""
        last = self.last_session
        return {
            "company": self.company, "active": self.active, "queued_requests": self.queued_requests,
            "next_poll_expected": self.next_poll_expected.isoformat() if self.next_poll_expected else None,
            "last_session": None if last is None else {
                "number": last.number, "started": last.started.isoformat(),
                "ended": last.ended.isoformat() if last.ended else None, "outcome": last.outcome,
                "messages": last.messages},
        }


def _iterator_continued(request_xml: str) -> str | None:
    """The iteratorID a request continues, if it is an iterator ``Continue``."""
    head = request_xml[:4096]
    if not _ITERATOR_CONTINUE.search(head):
        return None
    match = _ITERATOR_ID.search(head)
    return match.group(1) if match else ""


class CompanyBridge:
    """One company's queue between its sync engine (``submit``) and its Web Connector sessions."""

    def __init__(self, company: str, *, company_file: str = "", run_every_minutes: float | None = None,
                 idle_timeout: float = 300.0, quiet_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.company = company
        self.company_file = company_file
        self.run_every_minutes = run_every_minutes
        # An engine that announced its cycle (want_session) says when it is done (finish); one that never does is
        # taken as done after quiet_timeout without a message, so the Web Connector session does not run forever.
        self.idle_timeout = idle_timeout
        self.quiet_timeout = quiet_timeout
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[PendingRequest] = deque()
        self._inflight: PendingRequest | None = None
        self._session: str | None = None
        self._finished = False
        self._wanted = False
        self._announced = False
        self._engine_activity = clock()
        self._iterators: set[str] = set()
        self._progress: tuple[int, int] | None = None
        self._percent_shown = 0
        self._sessions_opened = 0
        self._current: SessionRecord | None = None
        self._last: SessionRecord | None = None
        self.host: HostInfo | None = None
        self.settings: CompanySettings | None = None
        self.qbxml_version: str | None = None
        self.country: str = ""

    # ----- engine side -------------------------------------------------------------------------------------------

    def submit(self, request_xml: str, *, session_wait: float, response_timeout: float) -> str:
        """Queue ``request_xml`` for the Web Connector and block until QuickBooks' answer comes back.

        Raises :class:`SessionCutOff` if no session comes within ``session_wait`` seconds, if the answer does
        not come within ``response_timeout`` seconds of the request being handed out, or if the session ends
        first.
        """
        pending = PendingRequest(request_xml)
        with self._cond:
            self._check_iterator(pending, self._session)
            if pending.done.is_set():
                raise pending.error or SessionCutOff("request refused")
            self._queue.append(pending)
            self._finished = False
            self._wanted = True
            self._engine_activity = self._clock()
            self._cond.notify_all()
            deadline = self._clock() + session_wait
            while not pending.done.is_set() and pending.session is None:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    self._queue.remove(pending)
                    raise SessionCutOff(
                        f"no QuickBooks Web Connector session for company {self.company!r} within {session_wait:g} s",
                        hint="check that the Web Connector is running with this company's .qwc file and scheduled")
                self._cond.wait(remaining)
        if not pending.done.wait(response_timeout):
            with self._cond:
                if not pending.done.is_set():
                    reason = f"no answer from the Web Connector within {response_timeout:g} s"
                    self._cut_off_locked(pending.session, reason)
        if pending.error is not None:
            raise pending.error
        assert pending.response_xml is not None
        return pending.response_xml

    def finish(self) -> None:
        """The engine has no more work for now: the session ends (100 %) once the last answer is in."""
        with self._cond:
            self._finished = True
            self._wanted = False
            self._announced = False
            self._engine_activity = self._clock()
            self._cond.notify_all()

    def want_session(self) -> None:
        """The engine has work coming: the next Web Connector poll should open a session, not answer "none"."""
        with self._cond:
            self._wanted = True
            self._announced = True
            self._finished = False
            self._engine_activity = self._clock()

    def cancel_waiting(self, reason: str) -> int:
        """Fail the engine's requests still waiting for a session (e.g. qbsf is stopping); returns how many.

        A request already handed to QuickBooks is left to finish: cancelling it could leave work half-done.
        """
        with self._cond:
            waiting = [p for p in self._queue if p.session is None]
            for pending in waiting:
                self._queue.remove(pending)
                pending.fail(SessionCutOff(f"request for company {self.company!r} cancelled: {reason}",
                                           hint="it was never sent to QuickBooks; the next cycle sends it again"))
            self._wanted = self._announced = False
            self._cond.notify_all()
            return len(waiting)

    def report_progress(self, done: int, total: int) -> None:
        """The engine's own progress, used for the percentage the Web Connector shows."""
        with self._cond:
            self._progress = (max(done, 0), max(total, 0))

    def wait_for_session(self, timeout: float) -> bool:
        """Block until a Web Connector session is open (True) or ``timeout`` seconds pass (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._session is not None, timeout)

    # ----- Web Connector side ------------------------------------------------------------------------------------

    def has_work(self) -> bool:
        """Whether the engine has queued a request or announced work (otherwise authenticate says "none")."""
        with self._cond:
            return bool(self._queue) or self._wanted

    @property
    def active_session(self) -> str | None:
        """The id of the company's open session, if any."""
        with self._cond:
            return self._session

    def open_session(self, session: str) -> None:
        """Make ``session`` the company's active one; raises :class:`BridgeBusy` if another is open."""
        with self._cond:
            if self._session is not None:
                raise BridgeBusy(self.company)
            self._session = session
            self._progress = None
            self._percent_shown = 0
            self._iterators.clear()
            self._sessions_opened += 1
            self._current = SessionRecord(number=self._sessions_opened, started=datetime.now(UTC))
            self._cond.notify_all()
        log.info("Web Connector session %d opened for company %r", self._sessions_opened, self.company)

    def learn(self, hcp: HcpResponse, *, qbxml_version: str | None, country: str) -> None:
        """Remember what QuickBooks said about itself (host, company settings, negotiated qbXML version)."""
        with self._cond:
            if hcp.host is not None:
                self.host = hcp.host
            if hcp.company is not None:
                self.settings = hcp.company
            if qbxml_version:
                self.qbxml_version = qbxml_version
            if country:
                self.country = country

    def take_request(self, session: str, wait: float) -> tuple[Next, PendingRequest | None]:
        """The next request for ``session`` to hand out, waiting up to ``wait`` seconds for the engine."""
        with self._cond:
            deadline = self._clock() + wait
            while True:
                if self._session != session:
                    return Next.CUT, None
                if self._inflight is not None:
                    # The previous request was never answered: QuickBooks may or may not have run it.
                    self._cut_off_locked(session, "the Web Connector asked for a new request before answering the "
                                                  "previous one")
                    return Next.CUT, None
                while self._queue:
                    pending = self._queue.popleft()
                    self._check_iterator(pending, session)
                    if pending.done.is_set():
                        continue
                    pending.session = session
                    self._inflight = pending
                    self._cond.notify_all()
                    return Next.REQUEST, pending
                limit = self.idle_timeout if self._announced else self.quiet_timeout
                if self._finished or self._clock() - self._engine_activity > limit:
                    return Next.DONE, None
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return Next.WAIT, None
                self._cond.wait(remaining)

    def deliver(self, session: str, response_xml: str) -> None:
        """Hand QuickBooks' answer to the engine thread waiting on the request ``session`` took."""
        with self._cond:
            if self._session != session or self._inflight is None:
                raise SessionCutOff("a response arrived but no request of this session is waiting for one")
            pending, self._inflight = self._inflight, None
            # Iterators opened in this session may be continued in this session only.
            self._iterators.update(_ITERATOR_ID.findall(response_xml[:65536]))
            if self._current is not None:
                self._current.messages += 1
            self._engine_activity = self._clock()
            pending.answer(response_xml)
            self._cond.notify_all()

    def wait_next(self, session: str, wait: float) -> Next:
        """After an answer: wait up to ``wait`` seconds for the engine's next request or its finish."""
        with self._cond:
            deadline = self._clock() + wait
            while True:
                if self._session != session:
                    return Next.CUT
                if self._queue:
                    return Next.REQUEST
                if self._finished:
                    return Next.DONE
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return Next.WAIT
                self._cond.wait(remaining)

    def percent_done(self) -> int:
        """1–99, never going back: the engine's reported progress, else an estimate from the messages exchanged."""
        with self._cond:
            if self._progress is not None and self._progress[1] > 0:
                percent = 100 * self._progress[0] // self._progress[1]
            else:
                messages = self._current.messages if self._current else 0
                percent = 100 * messages // (messages + 20)
            # Never show less than before: the estimate and the engine's own figure may disagree.
            self._percent_shown = min(max(percent, self._percent_shown, 1), 99)
            return self._percent_shown

    def end_session(self, session: str, outcome: str = "completed") -> None:
        """Close ``session`` normally; requests the engine queues afterwards wait for the next session."""
        with self._cond:
            if self._session != session:
                return
            if self._inflight is not None:
                self._cut_off_locked(session, f"session ended ({outcome}) while a request was in QuickBooks")
                return
            self._close_locked(outcome)

    def cut_off(self, session: str, reason: str) -> None:
        """End ``session`` early: every waiting request of the engine fails with :class:`SessionCutOff`."""
        with self._cond:
            self._cut_off_locked(session, reason)

    def status(self) -> CompanyStatus:
        """The company's Web Connector state for the dashboard."""
        with self._cond:
            last = self._current or self._last
            next_poll = None
            if self._last is not None and self.run_every_minutes:
                next_poll = self._last.started + timedelta(minutes=self.run_every_minutes)
            return CompanyStatus(company=self.company, active=self._session is not None, last_session=last,
                                 next_poll_expected=next_poll, queued_requests=len(self._queue))

    # ----- internals ---------------------------------------------------------------------------------------------

    def _check_iterator(self, pending: PendingRequest, session: str | None) -> None:
        iterator_id = _iterator_continued(pending.request_xml)
        if iterator_id is not None and (session is None or iterator_id not in self._iterators):
            pending.fail(SessionCutOff(
                f"qbXML iterator {iterator_id!r} belongs to an earlier Web Connector session",
                hint="start the query again with iterator=\"Start\""))

    def _cut_off_locked(self, session: str | None, reason: str) -> None:
        if session is None or self._session != session:
            return
        error = SessionCutOff(f"Web Connector session for company {self.company!r} was cut off: {reason}",
                              hint="nothing was left half-done; the work resumes in the next session")
        if self._inflight is not None:
            self._inflight.fail(error)
            self._inflight = None
        while self._queue:
            self._queue.popleft().fail(error)
        log.warning("Web Connector session for company %r cut off: %s", self.company, reason)
        self._close_locked(f"cut off: {reason}")

    def _close_locked(self, outcome: str) -> None:
        if self._current is not None:
            self._current.ended = datetime.now(UTC)
            self._current.outcome = outcome
            self._last, self._current = self._current, None
        self._session = None
        self._iterators.clear()
        self._progress = None
        self._cond.notify_all()
        log.info("Web Connector session for company %r ended: %s", self.company, outcome)
