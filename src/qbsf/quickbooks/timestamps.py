"""QuickBooks Desktop time stamps and the modified-date filter, in QuickBooks' own terms.

What QuickBooks does (no Intuit page states it; libraries written against real QuickBooks document it):

- ``TimeCreated``/``TimeModified`` carry the **local wall-clock time** of the QuickBooks computer followed by the
  **base UTC offset** of its time zone, whatever daylight saving time says: a change at 10:00 PDT is stamped
  ``10:00:00-08:00`` (quickbooks-sync, pull request 28 "Update DATETIMETYPE for better QuickBooks UTC offset bug
  handling": "The DateTime is otherwise accurate (follows DST), but the offset does not follow DST"; its
  DATETIMETYPE therefore drops the offset QuickBooks sends). Taken at face value such a stamp is an hour late
  in summer, and in the hour repeated when clocks fall back two different moments carry the same stamp.
- ``FromModifiedDate`` without an offset is the local time of the QuickBooks computer (quickbooks-sync issue 19,
  "QuickBooks does not handle UTC time properly": ``2016-05-17T20:00:00`` "checks for 20:00 LOCAL time on
  QuickBooks machine"); the library's recommended delta filter is the saved stamp with its offset removed, plus
  one second (pull request 33). A value with an offset is read as QuickBooks writes one: its clock time in the
  base offset, taken as local wall time.

So qbsf keeps its watermark as a true UTC instant and talks to QuickBooks in local wall time:

- :meth:`CompanyClock.corrected` turns the stamps of records QuickBooks returned into the instants they stand
  for (a stamp inside the repeated hour is taken as its earlier reading, never later than the change);
- :meth:`CompanyClock.delta_start` is the earliest instant the next read must cover: the watermark minus the
  overlap, moved back before the repeated hour when that instant's wall time is inside it (QuickBooks may read
  such a wall time as either moment);
- :meth:`CompanyClock.from_modified` is that instant as the ``FromModifiedDate`` QuickBooks understands (local
  wall time, no offset, never a wall time that exists twice).

Without the company's time zone (setting ``quickbooks.time_zone``, an IANA name such as ``America/Los_Angeles``)
the DST rules are unknown: stamps are kept at face value and every read starts an extra hour earlier, which
covers any daylight-saving step; what the extra hour reads again is recognised by its version and costs nothing
in Salesforce.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from qbsf.errors import ConfigError

__all__ = ["DST_STEP", "CompanyClock", "base_offset", "clock_for", "company_zone", "dst_step_possible", "zone_named"]

log = logging.getLogger(__name__)

# The largest daylight-saving step in use (an hour; Lord Howe Island's is half an hour).
DST_STEP = timedelta(hours=1)
_STAMPS = ("TimeCreated", "TimeModified", "TimeDeleted")

R = TypeVar("R")


def zone_named(name: str) -> tzinfo | None:
    """The IANA time zone ``name`` (blank → None); a clear error naming the setting for an unknown name."""
    name = (name or "").strip()
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"quickbooks.time_zone: {name!r} is not an IANA time zone name",
                          hint="use the zone of the computer QuickBooks runs on, e.g. America/Los_Angeles or "
                               "Europe/Berlin") from None


def company_zone(configured: str, transport: str = "") -> tzinfo | None:
    """The QuickBooks company's time zone: the configured IANA name (``quickbooks.time_zone``); when that is blank
    and QuickBooks runs on this computer (the ``com`` transport), this computer's own zone; else None."""
    zone = zone_named(configured)
    if zone is not None or transport != "com":
        return zone
    # Over COM QuickBooks stamps changes with this very computer's clock, so its zone is QuickBooks' zone.
    import tzlocal

    try:
        name = tzlocal.get_localzone_name()
        local = ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError, LookupError, OSError):
        local = None
    if local is not None and "local" not in _told:
        _told.add("local")
        log.info("quickbooks.time_zone is not set: QuickBooks runs on this computer (COM), so qbsf uses its zone, "
                 "%s", name)
    return local


def base_offset(moment: datetime) -> timedelta:
    """The zone's standard (non-DST) UTC offset at an aware ``moment``: the offset QuickBooks writes."""
    offset = moment.utcoffset() or timedelta(0)
    return offset - (moment.dst() or timedelta(0))


def _knows_dst(zone: tzinfo | None) -> bool:
    return zone is not None and not isinstance(zone, timezone)


