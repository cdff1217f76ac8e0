"""QuickBooks → Salesforce failures follow the one error policy, as Salesforce → QuickBooks failures do."""

from __future__ import annotations

from qbsf.sync.policy import NextStep
from qbsf.sync.state import Direction, Outcome


def test_an_invoice_whose_account_is_missing_waits_for_that_account_not_a_timer(world, inbound) -> None:
    customer = world.qb_sim.add("Customer", {"Name": "Late Customer"})
    item = world.qb_sim.add("ItemService", {"Name": "Widget", "SalesOrPurchase": {
        "Price": "10.00", "AccountRef": {"FullName": "Sales"}}})
    world.qb_sim.add("Invoice", {"CustomerRef": {"ListID": customer["ListID"]}, "RefNumber": "78",
                                 "InvoiceLineAdd": [{"ItemRef": {"ListID": item["ListID"]}}]})
    report = inbound().run(["Invoice"])
    assert report.entities["Invoice"].failed == 1 and report.entities["Invoice"].parked == 0
    (failure,) = world.state.failures(entity="QB_Invoice__c")
    assert failure.next_step == NextStep.AFTER_PARENT and failure.waits_for == ("Account", customer["ListID"])
    (event,) = [e for e in world.state.recent(entity="QB_Invoice__c") if e.outcome is Outcome.FAILED]
    assert f"(waiting for Account {customer['ListID']}: retried as soon as it syncs)" in event.message

    # The default backoff would wait minutes; the Account's link releases the invoice in the same pass.
    again = inbound().run()
    assert again.ok, again.failures
    assert again.entities["Customer"].created == 1 and again.entities["Invoice"].created == 1
    assert world.state.failures(entity="QB_Invoice__c") == []


def test_a_record_only_a_person_can_fix_is_parked_at_once_and_logged_so(world, inbound) -> None:
    for _ in range(2):
        world.sf_state.insert("Account", {"Name": "Twin Traders"})
    world.qb_sim.add("Customer", {"Name": "Twin Traders"})
    report = inbound().run(["Customer"])
    customers = report.entities["Customer"]
    assert (customers.failed, customers.parked) == (1, 1)
    (failure,) = world.state.failures(entity="Account")
    assert failure.direction is Direction.QB_TO_SF and failure.parked and failure.attempts == 1
    (event,) = [e for e in world.state.recent(entity="Account") if e.outcome is Outcome.PARKED]
    assert "Salesforce has 2 Account records of that name" in event.message
    assert event.message.endswith("(parked: fix it, then `qbsf sync retry`; a change to the record retries it too)")
    # Parked: the next pass does not try it again (nothing changed in QuickBooks).
    assert inbound().run(["Customer"]).entities["Customer"].failed == 0
    assert world.state.failures(entity="Account")[0].attempts == 1
