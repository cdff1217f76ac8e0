"""No echo: a second full cycle both ways over unchanged data writes nothing, on either side (issues 6 and 7)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from qbsf.bench.outbound import seed_org
from qbsf.sync.inbound import InboundConfig, InboundSync

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def _inbound(world) -> InboundSync:
    return InboundSync(InboundConfig(), world.sf, world.qb, world.state, world.mappings, clock=world.qb_sim.now)


def _cycle(world, full: bool = True) -> tuple[Any, Any]:
    """One cycle each way, SF → QB then QB → SF: full as the demo runs it, or from the change polls (runtime)."""
    outbound = world.engine().sync_sf_to_qb(full=full)
    inbound = _inbound(world).run(full=full)
    assert outbound.ok, outbound.failures
    assert inbound.ok, inbound.failures
    return outbound, inbound


def _qb_writes(world) -> Counter[str]:
    return Counter({name: count for name, count in world.qb_sim.stats.requests_by_type.items()
                    if name.endswith(("Add", "Mod", "Del"))})


def _sf_writes(world) -> list[str]:
    # Reads go out as GET (queries) or POST /composite (the cycle's batched reads); anything else writes.
    return [f"{call['method']} {call['path']}" for call in world.sf_state.request_log
            if call["method"] in WRITE_METHODS and "/composite" not in call["path"]
            and "/oauth2/" not in call["path"]]


def _seed_quickbooks_only(world) -> dict[str, str]:
    """Customers and items made in QuickBooks, carrying fields the inbound mappings do not take to Salesforce."""
    made = {}
    for number in range(3):
        customer = world.qb_sim.add("Customer", {
            "Name": f"QB Only {number}", "CompanyName": f"QB Only Holdings {number} Ltd",
            "Email": f"billing{number}@qbonly.example", "Fax": f"555-090{number}", "AltPhone": f"555-070{number}",
            "Phone": f"(415) 555-01{number:02d}", "BillAddress": {"Addr1": f"{number} Main St", "City": "Oakland"}})
        made[customer["ListID"]] = customer["EditSequence"]
    for number, price in enumerate(("125", "12.5", "0.99")):
        item = world.qb_sim.add("ItemService", {
            "Name": f"QB Service {number}", "SalesOrPurchase": {
                "Desc": f"Service {number}", "Price": price, "AccountRef": {"FullName": "Services"}}})
        made[item["ListID"]] = item["EditSequence"]
    return made


@pytest.mark.parametrize("full", [True, False], ids=["full", "polled"])
def test_second_cycle_writes_nothing_on_either_side(world, full) -> None:
    seed_org(world.sf_state, accounts=6, contacts=4, products=4, opportunities=8, lines=4)
    made = _seed_quickbooks_only(world)
    first_out, first_in = _cycle(world, full)
    assert first_out.total("created") > 0 and first_in.total("created") > 0, "the first cycle syncs both ways"
    qb_before, log_before = _qb_writes(world), len(world.sf_state.request_log)
    stamps = {name: {r["Id"]: r["SystemModstamp"] for r in world.sf_state.records(name)}
              for name in ("Account", "Contact", "Product2", "Opportunity", "QB_Invoice__c")}
    versions = {r["TxnID"]: r["EditSequence"] for r in world.qb_sim.invoices()}

    outbound, inbound = _cycle(world, full)

    assert _qb_writes(world) - qb_before == Counter(), "no QuickBooks Add, Mod or Del in the second cycle"
    assert outbound.total("updated") == outbound.total("created") == 0
    assert outbound.total("unchanged") == outbound.total("read")
    assert inbound.total("updated") == inbound.total("created") == 0
    new_calls = list(world.sf_state.request_log)[log_before:]
    assert not [c for c in new_calls if c["method"] in WRITE_METHODS and "/composite" not in c["path"]
                and "/oauth2/" not in c["path"]], "no Salesforce write in the second cycle"
    assert {name: {r["Id"]: r["SystemModstamp"] for r in world.sf_state.records(name)} for name in stamps} == stamps
    assert {r["TxnID"]: r["EditSequence"] for r in world.qb_sim.invoices()} == versions
    for qb_id, sequence in made.items():
        assert world.qb_sim.get(qb_id)["EditSequence"] == sequence, "QuickBooks' own records are never echoed"
    # Nor on the third: the hashes recorded for records the inbound pass created stay valid.
    third_out, _ = _cycle(world, full)
    assert third_out.total("unchanged") == third_out.total("read") and _qb_writes(world) - qb_before == Counter()


def test_quickbooks_fields_the_inbound_mapping_does_not_carry_survive_the_next_outbound_cycle(world) -> None:
    made = _seed_quickbooks_only(world)
    customers = {qb_id: dict(world.qb_sim.get(qb_id)) for qb_id in made if world.qb_sim.get(qb_id).get("Email")}
    assert _inbound(world).run(["Customer"]).ok
    assert len(world.sf_state.records("Account")) == 3
    report = world.engine().sync_sf_to_qb(["Account"], full=True)
    assert report.ok and report.entities["Account"].unchanged == 3 and report.qb_messages == 0
    for qb_id, before in customers.items():
        after = world.qb_sim.get(qb_id)
        for name in ("Email", "Fax", "AltPhone", "CompanyName", "Phone", "EditSequence"):
            assert after.get(name) == before.get(name), f"QuickBooks {name} of {before['Name']} changed"

    # A real edit in Salesforce still reaches QuickBooks, and only the edited field is sent.
    qb_id, before = next(iter(customers.items()))
    (account,) = [a for a in world.sf_state.records("Account") if a["QB_Customer_ID__c"] == qb_id]
    world.sf_state.update("Account", account["Id"], {"Phone": "(415) 555-9999"})
    report = world.engine().sync_sf_to_qb(["Account"])
    assert report.ok and report.entities["Account"].updated == 1
    after = world.qb_sim.get(qb_id)
    assert after["Phone"] == "(415) 555-9999"
    for name in ("Email", "Fax", "AltPhone", "CompanyName"):
        assert after.get(name) == before.get(name), f"the Mod overwrote QuickBooks {name}"
    # A rename is a change of Name's source: the mapping's Name → CompanyName row applies again.
    world.sf_state.update("Account", account["Id"], {"Name": "Renamed in Salesforce"})
    assert world.engine().sync_sf_to_qb(["Account"]).ok
    after = world.qb_sim.get(qb_id)
    assert (after["Name"], after["CompanyName"], after["Email"]) == ("Renamed in Salesforce", "Renamed in Salesforce",
                                                                    before["Email"])


def test_reordered_salesforce_lines_do_not_replace_the_invoice_lines(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1, products=3, opportunities=1, lines=3)
    assert world.engine().run_cycle().ok
    (invoice,) = world.qb_sim.invoices()
    line_ids = sorted(line["TxnLineID"] for line in invoice["InvoiceLineRet"])
    items = world.sf_state.records("OpportunityLineItem")
    # A Salesforce user drags the lines into another order and renames the Opportunity: the header changes,
    # the lines only moved, so QuickBooks keeps every line (and its TxnLineID).
    for position, line in enumerate(reversed(items)):
        world.sf_state.update("OpportunityLineItem", line["Id"], {"SortOrder": position + 1})
    world.sf_state.update("Opportunity", seeded.opportunities[0], {"Name": "Renamed deal"})
    report = world.engine().run_cycle()
    assert report.ok and report.entities["Opportunity"].updated == 1
    (after,) = world.qb_sim.invoices()
    assert after["Memo"] == "Opportunity: Renamed deal"
    assert sorted(line["TxnLineID"] for line in after["InvoiceLineRet"]) == line_ids


def test_a_changed_line_reaches_quickbooks_in_place(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1, products=3, opportunities=1, lines=3)
    assert world.engine().run_cycle().ok
    line_ids = sorted(line["TxnLineID"] for line in world.qb_sim.invoices()[0]["InvoiceLineRet"])
    line = world.sf_state.records("OpportunityLineItem")[0]
    world.sf_state.update("OpportunityLineItem", line["Id"], {"Quantity": 77})
    world.sf_state.update("Opportunity", seeded.opportunities[0], {"Name": "More of one product"})
    report = world.engine().run_cycle()
    assert report.ok and report.entities["Opportunity"].updated == 1
    (invoice,) = world.qb_sim.invoices()
    assert sorted(str(line["Quantity"]) for line in invoice["InvoiceLineRet"]).count("77") == 1
    # The edited line is modified in place: every line keeps its TxnLineID (QuickBooks' audit trail shows one edit).
    assert sorted(line["TxnLineID"] for line in invoice["InvoiceLineRet"]) == line_ids
