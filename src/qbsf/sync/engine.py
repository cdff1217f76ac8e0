"""The sync engine: one cycle = reconcile interrupted writes, read changes, sync them in dependency order, ack.

Public API the runtime loop, the CLI and the dashboard call::

    engine = SyncEngine(config, sf_client, qb_client, state, mappings)
    report = engine.run_cycle()                      # one scheduled cycle (the configured change source)
    report = engine.sync_sf_to_qb(entities=None, full=False, dry_run=False, progress=None)

Direction-aware: everything outbound is recorded with ``Direction.SF_TO_QB``; the inbound engine (issue 7) adds
its own pass to the same cycle and state.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from qbsf.errors import ConfigError, QbsfError
from qbsf.sync.changes import ChangeSource, QueueSource, RecordResult, SystemModstampPoller
from qbsf.sync.crash import crash_point
from qbsf.sync.cycle_reads import room_for
from qbsf.sync.entities import EntitySpec, dependency_order
from qbsf.sync.lifecycle import is_failed_action
from qbsf.sync.outbound import EntityReport, OutboundConfig, OutboundSync, SoqlLinkResolver
from qbsf.sync.state import Direction, RetryPolicy, StateStore
from qbsf.sync.write_back import OwnWriteLedger

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass
class SyncConfig(OutboundConfig):
    """Everything the engine reads from qbsf's settings, with defaults that need no configuration."""

    change_source: str = "poll"
    poll_overlap: timedelta = timedelta(minutes=2)
    batch_size: int = 1_000
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Any) -> SyncConfig:
        """Build from a ``qbsf.app.settings.Settings`` (read by attribute, so any object of that shape works)."""
        sync = getattr(settings, "sync", None)
        accounts = getattr(getattr(settings, "quickbooks", None), "default_accounts", None)
        config = cls()
        if sync is not None:
            config.eligibility = dict(getattr(sync, "eligibility", {}) or {})
            config.change_source = getattr(sync, "change_source", "poll") or "poll"
            for name in ("on_existing_name", "default_item_type", "conflict_policy", "batch_size", "max_attempts",
                         "qb_batch_size", "line_owner", "on_sf_gone",
                         "lifecycle_check_minutes"):
                value = getattr(sync, name, None)
                if value not in (None, ""):
                    setattr(config, name, value)
            # A dedicated integration user's own changes are not polled (settings call it integration_user_id).
            integration_user = getattr(sync, "integration_user_id", None)
            if integration_user:
                config.exclude_user = integration_user
        if accounts is not None:
            config.income_account = getattr(accounts, "income", "") or ""
            config.cogs_account = getattr(accounts, "cogs", "") or ""
            config.asset_account = getattr(accounts, "inventory_asset", "") or ""
            config.expense_account = getattr(accounts, "expense", "") or ""
            config.ar_account = getattr(accounts, "ar", "") or ""
        return config

    @property
    def retry_policy(self) -> RetryPolicy:
        """The failure policy: backoff between cycles, parked after ``max_attempts``."""
        return RetryPolicy(max_attempts=self.max_attempts, base=self.retry_base, cap=self.retry_cap)


@dataclass
class CycleReport:
    """What one pass did: per-entity counts, failures, API calls and QuickBooks messages spent."""

    cycle: str
    direction: Direction
    started_at: datetime
    finished_at: datetime | None = None
    dry_run: bool = False
    full: bool = False
    reconciled: int = 0
    sf_calls: int = 0
    qb_messages: int = 0
    seconds: float = 0.0
    entities: dict[str, EntityReport] = field(default_factory=dict)
    error: str | None = None
    stopped: bool = False  # should_stop ended the pass early; the records not reached sync next cycle

    def total(self, name: str) -> int:
        """The sum of one counter (created, updated, failed, …) over every entity."""
        return sum(getattr(report, name) for report in self.entities.values())

    @property
    def failures(self) -> list[tuple[str, str, str, str]]:
        """Every failed record of the pass: (entity, sf id, name, message)."""
        return [(entity, *failure) for entity, report in self.entities.items() for failure in report.failures]

    @property
    def ok(self) -> bool:
        """No cycle-level error and no failed record."""
        return self.error is None and self.total("failed") == 0

    def summary(self) -> str:
        """One log line, in the manual's style."""
        if self.error:
            return f"✗ SF → QB cycle failed: {self.error}"
        return (f"{'✗' if self.total('failed') else '✓'} SF → QB: {self.total('created')} created, "
                f"{self.total('updated')} updated, "
                f"{self.total('linked')} linked, {self.total('unchanged')} unchanged, ✗ {self.total('failed')} "
                f"failed ({self.sf_calls} Salesforce calls, {self.qb_messages} QuickBooks messages, "
                f"{self.seconds:.1f} s)" + ("; stopped as asked, the rest syncs next cycle" if self.stopped else ""))