@dataclass(frozen=True)
class CompanyClock:
    """The QuickBooks company's clock: ``zone`` its IANA zone (DST rules) or None; ``base`` the fixed offset
    QuickBooks' stamps carry, when known (used only without ``zone``)."""

    zone: tzinfo | None = None
    base: tzinfo | None = None
    # The moment of the read (the connector's clock): without ``zone``, widening for a DST step is needed only when
    # some zone with the stamps' offset changes its clocks between the window's start and now. None: always widen.
    now: datetime | None = None

    @property
    def knows_dst(self) -> bool:
        return _knows_dst(self.zone)

    # --- stamps QuickBooks wrote -> instants ---------------------------------------------------------------------
    def to_utc(self, stamp: datetime) -> datetime:
        """The UTC instant a TimeModified/TimeCreated stands for."""
        if not self.knows_dst:
            if stamp.tzinfo is None:
                return stamp.replace(tzinfo=self.base or UTC).astimezone(UTC)
            return stamp.astimezone(UTC)
        # The offset QuickBooks writes is the base offset, not the one in force: only the wall time counts.
        wall = stamp.replace(tzinfo=None)
        return wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def corrected(self, records: Iterable[R]) -> list[R]:
        """The records with TimeCreated/TimeModified/TimeDeleted turned into true instants (company's zone)."""
        out = list(records)
        if not self.knows_dst:
            return out
        for record in out:
            for name in _STAMPS:
                stamp = getattr(record, name, None)
                if isinstance(stamp, datetime):
                    setattr(record, name, self.to_utc(stamp).astimezone(self.zone))
        return out

    # --- the delta filter ------------------------------------------------------------------------------------
    def delta_start(self, watermark: datetime, overlap: timedelta) -> datetime:
        """The earliest instant (UTC) the read after ``watermark`` must cover; records read again from before it
        are recognised by their version."""
        start = watermark.astimezone(UTC) - overlap
        if not self.knows_dst:
            # Face-value stamps may be up to one DST step late, and QuickBooks may read the filter's wall time up
            # to one step early: two steps keep every change inside the window. The second is needed only when a
            # clock change may lie inside the window; from_modified gives the first one back.
            if self.now is not None and not dst_step_possible(self.base, start - 2 * DST_STEP, self.now):
                return start - DST_STEP
            return start - 2 * DST_STEP
        wall = start.astimezone(self.zone).replace(tzinfo=None)
        first = wall.replace(tzinfo=self.zone, fold=0)
        second = wall.replace(tzinfo=self.zone, fold=1)
        step = second.astimezone(UTC) - first.astimezone(UTC)
        if step > timedelta(0):
            # Clocks fell back: this wall time exists twice. Start before the repeated hour began, so whichever
            # moment QuickBooks takes the wall time for, nothing after ``start`` is left out.
            return first.astimezone(UTC) - step
        return start

    def from_modified(self, start: datetime) -> datetime:
        """``start`` (from :meth:`delta_start`) as QuickBooks' FromModifiedDate: local wall time, no offset."""
        if self.knows_dst:
            return start.astimezone(self.zone).replace(tzinfo=None)
        # One of the two DST steps in delta_start is QuickBooks' reading of the wall time, not ours.
        moment = start.astimezone(UTC) + DST_STEP
        return moment.astimezone(self.base).replace(tzinfo=None) if self.base is not None else moment


# A read window longer than this may hold two clock changes that cancel out: it is always widened.
_LONGEST_CHECKED_WINDOW = timedelta(hours=36)


def dst_step_possible(base: tzinfo | None, start: datetime, end: datetime) -> bool:
    """Whether the clocks of any zone whose standard offset is ``base`` may change between ``start`` and ``end``.

    Without the company's zone qbsf knows only the offset QuickBooks' stamps carry (the standard one); a clock
    change can happen only in a zone with that standard offset, on a handful of days a year."""
    if base is None or end - start > _LONGEST_CHECKED_WINDOW:
        return True
    start, end = start.astimezone(UTC) - DST_STEP, end.astimezone(UTC) + DST_STEP
    offset = base.utcoffset(start)
    if offset is None:
        return True
    zones = _zones_with_standard_offset(int(offset.total_seconds() // 60), start.year)
    return any(start.astimezone(ZoneInfo(name)).utcoffset() != end.astimezone(ZoneInfo(name)).utcoffset()
               for name in zones)


@lru_cache(maxsize=32)
def _zones_with_standard_offset(minutes: int, year: int) -> tuple[str, ...]:
    """The IANA zones (with DST rules) whose standard UTC offset in ``year`` is ``minutes``."""
    found = []
    for name in sorted(available_timezones()):
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
        offsets = {datetime(year, month, 15, tzinfo=UTC).astimezone(zone).utcoffset() for month in (1, 4, 7, 10)}
        if len(offsets) < 2:
            continue  # no clock change that year
        standard = min(offset for offset in offsets if offset is not None)
        if int(standard.total_seconds() // 60) == minutes:
            found.append(name)
    return tuple(found)


_told: set[str] = set()


def clock_for(zone: tzinfo | None, learned: tzinfo | None, now: datetime | None = None) -> CompanyClock:
    """The clock for a configured ``zone`` (IANA, or a fixed offset) and the offset ``learned`` from stamps;
    ``now`` the moment of the read (see :attr:`CompanyClock.now`)."""
    if _knows_dst(zone):
        return CompanyClock(zone=zone)
    if "zone" not in _told:
        _told.add("zone")
        log.info("quickbooks.time_zone is not set: qbsf cannot tell when QuickBooks' clock changes for daylight "
                 "saving, so on the days a zone with its offset changes clocks each pass reads two more hours of "
                 "QuickBooks changes (skipped at no Salesforce cost); set it to the QuickBooks computer's zone, "
                 "e.g. America/Los_Angeles")
    return CompanyClock(base=zone or learned, now=now)

