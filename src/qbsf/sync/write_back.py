"""QuickBooks ids written back to Salesforce, and those writes remembered as the poll's own.

Writing a QuickBooks id into a Salesforce record moves its SystemModstamp. Left at that, the next poll reads every
record the pass wrote back as a change — after a large initial sync, every record (50,000 Accounts: 25 query pages)
— only to find nothing to sync. So each write-back is one ``/composite`` call (one API call) holding:

1. ``before``: ``SELECT Id, SystemModstamp … WHERE Id IN (…)`` — each record's version right before the write;
2. two sObject Collections updates of up to 200 records (``allOrNone=false``: one record's failure fails alone);
3. ``after``: the same read again — the versions the write made;
4. ``changed``: every record changed since the oldest own write of the previous call (``SystemModstamp >=``): a
   record edited after its write-back — by anyone, this user too — shows there with a version that is not ours.

Subrequests of one composite call run in order, each seeing what the earlier ones committed, and the call counts as
one API call; at most 5 of its subrequests may be collections or queries (Salesforce's limit, see
:data:`qbsf.salesforce.client.COMPOSITE_HEAVY_LIMIT`), so a call carries 400 records — half the calls of the
collections of 200 sent alone before.

A record whose version before the write is the very version the pass read and synced is one nobody else touched
since: the version after the write is the engine's own, remembered as seen (:class:`OwnWrites`), so the next poll
skips it. A record changed by someone between the pass's read and the write-back (its version before differs) is
not remembered: the next poll reads it and syncs that edit. Once the poll of the entity is over,
:class:`qbsf.sync.changes.SystemModstampPoller` moves its watermark past the engine's own writes (short of the
oldest version not proven own) when one ``COUNT()`` finds exactly as many records changed since the pass's read as
the engine wrote alone — so the first idle poll after a large sync reads nothing and costs its one composite call.

Without a composite-capable client (test doubles) ids go out in collections of 200 and nothing is remembered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qbsf.errors import QbsfError, Retriable
from qbsf.sync.changes import COLLECTION_SIZE
from qbsf.sync.crash import crash_point
from qbsf.sync.entities import EntitySpec, parse_sf_datetime, quote, soql_datetime
from qbsf.sync.pipeline.overlap import Job
from qbsf.sync.ports import SfWrite
from qbsf.sync.state import Activity, Direction, Link, Outcome

logger = logging.getLogger(__name__)

# Records per composite write-back: two collections of 200 between the two reads (4 of the 5 heavy subrequests; a
# third collection would need a third read, as 600 Ids do not fit one query's URL).
GROUP = 2 * COLLECTION_SIZE
# Records per composite write-back when nothing is remembered (no reads): five collections of 200.
PLAIN_GROUP = 5 * COLLECTION_SIZE


def _version(stamp: Any) -> str | None:
    """A SystemModstamp in the one sortable text form the poll keeps (None when absent)."""
    return soql_datetime(parse_sf_datetime(str(stamp))) if stamp else None


@dataclass
class OwnWrites:
    """One entity's write-backs while its poll runs: what the batch in hand was read at, and what the write-backs
    left in Salesforce."""

    entity: str
    expected: dict[str, str] = field(default_factory=dict)  # Id → version the batch in hand was read at
    newest: str | None = None   # newest version written by the engine alone (remembered as seen)
    cap: str | None = None      # oldest version written back, or changed since, not proven the engine's own
    unproven: bool = False      # a write-back whose versions are unknown: the watermark must not move past it
    # The chain: each write-back call also reads every change since the oldest own write of the call before it, so
    # a record edited after its own write-back (by anyone) is seen; ``recent`` holds the own writes since then.
    since: str | None = None
    recent: dict[str, str] = field(default_factory=dict)

    def own(self, record_id: str, version: str) -> None:
        """A write-back version proven the engine's own."""
        self.newest = version if self.newest is None or version > self.newest else self.newest
        self.recent[record_id] = version

    def other(self, version: str) -> None:
        """A version the write-back left, or a change read since, that someone else may have written: the poll
        reads it again."""
        self.cap = version if self.cap is None or version < self.cap else self.cap

    def next_link(self, written: Sequence[str]) -> None:
        """After a call: the next call reads changes since the oldest own write of this one (``written``)."""
        if written:
            self.since = min(written)
        if self.since is not None:
            self.recent = {key: value for key, value in self.recent.items() if value >= self.since}


class OwnWriteLedger:
    """The :class:`OwnWrites` of each entity whose poll is running (begun and ended by the poll).

    ``settle``, while a pass runs, finishes the write-back still on its way (:class:`WriteBacks`): :meth:`end` calls
    it first, so the poll that ends knows every write-back of its entity.
    """

    def __init__(self) -> None:
        self._open: dict[str, OwnWrites] = {}
        self.settle: Callable[[], None] | None = None

    def begin(self, entity: str) -> None:
        """The poll of ``entity`` starts: its write-backs are watched from now on."""
        self._open[entity] = OwnWrites(entity)

    def expect(self, entity: str, versions: Mapping[str, str]) -> None:
        """The batch the poll just handed over: Id → the version it was read at (replaces the previous batch's)."""
        own = self._open.get(entity)
        if own is not None:
            own.expected = dict(versions)

    def get(self, entity: str) -> OwnWrites | None:
        """The running poll's record of ``entity`` (None when its poll is not running)."""
        return self._open.get(entity)

    def end(self, entity: str) -> OwnWrites | None:
        """The poll of ``entity`` is over: its record (once the write-back on its way is finished), no longer
        watched."""
        if self.settle is not None:
            self.settle()
        return self._open.pop(entity, None)


