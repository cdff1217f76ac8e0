"""Where changes come from, in both directions: one incremental cursor, read page by page.

Salesforce changes (the SystemModstamp poll, or the ``QBSync_Queue__c`` queue: :mod:`qbsf.sync.changes`) and
QuickBooks changes (:class:`QuickBooksChanges`) are two sources over the same :class:`Cursor`:

- **Watermark**: the newest version time seen in the other system (SystemModstamp, TimeModified) — never this
  machine's clock. It moves only once every record read up to it was handled, so a pass that stops half way
  reads the rest again.
- **Bounded overlap**: a delta read starts ``overlap`` before the watermark W, so a record saved with a stamp older
  than W but committed a little late is still read.
- **De-duplication by id + version** (SystemModstamp; TimeModified + EditSequence): a version handled before is
  skipped at no cost, so the overlap never syncs a record twice.
- **No re-read storms**: a window that is fully seen moves on. A late commit arrives within ``overlap`` of its
  stamp; once ``overlap`` (plus one time-stamp step) has passed since W was first seen (measured on this machine's
  clock, as a duration: no clock of the other system is needed), one more read of the whole window finds every
  record stamped up to W. After it, W is *settled*: reads start just after it (one time-stamp step later: 1 ms in
  Salesforce, 1 s in QuickBooks) until a newer change moves W again. Until then the Salesforce poll reads only
  what is newer than W and, in the same call, takes the window's digest (where the org's package has the cycle
  resource; else its COUNT()): a digest (or count) that differs from the records handled there reads the window
  again, and the read that settles is that digest too — the window is read only when it differs, or where there is
  no digest (:mod:`qbsf.sync.changes`). Left unsettled, every record stamped within
  ``overlap`` of W would be read again every cycle until something newer moved W — after a large initial sync, whose
  write-back stamps every record at once, that is every record, every idle cycle.

The settled point and when W was first seen are kept as watermark rows of the entity (``<source>@settled``,
``<source>@quiet``, which also notes how far a settle checked in parts got); resetting the source's watermark forgets
them.

Reads are streamed: a source hands the pass one page at a time (2,000 records from Salesforce, ``page_size`` from
QuickBooks) and the pass syncs it in batches, so a pass holds at most a batch plus a page of records whatever the
number of changes — plus, from Salesforce, the next page, read ahead while the pass syncs this one
(:mod:`qbsf.sync.pipeline.overlap`). QuickBooks' delta reads of every entity, and its deleted-records reads, start
in one qbXML message (:func:`qbsf.quickbooks.together.query_together`): an idle QuickBooks → Salesforce pass costs
one message.
An unsettled QuickBooks window of more than a page (the first idle cycles after a large sync) is not read whole
either: the same message reads what is newer than W and only the versions (id, TimeModified, EditSequence) of the
window's records; only the records among them not seen yet are read, by id. The first idle cycle after a sync of
any size costs one message, and the window settles at no extra cost once it is due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

from qbsf.sync.pipeline.overlap import read_ahead
from qbsf.sync.state import StateStore

logger = logging.getLogger(__name__)

SETTLED = "@settled"
QUIET = "@quiet"

T = TypeVar("T")


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_utc(text: str | None) -> datetime | None:
    """An ISO 8601 instant (a watermark, a Salesforce date-time) in UTC; naive text counts as UTC, bad text as none."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class ReadStart:
    """Where one read starts: ``since`` (None = everything) and whether it covers W's whole unsettled window."""

    since: datetime | None
    whole: bool
    settle_due: bool


