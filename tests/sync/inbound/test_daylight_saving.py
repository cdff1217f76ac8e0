"""QuickBooks → Salesforce across daylight-saving transitions: no change missed, none handled twice.

The company's QuickBooks runs in a DST zone and stamps changes as real QuickBooks does (local wall time, base
offset); the connector runs in another zone (Asia/Tokyo, no DST). Customers are edited between passes every
ten minutes through the two hours either side of each transition, the repeated hour included.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from qbsf.quickbooks.records import Customer
from qbsf.quickbooks.timestamps import CompanyClock, clock_for
from qbsf.sim.quickbooks import QuickBooksSimulator

# (zone, fall-back instant, spring-forward instant) in 2026.
ZONES = {
    "America/Los_Angeles": (datetime(2026, 11, 1, 9, 0, tzinfo=UTC), datetime(2026, 3, 8, 10, 0, tzinfo=UTC)),
    "Europe/Berlin": (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
}
NAMES = [f"Customer {n}" for n in range(6)]


@pytest.fixture(params=sorted(ZONES))
def zone(request) -> str:
    return request.param


@pytest.fixture
def clock() -> dict:
    return {"now": datetime(2026, 1, 1, tzinfo=UTC)}


@pytest.fixture
def qb_sim(zone, clock):
    """A QuickBooks company in ``zone`` whose clock the test moves."""
    sim = QuickBooksSimulator(utc_offset_hours=ZoneInfo(zone), clock=lambda: clock["now"])
    yield sim
    sim.close()


@pytest.fixture
def connector_in_tokyo(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _phones(world) -> dict[str, str]:
    return {r["Name"]: r.get("Phone") for r in world.sf_state.records("Account")}


def _walk(world, inbound, clock, start: datetime, *, zone: str | None) -> list[str]:
    """Edit customers between passes from two hours before ``start`` to two hours after; return the problems."""
    config = {"company_tz": ZoneInfo(zone)} if zone else {}
    clock["now"] = start - timedelta(hours=2, minutes=10)
    ids = {name: world.qb_sim.add("Customer", {"Name": name, "Phone": "0"})["ListID"] for name in NAMES}
    assert inbound(**config).run(["Customer"]).ok
    problems: list[str] = []
    edit = 0
    for step in range(24):
        edited = set()
        for minute in (2, 5, 8):  # three edits of three different customers inside each ten minutes
            clock["now"] = start - timedelta(hours=2) + timedelta(minutes=10 * step + minute)
            name = NAMES[(3 * step + minute) % len(NAMES)]
            edit += 1
            world.qb_sim.modify(ids[name], {"Phone": f"555-{edit:04d}"})
            edited.add(name)
        clock["now"] = start - timedelta(hours=2) + timedelta(minutes=10 * step + 10)
        report = inbound(**config).run(["Customer"])
        customer = report.entities["Customer"]
        local = clock["now"].astimezone(world.qb_sim.tz).strftime("%H:%M %Z")
        if customer.queried != len(edited) or customer.updated != len(edited):
            problems.append(f"pass at {local}: read {customer.queried}, updated {customer.updated}, "
                            f"expected {len(edited)}")
        expected = {c["Name"]: c["Phone"] for c in world.qb_sim.customers()}
        missed = {n for n in NAMES if _phones(world)[n] != expected[n]}
        if missed:
            problems.append(f"pass at {local}: missed {sorted(missed)}")
    return problems


@pytest.mark.parametrize("transition", ["fall back", "spring forward"])
def test_no_change_missed_and_none_handled_twice(world, inbound, clock, zone, transition, connector_in_tokyo):
    fall_back, spring_forward = ZONES[zone]
    start = fall_back if transition == "fall back" else spring_forward
    assert _walk(world, inbound, clock, start, zone=zone) == []


def test_without_the_company_zone_nothing_is_missed_or_handled_twice(world, inbound, clock, zone,
                                                                       connector_in_tokyo):
    # qbsf does not know the DST rules: each pass reads two hours more, recognised by version and skipped.
    assert _walk(world, inbound, clock, ZONES[zone][0], zone=None) == []


def test_the_clock_reads_stamps_and_writes_the_filter_in_quickbooks_terms(zone):
    tz = ZoneInfo(zone)
    clock = clock_for(tz, None)
    assert clock.knows_dst and not CompanyClock().knows_dst
    base = timezone(tz.utcoffset(datetime(2026, 1, 15)))  # the standard offset QuickBooks writes all year
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=tz)
    assert clock.to_utc(summer.replace(tzinfo=base)) == summer.astimezone(UTC), "the wall time counts"
    (record,) = clock.corrected([Customer(TimeModified=summer.replace(tzinfo=base))])
    assert record.TimeModified == summer and record.TimeModified.utcoffset() == summer.utcoffset()
    # Just after the fall-back the watermark's wall time exists twice: start before the repeated hour.
    fall_back = ZONES[zone][0]
    start = clock.delta_start(fall_back + timedelta(minutes=20), timedelta(seconds=10))
    assert start <= fall_back - timedelta(hours=1)
    assert clock.from_modified(start).tzinfo is None
    # Far from any transition the window is the watermark minus the overlap, sent as local wall time.
    quiet = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
    assert clock.delta_start(quiet, timedelta(seconds=10)) == quiet - timedelta(seconds=10)
    assert clock.from_modified(quiet) == quiet.astimezone(tz).replace(tzinfo=None)


def test_the_company_zone_is_the_quickbooks_time_zone_setting():
    from types import SimpleNamespace

    import pydantic

    from qbsf.app.settings import QuickBooksSettings
    from qbsf.sync.inbound import InboundConfig

    settings = SimpleNamespace(quickbooks=QuickBooksSettings(time_zone=" Europe/Berlin "), sync=SimpleNamespace())
    config = InboundConfig.from_settings(settings)
    assert config.company_tz == ZoneInfo("Europe/Berlin"), "the OverDue day and the delta filter use it"
    assert InboundConfig.from_settings(SimpleNamespace(quickbooks=QuickBooksSettings())).company_tz is None
    with pytest.raises(pydantic.ValidationError, match="'Mars/Olympus' is not an IANA time zone name"):
        QuickBooksSettings(time_zone="Mars/Olympus")


def test_the_overdue_day_follows_the_company_calendar_in_summer(world, inbound, clock, zone):
    # 00:30 local on 2 July (summer time): an invoice due on 1 July is overdue now, though the zone's base offset
    # alone would still say 1 July.
    local = datetime(2026, 7, 2, 0, 30, tzinfo=ZoneInfo(zone))
    clock["now"] = local.astimezone(UTC)
    sync = inbound(company_tz=ZoneInfo(zone))
    sync.clock = lambda: clock["now"]
    assert sync.today() == local.date()
    base = timezone(ZoneInfo(zone).utcoffset(datetime(2026, 1, 15)))
    assert clock["now"].astimezone(base).date() != local.date()


def test_deletions_around_the_fall_back_are_each_recorded_once(world, inbound, clock, zone, connector_in_tokyo):
    fall_back = ZONES[zone][0]
    clock["now"] = fall_back - timedelta(hours=1)
    ids = [world.qb_sim.add("Customer", {"Name": f"Gone {n}"})["ListID"] for n in range(8)]
    assert inbound(company_tz=ZoneInfo(zone)).run(["Customer"]).ok
    seen = []
    for step, list_id in enumerate(ids):  # one deletion every 20 minutes, through the repeated hour
        clock["now"] = fall_back - timedelta(minutes=35) + timedelta(minutes=20 * step)
        world.qb_sim.delete(list_id)
        clock["now"] += timedelta(minutes=10)
        report = inbound(company_tz=ZoneInfo(zone)).run(["Customer"])
        seen.append(report.entities["Customer"].deleted)
    assert seen == [1] * len(ids), "each deletion recorded in the pass after it, none missed, none twice"


def test_a_missing_zone_is_said_once_with_the_setting_to_use(caplog, monkeypatch):
    import logging

    from qbsf.quickbooks import timestamps

    monkeypatch.setattr(timestamps, "_told", set())
    with caplog.at_level(logging.INFO, logger="qbsf.quickbooks.timestamps"):
        clock_for(None, None)
        clock_for(timezone(timedelta(hours=-8)), None)
        clock_for(ZoneInfo("Europe/Berlin"), None)
    (record,) = caplog.records
    assert "quickbooks.time_zone is not set" in record.getMessage() and "America/Los_Angeles" in record.getMessage()