def _composite_writer(sf: Any) -> Any:
    """The client's ``update_and_read`` (the port itself or the client inside an adapter), or None."""
    for candidate in (sf, getattr(sf, "client", None)):
        method = getattr(candidate, "update_and_read", None)
        if callable(method):
            return method
    return None


def _ids_query(spec: EntitySpec, links: Sequence[Link], fields: str) -> str:
    ids = ", ".join(quote(link.sf_id) for link in links)
    return f"SELECT {fields} FROM {spec.sf_object} WHERE Id IN ({ids})"


def _rows(page: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]] | None:
    """Id → row of a complete query page (None when the read failed or has more pages)."""
    if not isinstance(page, Mapping) or not page.get("done", True) or not isinstance(page.get("records"), list):
        return None
    return {str(row.get("Id"))[:15]: row for row in page["records"] if isinstance(row, Mapping) and row.get("Id")}


def _remember_own(own: OwnWrites, expected: Mapping[str, str], links: Sequence[Link], writes: Sequence[SfWrite],
                  pages: Mapping[str, Any], since: str | None) -> list[tuple[str, str]]:
    """The versions the engine alone wrote (to remember as seen); the others (and any change read since the previous
    call's writes that is not the engine's) noted in ``own``, so the poll reads them again. ``expected``: Id → the
    version the batch was read at. Touches no local state: it may run beside the pass."""
    before, after = _rows(pages.get("before")), _rows(pages.get("after"))
    changed = _rows(pages.get("changed")) if since is not None else {}
    if before is None or after is None or changed is None:
        own.unproven = True
        return []
    remembered: list[tuple[str, str]] = []
    for link, write in zip(links, writes, strict=True):
        key = link.sf_id[:15]
        was = _version(before.get(key, {}).get("SystemModstamp"))
        now = _version(after.get(key, {}).get("SystemModstamp"))
        wanted = expected.get(link.sf_id)
        if now is None:
            continue  # deleted meanwhile: nothing left to read
        if write.ok and wanted is not None and was == wanted:
            remembered.append((link.sf_id, now))
            own.own(key, now)
        elif now != wanted:
            own.other(now)  # changed by someone else, or written back without the pass reading it
    for key, row in changed.items():
        version = _version(row.get("SystemModstamp"))
        if version is not None and own.recent.get(key) != version:
            own.other(version)  # changed since, by someone else (or by this user elsewhere): read next poll
    own.next_link([version for _, version in remembered])
    return remembered


def _as_write(result: Any) -> SfWrite:
    return SfWrite(ok=bool(result.success), message=None if result.success else str(result.error),
                   error=result.error)


@dataclass
class _Sent:
    """One write-back call: its records, each one's result, and the versions proven the engine's own."""

    links: list[Link]
    results: list[SfWrite]
    remembered: list[tuple[str, str]]


