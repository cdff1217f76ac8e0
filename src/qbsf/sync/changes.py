"""Where Salesforce changes come from: the SystemModstamp poller and the ``QBSync_Queue__c`` queue.

Both implement :class:`ChangeSource`: ``changes()`` yields one :class:`ChangeBatch` per entity in dependency
order (one SOQL read per object, line items through a relationship subquery), and ``ack(results)`` is called
once the engine has handled them — only then does the poller move its watermark or the queue mark its rows,
so a crash mid-cycle re-reads the same changes instead of losing them.

Checking the poll's unsettled read window (:class:`qbsf.sync.pipeline.source.Cursor`) costs no read of its records
where the org's package has the cycle resource: the cycle's one call carries a *digest read* of the window
[W − overlap, W] — its row count and a SHA-256 of its (Id, SystemModstamp) pairs, computed in Salesforce
(QBSFCycleResource.runDigest) — and the poller compares it with the versions it handled in that window
(:func:`window_digest`). Equal: every record the window holds was handled, so only records newer than W are read,
and once the settle is due the window settles in that call. Different (a record committed late, or one that left
the window): the window is read whole. Refused (a window too big for the call's governor limits) or missing (an
older package, ``/composite``): the window's ``COUNT()`` is compared instead, and the settle reads the window whole,
as before. A count can be balanced by a record leaving the window while a late one arrives; a digest cannot.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from qbsf.errors import QbsfError, Retriable
from qbsf.sync.cycle_reads import DIGEST
from qbsf.sync.entities import (
    EntitySpec,
    build_query,
    dependency_order,
    entity,
    parse_sf_datetime,
    soql_datetime,
)
from qbsf.sync.pipeline.source import Cursor, ReadStart, salesforce_pages
from qbsf.sync.state import StateStore

if TYPE_CHECKING:
    from qbsf.sync.write_back import OwnWriteLedger, OwnWrites

logger = logging.getLogger(__name__)

QUEUE_OBJECT = "QBSync_Queue__c"
# What becomes of a queued Delete: qbsf deletes nothing in QuickBooks (an invoice or customer there may carry history).
QUEUED_DELETE = "deleted in Salesforce: QuickBooks keeps its record (make it inactive or delete it there)"
# Ids per "Id IN (…)" read: keeps the GET URL of one query well under Salesforce's 16 KB limit.
IDS_PER_QUERY = 300
# Rows per sObject Collections request: Salesforce's own limit.
COLLECTION_SIZE = 200
QUEUE_ERROR_LENGTH = 4_000
# Records per page of a query answer (Salesforce's default batch size).
QUERY_PAGE = 2_000
# Handled records one digest read covers at most: the cycle resource gathers a line per record on its 6 MB heap.
# A larger window is checked in parts (each a stretch of time holding at most this many), several a call.
DIGEST_PART = 10_000
# Records the digest reads of one cycle call cover together: of the call's 50,000 query rows, up to 50 × 201 are
# kept for its other reads. A settle due over a larger window goes on in the next cycle from where it stopped.
DIGEST_ROWS_PER_CALL = 30_000


class SalesforceReader(Protocol):
    """What change sources need from the Salesforce client: a SOQL read returning every page's records."""

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Run ``soql`` and return all records (following nextRecordsUrl)."""
        ...


class SalesforceWriter(SalesforceReader, Protocol):
    """A Salesforce client that can also update records in collections of 200."""

    def update_many(self, sobject: str, records: Sequence[dict[str, Any]]) -> Sequence[Any]:
        """Update records (each with ``Id``); one result per record, in order."""
        ...


@dataclass
class ChangeBatch:
    """Changed records of one entity, read in one query, ready for the mapping."""

    spec: EntitySpec
    records: list[dict[str, Any]]
    source: str
    # Why a record was not read although it was reported changed (ineligible, deleted): sf id → reason.
    dropped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordResult:
    """How the engine finished with one changed record. ``ok`` False with ``message`` means it failed."""

    entity: str
    sf_id: str
    ok: bool
    message: str | None = None


class ChangeSource(Protocol):
    """Yields changed Salesforce records in batches and learns, through ``ack``, what happened to them."""

    def changes(self, since: datetime | None = None, *, full: bool = False,
                entities: Iterable[str] | None = None) -> Iterator[ChangeBatch]:
        """Batches of changed records, one per entity, in dependency order."""
        ...

    def ack(self, results: Sequence[RecordResult]) -> None:
        """Record the outcome of records yielded by ``changes`` (move watermarks, mark queue rows)."""
        ...


def _version(record: Mapping[str, Any]) -> str:
    """A record's SystemModstamp normalised to one sortable text form."""
    return soql_datetime(parse_sf_datetime(str(record["SystemModstamp"])))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_digest(versions: Iterable[tuple[str, str]]) -> str:
    """The digest QBSFCycleResource answers for a window holding these (Id, SystemModstamp) pairs: lowercase hex
    SHA-256 of the lines ``<Id in upper case>:<SystemModstamp in epoch milliseconds>``, sorted, joined by "\\n"."""
    lines = sorted(f"{record_id.upper()}:{(parse_sf_datetime(version) - _EPOCH) // timedelta(milliseconds=1)}"
                   for record_id, version in versions)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass
