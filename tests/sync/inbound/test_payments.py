"""QuickBooks payments → QB_Payment__c with a QB_Payment_Line__c per invoice paid, end to end on both emulators."""

from __future__ import annotations

from tests.sync.inbound import support

from qbsf.sync.state import Direction, Outcome


def _company(world) -> tuple[dict, list[dict]]:
    """Acme with two invoices of 300.00 each."""
    customer, consulting = support.customer(world), support.item(world)
    return customer, [support.invoice(world, customer, consulting, ref=f"100{n}") for n in (1, 2)]


def _pay(world, customer: dict, applied: list[tuple[dict, str]], total: str, ref: str = "CHK-9") -> dict:
    return world.qb_sim.add("ReceivePayment", {
        "CustomerRef": {"ListID": customer["ListID"]}, "RefNumber": ref, "TotalAmount": total,
        "PaymentMethodRef": {"FullName": "Check"},
        "AppliedToTxnAdd": [{"TxnID": invoice["TxnID"], "PaymentAmount": amount} for invoice, amount in applied]})


def test_partial_payment_across_two_invoices(world, inbound) -> None:
    customer, invoices = _company(world)
    assert inbound().run().ok
    world.qb_sim.advance(60)
    payment = _pay(world, customer, [(invoices[0], "300.00"), (invoices[1], "100.00")], "450.00")
    report = inbound().run()
    assert report.ok, report.failures
    assert report.entities["ReceivePayment"].created == 1
    (record,) = support.records(world, "QB_Payment__c", QB_Payment_ID__c=payment["TxnID"])
    account = support.records(world, "Account", QB_Customer_ID__c=customer["ListID"])[0]
    assert (record["Name"], record["Amount__c"], record["Unused_Amount__c"], record["Payment_Method__c"],
            record["Linked_Account__c"]) == ("Payment CHK-9", 450.0, 50.0, "Check", account["Id"])
    sf_invoices = {r["QB_Invoice_ID__c"]: r for r in world.sf_state.records("QB_Invoice__c")}
    lines = sorted(support.records(world, "QB_Payment_Line__c", Payment__c=record["Id"]), key=lambda r: r["Name"])
    assert [(r["Invoice__c"], r["Amount_Applied__c"], r["Invoice_Balance__c"]) for r in lines] == [
        (sf_invoices[invoices[0]["TxnID"]]["Id"], 300.0, 0.0), (sf_invoices[invoices[1]["TxnID"]]["Id"], 100.0, 200.0)]
    assert {r["Status__c"] for r in sf_invoices.values()} == {"Paid", "Open"}  # the invoices moved too
    assert record.get("Invoice__c") is None, "two invoices: the lines name them, the payment names none"
    # Nothing changed since: no echo, nothing written.
    again = inbound().run()
    assert again.ok and again.sf_calls == 0 and again.total("created") == again.total("updated") == 0


def test_payment_reapplied_in_quickbooks_moves_its_lines(world, inbound) -> None:
    customer, invoices = _company(world)
    payment = _pay(world, customer, [(invoices[0], "100.00"), (invoices[1], "100.00")], "200.00")
    assert inbound().run().ok
    world.qb_sim.advance(60)
    # The payment changed itself (not its header): QuickBooks' own change reaches Salesforce.
    world.qb_sim.modify(payment["TxnID"], {"AppliedToTxnMod": [{"TxnID": invoices[1]["TxnID"],
                                                                "PaymentAmount": "200.00"}]})
    assert inbound().run(["ReceivePayment"]).ok
    (record,) = support.records(world, "QB_Payment__c", QB_Payment_ID__c=payment["TxnID"])
    lines = support.records(world, "QB_Payment_Line__c", Payment__c=record["Id"])
    invoice = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoices[1]["TxnID"])[0]
    assert [(r["Invoice__c"], r["Amount_Applied__c"]) for r in lines] == [(invoice["Id"], 200.0)]
    assert record["Invoice__c"] == invoice["Id"], "now applied to one invoice: the payment names it"


def test_a_payment_applied_to_one_invoice_names_it(world, inbound) -> None:
    customer, invoices = _company(world)
    payment = _pay(world, customer, [(invoices[1], "120.00")], "120.00", ref="CHK-10")
    assert inbound().run().ok
    (record,) = support.records(world, "QB_Payment__c", QB_Payment_ID__c=payment["TxnID"])
    invoice = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoices[1]["TxnID"])[0]
    assert (record["Invoice__c"], invoice["Balance__c"]) == (invoice["Id"], 180.0)
    # Paid on account when it is re-applied to both invoices: the lines name them, the payment no longer names one.
    world.qb_sim.advance(60)
    world.qb_sim.modify(payment["TxnID"], {"AppliedToTxnMod": [
        {"TxnID": invoices[0]["TxnID"], "PaymentAmount": "60.00"},
        {"TxnID": invoices[1]["TxnID"], "PaymentAmount": "60.00"}]})
    assert inbound().run().ok
    (record,) = support.records(world, "QB_Payment__c", QB_Payment_ID__c=payment["TxnID"])
    assert record.get("Invoice__c") is None
    assert len(support.records(world, "QB_Payment_Line__c", Payment__c=record["Id"])) == 2


def test_payment_deleted_in_quickbooks_is_kept_and_flagged(world, inbound) -> None:
    customer, invoices = _company(world)
    payment = _pay(world, customer, [(invoices[0], "300.00")], "300.00")
    assert inbound().run().ok
    world.qb_sim.advance(60)
    world.qb_sim.delete(payment["TxnID"])
    report = inbound().run()
    assert report.ok, report.failures
    (record,) = support.records(world, "QB_Payment__c", QB_Payment_ID__c=payment["TxnID"])
    assert record["Deleted_In_QuickBooks__c"] is True
    logged = [a for a in world.state.recent(20, direction=Direction.QB_TO_SF)
              if a.qb_id == payment["TxnID"] and a.outcome is Outcome.UPDATED]
    assert logged and "deleted in QuickBooks" in logged[0].message
    invoice = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoices[0]["TxnID"])[0]
    assert invoice["Status__c"] == "Open", "the invoice is open again"