class WriteBack:
    """The write-back of the QuickBooks ids of one entity that Salesforce does not hold yet (this batch's, and any a
    crash left behind), in two parts: :meth:`send` only talks to Salesforce, so it may run on a thread of its own
    while the pass sends the next batch to QuickBooks (:mod:`qbsf.sync.pipeline.overlap`); :meth:`finish` records
    the outcome in the local state, in the pass's own thread, before the next write-back is sent."""

    def __init__(self, sync: Any, spec: EntitySpec, pending: Sequence[Link]) -> None:
        self.spec = spec
        self.sf = sync.sf
        self.state = sync.state
        self.cycle = sync.cycle
        self.pending = list(pending)
        ledger = getattr(sync, "own_writes", None)
        self.own: OwnWrites | None = ledger.get(spec.name) if ledger is not None else None
        # The versions the batch in hand was read at, as they are now: the poll hands the next batch over while this
        # write-back may still be on its way.
        self.expected = dict(self.own.expected) if self.own is not None else {}
        self.writer = _composite_writer(sync.sf)
        if self.writer is None and self.own is not None:
            self.own.unproven = True  # versions cannot be read with the write: the poll reads the write-back again
            self.own = None
        self.sent: list[_Sent] = []

    def send(self) -> None:
        """Send the ids to Salesforce, one composite call per 400 records (a failed call is left for the next
        cycle: its ids stay pending). Salesforce only: no local state is read or written here."""
        spec, own = self.spec, self.own
        size = GROUP if own is not None else (PLAIN_GROUP if self.writer is not None else COLLECTION_SIZE)
        first = True
        for start in range(0, len(self.pending), size):
            chunk = self.pending[start:start + size]
            records = [{"Id": link.sf_id, spec.qb_id_field: link.qb_id} for link in chunk]
            pages: dict[str, Any] = {}
            since: str | None = None
            try:
                if self.writer is None:
                    results: list[SfWrite] = list(self.sf.update_many(spec.sf_object, records))
                elif own is not None:
                    since = own.since
                    after = {"after": _ids_query(spec, chunk, "Id, SystemModstamp")}
                    if since is not None:
                        after["changed"] = (f"SELECT Id, SystemModstamp FROM {spec.sf_object} WHERE SystemModstamp "
                                            f">= {since} ORDER BY SystemModstamp, Id")
                    raw, pages = self.writer(spec.sf_object, records,
                                             before={"before": _ids_query(spec, chunk, "Id, SystemModstamp")},
                                             after=after)
                    results = [_as_write(result) for result in raw]
                else:
                    raw, _ = self.writer(spec.sf_object, records)
                    results = [_as_write(result) for result in raw]
            except QbsfError as exc:
                if own is not None:
                    own.unproven = True  # the call may have written some of them
                logger.warning("%s: writing %d QuickBooks id(s) back to Salesforce failed (%s); retrying next "
                               "cycle", spec.name, len(chunk), exc)
                continue
            remembered = _remember_own(own, self.expected, chunk, results, pages, since) if own is not None else []
            self.sent.append(_Sent(chunk, results, remembered))
            if first:
                crash_point("mid_write_back")
                first = False

    def finish(self, report: Any) -> None:
        """Record what :meth:`send` did, in the pass's thread: the engine's own versions remembered as seen, the ids
        Salesforce now holds marked written back, the refused ones logged."""
        spec, state = self.spec, self.state
        done: list[str] = []
        gave_up: list[Activity] = []
        for sent in self.sent:
            if sent.remembered:
                state.remember_seen(spec.watermark_source, sent.remembered)
            for link, result in zip(sent.links, sent.results, strict=True):
                if result.ok:
                    done.append(link.sf_id)
                elif isinstance(result.error, Retriable):
                    logger.warning("%s %s: QuickBooks id write-back failed (%s); retrying next cycle", spec.name,
                                   link.sf_id, result.message)
                else:
                    # Deleted, or refused for good: retrying every cycle would only spend API calls.
                    done.append(link.sf_id)
                    gave_up.append(Activity(spec.name, Direction.SF_TO_QB, "write_back", Outcome.FAILED,
                                            sf_id=link.sf_id, qb_id=link.qb_id, cycle=self.cycle,
                                            message=f"the QuickBooks id could not be written to {spec.sf_object}."
                                                    f"{spec.qb_id_field}: {result.message}"))
        crash_point("after_write_back")
        with state.batch():
            state.mark_written_back_many(spec.name, done)
            state.log_many(gave_up)
        report.written_back += len(done) - len(gave_up)


def start_write_back(sync: Any, spec: EntitySpec) -> WriteBack | None:
    """The write-back of ``spec``'s QuickBooks ids Salesforce does not hold yet, ready to send (None: none)."""
    pending = sync.state.pending_write_backs(spec.name)
    return WriteBack(sync, spec, pending) if pending else None


def write_back(sync: Any, spec: EntitySpec, report: Any) -> None:
    """Write the QuickBooks ids Salesforce does not hold yet (this batch's, and any a crash left behind), sent and
    finished in the caller's thread — the write-back step of :class:`qbsf.sync.outbound.OutboundSync`."""
    job = start_write_back(sync, spec)
    if job is not None:
        job.send()
        job.finish(report)


class WriteBacks:
    """A pass's write-backs: each one sent on a thread of its own while the pass takes the next batch to QuickBooks,
    one on its way at a time, and finished in the pass's thread before the next is sent (or the poll of its entity
    ends, or the pass ends: :meth:`settle`)."""

    def __init__(self, sync: Any) -> None:
        self.sync = sync
        # Whether write-backs go beside the pass: only a pass that settles them (the engine's) turns it on.
        self.beside = False
        self._on_its_way: tuple[WriteBack, Job[None], Any] | None = None

    def start(self, spec: EntitySpec, report: Any, *, now: bool = False) -> None:
        """Write back ``spec``'s pending ids: beside the pass (when :attr:`beside`), or here and now (``now``)."""
        self.settle()
        job = start_write_back(self.sync, spec)
        if job is None:
            return
        if now or not self.beside:
            job.send()
            job.finish(report)
            return
        self._on_its_way = (job, Job(job.send, name=f"qbsf-write-back-{spec.name}"), report)

    def settle(self, *, quiet: bool = False) -> None:
        """Wait for the write-back on its way and record it; its error is raised here (logged with ``quiet``: the
        pass is already ending on another error)."""
        if self._on_its_way is None:
            return
        job, sending, report = self._on_its_way
        self._on_its_way = None
        try:
            sending.result()
            job.finish(report)
        except Exception as exc:
            if not quiet:
                raise
            logger.warning("%s: the write-back on its way when the pass stopped failed too (%s); the ids it did not "
                           "record are written back next cycle", job.spec.name, exc)