class _PendingPoll:
    """One entity's poll in progress: its plan, the versions yielded and not acknowledged yet, and how it went."""

    plan: _Plan | None = None
    versions: dict[str, str] = field(default_factory=dict)
    newest: str | None = None
    whole: bool = True
    complete: bool = True   # every record read so far was handled
    exhausted: bool = False  # every page was read
    awaiting: bool = False   # a batch was yielded and not acknowledged yet
    moved: int = 0          # records seen in the unsettled window that changed again since (read as newer ones)
    checked: datetime | None = None  # the window proven handled up to here by its digests (a settle due, in parts)


@dataclass(frozen=True)
class _Plan:
    """One entity's poll: the SOQL to read, and — while its window is unsettled — the digest read that tells whether
    the window still holds exactly the versions handled there, so only records newer than the watermark need
    reading (and, until the window is due to settle, the COUNT() that tells it, more weakly, where no digest is
    answered)."""

    read: str
    start: ReadStart | None = None
    mark: datetime | None = None
    count: str | None = None
    window: tuple[datetime, datetime] | None = None
    # the window's digest reads, in time order: (SOQL, first instant, last instant) of each part of it
    digests: tuple[tuple[str, datetime, datetime], ...] = ()


@dataclass
class _DigestBudget:
    """What is left of :data:`DIGEST_ROWS_PER_CALL` while one cycle's polls are planned."""

    rows: int = field(default_factory=lambda: DIGEST_ROWS_PER_CALL)