class Cursor:
    """The incremental cursor of one change source (``sf:Account``, ``qb:Customer``) of one entity.

    ``stamp`` writes a time as the source's watermark text (each source keeps the form it always stored).
    """

    def __init__(self, state: StateStore, source: str, *, entity: str, overlap: timedelta, resolution: timedelta,
                 stamp: Callable[[datetime], str] = _text) -> None:
        self.state = state
        self.source = source
        self.entity = entity
        self.overlap = overlap
        self.resolution = resolution
        self.stamp = stamp

    # ---- the watermark -----------------------------------------------------------------------------------------
    def watermark(self) -> datetime | None:
        """W: the newest version time handled (None = never read: the first read takes everything)."""
        return parse_utc(self.state.get_watermark(self.source))

    def advance(self, newest: datetime | None) -> bool:
        """Move W to ``newest`` when it is newer; True when it moved. Call once the read up to it was handled."""
        mark = self.watermark()
        if newest is None or (mark is not None and newest <= mark):
            return False
        self.state.set_watermark(self.source, self.stamp(newest))
        return True

    # ---- de-duplication ----------------------------------------------------------------------------------------
    def unseen(self, versions: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (id, version) pairs not handled before."""
        return set(self.state.unseen(self.source, versions))

    def remember(self, versions: Iterable[tuple[str, str]], *, forget_before: str | None = None) -> None:
        """Remember handled (id, version) pairs; versions older than ``forget_before`` can no longer be read."""
        self.state.remember_seen(self.source, versions, forget_before=forget_before)

    def seen_ids_between(self, low: str, high: str) -> set[str]:
        """Ids with a handled version in [``low``, ``high``] (versions compare as their text)."""
        return self.state.seen_ids_between(self.source, low, high, entity=self.entity)

    # ---- the read window ---------------------------------------------------------------------------------------
    def _get(self, suffix: str) -> str | None:
        return self.state.get_watermark(self.source + suffix, entity=self.entity)

    def _set(self, suffix: str, value: str) -> None:
        self.state.set_watermark(self.source + suffix, value, entity=self.entity)

    def settled(self) -> datetime | None:
        """Every record stamped at or before this has been read and no more can arrive there (or None)."""
        return parse_utc(self._get(SETTLED))

    def _quiet_row(self) -> tuple[datetime | None, datetime | None, datetime | None]:
        # "<W> <when W was first seen>[ <checked through>]"
        mark, seen_at, checked, *_ = [*(self._get(QUIET) or "").split(" "), "", "", ""]
        return parse_utc(mark), parse_utc(seen_at), parse_utc(checked)

    def _quiet(self) -> tuple[datetime | None, datetime | None]:
        mark, seen_at, _ = self._quiet_row()
        return mark, seen_at

    def checked(self, mark: datetime | None) -> datetime | None:
        """How far the window of watermark ``mark`` was proven handled, part by part, once its settle was due: every
        record stamped from the window's start up to this instant (None: no part yet). A settle checked in parts
        (a window too large to check in one call) goes on from here the next cycle."""
        quiet_mark, _, checked = self._quiet_row()
        return checked if mark is not None and quiet_mark == mark else None

    def check(self, mark: datetime, through: datetime) -> None:
        """Note that the window of ``mark`` is proven handled up to ``through`` (its settle was due). Call inside the
        batch that acknowledges the read."""
        quiet_mark, seen_at, _ = self._quiet_row()
        if quiet_mark == mark and seen_at is not None:
            self._set(QUIET, f"{_text(mark)} {_text(seen_at)} {_text(through)}")

    def start(self, mark: datetime | None) -> ReadStart:
        """Where the read after watermark ``mark`` starts."""
        if mark is None:
            return ReadStart(None, whole=True, settle_due=False)
        settled = self.settled()
        if settled is not None and settled >= mark - self.overlap:
            return ReadStart(settled + self.resolution, whole=False, settle_due=False)
        quiet_mark, seen_at = self._quiet()
        # Past overlap + one time-stamp step since W was first seen: the other system's clock is past W too, so
        # nothing more can be stamped W or before (a late commit lands within ``overlap`` of its stamp).
        due = quiet_mark == mark and seen_at is not None and (
            self.state.now() - seen_at >= self.overlap + self.resolution)
        return ReadStart(mark - self.overlap, whole=True, settle_due=due)

    def after_read(self, start: ReadStart, *, mark_before: datetime | None, mark_after: datetime | None,
                   whole_read: bool) -> None:
        """Record a fully handled read: settle ``mark_before`` when due and the whole window was read; note when
        a new watermark was first seen. Call inside the batch that moves the watermark."""
        if whole_read and start.whole and start.settle_due and mark_before is not None:
            self._set(SETTLED, _text(mark_before))
        if mark_after is not None and self._quiet()[0] != mark_after:
            self._set(QUIET, f"{_text(mark_after)} {_text(self.state.now())}")


# ---- reading page by page ------------------------------------------------------------------------------------------

def salesforce_pages(sf: Any, soql: str) -> Iterator[list[dict[str, Any]]]:
    """The pages of one SOQL read, one API call each: the next page is read ahead (on a thread of its own, see
    :func:`qbsf.sync.pipeline.overlap.read_ahead`) while the caller syncs the one before — one page at most.

    The engine's Salesforce port may be the client itself (``iter_query``), an adapter around it (its ``client``),
    or anything with ``query`` alone (read whole: one page).
    """
    iter_query = getattr(sf, "iter_query", None)
    if not callable(iter_query):
        iter_query = getattr(getattr(sf, "client", None), "iter_query", None)
    if callable(iter_query):
        yield from read_ahead(iter_query(soql))
    else:
        yield list(sf.query(soql))


def in_batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (the last may be shorter), without reading ahead further."""
    size = max(1, int(size))
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def flatten(pages: Iterable[Sequence[T]]) -> Iterator[T]:
    """The records of ``pages``, one by one (a page is let go once its records are consumed)."""
    for page in pages:
        yield from page


# ---- QuickBooks changes ------------------------------------------------------------------------------------------

@dataclass
class QuickBooksRead:
    """One entity's delta read: where it started (``since``: UTC, None = everything) and its pages."""

    entity: str
    cursor: Cursor
    mark: datetime | None
    start: ReadStart
    since: datetime | None
    pages: Iterator[list[Any]]


@dataclass(frozen=True)
class DeltaWanted:
    """One QuickBooks entity to read: its cursor, the record kind its query names, whether to read it all, and
    whether its lines and linked transactions come with it; its id element (ListID, TxnID) and how to read records
    by id (``by_ids``: as the delta read reads them; None = the client's query by entity)."""

    entity: str
    kind: str
    cursor: Cursor
    full: bool = False
    lines: bool = False
    linked: bool = False
    id_field: str = "ListID"
    by_ids: Callable[[Sequence[str]], Iterable[Any]] | None = None


def _utc_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def quickbooks_version(record: Any) -> str:
    """A QuickBooks record's version for de-duplication that also sorts by time: ``<TimeModified UTC>|<EditSequence>``
    (TimeModified as a true instant: see :meth:`QuickBooksChanges.read`)."""
    modified = record.TimeModified
    return f"{_utc_seconds(modified) if modified else ''}|{record.EditSequence or ''}"


# How many versions of a window's records one page of the versions-only read carries: a version is ~200 bytes,
# so a page of 10,000 is ~2 MB, one message for the window of all but the largest syncs.
VERSIONS_PAGE = 10_000


class QuickBooksChanges:
    """QuickBooks → Salesforce changes: every entity's delta read (records whose ``TimeModified`` is at or after the
    cursor's start) and the deleted-records reads, started together in one qbXML message.

    ``clock`` gives QuickBooks' clock (:class:`qbsf.quickbooks.timestamps.CompanyClock`): it turns a start instant
    into the ``FromModifiedDate`` QuickBooks compares with its wall-time stamps, and the stamps read back into true
    instants.
    """

    def __init__(self, qb: Any, *, clock: Callable[[], Any]) -> None:
        self.qb = qb
        self.clock = clock

    def read(self, wanted: Sequence[DeltaWanted], *, deleted: tuple[Sequence[str], Sequence[str],
                                                                    datetime | None] | None = None
             ) -> tuple[dict[str, QuickBooksRead], Iterator[list[Any]] | None]:
        """Start every entity's read (and the deletions read: list types, transaction types, since) in one message.

        Returns each entity's :class:`QuickBooksRead` (pages stream on: a page beyond the first costs one message
        of its own) and the deleted records' pages. Records come with their stamps as true instants.

        An unsettled window holding more records seen before than a page is checked rather than read again: the
        message reads the records newer than W and the versions alone of every record from the window's start,
        and once the newer ones are handled, only the window's records whose version was not seen are read (by id).
        The whole window is then handled as surely as by reading it (a version, not a count, is compared), so it
        settles when due.
        """
        from qbsf.quickbooks.together import deleted_queries, delta_query, query_together

        clock = self.clock()
        starts: list[tuple[DeltaWanted, datetime | None, ReadStart, datetime | None, bool]] = []
        queries = []
        for want in wanted:
            mark = None if want.full else want.cursor.watermark()
            start = want.cursor.start(mark)
            # watermark − overlap, or just after the settled point once that window was fully seen; then widened as
            # QuickBooks' time stamps need around DST (delta_start)
            since = clock.delta_start(start.since, timedelta(0)) if start.since is not None else None
            checked = self._checks_window(want, mark, start, since, clock)
            starts.append((want, mark, start, since, checked))
            if checked:
                assert mark is not None and since is not None
                newer = clock.delta_start(mark + want.cursor.resolution, timedelta(0))
                queries.append(delta_query(want.kind, clock.from_modified(newer), include_lines=want.lines,
                                           include_linked=want.linked))
                queries.append(delta_query(want.kind, clock.from_modified(since), page_size=VERSIONS_PAGE,
                                           only=(want.id_field, "TimeModified", "EditSequence")))
            else:
                queries.append(delta_query(want.kind, clock.from_modified(since) if since is not None else None,
                                           include_lines=want.lines, include_linked=want.linked))
        if deleted is not None:
            list_types, txn_types, deleted_since = deleted
            queries.extend(deleted_queries(list_types, txn_types,
                                           clock.from_modified(deleted_since) if deleted_since else None))
        streams = iter(query_together(self.qb, queries))
        reads = {}
        for want, mark, start, since, checked in starts:
            pages = self._checked(want, next(streams), next(streams)) if checked else self._corrected(next(streams))
            reads[want.entity] = QuickBooksRead(want.entity, want.cursor, mark, start, since, pages)
        gone = None
        if deleted is not None:
            gone = self._merged(list(streams))
        return reads, gone

    def _checks_window(self, want: DeltaWanted, mark: datetime | None, start: ReadStart, since: datetime | None,
                       clock: Any) -> bool:
        """Whether the unsettled window after ``mark`` is checked by its versions instead of read whole: when it
        holds more records seen before than a page (read whole, it would cost a message per page). Not when
        QuickBooks' zone is unknown: the read then reaches back two DST steps whatever the window."""
        if mark is None or since is None or not start.whole or not getattr(clock, "knows_dst", True):
            return False
        seen = want.cursor.state.count_seen_between(want.cursor.source, _utc_seconds(since),
                                                    f"{_utc_seconds(mark)}|~", entity=want.cursor.entity)
        return seen > int(getattr(self.qb, "page_size", 500))

    def _checked(self, want: DeltaWanted, newer: Iterator[list[Any]], window: Iterator[list[Any]]
                 ) -> Iterator[list[Any]]:
        """The records newer than W, then the window's records whose version was not seen (read by id).

        The versions are compared once the newer records were handled (the pass syncs a page before asking for the
        next), so a record both newer and listed among the window's versions is not read twice."""
        yield from self._corrected(newer)
        versions: list[tuple[str, str]] = []
        for page in self._corrected(window):
            versions.extend((str(getattr(record, want.id_field, "") or ""), quickbooks_version(record))
                            for record in page)
        missed = sorted({record_id for record_id, _ in want.cursor.unseen(versions) if record_id})
        if not missed:
            return
        logger.info("%s: %d record(s) in the read window not seen yet: reading them", want.entity, len(missed))
        records = want.by_ids(missed) if want.by_ids is not None else self.qb.query(
            want.kind, ids=missed, include_lines=want.lines, include_linked=want.linked, missing_ok=True)
        for page in in_batches(records, int(getattr(self.qb, "page_size", 500))):
            yield self.clock().corrected(page)

    def _corrected(self, pages: Iterator[list[Any]]) -> Iterator[list[Any]]:
        # The clock is asked per page: the first page may teach it the company's zone.
        for page in pages:
            yield self.clock().corrected(page)

    @staticmethod
    def _merged(streams: Sequence[Iterator[list[Any]]]) -> Iterator[list[Any]]:
        for stream in streams:
            yield from stream
