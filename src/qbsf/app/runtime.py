"""The connector's run loop: connect, then one sync cycle every polling interval until told to stop.

The loop knows nothing about how a cycle syncs; it drives a :class:`Services` object (the sync engine and the two
clients, wired by :mod:`qbsf.app.wiring`) and owns what the manual describes around it: the startup lines, three
QuickBooks attempts then a clean stop, the heartbeat, manual triggers (↑ SF → QB, ↓ QB → SF), and a Stop that
finishes the record in hand, ends the QuickBooks session and logs ``Sync engine stopped``.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from qbsf import __version__
from qbsf.app.license import LicenseStatus
from qbsf.app.logging import get_logger
from qbsf.app.settings import Settings
from qbsf.errors import QbsfError, Retriable

log = get_logger(__name__)

ONLINE_WINDOW = timedelta(minutes=2)


class State(StrEnum):
    """Where the connector is in its life."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"


@dataclass(frozen=True)
class CycleRequest:
    """What one cycle should do. ``should_stop`` lets the engine stop after the record in hand."""

    number: int
    outbound: bool = True
    inbound: bool = True
    full_outbound: bool = False  # ↑ SF → QB: every eligible record, not only changes
    full_inbound: bool = False   # ↓ QB → SF requested by a person
    should_stop: Callable[[], bool] = field(default=lambda: False)


@dataclass
class CycleSummary:
    """The part of a cycle's report the loop logs and the dashboard shows."""

    number: int
    started_at: datetime
    finished_at: datetime
    synced: int = 0
    failed: int = 0
    detail: Any = None
    error: str | None = None

    @property
    def seconds(self) -> float:
        """Wall time of the cycle."""
        return (self.finished_at - self.started_at).total_seconds()


class Services(Protocol):
    """What the loop drives: the two systems and the sync engine."""

    def connect_salesforce(self) -> str:
        """Authenticate and check the API answers; return a short description (org / user). Raises QbsfError."""
        ...

    def connect_quickbooks(self) -> str:
        """Open the QuickBooks session; return the company name. Raises QbsfError (Retriable when worth retrying)."""
        ...

    def close_quickbooks(self) -> None:
        """End the QuickBooks session (so QuickBooks can close)."""
        ...

    def run_cycle(self, request: CycleRequest) -> Any:
        """Run one cycle; return its report (counted by :func:`count_report`)."""
        ...


_PASS_NAMES = {"sf_to_qb": "SF → QB", "qb_to_sf": "QB → SF"}


def report_errors(report: Any) -> str | None:
    """Why a pass stopped as a whole (the engine's ``report.error``), in one line per direction; None when none did.

    A pass that stops — a mapped field the org does not have, QuickBooks gone mid-pass — syncs nothing while every
    record count stays 0 failed: this is what turns the status red with its reason.
    """
    if report is None:
        return None
    if isinstance(report, Mapping):
        found = []
        for key, value in report.items():
            why = report_errors(value)
            if why:
                found.append(f"{_PASS_NAMES.get(str(key), str(key))} stopped: {why}")
        return "; ".join(found) or None
    error = getattr(report, "error", None)
    return str(error) if error else None


MAX_RECORD_LINES = 50  # per cycle: a whole failing batch is summarised after this many lines


def record_failures(report: Any) -> list[tuple[str, str, str]]:
    """Every failed record of a cycle's reports: (entity, name, message), outbound and inbound alike."""
    if report is None:
        return []
    if isinstance(report, Mapping):
        return [failure for value in report.values() for failure in record_failures(value)]
    failures = getattr(report, "failures", None)
    if not isinstance(failures, list):
        return []
    return [(str(entity), str(name), str(message)) for entity, _id, name, message in failures]


def record_line(entity: str, name: str, message: str) -> tuple[str, str]:
    """A failed record's log line and mark, in the manual's troubleshooting words.

    ``⚠ Link: …`` when the record waits for another one to sync first; ``✗`` for everything that needs fixing.
    The record's name leads unless the message already says it.
    """
    from qbsf.app.words import entity_word

    word = entity_word(entity)
    text = message if name and name in message else f"{word} {name}: {message}".strip()
    return text, ("warn" if message.startswith("Link:") or ": Link:" in message else "fail")


