"""QuickBooks → Salesforce end to end, with both emulators: edits, invoices and payments, status, watermarks."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.sync.inbound import support

from qbsf.sync.inbound import DeletionAction
from qbsf.sync.state import Direction, Outcome


def test_first_run_syncs_everything_with_progress_and_the_manuals_lines(world, inbound) -> None:
    customers = [support.customer(world, f"Customer {n}") for n in range(3)]
    item = support.item(world)
    support.invoice(world, customers[0], item)
    seen: list[tuple[str, int, int]] = []
    report = inbound().run(progress=lambda name, done, total: seen.append((name, done, total)))
    assert report.ok, report.failures
    assert report.lines() == ["✓ Queried 3 QB Customers", "✓ 3 synced, ✗ 0 failed", "✓ Queried 1 QB Item",
                              "✓ 1 synced, ✗ 0 failed", "✓ Queried 1 QB Invoice", "✓ 1 synced, ✗ 0 failed",
                              "✓ Queried 0 QB Sales Orders", "✓ 0 synced, ✗ 0 failed", "✓ Queried 0 QB Estimates",
                              "✓ 0 synced, ✗ 0 failed", "✓ Queried 0 QB Payments", "✓ 0 synced, ✗ 0 failed",
                              "✓ Queried 0 QB Credit Memos", "✓ 0 synced, ✗ 0 failed", "✓ Queried 0 QB Sales Receipts",
                              "✓ 0 synced, ✗ 0 failed", "✓ Queried 0 QB Vendors", "✓ 0 synced, ✗ 0 failed",
                              "✓ Queried 0 QB Bills", "✓ 0 synced, ✗ 0 failed"]
    assert ("Customer", 3, 3) in seen and ("Invoice", 0, 1) in seen
    account = support.one(world, "Account", "QB_Customer_ID__c", customers[0]["ListID"])
    assert (account["Name"], account["Phone"], account["BillingCity"]) == ("Customer 0", "555-0100", "Oakland")
    invoice = support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", world.qb_sim.invoices()[0]["TxnID"])
    assert invoice["Linked_Account__c"] == account["Id"], "Link on CustomerRef.ListID finds the Account"
    assert (invoice["Name"], invoice["Balance__c"], invoice["Status__c"]) == ("Invoice 1001", 300.0, "Open")
    product = support.one(world, "Product2", "QB_Item_ID__c", item["ListID"])
    assert (product["Name"], product["QB_Sales_Price__c"]) == ("Consulting", 150.0)
    assert report.sf_calls == 5, "one upsert per object, one name look-up per list; the Link came from the crosswalk"
    # Nothing changed since: the next pass reads QuickBooks and spends no Salesforce call.
    again = inbound().run()
    assert again.ok and again.sf_calls == 0 and again.total("queried") == 0
    assert again.total("created") == again.total("updated") == 0


def test_customer_edit_in_quickbooks_reaches_the_account(world, inbound) -> None:
    customer = support.customer(world)
    assert inbound().run(["Customer"]).ok
    world.qb_sim.advance(60)
    world.qb_sim.modify(customer["ListID"], {"Phone": "555-0199", "BillAddress": {"City": "Berkeley"}})
    report = inbound().run(["Customer"])
    assert report.ok and report.entities["Customer"].updated == 1
    account = support.one(world, "Account", "QB_Customer_ID__c", customer["ListID"])
    assert (account["Phone"], account["BillingCity"]) == ("555-0199", "Berkeley")
    assert len(world.sf_state.records("Account")) == 1
    assert report.sf_calls == 2, "one query for Salesforce's current values (conflicts), one update"
    logged = [a for a in world.state.recent(20, direction=Direction.QB_TO_SF) if a.outcome is Outcome.UPDATED]
    assert logged and logged[0].qb_id == customer["ListID"]


def test_invoice_created_part_paid_then_fully_paid(world, inbound) -> None:
    customer, item = support.customer(world), support.item(world)
    invoice = support.invoice(world, customer, item)
    assert inbound().run().ok
    record = support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", invoice["TxnID"])
    assert (record["Status__c"], record["Balance__c"]) == ("Open", 300.0)

    world.qb_sim.advance(60)
    world.qb_sim.add("ReceivePayment", {"CustomerRef": {"ListID": customer["ListID"]}, "TotalAmount": "100.00",
                                        "IsAutoApply": "true"})
    report = inbound().run()
    assert report.ok and report.entities["Invoice"].updated == 1
    record = support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", invoice["TxnID"])
    assert (record["Status__c"], record["Balance__c"]) == ("Open", 200.0)

    world.qb_sim.advance(60)
    world.qb_sim.add("ReceivePayment", {"CustomerRef": {"ListID": customer["ListID"]}, "TotalAmount": "200.00",
                                        "IsAutoApply": "true"})
    assert inbound().run().ok
    record = support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", invoice["TxnID"])
    assert (record["Status__c"], record["Balance__c"]) == ("Paid", 0.0)


def test_due_date_passing_turns_open_into_overdue_with_no_quickbooks_change(world, inbound) -> None:
    sim = world.qb_sim
    # 23:30 in the company's zone (UTC-8) is already the next day in UTC.
    today = sim.now().astimezone(sim.tz).date()
    sim.set_clock(datetime(today.year, today.month, today.day, 12, 0))
    customer, item = support.customer(world), support.item(world)
    invoice = support.invoice(world, customer, item, due_in_days=1)
    assert inbound().run().ok
    sim.set_clock(datetime(today.year, today.month, today.day, 23, 30) + timedelta(days=1))
    on_due_day = inbound().run()
    assert on_due_day.ok and on_due_day.entities["Invoice"].status_refreshed == 0, "due today is not overdue"
    assert support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", invoice["TxnID"])["Status__c"] == "Open"

    sim.set_clock(datetime(today.year, today.month, today.day, 0, 5) + timedelta(days=2))
    report = inbound().run()
    assert report.ok and report.entities["Invoice"].queried == 0, "nothing changed in QuickBooks"
    assert report.entities["Invoice"].status_refreshed == 1
    assert report.sf_calls == 1
    assert support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", invoice["TxnID"])["Status__c"] == "OverDue"
    # Once a day: the same day's passes send nothing more.
    assert inbound().run().sf_calls == 0
    # Paying it off makes it Paid, and the daily pass forgets it.
    sim.advance(60)
    sim.add("ReceivePayment", {"CustomerRef": {"ListID": customer["ListID"]}, "TotalAmount": "300.00",
                               "IsAutoApply": "true"})
    assert inbound().run().ok
    assert support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", invoice["TxnID"])["Status__c"] == "Paid"
    sim.advance(3 * 86400)
    assert inbound().refresh_invoice_status() == 0


def test_a_change_in_the_same_second_as_the_last_sync_is_not_missed(world, inbound) -> None:
    customer = support.customer(world)
    # No overlap at all: the watermark itself (the newest TimeModified seen) is read again.
    assert inbound(overlap=timedelta(0)).run(["Customer"]).ok
    world.qb_sim.modify(customer["ListID"], {"Phone": "555-0142"})  # the simulator's clock did not move
    assert world.qb_sim.get(customer["ListID"])["TimeModified"] == customer["TimeModified"]
    report = inbound(overlap=timedelta(0)).run(["Customer"])
    assert report.ok and report.entities["Customer"].updated == 1
    assert support.one(world, "Account", "QB_Customer_ID__c", customer["ListID"])["Phone"] == "555-0142"
    # Read again by the next pass, but handled once: no Salesforce call.
    assert inbound(overlap=timedelta(0)).run(["Customer"]).sf_calls == 0


def test_watermark_reset_resyncs_everything_without_duplicates(world, inbound) -> None:
    customers = [support.customer(world, f"Customer {n}") for n in range(4)]
    item = support.item(world)
    support.invoice(world, customers[1], item)
    assert inbound().run().ok
    assert inbound().run().sf_calls == 0
    # Someone blanks a field in Salesforce; a reset of the Customer watermark writes every customer again.
    account = support.one(world, "Account", "QB_Customer_ID__c", customers[2]["ListID"])
    world.sf_state.update("Account", account["Id"], {"Phone": None})
    report = inbound().run(["Customer"], reset=True)
    assert report.ok and report.entities["Customer"].queried == 4
    assert report.entities["Customer"].updated == 4 and report.entities["Customer"].created == 0
    assert support.one(world, "Account", "QB_Customer_ID__c", customers[2]["ListID"])["Phone"] == "555-0100"
    assert "qb:Customer" in world.state.watermarks()
    # Reset all: every entity again, still one Salesforce record per QuickBooks record.
    everything = inbound().run(reset=True)
    assert everything.ok and everything.total("queried") == 6
    assert len(world.sf_state.records("Account")) == 4
    assert len(world.sf_state.records("Product2")) == 1 and len(world.sf_state.records("QB_Invoice__c")) == 1


def test_deleted_and_inactive_records_are_recorded_and_nothing_is_deleted(world, inbound) -> None:
    keep, gone = support.customer(world, "Keeper"), support.customer(world, "Leaver")
    item, spare = support.item(world), support.item(world, "Spare part")
    assert inbound().run().ok
    world.qb_sim.advance(60)
    world.qb_sim.delete(gone["ListID"])
    world.qb_sim.modify(keep["ListID"], {"IsActive": "false"})
    world.qb_sim.delete(spare["ListID"])
    report = inbound(on_deleted={"Item": DeletionAction.parse("set:IsActive=false")}).run()
    assert report.ok, report.failures
    assert report.entities["Customer"].deleted == 1 and report.entities["Customer"].inactivated == 1
    assert report.entities["Item"].deleted == 1
    assert len(world.sf_state.records("Account")) == 2, "nothing is deleted in Salesforce by default"
    assert support.one(world, "Product2", "QB_Item_ID__c", spare["ListID"])["IsActive"] is False
    assert support.one(world, "Product2", "QB_Item_ID__c", item["ListID"])["IsActive"] is True
    messages = [a.message for a in world.state.recent(50, direction=Direction.QB_TO_SF)
                if a.operation in ("delete", "inactivate")]
    assert any("Leaver deleted in QuickBooks; nothing changed in Salesforce" in m for m in messages)
    assert any("Keeper made inactive in QuickBooks" in m for m in messages)
    assert any("Spare part deleted in QuickBooks: IsActive = False" in m for m in messages)
    # Handled once.
    assert inbound().run().total("deleted") == 0


def test_daily_pass_never_recreates_an_invoice_deleted_in_salesforce(world, inbound) -> None:
    customer, item = support.customer(world), support.item(world)
    invoice = support.invoice(world, customer, item, due_in_days=1)
    assert inbound().run().ok
    record = support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", invoice["TxnID"])
    world.sf_state.delete("QB_Invoice__c", record["Id"])
    world.qb_sim.advance(3 * 86400)
    report = inbound().run()
    assert report.entities["Invoice"].status_refreshed == 0
    assert world.sf_state.records("QB_Invoice__c") == [], "a status alone never creates a record"
    (failed,) = [a for a in world.state.recent(10, direction=Direction.QB_TO_SF) if a.operation == "status"]
    assert failed.outcome is Outcome.FAILED and "Open → OverDue not saved" in failed.message


def test_a_full_reread_after_the_due_date_sends_overdue(world, inbound) -> None:
    customer, item = support.customer(world), support.item(world)
    invoice = support.invoice(world, customer, item, due_in_days=1)
    assert inbound().run().ok
    world.qb_sim.advance(3 * 86400)
    # ↓ QB → SF re-reads every record before the daily pass runs: the status still reaches Salesforce.
    report = inbound().run(["Invoice"], full=True)
    assert report.ok and report.entities["Invoice"].updated == 1
    assert support.one(world, "QB_Invoice__c", "QB_Invoice_ID__c", invoice["TxnID"])["Status__c"] == "OverDue"
