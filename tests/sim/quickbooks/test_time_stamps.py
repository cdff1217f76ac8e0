"""Time stamps as QuickBooks writes and reads them in a company whose time zone has daylight saving time.

Evidence (see qbsf.quickbooks.timestamps): TimeModified is the local wall time with the zone's *base* offset
(quickbooks-sync pull request 28); FromModifiedDate without an offset is local wall time (quickbooks-sync issue 19).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from qbsf.sim.quickbooks import QuickBooksSimulator

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
# 2026: the US falls back on 1 November at 09:00 UTC (02:00 PDT → 01:00 PST), springs forward on 8 March;
# the EU springs forward on 29 March at 01:00 UTC (02:00 CET → 03:00 CEST).
FALL_BACK_LA = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


class Company:
    """The simulator in a DST zone with a clock the test sets, and the schema-validated qbXML session."""

    def __init__(self, sim: QuickBooksSimulator, qb, clock: dict) -> None:
        self.sim, self.qb, self.clock = sim, qb, clock

    def at(self, moment: datetime) -> Company:
        self.clock["now"] = moment
        return self

    def add(self, name: str) -> dict:
        return self.sim.add("Customer", {"Name": name})

    def modified_since(self, value: str) -> list[str]:
        responses = self.qb.call(f"<CustomerQueryRq><FromModifiedDate>{value}</FromModifiedDate></CustomerQueryRq>")
        return sorted(ret.findtext("Name") for ret in responses[0])


@pytest.fixture
def clock() -> dict:
    return {"now": datetime(2026, 1, 1, tzinfo=UTC)}


@pytest.fixture
def sim(request, clock):
    """Overrides the package's simulator: a company in ``request.param`` (Los Angeles by default)."""
    simulator = QuickBooksSimulator(utc_offset_hours=getattr(request, "param", LA), clock=lambda: clock["now"])
    yield simulator
    simulator.close()


@pytest.fixture
def company(sim, qb, clock) -> Company:
    return Company(sim, qb, clock)


@pytest.mark.parametrize(("sim", "moment", "stamp"), [
    (LA, datetime(2026, 7, 1, 17, 0, tzinfo=UTC), "2026-07-01T10:00:00-08:00"),     # 10:00 PDT
    (LA, datetime(2026, 1, 15, 18, 0, tzinfo=UTC), "2026-01-15T10:00:00-08:00"),    # 10:00 PST
    (BERLIN, datetime(2026, 7, 1, 8, 0, tzinfo=UTC), "2026-07-01T10:00:00+01:00"),  # 10:00 CEST
    (BERLIN, datetime(2026, 1, 15, 9, 0, tzinfo=UTC), "2026-01-15T10:00:00+01:00"),  # 10:00 CET
], indirect=["sim"])
def test_stamps_are_local_wall_time_with_the_base_offset(company, moment, stamp):
    added = company.at(moment).add("Acme")
    assert added["TimeCreated"] == added["TimeModified"] == stamp
    (ret,) = company.qb.call("<CustomerQueryRq><FullName>Acme</FullName></CustomerQueryRq>")[0]
    assert ret.findtext("TimeModified") == stamp


def test_two_moments_of_the_repeated_hour_carry_the_same_stamp(company):
    first = company.at(datetime(2026, 11, 1, 8, 30, tzinfo=UTC)).add("Daylight")   # 01:30 PDT
    second = company.at(datetime(2026, 11, 1, 9, 30, tzinfo=UTC)).add("Standard")  # 01:30 PST, an hour later
    assert first["TimeModified"] == second["TimeModified"] == "2026-11-01T01:30:00-08:00"


def test_from_modified_date_is_local_wall_time(company):
    company.at(datetime(2026, 7, 1, 17, 0, tzinfo=UTC)).add("Summer")  # 10:00 PDT
    assert company.modified_since("2026-07-01T10:00:00") == ["Summer"]
    assert company.modified_since("2026-07-01T10:00:01") == []
    # A stamp sent back as QuickBooks wrote it (base offset) selects from that stamp on.
    assert company.modified_since("2026-07-01T10:00:00-08:00") == ["Summer"]
    assert company.modified_since("2026-07-01T10:00:01-08:00") == []
    # The true instant in UTC is read on QuickBooks' base clock (09:00 local): an hour too early, still included.
    assert company.modified_since("2026-07-01T17:00:00+00:00") == ["Summer"]
    assert company.modified_since("2026-07-01") == ["Summer"]
    assert company.modified_since("2026-07-02") == []


def test_a_wall_time_in_the_repeated_hour_hides_changes_of_its_first_reading(company):
    company.at(FALL_BACK_LA.replace(hour=8, minute=50)).add("Early")  # 01:50 PDT
    company.at(FALL_BACK_LA.replace(hour=9, minute=50)).add("Late")   # 01:50 PST
    # 01:45 exists twice; QuickBooks takes it as standard time (09:45 UTC): a client asking from there misses
    # the change made at 01:50 PDT. Asking from before the repeated hour misses nothing.
    assert company.modified_since("2026-11-01T01:45:00") == ["Late"]
    assert company.modified_since("2026-11-01T00:59:59") == ["Early", "Late"]


@pytest.mark.parametrize("sim", [BERLIN], indirect=True)
def test_spring_forward_and_the_local_calendar(company):
    company.at(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)).add("Before")  # 01:59 CET
    company.at(datetime(2026, 3, 29, 1, 1, tzinfo=UTC)).add("After")    # 03:01 CEST
    after, before = company.sim.customers()
    assert (before["TimeModified"], after["TimeModified"]) == ("2026-03-29T01:59:00+01:00",
                                                               "2026-03-29T03:01:00+01:00")
    assert company.modified_since("2026-03-29T03:00:00") == ["After"]
    company.at(datetime(2026, 3, 29, 22, 30, tzinfo=UTC))  # 00:30 CEST on the 30th: the company's today
    assert company.sim._company.today().isoformat() == "2026-03-30"