def count_report(report: Any) -> tuple[int, int]:
    """(synced, failed) from whatever the engine returned: attributes, a mapping, or per-entity reports."""
    if report is None:
        return 0, 0
    synced_fields = ("created", "updated", "linked", "synced", "upserted", "written_back_only")
    if isinstance(report, Mapping):
        if "synced" in report or "failed" in report:
            return int(report.get("synced", 0)), int(report.get("failed", 0))
        totals = [count_report(v) for v in report.values()]
        return sum(t[0] for t in totals), sum(t[1] for t in totals)
    if hasattr(report, "synced") and hasattr(report, "failed"):
        synced = report.synced
        failed = report.failed
        return (int(synced() if callable(synced) else synced), int(failed() if callable(failed) else failed))
    entities = getattr(report, "entities", None)
    if isinstance(entities, Mapping):  # the sync engine's CycleReport: per-entity EntityReports
        return count_report(entities)
    if hasattr(report, "failed"):
        synced = sum(int(getattr(report, name, 0) or 0) for name in synced_fields)
        return synced, int(report.failed)
    return 0, 0


@dataclass
class Heartbeat:
    """The connector's local heartbeat file: written every cycle, read by the dashboard and `qbsf status`."""

    path: Path

    def beat(self, **fields: Any) -> None:
        """Write the heartbeat now (atomic replace, so a reader never sees half a file)."""
        data = {"at": datetime.now(UTC).isoformat(), "pid": os.getpid(), **fields}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
        os.replace(tmp, self.path)

    def read(self) -> dict[str, Any] | None:
        """The last heartbeat, or None when there is none (or it is unreadable)."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def online(self, now: datetime | None = None) -> bool:
        """The manual's "Connector — Online": a heartbeat within the last 2 minutes."""
        data = self.read()
        if not data or data.get("state") == str(State.STOPPED):  # a clean stop says so at once
            return False
        try:
            at = datetime.fromisoformat(data["at"])
        except (KeyError, ValueError):
            return False
        return (now or datetime.now(UTC)) - at <= ONLINE_WINDOW


@dataclass
class ConnectorStatus:
    """A snapshot for the dashboard's status lights and the CLI."""

    state: State
    salesforce: bool
    quickbooks: bool
    salesforce_detail: str
    quickbooks_detail: str
    cycles: int
    last_cycle: CycleSummary | None
    next_cycle_at: datetime | None
    polling_interval: int
    pending_outbound: bool
    pending_inbound: bool
    error: str | None


