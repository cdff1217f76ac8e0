"""No re-read storm QuickBooks → Salesforce: a window of records all seen settles, and reads start after it.

The company's zone is configured (``quickbooks.time_zone``): without it the delta read reaches two DST steps
further back whatever the window (qbsf.quickbooks.timestamps), so a settled window still reads those two hours.
"""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

UTC_ZONE = ZoneInfo("UTC")


def test_a_fully_seen_window_settles_and_idle_passes_read_nothing_again(world, inbound) -> None:
    sim = world.qb_sim
    for number in range(30):  # written in one second (the simulator's clock stands still), as a bulk write is
        sim.add("Customer", {"Name": f"Customer {number:02d}"})
    first = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
    assert first.ok and first.entities["Customer"].created == 30
    # Within the overlap (+1 s) since the watermark was first seen, the window is read again, handled once.
    again = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
    assert again.entities["Customer"].reread == 30 and again.sf_calls == 0
    time.sleep(1.1)
    settling = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
    assert settling.entities["Customer"].reread == 30, "one last read of the whole window settles it"
    assert world.state.get_watermark("qb:Customer@settled", entity="Customer") is not None
    for _cycle in range(2):
        idle = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
        assert idle.entities["Customer"].reread == 0 and idle.entities["Customer"].queried == 0
    # A change after it moves the watermark and is read.
    sim.advance(5)
    changed = sim.add("Customer", {"Name": "Customer 99"})
    report = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
    assert report.entities["Customer"].created == 1 and report.entities["Customer"].reread == 0
    assert changed["ListID"] in {link.qb_id for link in world.state.links("Account")}
    # A reset forgets where the window settled: everything is read again, nothing duplicated.
    full = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"], reset=True)
    assert full.ok and full.entities["Customer"].created == 0
