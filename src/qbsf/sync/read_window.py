"""Where an incremental read starts, and how a window that is fully seen moves on (both directions).

A delta read starts ``overlap`` before its watermark W (the newest version seen), so a record saved with a time
stamp older than W but committed a little late is still read; records read before are skipped by (id, version).
Left there, every record stamped within ``overlap`` of W is read again every cycle until something newer moves W —
after a large initial sync, whose write-back stamps every record at once, that is every record, every idle cycle.

So the window settles. A late commit arrives within ``overlap`` of its time stamp; once ``overlap`` (plus one
time-stamp step) has passed since W was first seen (measured on this machine's clock, as a duration: no clock of
the other system is needed), one more read of the whole window finds every record stamped up to W. After it, W
is *settled*: reads start just after it (one time-stamp step later: 1 ms in Salesforce, 1 s in QuickBooks) until
a newer change moves W again. Until then, the Salesforce poller reads only what is newer than W and COUNT()s the
window in the same call: a count that differs from the records seen there reads the window again.

The settled point and when W was first seen are kept as watermark rows of the entity (``<source>@settled``,
``<source>@quiet``); resetting the source's watermark forgets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from qbsf.sync.state import StateStore

SETTLED = "@settled"
QUIET = "@quiet"


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class ReadStart:
    """Where one read starts: ``since`` (None = everything) and whether it covers W's whole unsettled window."""

    since: datetime | None
    whole: bool
    settle_due: bool


class ReadWindow:
    """The read window of one change source (``sf:Account``, ``qb:Customer``) of one entity."""

    def __init__(self, state: StateStore, source: str, *, entity: str, overlap: timedelta,
                 resolution: timedelta) -> None:
        self.state = state
        self.source = source
        self.entity = entity
        self.overlap = overlap
        self.resolution = resolution

    def _get(self, suffix: str) -> str | None:
        return self.state.get_watermark(self.source + suffix, entity=self.entity)

    def _set(self, suffix: str, value: str) -> None:
        self.state.set_watermark(self.source + suffix, value, entity=self.entity)

    def settled(self) -> datetime | None:
        """Every record stamped at or before this has been read and no more can arrive there (or None)."""
        return _parse(self._get(SETTLED))

    def _quiet(self) -> tuple[datetime | None, datetime | None]:
        mark, _, seen_at = (self._get(QUIET) or "").partition(" ")
        return _parse(mark), _parse(seen_at)

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