def load_mappings(folder: str | Path) -> dict[str, Any]:
    """Every mapping CSV in ``folder``, compiled, keyed by sheet name (the file name says which sheet it is)."""
    from qbsf.mapping import load_mapping
    from qbsf.mapping.kinds import UnknownKind, kind_from_filename

    directory = Path(folder)
    if not directory.is_dir():
        raise ConfigError(f"mapping folder {directory} does not exist",
                          hint="set mappings_dir, or copy examples/mappings there")
    mappings: dict[str, Any] = {}
    for path in sorted(directory.glob("*.csv")):
        try:
            kind = kind_from_filename(path.name)
        except UnknownKind as exc:
            raise ConfigError(f"{path}: {exc}", hint="rename the file to contain its sheet name") from exc
        mappings[kind.sheet] = load_mapping(path, kind)
    return mappings


def _counter(client: Any, *names: str) -> int:
    for name in names:
        value = getattr(client, name, None)
        if isinstance(value, int):
            return value
    return 0


class SyncEngine:
    """Salesforce → QuickBooks sync over one state store. Not thread-safe: run one cycle at a time."""

    def __init__(self, config: SyncConfig | Any, sf_client: Any, qb_client: Any, state: StateStore,
                 mappings: Mapping[str, Any] | str | Path, *, source: ChangeSource | None = None) -> None:
        from qbsf.sync.adapters import QuickBooksAdapter, as_qb_port, as_sf_port

        self.config = config if isinstance(config, SyncConfig) else SyncConfig.from_settings(config)
        # Settings (when given) also configure the QuickBooks → Salesforce side, built on first use.
        self._settings = None if isinstance(config, SyncConfig) else config
        self._inbound: Any = None
        self.sf = as_sf_port(sf_client)
        self.qb = as_qb_port(qb_client)
        if isinstance(self.qb, QuickBooksAdapter):
            # Mod bases for one batch (and its parents synced on the way), not for every record ever written.
            self.qb.keep = 2 * max(1, int(self.config.batch_size))
        if isinstance(self.qb, QuickBooksAdapter) and (self.config.income_account or self.config.ar_account):
            from qbsf.quickbooks.client import DefaultAccounts

            # The settings' QB Default Accounts win over whatever the client was built with.
            self.qb.client.default_accounts = DefaultAccounts(
                income=self.config.income_account or None, cogs=self.config.cogs_account or None,
                asset=self.config.asset_account or None, expense=self.config.expense_account or None,
                ar=self.config.ar_account or None)
        self.state = state
        self.state.retry_policy = self.config.retry_policy
        self.mappings = dict(mappings) if isinstance(mappings, Mapping) else load_mappings(mappings)
        self.resolver = SoqlLinkResolver(self.sf)
        self.poller = SystemModstampPoller(
            self.sf, state, mapped_fields=self._mapped_fields(), mapped_child_fields=self._mapped_child_fields(),
            eligibility=self.config.eligibility, overlap=self.config.poll_overlap,
            exclude_user=self.config.exclude_user)
        # The engine's own write-backs, remembered as seen by the poll (qbsf.sync.write_back).
        self.own_writes = OwnWriteLedger()
        self.poller.own_writes = self.own_writes
        if source is not None:
            self.source: ChangeSource = source
        elif self.config.change_source == "queue":
            self.source = QueueSource(self.sf, poller=self.poller)
        else:
            self.source = self.poller
        self._cycle_queries: dict[str, str] = {}
        self._lifecycle_queries: dict[str, str] = {}
        self._lifecycle: Any = None

    def cycle_reads(self) -> dict[str, str]:
        """The SOQL the next scheduled SF → QB pass starts with (referenceId → query; a poll per mapped object, or
        the queue's claim read), for the caller to run in the cycle's one ``/composite`` call."""
        reads = getattr(self.source, "cycle_reads", None)
        self._cycle_queries = dict(reads([spec.name for spec in self.entities()])) if callable(reads) else {}
        # The life-cycle check's reads, when it is due (qbsf.sync.lifecycle), as far as they fit the one call.
        self._lifecycle_queries = room_for(self._cycle_queries,
                                           self.life_cycle().reads([spec.name for spec in self.entities()]))
        return {**self._cycle_queries, **self._lifecycle_queries}

    def accept_cycle_reads(self, pages: Mapping[str, Any]) -> None:
        """First pages of :meth:`cycle_reads`'s queries (referenceId → query body); the next scheduled pass uses
        them instead of reading again. Pages missing here are read by the pass itself."""
        accept = getattr(self.source, "accept_reads", None)
        if callable(accept) and self._cycle_queries:
            accept(self._cycle_queries, pages)
        if self._lifecycle_queries:
            self.life_cycle().accept(self._lifecycle_queries, pages)
        self._cycle_queries, self._lifecycle_queries = {}, {}

    def _discard_cycle_reads(self) -> None:
        # Pre-fetched pages serve the pass right after them only: unused ones would be stale next cycle.
        for source in {id(self.source): self.source, id(self.poller): self.poller}.values():
            discard = getattr(source, "discard_reads", None)
            if callable(discard):
                discard()
        if self._lifecycle is not None:
            self._lifecycle.discard_reads()

    def _mapped_fields(self) -> dict[str, list[str]]:
        return {spec.name: self.mappings[spec.sheet].source_fields
                for spec in dependency_order() if spec.sheet in self.mappings}

    def _mapped_child_fields(self) -> dict[str, list[str]]:
        return {spec.name: self.mappings[spec.child.sheet].source_fields
                for spec in dependency_order() if spec.child is not None and spec.child.sheet in self.mappings}

    def entities(self) -> list[EntitySpec]:
        """The entities this engine syncs: those with a mapping, in dependency order."""
        return [spec for spec in dependency_order() if spec.sheet in self.mappings]

    @property
    def inbound(self) -> Any:
        """The QuickBooks → Salesforce sync (:class:`qbsf.sync.inbound.InboundSync`) on the same clients and state."""
        if self._inbound is None:
            from qbsf.sync.conflicts import ConflictPolicy
            from qbsf.sync.inbound import InboundConfig, InboundSync

            config = InboundConfig.from_settings(self._settings) if self._settings is not None else \
                InboundConfig(batch_size=self.config.batch_size,
                              conflict_policy=ConflictPolicy.parse(self.config.conflict_policy),
                              on_existing_name=self.config.on_existing_name)
            self._inbound = InboundSync(config, self.sf, self.qb, self.state, self.mappings)
        return self._inbound

    def sync_qb_to_sf(self, entities: Iterable[str] | None = None, *, full: bool = False, reset: bool = False,
                      progress: Progress | None = None, should_stop: Callable[[], bool] | None = None) -> Any:
        """One QuickBooks → Salesforce pass (an ``InboundReport``); see :meth:`qbsf.sync.inbound.InboundSync.run`."""
        return self.inbound.run(entities, full=full, reset=reset, progress=progress, should_stop=should_stop)

    def run_cycle(self, should_stop: Callable[[], bool] | None = None) -> CycleReport:
        """One scheduled Salesforce → QuickBooks cycle from the configured change source."""
        return self.sync_sf_to_qb(should_stop=should_stop)

    def sync_sf_to_qb(self, entities: Iterable[str] | None = None, *, full: bool = False, dry_run: bool = False,
                      progress: Progress | None = None, should_stop: Callable[[], bool] | None = None) -> CycleReport:
        """One pass: changed records (every eligible record with ``full``) of ``entities`` into QuickBooks.

        ``dry_run`` reads and maps but writes nothing anywhere (QuickBooks, Salesforce or the state store); the
        report's ``planned`` lists say what would be created or modified. Safe to run twice: unchanged records
        are skipped and nothing is ever added twice. ``should_stop`` is asked after each batch (``batch_size``
        records): once it answers True the pass ends after the batch in hand, acknowledging only the records it
        finished, so the rest are read again by the next cycle (``report.stopped``).
        """
        started = time.perf_counter()
        report = CycleReport(cycle=uuid.uuid4().hex[:12], direction=Direction.SF_TO_QB, started_at=self.state.now(),
                             dry_run=dry_run, full=full)
        sf_before, qb_before = _counter(self.sf, "calls"), _counter(self.qb, "messages")
        wanted = [spec.name for spec in dependency_order(entities) if spec.sheet in self.mappings]
        missing = [spec.sheet for spec in dependency_order(entities) if spec.sheet not in self.mappings]
        if entities is not None and missing:
            raise ConfigError(f"no mapping for {', '.join(missing)}",
                              hint="add the mapping CSV to the mappings folder (see examples/mappings)")
        outbound = OutboundSync(self.config, self.sf, self.qb, self.state, self.mappings,
                                link_resolver=self.resolver, dry_run=dry_run, cycle=report.cycle)
        outbound.own_writes = self.own_writes  # type: ignore[attr-defined]  # read by qbsf.sync.write_back
        # A write-back goes to Salesforce beside the next batch's QuickBooks work; the poll of its entity ends only
        # once it is finished (qbsf.sync.pipeline.overlap).
        outbound.write_backs.beside = True
        self.own_writes.settle = outbound.settle_write_backs
        try:
            if not dry_run:
                report.reconciled = outbound.reconcile_in_flight()
                if full:
                    for name in wanted:
                        self.state.retry(entity=name)
            source = self.poller if (full or dry_run) else self.source
            changes = source.changes(full=full, entities=wanted)
            size = max(1, int(self.config.batch_size))
            # Batches stream in (a page at a time from the poll): the pass holds a page and a batch, never an
            # object's whole read. Failed records due again are retried once their entity's changes are done.
            current: EntitySpec | None = None
            due: list[str] = []
            done = total = 0
            for batch in changes:
                spec = batch.spec
                if current is None or spec.name != current.name:
                    if current is not None and not dry_run:
                        self._retry_due(outbound, source, current, due, size, report, should_stop, progress)
                        if report.stopped:
                            break
                    current, done, total = spec, 0, 0
                    # a life-cycle action QuickBooks refused is the life-cycle check's to retry (its record is gone)
                    due = [] if dry_run else [f.record_key for f in self.state.failures_due(spec.name,
                                                                                             Direction.SF_TO_QB)
                                              if not is_failed_action(f)]
                records = batch.records
                if due:
                    met = {record["Id"] for record in records}
                    due = [key for key in due if key not in met]
                total += len(records)
                if progress is not None:
                    progress(spec.name, done, total)
                self._sync_chunks(outbound, source, spec, records, batch.dropped, size, report, should_stop,
                                  progress, done, total, first=done == 0)
                done += len(records)
                if report.stopped or (should_stop is not None and should_stop()):
                    report.stopped = True
                    break
            if current is not None and not dry_run and not report.stopped:
                self._retry_due(outbound, source, current, due, size, report, should_stop, progress)
            outbound.settle_write_backs()
            unread = getattr(source, "errors", None)
            if unread and report.error is None:
                # the entities that could be read synced; the pass still tells why the others did not
                report.error = "; ".join(f"{name} not read: {why}" for name, why in unread.items())
            if report.stopped:
                changes.close()
                release = getattr(source, "release", None)
                if callable(release) and not dry_run:
                    release()  # claimed queue rows not reached go back to Pending
                logger.info("SF → QB pass %s stopped as asked, after the batch in hand", report.cycle)
            if not dry_run and not report.stopped:
                for spec in dependency_order(wanted):
                    outbound.write_back_left_behind(spec)
            if not dry_run and not report.stopped and entities is None:
                self._life_cycle(wanted, report.cycle)
            crash_point("after_ack")
        except QbsfError as exc:
            report.error = str(exc)
            logger.error("SF → QB cycle %s stopped: %s", report.cycle, exc)
        finally:
            outbound.settle_write_backs(quiet=True)  # a pass ending on an error: the ids already sent are recorded
            self.own_writes.settle = None
            self._discard_cycle_reads()
        report.entities = {name: outbound.reports.get(name, EntityReport()) for name in wanted}
        for name, entity_report in outbound.reports.items():
            report.entities.setdefault(name, entity_report)
        report.finished_at = self.state.now()
        report.seconds = time.perf_counter() - started
        report.sf_calls = _counter(self.sf, "calls") - sf_before
        report.qb_messages = _counter(self.qb, "messages") - qb_before
        idle = report.error is None and not any(report.total(name) for name in (
            "created", "updated", "linked", "failed", "waiting"))
        logger.log(logging.DEBUG if idle else logging.INFO, report.summary())  # an idle cycle is one line
        return report

    def _life_cycle(self, entity_names: list[str], cycle: str) -> None:
        """Synced records deleted, merged or no longer eligible in Salesforce: told and handled
        (:mod:`qbsf.sync.lifecycle`), at most once per ``lifecycle_check_minutes``."""
        check = self.life_cycle()
        check.cycle = cycle
        check.check(entity_names)

    def life_cycle(self) -> Any:
        """The life-cycle check (:class:`qbsf.sync.lifecycle.LifeCycle`) on this engine's clients and settings."""
        if self._lifecycle is None:
            from qbsf.sync.lifecycle import LifeCycle

            self._lifecycle = LifeCycle(self.sf, self.qb, self.state, actions=self.config.on_sf_gone,
                                        eligibility=self.config.eligibility,
                                        every=timedelta(minutes=self.config.lifecycle_check_minutes))
        return self._lifecycle

    def _sync_chunks(self, outbound: OutboundSync, source: ChangeSource, spec: EntitySpec,
                     records: Sequence[dict[str, Any]], dropped: Mapping[str, str], size: int, report: CycleReport,
                     should_stop: Callable[[], bool] | None, progress: Progress | None, done: int, total: int, *,
                     first: bool) -> None:
        """Sync ``records`` in batches of ``size`` and acknowledge them (those reached, when asked to stop)."""
        for start in range(0, len(records), size):
            if (start or not first) and should_stop is not None and should_stop():
                report.stopped = True
                break
            outbound.sync_batch(spec, records[start:start + size])
            if progress is not None:
                progress(spec.name, min(done + start + size, done + len(records)), total)
        results: list[RecordResult] = []
        for record in records:
            key = (spec.name, record["Id"])
            if report.stopped and key not in outbound.finished:
                continue  # not reached before the stop: left unacknowledged, read again next cycle
            why = outbound.finished.get(key, "not handled")
            if why is None and not outbound.dry_run:
                del outbound.finished[key]  # synced and linked: nothing later in the pass needs to ask (memory)
            results.append(RecordResult(spec.name, record["Id"], ok=why is None, message=why))
        for record_id, why in dropped.items():
            results.append(RecordResult(spec.name, record_id, ok=True, message=why))
        if not outbound.dry_run:
            source.ack(results)

    def _retry_due(self, outbound: OutboundSync, source: ChangeSource, spec: EntitySpec, due: list[str], size: int,
                   report: CycleReport, should_stop: Callable[[], bool] | None, progress: Progress | None) -> None:
        """Failed records of ``spec`` due again that its changes did not bring: read by Id and synced."""
        records = self._due_retries(outbound, spec, due)
        if records:
            self._sync_chunks(outbound, source, spec, records, {}, size, report, should_stop, progress, 0,
                              len(records), first=False)

    def _due_retries(self, outbound: OutboundSync, spec: EntitySpec, due: list[str]) -> list[dict[str, Any]]:
        if not due:
            return []
        logger.info("%s: retrying %d failed record(s)", spec.name, len(due))
        records = outbound.read_ids(spec, due)
        found = {record["Id"] for record in records}
        gone = [key for key in due if key not in found]
        if gone:
            # Deleted, or no longer eligible: nothing left to retry.
            self.state.clear_failures_many(spec.name, Direction.SF_TO_QB, gone)
        return records

