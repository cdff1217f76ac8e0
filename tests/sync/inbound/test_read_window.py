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


def test_the_first_idle_pass_after_a_sync_of_several_pages_costs_one_quickbooks_message(world, inbound) -> None:
    """A window of more records than a page is checked by its versions inside the first message, not read again
    page by page; a record that reached the window late, or a second version in the same second, is still read."""
    sim, qb = world.qb_sim, world.qb
    qb.page_size = 5  # 30 customers: six pages
    customers = [sim.add("Customer", {"Name": f"Customer {number:02d}"}) for number in range(30)]
    first = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
    assert first.ok and first.entities["Customer"].created == 30

    before = sim.stats.messages
    idle = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
    assert sim.stats.messages - before == 1 == idle.qb_messages, "the window's six pages are not read again"
    assert idle.ok and idle.entities["Customer"].queried == 0 and idle.sf_calls == 0

    # Stamped in the watermark's own second, after the pass read it: a new customer and a second version of one
    # already seen (the same count of records in the window, one version not seen).
    late = sim.add("Customer", {"Name": "Customer 30"})
    sim.modify(customers[3]["ListID"], {"EditSequence": customers[3]["EditSequence"], "Phone": "555-0103"})
    before = sim.stats.messages
    caught = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
    assert caught.ok and caught.entities["Customer"].queried == 2
    assert caught.entities["Customer"].created == 1 and caught.entities["Customer"].updated == 1
    assert sim.stats.messages - before == 2, "the first message, then the two records not seen, by id"
    assert late["ListID"] in {link.qb_id for link in world.state.links("Account")}
    phones = {a["Name"]: a.get("Phone") for a in world.sf_state.records("Account")}
    assert "Customer 30" in phones and phones["Customer 03"] == "555-0103"

    # Once due, the checked window settles at no extra message; reads then start after it.
    time.sleep(1.1)
    before = sim.stats.messages
    settling = inbound(overlap=timedelta(0), company_tz=UTC_ZONE).run(["Customer"])
    assert settling.ok and sim.stats.messages - before == 1
    assert world.state.get_watermark("qb:Customer@settled", entity="Customer") is not None