class SystemModstampPoller:
    """Polls each object for records whose SystemModstamp moved past the watermark (no Apex needed).

    The query starts ``overlap`` before the watermark so a record committed late (its SystemModstamp older than
    records already seen) is not missed; records already handled at the same SystemModstamp are dropped by
    de-duplicating on (Id, SystemModstamp). ``exclude_user`` filters out a dedicated integration user's writes.
    """

    def __init__(self, sf: SalesforceReader, state: StateStore, *, mapped_fields: Mapping[str, Sequence[str]]
                 | None = None, mapped_child_fields: Mapping[str, Sequence[str]] | None = None,
                 eligibility: Mapping[str, str] | None = None, overlap: timedelta = timedelta(minutes=2),
                 exclude_user: str | None = None) -> None:
        self.sf = sf
        self.state = state
        self.mapped_fields = dict(mapped_fields or {})
        self.mapped_child_fields = dict(mapped_child_fields or {})
        self.eligibility = dict(eligibility or {})
        self.overlap = overlap
        self.exclude_user = exclude_user
        self._pending: dict[str, _PendingPoll] = {}
        self._prefetched: dict[str, list[dict[str, Any]]] = {}  # SOQL → every record it returned (one page)
        self._prefetched_counts: dict[str, int] = {}  # COUNT() SOQL → totalSize
        self._prefetched_digests: dict[str, tuple[int, str]] = {}  # digest SOQL → (totalSize, digest)
        self.errors: dict[str, str] = {}  # entity → why its read failed in the last pass (the others went on)
        # The engine's write-backs during each entity's poll (qbsf.sync.write_back): remembered as seen, and the
        # watermark moved past them once the poll is over. Not needed when the integration user is excluded.
        self.own_writes: OwnWriteLedger | None = None

    def _window(self, spec: EntitySpec) -> Cursor:
        return Cursor(self.state, spec.watermark_source, entity=spec.name, overlap=self.overlap,
                      resolution=timedelta(milliseconds=1), stamp=soql_datetime)

    def _plan(self, spec: EntitySpec, since: datetime | None, full: bool,
              budget: _DigestBudget | None = None) -> _Plan:
        # Where the poll of ``spec`` starts: nowhere when full, ``since`` when given, else the read window's start
        # (watermark − overlap, or just after the settled point once the window is fully seen).
        if full or since is not None:
            return _Plan(self.query_for(spec, since=since if not full else None))
        text = self.state.get_watermark(spec.watermark_source)
        mark = parse_sf_datetime(text) if text else None
        start = self._window(spec).start(mark)
        if mark is None or start.since is None or not start.whole:
            return _Plan(self.query_for(spec, since=start.since), start, mark)
        # Unsettled window: read what is newer than the watermark, and in the same call take the window's digest
        # (where the cycle resource answers it) and, until it is due to settle, its COUNT() (where it does not).
        newer = self.query_for(spec, since=mark + timedelta(milliseconds=1))
        digests = self._digests(spec, start, mark, budget)
        count = None if start.settle_due and digests else self._count_soql(spec, start.since, mark)
        return _Plan(newer, start, mark, count=count, window=(start.since, mark), digests=digests)

    def _digests(self, spec: EntitySpec, start: ReadStart, mark: datetime, budget: _DigestBudget | None
                 ) -> tuple[tuple[str, datetime, datetime], ...]:
        """The digest reads checking the window of ``mark``: its parts of at most :data:`DIGEST_PART` handled records
        (cut between two SystemModstamps, so a stamp is never split), as many as ``budget`` leaves room for. Until the
        settle is due, all of them or none (the COUNT() then checks the window); once due, the parts not proven yet,
        in order, at least one when the call has checked nothing else."""
        assert start.since is not None
        low = start.since
        checked = self._window(spec).checked(mark) if start.settle_due else None
        if checked is not None and checked >= low:
            low = checked + timedelta(milliseconds=1)
        high_text = soql_datetime(mark)
        handled = self.state.seen_versions_from(spec.watermark_source, soql_datetime(low), entity=spec.name)
        stamps = Counter(version for version in handled.values() if version <= high_text)
        parts: list[tuple[datetime, datetime, int]] = []
        begin, size, previous = low, 0, None
        for version in sorted(stamps):
            if size and previous is not None and size + stamps[version] > DIGEST_PART:
                end = parse_sf_datetime(previous)
                parts.append((begin, end, size))
                begin, size = end + timedelta(milliseconds=1), 0
            size += stamps[version]
            previous = version
        parts.append((begin, mark, size))
        chosen: list[tuple[datetime, datetime, int]] = []
        for part in parts:
            untouched = budget is None or budget.rows == DIGEST_ROWS_PER_CALL
            if budget is not None and part[2] > budget.rows and not (untouched and not chosen):
                break
            chosen.append(part)
            if budget is not None:
                budget.rows = max(0, budget.rows - part[2])
        if not start.settle_due and len(chosen) < len(parts):
            if budget is not None:
                budget.rows += sum(part[2] for part in chosen)
            return ()
        return tuple((f"SELECT Id, SystemModstamp FROM {spec.sf_object} WHERE " + self._window_where(spec, begin, end),
                      begin, end) for begin, end, _size in chosen)

    def _window_where(self, spec: EntitySpec, low: datetime, high: datetime) -> str:
        """The poll's own conditions, over the records stamped in [``low``, ``high``]."""
        query = build_query(spec, mapped=(), since=low, eligibility=self.eligibility, exclude_user=self.exclude_user)
        query = replace(query, conditions=(*query.conditions, f"SystemModstamp <= {soql_datetime(high)}"))
        return " AND ".join(f"({c})" for c in query.conditions)

    def _count_soql(self, spec: EntitySpec, low: datetime, high: datetime) -> str:
        return f"SELECT COUNT() FROM {spec.sf_object} WHERE " + self._window_where(spec, low, high)

    def _count(self, soql: str) -> int | None:
        if soql in self._prefetched_counts:
            return self._prefetched_counts.pop(soql)
        count = getattr(self.sf, "count", None)
        return int(count(soql)) if callable(count) else None

    def _seen_in_window(self, spec: EntitySpec, plan: _Plan) -> set[str]:
        assert plan.window is not None
        low, high = plan.window
        return self.state.seen_ids_between(spec.watermark_source, soql_datetime(low), soql_datetime(high),
                                           entity=spec.name)

    def _window_seen(self, plan: _Plan, known: set[str], moved: int) -> bool:
        """True when the unsettled window holds exactly the records already seen there (none arrived late)."""
        assert plan.count is not None
        found = self._count(plan.count)
        if found is None:
            return False
        # A record changed again since is no longer in the window: it is among the newer ones.
        return found == len(known) - moved

    @staticmethod
    def _digest_matches(handled: Mapping[str, str], low: datetime, high: datetime, answer: tuple[int, str],
                        newer: set[str]) -> bool:
        """Whether a part's digest (taken when the cycle began) is that of the versions handled in it: each id whose
        newest handled version lies in [``low``, ``high``] — less the ids read as newer records since (they left the
        window)."""
        first, last = soql_datetime(low), soql_datetime(high)
        expected = [(record_id, version) for record_id, version in handled.items()
                    if first <= version <= last and record_id not in newer]
        total, digest = answer
        return total == len(expected) and digest == window_digest(expected)

    def _checked_by_digest(self, spec: EntitySpec, plan: _Plan, answers: Sequence[tuple[int, str] | None],
                           pending: _PendingPoll) -> Iterator[list[dict[str, Any]]]:
        """The records newer than W, then each part of the window whose digest differs from the versions handled
        there, read whole; ``pending.checked`` says how far the window is proven handled (up to the first part
        without an answer)."""
        assert plan.window is not None
        newer: set[str] = set()
        for page in self._pages(plan.read):
            newer.update(str(record["Id"]) for record in page)
            yield page
        handled = self.state.seen_versions_from(spec.watermark_source, soql_datetime(plan.window[0]),
                                                entity=spec.name)
        for (_soql, low, high), answer in zip(plan.digests, answers, strict=True):
            if answer is None:
                break
            if not self._digest_matches(handled, low, high, answer, newer):
                logger.info("%s: the read window changed since it was read (a record committed late, or one gone "
                            "from it): reading it again", spec.name)
                yield from self._pages(self._window_read(spec, low, high))
            pending.checked = high
        pending.whole = pending.checked == plan.mark

    def _window_read(self, spec: EntitySpec, low: datetime, high: datetime) -> str:
        """The poll's read of the records stamped in [``low``, ``high``]."""
        query = build_query(spec, mapped=self.mapped_fields.get(spec.name, ()),
                            mapped_child=self.mapped_child_fields.get(spec.name, ()), since=low,
                            eligibility=self.eligibility, exclude_user=self.exclude_user)
        return replace(query, conditions=(*query.conditions, f"SystemModstamp <= {soql_datetime(high)}")).soql()

    def _pages_of(self, spec: EntitySpec, plan: _Plan, pending: _PendingPoll) -> Iterator[list[dict[str, Any]]]:
        """The pages of one entity's poll, fetched as they are consumed; ``pending.whole`` says afterwards whether
        the whole unsettled window was read (or, by its digest, found handled)."""
        if plan.digests:
            answers = [self._prefetched_digests.pop(soql, None) for soql, _low, _high in plan.digests]
            if plan.count is None and answers[0] is None:
                # Due to settle and no digest (an older package, /composite, a window too big for the call): the
                # rest of the window is read whole.
                yield from self._pages(self.query_for(spec, since=plan.digests[0][1]))
                return
            if plan.count is None or all(answer is not None for answer in answers):
                yield from self._checked_by_digest(spec, plan, answers, pending)
                return
        if plan.count is None:
            yield from self._pages(plan.read)
            return
        assert plan.window is not None
        known = self._seen_in_window(spec, plan)
        whole_window = self.query_for(spec, since=plan.window[0])
        prefetched = plan.count in self._prefetched_counts and plan.read in self._prefetched
        if not prefetched and len(known) < QUERY_PAGE:
            yield from self._pages(whole_window)  # one page: reading it costs no more than counting it
            return
        for page in self._pages(plan.read):
            pending.moved += sum(1 for record in page if record["Id"] in known)
            yield page
        if self._window_seen(plan, known, pending.moved):
            pending.whole = False
            return
        logger.info("%s: records arrived in the read window since it was seen: reading it again", spec.name)
        yield from self._pages(whole_window)

    def cycle_reads(self, entities: Iterable[str] | None = None) -> dict[str, str]:
        """The first-page queries the next scheduled ``changes(entities=…)`` runs, keyed by composite referenceId.

        Run them in the cycle's one ``/composite`` call and hand the pages to :meth:`accept_reads`: an idle cycle
        then costs no further call.
        """
        reads: dict[str, str] = {}
        budget = _DigestBudget()  # changes() plans the same digests, in the same order
        for spec in dependency_order(entities):
            plan = self._plan(spec, None, False, budget)
            if plan.count is not None:
                reads[f"poll_{spec.name}_window"] = plan.count
            for index, (soql, _low, _high) in enumerate(plan.digests):
                reads[f"{DIGEST}poll_{spec.name}_window{index}"] = soql
            reads[f"poll_{spec.name}"] = plan.read
        return reads

    def accept_reads(self, queries: Mapping[str, str], pages: Mapping[str, Any]) -> None:
        """First pages of :meth:`cycle_reads`'s queries, run elsewhere (``pages``: referenceId → query body).

        Only a complete answer (``done``) is kept; a page with more to come is read again by ``changes``. A kept page
        serves only the identical SOQL, once, so a moved watermark or another entity list reads afresh.
        """
        self._prefetched = {}
        self._prefetched_counts = {}
        self._prefetched_digests = {}
        for reference, soql in queries.items():
            page = pages.get(reference)
            if reference.startswith(DIGEST):
                # an older package's resource runs it as a plain read (records, no digest): not a digest, not kept
                if isinstance(page, Mapping) and isinstance(page.get("digest"), str) and "totalSize" in page:
                    self._prefetched_digests[soql] = (int(page["totalSize"]), str(page["digest"]))
            elif soql.startswith("SELECT COUNT() ") and isinstance(page, Mapping) and "totalSize" in page:
                self._prefetched_counts[soql] = int(page["totalSize"])
            elif isinstance(page, Mapping) and page.get("done", True) and isinstance(page.get("records"), list):
                self._prefetched[soql] = [dict(record) for record in page["records"]]

    def discard_reads(self) -> None:
        """Forget pre-fetched pages (a pass that did not use them must not see them next cycle: they age)."""
        self._prefetched = {}
        self._prefetched_counts = {}
        self._prefetched_digests = {}

    def _pages(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        records = self._prefetched.pop(soql, None)
        if records is not None:
            yield records
        else:
            yield from salesforce_pages(self.sf, soql)

    def query_for(self, spec: EntitySpec, *, since: datetime | None = None,
                  ids: Sequence[str] | None = None) -> str:
        """The SOQL this poller runs for ``spec`` (changed since ``since``, or the listed ``ids``)."""
        return build_query(spec, mapped=self.mapped_fields.get(spec.name, ()),
                           mapped_child=self.mapped_child_fields.get(spec.name, ()), since=since, ids=ids,
                           eligibility=self.eligibility, exclude_user=self.exclude_user).soql()

    def changes(self, since: datetime | None = None, *, full: bool = False,
                entities: Iterable[str] | None = None) -> Iterator[ChangeBatch]:
        """Batches of records changed since the watermark (or ``since``; every record when ``full``): per entity in
        dependency order, one batch per page read (at least one per entity), each fetched only once the previous
        one was consumed.

        Acknowledge each batch (``ack``) before asking for the next: an entity's watermark moves once its last page
        was acknowledged with every record handled (a caller that reads every batch first and acknowledges them
        together gets the same result). An entity whose query Salesforce refuses (a mapped field the org does not
        have) is left out and noted in ``errors``; the other entities are still read. Transient failures still end
        the pass.
        """
        self.errors = {}
        budget = _DigestBudget() if since is None and not full else None  # as cycle_reads plans them
        for spec in dependency_order(entities):
            source = spec.watermark_source
            pending = _PendingPoll()
            self._pending[spec.name] = pending
            yielded = False
            if self.own_writes is not None and not self.exclude_user:
                self.own_writes.begin(spec.name)
            try:
                pending.plan = self._plan(spec, since, full, budget)
                for records in self._pages_of(spec, pending.plan, pending):
                    versions = {record["Id"]: _version(record) for record in records}
                    fresh = set(self.state.unseen(source, versions.items())) if not full else set(versions.items())
                    batch = [record for record in records if (record["Id"], versions[record["Id"]]) in fresh]
                    newest = max(versions.values(), default=None)
                    if newest is not None and (pending.newest is None or newest > pending.newest):
                        pending.newest = newest
                    logger.log(logging.INFO if batch else logging.DEBUG,
                               "%s: %d changed record(s) read, %d already handled", spec.name, len(batch),
                               len(records) - len(batch))
                    if batch or not yielded:
                        pending.versions.update((record["Id"], versions[record["Id"]]) for record in batch)
                        if self.own_writes is not None:
                            self.own_writes.expect(spec.name, pending.versions)
                        yielded = pending.awaiting = True
                        yield ChangeBatch(spec=spec, records=batch, source="poll")
            except QbsfError as exc:
                self._pending.pop(spec.name, None)
                if self.own_writes is not None:
                    self.own_writes.end(spec.name)
                if isinstance(exc, Retriable):
                    raise
                self.errors[spec.name] = str(exc)
                logger.error("%s not read from Salesforce: %s", spec.name, exc, extra={"mark": "fail"})
                continue
            pending.exhausted = True
            if not pending.awaiting:
                self._finish(spec.name)  # the last batch was acknowledged: the watermark may move

    def ack(self, results: Sequence[RecordResult]) -> None:
        """Remember the handled versions; once an entity's read is over with every record handled, move its
        watermark to the newest SystemModstamp read.

        Failed records need no help from the watermark: the engine keeps them in the failure table and retries
        them by Id.
        """
        by_entity: dict[str, list[RecordResult]] = defaultdict(list)
        for result in results:
            by_entity[entity(result.entity).name].append(result)
        for name in list(self._pending):
            pending = self._pending[name]
            acked = by_entity.get(name, [])
            handled = [(r.sf_id, pending.versions[r.sf_id]) for r in acked if r.sf_id in pending.versions]
            if len(dict(handled)) < len(pending.versions):
                pending.complete = False  # not fully handled: leave the watermark, re-read next cycle
            if handled:
                self.state.remember_seen(entity(name).watermark_source, handled)
            pending.versions = {}
            pending.awaiting = False
            if pending.exhausted:
                self._finish(name)

    def _finish(self, name: str) -> None:
        """An entity's read is over and acknowledged: move its watermark when every record was handled."""
        pending = self._pending.pop(name)
        own = self.own_writes.end(name) if self.own_writes is not None else None
        if not pending.complete:
            return
        spec = entity(name)
        source = spec.watermark_source
        current = self.state.get_watermark(source)
        newest = current
        if pending.newest is not None:
            newest = max(pending.newest, current) if current else pending.newest
        past_own = self._past_own_writes(spec, newest, own)
        with self.state.batch():
            if past_own is not None:
                logger.info("%s: the engine's own write-backs up to %s are not read again", spec.name, past_own)
                newest = past_own
            if newest is not None and newest != current:
                self.state.set_watermark(source, newest)
                forget = soql_datetime(parse_sf_datetime(newest) - self.overlap)
                self.state.remember_seen(source, (), forget_before=forget)
            plan = pending.plan
            if plan is not None and plan.start is not None:
                cursor = self._window(spec)
                if plan.start.settle_due and plan.mark is not None and pending.checked is not None \
                        and not pending.whole:
                    cursor.check(plan.mark, pending.checked)  # the settle goes on from here next cycle
                cursor.after_read(plan.start, mark_before=plan.mark, whole_read=pending.whole,
                                  mark_after=parse_sf_datetime(newest) if newest else None)

    def _past_own_writes(self, spec: EntitySpec, newest: str | None, own: OwnWrites | None) -> str | None:
        """How far the watermark may move past ``newest`` over the engine's own write-backs of this poll (None: not
        at all): up to the newest own write, short of the oldest version not proven own.

        Only when one ``COUNT()`` of every record of the object changed since ``newest`` (deleted ones included, no
        other condition) equals the number of records the engine alone wrote since: every own write is among them,
        so the two sets are the same and nobody else changed a record in between — else the next poll reads the
        write-back, as before (it costs reads, never a change)."""
        if own is None or own.unproven or own.newest is None or newest is None:
            return None
        target = own.newest
        if own.cap is not None:
            target = min(target, soql_datetime(parse_sf_datetime(own.cap) - timedelta(milliseconds=1)))
        if target <= newest:
            return None
        count = _count_all(self.sf)
        if count is None:
            return None
        try:
            changed = count(f"SELECT COUNT() FROM {spec.sf_object} WHERE SystemModstamp > {newest}")
        except QbsfError as exc:
            logger.info("%s: own write-backs not confirmed (%s); the next poll reads them", spec.name, exc)
            return None
        written = self.state.count_seen_between(spec.watermark_source, _after(newest), "9999", entity=spec.name)
        return target if changed == written else None

    def read_ids(self, spec: EntitySpec, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Read listed records of ``spec`` (eligible ones only) in as few queries as the URL length allows."""
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), IDS_PER_QUERY):
            records.extend(self.sf.query(self.query_for(spec, ids=ids[start:start + IDS_PER_QUERY])))
        return records


@dataclass(frozen=True)
class QueueRow:
    """One claimed ``QBSync_Queue__c`` row."""

    id: str
    sf_object: str
    record_id: str
    operation: str
    attempts: int


class QueueSource:
    """Reads changes from ``QBSync_Queue__c``, the rows the package's Apex triggers write.

    Claims Pending rows (and Processing rows abandoned by a crashed connector for longer than ``stale_after``) by
    setting them Processing and counting the attempt, reads the records they name in one query per object, and
    on ``ack`` marks each row Done, or Failed with the error. Rows naming an object that is not synced, a
    deleted record or an ineligible one are marked Done with the reason.
    """

    def __init__(self, sf: SalesforceWriter, *, poller: SystemModstampPoller, limit: int = 2_000,
                 stale_after: timedelta = timedelta(minutes=10), clock: Any = None) -> None:
        self.sf = sf
        self.poller = poller
        self.limit = limit
        self.stale_after = stale_after
        self.clock = clock or poller.state.now
        self._claimed: dict[str, list[QueueRow]] = {}
        self._read: dict[str, set[str]] = {}  # entity → ids of the records its claimed rows named and were read
        self._dropped: dict[str, dict[str, str]] = {}  # entity → record id → why it was not read
        self._open: dict[str, QueueRow] = {}  # row id → every claimed row not finished yet
        self._prefetched: list[dict[str, Any]] | None = None

    def claim_query(self) -> str:
        """The SOQL reading the rows to claim: Pending ones, and Processing ones abandoned for ``stale_after``."""
        stale = soql_datetime(self.clock() - self.stale_after)
        return (f"SELECT Id, Object__c, Record_Id__c, Operation__c, Attempts__c FROM {QUEUE_OBJECT} "
                f"WHERE Status__c = 'Pending' OR (Status__c = 'Processing' AND LastModifiedDate < {stale}) "
                f"ORDER BY CreatedDate, Id LIMIT {int(self.limit)}")

    def cycle_reads(self, entities: Iterable[str] | None = None) -> dict[str, str]:
        """The claim read of the next ``changes()``, keyed by composite referenceId (see
        :meth:`SystemModstampPoller.cycle_reads`)."""
        return {"queue_claim": self.claim_query()}

    def accept_reads(self, queries: Mapping[str, str], pages: Mapping[str, Any]) -> None:
        """The claim read's page, run elsewhere; used once by the next ``changes()`` (a partial page is re-read)."""
        page = pages.get("queue_claim")
        self._prefetched = None
        if isinstance(page, Mapping) and page.get("done", True) and isinstance(page.get("records"), list):
            self._prefetched = [dict(record) for record in page["records"]]

    def discard_reads(self) -> None:
        """Forget a pre-fetched claim read that was not used."""
        self._prefetched = None

    def _claim(self) -> list[QueueRow]:
        rows, self._prefetched = self._prefetched, None
        if rows is None:
            rows = self.sf.query(self.claim_query())
        claimed = [QueueRow(id=row["Id"], sf_object=row.get("Object__c") or "", record_id=row.get("Record_Id__c")
                            or "", operation=row.get("Operation__c") or "", attempts=int(row.get("Attempts__c")
                                                                                         or 0))
                   for row in rows]
        updates = [{"Id": row.id, "Status__c": "Processing", "Attempts__c": row.attempts + 1} for row in claimed]
        results = self._update(updates)
        # A row another connector claimed first (lock error) is left for it.
        mine = [row for row, ok in zip(claimed, results, strict=True) if ok]
        self._open.update((row.id, row) for row in mine)
        return mine

    def _update(self, updates: list[dict[str, Any]]) -> list[bool]:
        outcomes: list[bool] = []
        for start in range(0, len(updates), COLLECTION_SIZE):
            chunk = updates[start:start + COLLECTION_SIZE]
            results = self.sf.update_many(QUEUE_OBJECT, chunk)
            outcomes.extend(_succeeded(result) for result in results)
        return outcomes

    def changes(self, since: datetime | None = None, *, full: bool = False,
                entities: Iterable[str] | None = None) -> Iterator[ChangeBatch]:
        """Claim queued rows and yield the records they name, one batch per entity in dependency order."""
        rows = self._claim()
        wanted = {spec.name for spec in dependency_order(entities)}
        by_object: dict[str, list[QueueRow]] = defaultdict(list)
        unknown: list[QueueRow] = []
        for row in rows:
            name = next((spec.name for spec in dependency_order() if spec.sf_object == row.sf_object), None)
            if name is None or name not in wanted:
                unknown.append(row)
            else:
                by_object[name].append(row)
        if unknown:
            self._finish({row.id: ("Done", f"{row.sf_object or 'no object'} is not synced by this run")
                          for row in unknown})
        for spec in dependency_order(entities):
            claimed = by_object.get(spec.name, [])
            self._claimed[spec.name] = claimed
            ids = list(dict.fromkeys(row.record_id for row in claimed if row.record_id))
            records = self.poller.read_ids(spec, ids) if ids else []
            found = {record["Id"] for record in records}
            self._read[spec.name] = found
            deleted = {row.record_id for row in claimed if row.operation == "Delete"}
            dropped = {record_id: (QUEUED_DELETE if record_id in deleted else "deleted, or not eligible to sync")
                       for record_id in ids if record_id not in found}
            self._dropped[spec.name] = dropped
            yield ChangeBatch(spec=spec, records=records, source="queue", dropped=dropped)

    def ack(self, results: Sequence[RecordResult]) -> None:
        """Mark each claimed row Done or Failed (with the error), in collections of 200."""
        outcome = {(entity(result.entity).name, result.sf_id): result for result in results}
        finished: dict[str, tuple[str, str | None]] = {}
        release: list[str] = []
        for name, rows in list(self._claimed.items()):
            read = self._read.pop(name, set())
            dropped = self._dropped.pop(name, {})
            for row in rows:
                result = outcome.get((name, row.record_id))
                if result is None and row.record_id in read:
                    release.append(row.id)  # read but not reached (the pass stopped): the next cycle takes it
                elif result is None:
                    # Never read (deleted or ineligible): done with.
                    finished[row.id] = ("Done", dropped.get(row.record_id, "not synced: deleted, or not eligible"))
                elif result.ok:
                    finished[row.id] = ("Done", None)
                else:
                    finished[row.id] = ("Failed", result.message or "failed")
            del self._claimed[name]
        self._finish(finished)
        self._release(release)

    def release(self) -> None:
        """Put every claimed row not finished yet back to Pending (the pass stopped before reaching it)."""
        self._release(list(self._open))
        self._claimed.clear()
        self._read.clear()
        self._dropped.clear()

    def _release(self, row_ids: list[str]) -> None:
        # Pending again, attempt given back: a row not reached was not tried.
        rows = [self._open.pop(row_id) for row_id in row_ids if row_id in self._open]
        if rows:
            self._update([{"Id": row.id, "Status__c": "Pending", "Attempts__c": row.attempts} for row in rows])

    def _finish(self, finished: Mapping[str, tuple[str, str | None]]) -> None:
        for row_id in finished:
            self._open.pop(row_id, None)
        processed_at = soql_datetime(self.clock())
        updates = [{"Id": row_id, "Status__c": status, "Error__c": (message or "")[:QUEUE_ERROR_LENGTH] or None,
                    "Processed_At__c": processed_at} for row_id, (status, message) in finished.items()]
        self._update(updates)


def _after(version: str) -> str:
    """The first version after ``version`` (one millisecond later), in the poll's text form."""
    return soql_datetime(parse_sf_datetime(version) + timedelta(milliseconds=1))


def _count_all(sf: Any) -> Any:
    """A ``COUNT()`` that includes deleted records (the client's ``count(…, include_deleted=True)``), or None."""
    for candidate in (sf, getattr(sf, "client", None)):
        count = getattr(candidate, "count", None)
        if callable(count) and hasattr(candidate, "iter_query"):
            return lambda soql, count=count: int(count(soql, include_deleted=True))
    return None


def _succeeded(result: Any) -> bool:
    if isinstance(result, Mapping):
        return bool(result.get("success"))
    return bool(getattr(result, "ok", getattr(result, "success", False)))