class Connector:
    """The run loop. Thread-safe control: :meth:`start`, :meth:`stop`, :meth:`trigger_outbound`,
    :meth:`trigger_inbound`, :meth:`status`; :meth:`run` blocks (use it in a thread, or via :meth:`start`)."""

    def __init__(self, services: Services, settings: Settings, *, machine_id: str = "",
                 license: LicenseStatus | None = None, heartbeat: Heartbeat | None = None,
                 reload_settings: Callable[[], Settings] | None = None, retry_delay: float = 2.0) -> None:
        self.services = services
        self.settings = settings
        self.machine_id = machine_id
        self.license = license
        self.heartbeat = heartbeat
        self._reload = reload_settings
        self._retry_delay = retry_delay
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = State.STOPPED
        self._sf_ok = False
        self._qb_ok = False
        self._sf_detail = ""
        self._qb_detail = ""
        self._cycles = 0
        self._last: CycleSummary | None = None
        self._next_at: datetime | None = None
        self._want_outbound = False
        self._want_inbound = False
        self._error: str | None = None
        self.history: list[CycleSummary] = []

    # ---- control -----------------------------------------------------------------------------------------------
    def start(self) -> bool:
        """Run the loop in a background thread; False if it is already running."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._stop.clear()
            self._state = State.STARTING
            from qbsf.log_context import in_current_context

            # The loop's log lines name the company it was started for (hosted mode serves many).
            self._thread = threading.Thread(target=in_current_context(self.run), name="qbsf-connector", daemon=True)
            self._thread.start()
            return True

    def stop(self, wait: float | None = None) -> None:
        """Ask the loop to stop after the record in hand; optionally wait up to ``wait`` seconds for it."""
        with self._lock:
            if self._state in (State.RUNNING, State.STARTING):
                self._state = State.STOPPING
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if wait is not None and thread is not None and thread is not threading.current_thread():
            thread.join(wait)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background loop to end."""
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        """True once Stop was asked for."""
        return self._stop.is_set()

    def run_now(self) -> None:
        """Start the next regular cycle now instead of at the end of the polling interval (Refresh, benchmarks)."""
        self._wake.set()

    def trigger_outbound(self) -> None:
        """↑ SF → QB: sync every eligible Salesforce record on the next cycle (which starts now)."""
        with self._lock:
            self._want_outbound = True
        log.info("Manual SF → QB sync requested", mark="ok")
        self._wake.set()

    def trigger_inbound(self) -> None:
        """↓ QB → SF: run QB → SF for every mapped entity on the next cycle (which starts now)."""
        with self._lock:
            self._want_inbound = True
        log.info("Manual QB → SF sync requested", mark="ok")
        self._wake.set()

    def status(self) -> ConnectorStatus:
        """A consistent snapshot."""
        with self._lock:
            return ConnectorStatus(
                state=self._state, salesforce=self._sf_ok, quickbooks=self._qb_ok,
                salesforce_detail=self._sf_detail, quickbooks_detail=self._qb_detail, cycles=self._cycles,
                last_cycle=self._last, next_cycle_at=self._next_at,
                polling_interval=self.settings.sync.polling_interval, pending_outbound=self._want_outbound,
                pending_inbound=self._want_inbound, error=self._error)

    # ---- the loop ------------------------------------------------------------------------------------------------
    def run(self) -> int:
        """Connect and cycle until stopped. Returns 0 after a requested stop, 1 when it could not connect."""
        with self._lock:
            self._state = State.STARTING
            self._error = None
        self._reload_all_settings()
        self._log_startup()
        try:
            if not self._connect():
                return 1
            with self._lock:
                self._state = State.RUNNING
            self._loop()
            return 0
        finally:
            self._shutdown()

    def _log_startup(self) -> None:
        log.info(f"qbsf {__version__} starting")
        if self.machine_id:
            log.info(f"Machine ID: {self.machine_id}")
        if self.license is not None:
            mark = {"valid": "ok", "free": "ok", "grace": "warn"}.get(self.license.state, "fail")
            log.info(self.license.message, mark=mark)

    def _connect(self) -> bool:
        try:
            detail = self.services.connect_salesforce()
        except QbsfError as exc:
            self._fail_start(f"Salesforce authentication failed: {exc}")
            return False
        with self._lock:
            self._sf_ok, self._sf_detail = True, detail
        log.info(f"Salesforce — Connected ({detail})" if detail else "Salesforce — Connected", mark="ok")
        return self._connect_quickbooks(self.settings.quickbooks.connect_attempts)

    def _connect_quickbooks(self, attempts: int) -> bool:
        last: Exception | None = None
        for attempt in range(1, attempts + 1):
            if self._stop.is_set():
                return False
            try:
                detail = self.services.connect_quickbooks()
            except QbsfError as exc:
                last = exc
                log.warning(f"QuickBooks connection attempt {attempt} of {attempts} failed: {exc}")
                if not isinstance(exc, Retriable):
                    # retrying cannot fix a setting or a mapping: say what to fix instead of "after 3 attempts"
                    self._fail_start(f"QuickBooks connection refused: {exc}")
                    return False
                if attempt < attempts:
                    self._stop.wait(self._retry_delay * attempt)  # a Stop during the wait ends it at once
                continue
            with self._lock:
                self._qb_ok, self._qb_detail = True, detail
            log.info(f"QuickBooks — Connected ({detail})" if detail else "QuickBooks — Connected", mark="ok")
            return True
        self._fail_start(f"Could not connect to QuickBooks after {attempts} attempts",
                         f"open QuickBooks and the company file, accept the permission prompt, then Start ({last})")
        return False

    def _fail_start(self, message: str, hint: str | None = None) -> None:
        with self._lock:
            self._error = message
        log.error(message + (f" → {hint}" if hint else ""), mark="fail")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._apply_reloadable_settings()
            try:
                self._cycle()
            except Exception as exc:  # the loop must outlive any cycle: a dead loop would stop syncing silently
                log.exception(f"Cycle {self._cycles} could not finish: {type(exc).__name__}; trying again next "
                              "cycle")
            if self._stop.is_set():
                break
            interval = self.settings.sync.polling_interval
            with self._lock:
                self._next_at = datetime.now(UTC) + timedelta(seconds=interval)
            self._wake.wait(interval)  # a trigger or Stop wakes the loop at once
            self._wake.clear()

    def _reload_all_settings(self) -> None:
        # Every setting applies on Start, as the manual says: the loop and the services get the file's current state.
        if self._reload is None:
            return
        try:
            fresh = self._reload()
        except QbsfError as exc:
            log.warning(f"Settings not reloaded, starting with the previous ones: {exc}")
            return
        self.settings = fresh
        apply = getattr(self.services, "apply_settings", None)
        if callable(apply):
            apply(fresh)

    def _apply_reloadable_settings(self) -> None:
        # Only settings that are safe mid-run change here; the rest wait for the next Start, as the manual says.
        if self._reload is None:
            return
        try:
            fresh = self._reload()
        except QbsfError as exc:
            log.warning(f"Settings not reloaded: {exc}")
            return
        old = self.settings.sync
        if fresh.sync.polling_interval != old.polling_interval:
            log.info(f"Polling interval now {fresh.sync.polling_interval:g} s")
            old.polling_interval = fresh.sync.polling_interval
        if fresh.sync.inbound_every != old.inbound_every:
            log.info(f"QB → SF now every {fresh.sync.inbound_every} cycles")
            old.inbound_every = fresh.sync.inbound_every

    def _begin_cycle(self) -> None:
        # Services that talk to the Salesforce package send the heartbeat and read sync requests here (one call).
        begin = getattr(self.services, "begin_cycle", None)
        if not callable(begin):
            return
        try:
            wants = begin(quickbooks_connected=self._qb_ok)
        except QbsfError as exc:
            log.warning(f"Heartbeat not sent: {exc}")
            return
        except Exception as exc:  # e.g. the state database's pool timed out: the cycle itself may still run
            log.exception(f"Heartbeat not sent and sync requests not read: {type(exc).__name__}: {exc}")
            return
        with self._lock:
            self._want_outbound = self._want_outbound or bool(getattr(wants, "outbound", False))
            self._want_inbound = self._want_inbound or bool(getattr(wants, "inbound", False))

    def _cycle(self) -> None:
        self._begin_cycle()
        with self._lock:
            self._cycles += 1
            number = self._cycles
            full_out, full_in = self._want_outbound, self._want_inbound
            self._want_outbound = self._want_inbound = False
        inbound = full_in or (number - 1) % self.settings.sync.inbound_every == 0
        if not self._qb_ok and not self._reconnect_quickbooks():
            self._beat(number)
            return
        request = CycleRequest(number=number, outbound=True, inbound=inbound, full_outbound=full_out,
                               full_inbound=full_in, should_stop=self._stop.is_set)
        started = datetime.now(UTC)
        clock = time.perf_counter()
        summary = CycleSummary(number=number, started_at=started, finished_at=started)
        try:
            report = self.services.run_cycle(request)
            summary.detail = report
            summary.synced, summary.failed = count_report(report)
            summary.error = report_errors(report)
            self._log_record_failures(report)
            if summary.error:
                log.error(f"Cycle {number}: {summary.error}", mark="fail")
        except Retriable as exc:
            summary.error = str(exc)
            log.error(f"Cycle {number} interrupted: {exc}", mark="fail")
            if "QuickBooks" in str(exc) or "qbXML" in str(exc):
                with self._lock:
                    self._qb_ok = False  # reconnect at the next cycle instead of failing every record
        except QbsfError as exc:
            summary.error = str(exc)
            log.error(f"Cycle {number} failed: {exc}", mark="fail")
        except Exception as exc:  # the loop must outlive one bad cycle; the traceback goes to the log
            summary.error = f"{type(exc).__name__}: {exc}"
            log.exception(f"Cycle {number} crashed: {type(exc).__name__}")
        summary.finished_at = summary.started_at + timedelta(seconds=time.perf_counter() - clock)
        if summary.error is None and (summary.synced or summary.failed or full_out or full_in):
            log.info(f"{summary.synced} synced, ✗ {summary.failed} failed", mark="fail" if summary.failed else "ok")
        elif summary.error is None:
            log.info(f"Cycle {number}: no changes on either side", mark="ok")  # an idle cycle is one line
        # What the cycle tells Salesforce (closed requests, the org app's activity) is part of the cycle: written
        # before the cycle counts as finished.
        end = getattr(self.services, "end_cycle", None)
        if callable(end):
            try:
                end(summary)
            except Exception as exc:  # Salesforce told next cycle instead; the cycle itself is recorded below
                log.exception(f"Cycle {number}: its end not written to Salesforce: {type(exc).__name__}: {exc}")
        with self._lock:
            self._last = summary
            self.history.append(summary)
            del self.history[:-50]
        self._beat(number)

    @staticmethod
    def _log_record_failures(report: Any) -> None:
        # each failed record's reason reaches the Live Log, the console and qbsf.jsonl, not only Recent Activity
        failures = record_failures(report)
        for entity, name, message in failures[:MAX_RECORD_LINES]:
            text, mark = record_line(entity, name, message)
            if mark == "warn":
                log.warning(text, mark=mark)
            else:
                log.error(text, mark=mark)
        if len(failures) > MAX_RECORD_LINES:
            log.error(f"… and {len(failures) - MAX_RECORD_LINES} more failed record(s): see Recent Activity",
                      mark="fail")

    def _reconnect_quickbooks(self) -> bool:
        try:
            self.services.close_quickbooks()
        except QbsfError as exc:
            log.debug(f"closing the stale QuickBooks session failed: {exc}")
        return self._connect_quickbooks(self.settings.quickbooks.connect_attempts)

    def _beat(self, number: int) -> None:
        if self.heartbeat is None:
            return
        try:
            last = self._last
            error = last.error if last is not None and last.number == number else None
            self.heartbeat.beat(cycle=number, state=str(self._state), quickbooks=self._qb_ok, error=error)
        except OSError as exc:
            log.warning(f"Heartbeat not written to {self.heartbeat.path}: {exc.strerror}")

    def _shutdown(self) -> None:
        if self._qb_ok:
            try:
                self.services.close_quickbooks()
            except QbsfError as exc:
                log.warning(f"QuickBooks session did not close cleanly: {exc}")
        with self._lock:
            self._qb_ok = False
            self._sf_ok = False
            self._state = State.STOPPED
            self._next_at = None
        self._beat(self._cycles)
        log.info("Sync engine stopped", mark="ok")


def install_signal_handlers(connector: Connector) -> Callable[[], None]:
    """Make Ctrl-C and SIGTERM stop ``connector`` cleanly (main thread only); returns a function restoring the old
    handlers."""
    previous: dict[int, Any] = {}

    def handle(signum: int, frame: Any) -> None:
        log.info(f"{signal.Signals(signum).name} received; stopping after the record in hand")
        connector.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
