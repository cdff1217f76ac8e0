"""The QuickBooks company's time zone: configured, or this computer's own when QuickBooks runs here (COM)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import tzlocal

from qbsf.errors import ConfigError
from qbsf.quickbooks.timestamps import clock_for, company_zone
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
