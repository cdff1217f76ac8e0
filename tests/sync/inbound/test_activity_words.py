"""The inbound pass's activity rows in a bookkeeper's words: a failure's hint is said once, and the sub-customers
a pass skips are one row, not one per job."""

from __future__ import annotations


def test_skipped_sub_customers_are_one_activity_row_per_pass(world, inbound) -> None:
    parent = world.qb_sim.add("Customer", {"Name": "Parent Co"})
    for number in range(5):
        world.qb_sim.add("Customer", {"Name": f"Job {number}", "ParentRef": {"ListID": parent["ListID"]}})
    report = inbound().run(["Customer"])
    assert report.entities["Customer"].skipped == 5
    skipped = [a for a in world.state.recent(50) if str(a.outcome) == "skipped"]
    assert len(skipped) == 1, [a.message for a in skipped]
    assert skipped[0].message.startswith("5 skipped (sub-customer: not an Account): ")
    assert "and 2 more" in skipped[0].message


def test_a_failures_hint_is_not_said_twice(world, inbound) -> None:
    customer = world.qb_sim.add("Customer", {"Name": "Late Customer"})
    item = world.qb_sim.add("ItemService", {"Name": "Widget", "SalesOrPurchase": {
        "Price": "10.00", "AccountRef": {"FullName": "Sales"}}})
    world.qb_sim.add("Invoice", {"CustomerRef": {"ListID": customer["ListID"]}, "RefNumber": "77",
                                 "InvoiceLineAdd": [{"ItemRef": {"ListID": item["ListID"]}}]})
    report = inbound().run(["Invoice"])
    ((_entity, _qb_id, _name, message),) = report.failures
    assert message.count("sync the Account first, then retry") == 1, message
    (failure,) = world.state.failures(entity="QB_Invoice__c")
    assert failure.message.count("sync the Account first, then retry") == 1
