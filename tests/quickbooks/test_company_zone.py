"""The QuickBooks company's time zone: configured, or this computer's own when QuickBooks runs here (COM)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import tzlocal

from qbsf.errors import ConfigError
from qbsf.quickbooks.timestamps import DST_STEP, CompanyClock, clock_for, company_zone, dst_step_possible
from qbsf.sync.inbound import InboundConfig


@pytest.fixture
def computer_in(monkeypatch):
    """Put this computer in a zone for the test (tzlocal reads TZ first on Unix)."""

    def move(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        tzlocal.reload_localzone()

    yield move
    monkeypatch.undo()
    time.tzset()
    tzlocal.reload_localzone()


def test_the_configured_zone_wins_whatever_the_transport(computer_in) -> None:
    computer_in("Asia/Tokyo")
    for transport in ("com", "webconnector", ""):
        assert company_zone("Europe/Berlin", transport) == ZoneInfo("Europe/Berlin")


def test_com_without_a_zone_uses_this_computers_zone_with_its_dst_rules(computer_in) -> None:
    computer_in("America/Los_Angeles")
    zone = company_zone("", "com")
    assert zone == ZoneInfo("America/Los_Angeles")
    assert clock_for(zone, None).zone == zone  # a clock that knows the DST steps: no two-hour re-read


def test_the_web_connector_without_a_zone_stays_unknown(computer_in) -> None:
    # QuickBooks runs on another computer: this computer's zone says nothing about its clock.
    computer_in("America/Los_Angeles")
    assert company_zone("", "webconnector") is None
    assert company_zone("", "") is None


def test_a_wrong_zone_name_is_a_clear_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"quickbooks\.time_zone: 'Mars/Olympus'"):
        company_zone("Mars/Olympus", "com")


def test_the_inbound_pass_reads_with_this_computers_zone_over_com(computer_in) -> None:
    computer_in("Europe/Berlin")
    settings = SimpleNamespace(quickbooks=SimpleNamespace(time_zone="", transport="com"), sync=None)
    assert InboundConfig.from_settings(settings).company_tz == ZoneInfo("Europe/Berlin")
    settings.quickbooks.transport = "webconnector"
    assert InboundConfig.from_settings(settings).company_tz != ZoneInfo("Europe/Berlin")


PACIFIC = timezone(timedelta(hours=-8))  # what QuickBooks' stamps carry in Los Angeles, all year


def test_a_clock_change_is_possible_only_around_a_zones_change_day() -> None:
    fall_back = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # 2:00 PDT → 1:00 PST in Los Angeles
    assert dst_step_possible(PACIFIC, fall_back - timedelta(minutes=30), fall_back + timedelta(minutes=5))
    assert dst_step_possible(PACIFIC, fall_back - timedelta(hours=3), fall_back - timedelta(minutes=30))
    quiet = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    assert not dst_step_possible(PACIFIC, quiet - timedelta(hours=2), quiet)
    # Arizona keeps -7 all year, but Denver (-7 standard) changes on 2026-03-08 09:00 UTC.
    spring = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    assert dst_step_possible(timezone(timedelta(hours=-7)), spring - timedelta(hours=1), spring + timedelta(hours=1))


def test_unknown_offsets_and_long_windows_always_widen() -> None:
    quiet = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    assert dst_step_possible(None, quiet - timedelta(hours=1), quiet)
    assert dst_step_possible(PACIFIC, quiet - timedelta(days=3), quiet)  # two changes could cancel out


def test_without_a_zone_the_read_is_widened_only_near_a_clock_change() -> None:
    watermark = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    quiet = CompanyClock(base=PACIFIC, now=watermark + timedelta(minutes=10))
    # One step is QuickBooks' own reading of the wall time, which from_modified gives back: the filter starts at
    # the watermark itself.
    assert quiet.from_modified(quiet.delta_start(watermark, timedelta(0))) == \
        watermark.astimezone(PACIFIC).replace(tzinfo=None)
    near = datetime(2026, 11, 1, 8, 50, tzinfo=UTC)
    changing = CompanyClock(base=PACIFIC, now=near + timedelta(minutes=20))
    assert changing.delta_start(near, timedelta(0)) == near - 2 * DST_STEP
    assert CompanyClock(base=PACIFIC).delta_start(watermark, timedelta(0)) == watermark - 2 * DST_STEP
