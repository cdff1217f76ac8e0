"""QuickBooks credit memos → QB_Credit_Memo__c and sales receipts → QB_Sales_Receipt__c, end to end on both
emulators: a credit applied to an invoice lowers the invoice's balance in Salesforce and shows what is left of it;
a cash sale reaches its Account; deleted ones stay in Salesforce, flagged."""

from __future__ import annotations

from tests.sync.inbound import support

from qbsf.sync.state import Direction, Outcome


def _company(world) -> tuple[dict, dict, dict, dict]:
    """Acme with an item, a service and an invoice of 300.00."""
    customer, consulting = support.customer(world), support.item(world)
    widget = support.item(world, "Widget", price="10.00", kind="ItemNonInventory", desc=None)
    return customer, consulting, widget, support.invoice(world, customer, consulting)


def _apply(world, customer: dict, invoice: dict, memo: dict, amount: str) -> dict:
    """A credit applied to an invoice, as QuickBooks' Receive Payments window records it: a payment of 0.00 carrying
    the credit (SetCredit)."""
    return world.qb_sim.add("ReceivePayment", {
        "CustomerRef": {"ListID": customer["ListID"]}, "TotalAmount": "0.00",
        "AppliedToTxnAdd": [{"TxnID": invoice["TxnID"], "SetCredit": [
            {"CreditTxnID": memo["TxnID"], "AppliedAmount": amount}]}]})


def test_a_credit_memo_applied_to_an_invoice_lowers_its_balance_and_shows_the_credit_left(world, inbound) -> None:
    customer, consulting, widget, invoice = _company(world)
    memo = world.qb_sim.add("CreditMemo", {
        "CustomerRef": {"ListID": customer["ListID"]}, "RefNumber": "CM-7", "Memo": "Damaged on delivery",
        "CreditMemoLineAdd": [{"ItemRef": {"ListID": widget["ListID"]}, "Quantity": "2"},
                              {"ItemRef": {"ListID": consulting["ListID"]}, "Quantity": "0.5"}]})
    report = inbound().run()
    assert report.ok, report.failures
    assert report.entities["CreditMemo"].created == 1
    account = support.records(world, "Account", QB_Customer_ID__c=customer["ListID"])[0]
    (record,) = support.records(world, "QB_Credit_Memo__c", QB_Credit_Memo_ID__c=memo["TxnID"])
    assert (record["Name"], record["Credit_Number__c"], record["Amount__c"], record["Credit_Remaining__c"],
            record["Status__c"], record["Linked_Account__c"], record.get("Invoice__c"), record["Memo__c"]) == (
        "Credit Memo CM-7", "CM-7", 95.0, 95.0, "Open", account["Id"], None, "Damaged on delivery")
    assert record["Lines_Summary__c"] == "Widget × 2: 20.00\nConsulting × 0.5: 75.00"
    (sf_invoice,) = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoice["TxnID"])
    assert sf_invoice["Balance__c"] == 300.0

    world.qb_sim.advance(60)
    _apply(world, customer, invoice, memo, "60.00")
    report = inbound().run()
    assert report.ok, report.failures
    (record,) = support.records(world, "QB_Credit_Memo__c", QB_Credit_Memo_ID__c=memo["TxnID"])
    (sf_invoice,) = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoice["TxnID"])
    assert (sf_invoice["Balance__c"], sf_invoice["Status__c"]) == (240.0, "Open")
    assert (record["Credit_Remaining__c"], record["Status__c"], record["Invoice__c"]) == (35.0, "Open",
                                                                                          sf_invoice["Id"])
    # The rest of the credit goes to the same invoice: nothing left, the memo is Used.
    world.qb_sim.advance(60)
    _apply(world, customer, invoice, memo, "35.00")
    assert inbound().run().ok
    (record,) = support.records(world, "QB_Credit_Memo__c", QB_Credit_Memo_ID__c=memo["TxnID"])
    (sf_invoice,) = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoice["TxnID"])
    assert (record["Credit_Remaining__c"], record["Status__c"], sf_invoice["Balance__c"]) == (0.0, "Used", 205.0)
    # Nothing changed since: no echo, nothing written.
    again = inbound().run()
    assert again.ok and again.sf_calls == 0 and again.total("created") == again.total("updated") == 0


def test_a_credit_memo_applied_to_an_invoice_not_in_salesforce_waits_for_it(world, inbound) -> None:
    customer, _, widget, invoice = _company(world)
    memo = world.qb_sim.add("CreditMemo", {"CustomerRef": {"ListID": customer["ListID"]},
                                           "CreditMemoLineAdd": [{"ItemRef": {"ListID": widget["ListID"]}}]})
    _apply(world, customer, invoice, memo, "10.00")
    # Only customers and credit memos this pass: the invoice is not in Salesforce yet.
    report = inbound().run(["Customer", "CreditMemo"])
    assert report.entities["CreditMemo"].failed == 1
    (_, _, message) = report.entities["CreditMemo"].failures[0]
    assert f"is applied to QuickBooks invoice {invoice['TxnID']}, which is not in Salesforce yet" in message
    assert not support.records(world, "QB_Credit_Memo__c")
    # Once the invoice is in Salesforce the credit memo follows, linked to it.
    assert inbound().run().ok
    (sf_invoice,) = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoice["TxnID"])
    (record,) = support.records(world, "QB_Credit_Memo__c", QB_Credit_Memo_ID__c=memo["TxnID"])
    assert (record["Invoice__c"], record["Status__c"], record["Lines_Summary__c"]) == (sf_invoice["Id"], "Used",
                                                                                       "Widget: 10.00")


def test_a_credit_memo_deleted_in_quickbooks_is_kept_and_flagged(world, inbound) -> None:
    customer, _, widget, invoice = _company(world)
    memo = world.qb_sim.add("CreditMemo", {"CustomerRef": {"ListID": customer["ListID"]},
                                           "CreditMemoLineAdd": [{"ItemRef": {"ListID": widget["ListID"]}}]})
    _apply(world, customer, invoice, memo, "10.00")
    assert inbound().run().ok
    (sf_invoice,) = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoice["TxnID"])
    assert sf_invoice["Balance__c"] == 290.0
    world.qb_sim.advance(60)
    world.qb_sim.delete(memo["TxnID"])
    report = inbound().run()
    assert report.ok, report.failures
    (record,) = support.records(world, "QB_Credit_Memo__c", QB_Credit_Memo_ID__c=memo["TxnID"])
    assert record["Deleted_In_QuickBooks__c"] is True
    logged = [a for a in world.state.recent(20, direction=Direction.QB_TO_SF)
              if a.qb_id == memo["TxnID"] and a.outcome is Outcome.UPDATED]
    assert logged and "deleted in QuickBooks" in logged[0].message
    (sf_invoice,) = support.records(world, "QB_Invoice__c", QB_Invoice_ID__c=invoice["TxnID"])
    assert sf_invoice["Balance__c"] == 300.0, "the credit is taken back from the invoice"


def test_a_sales_receipt_reaches_its_account_and_a_deleted_one_is_flagged(world, inbound) -> None:
    customer, consulting, widget, _ = _company(world)
    sale = world.qb_sim.add("SalesReceipt", {
        "CustomerRef": {"ListID": customer["ListID"]}, "RefNumber": "SR-1", "PaymentMethodRef": {"FullName": "Cash"},
        "SalesReceiptLineAdd": [{"ItemRef": {"ListID": widget["ListID"]}, "Quantity": "3"}]})
    walk_in = world.qb_sim.add("SalesReceipt", {
        "RefNumber": "SR-2", "DepositToAccountRef": {"FullName": "Checking"},
        "SalesReceiptLineAdd": [{"ItemRef": {"ListID": consulting["ListID"]}}]})
    report = inbound().run()
    assert report.ok, report.failures
    assert report.entities["SalesReceipt"].created == 2
    account = support.records(world, "Account", QB_Customer_ID__c=customer["ListID"])[0]
    (record,) = support.records(world, "QB_Sales_Receipt__c", QB_Sales_Receipt_ID__c=sale["TxnID"])
    assert (record["Name"], record["Receipt_Number__c"], record["Amount__c"], record["Payment_Method__c"],
            record["Deposit_To__c"], record["Linked_Account__c"], record["Deleted_In_QuickBooks__c"]) == (
        "Sales Receipt SR-1", "SR-1", 30.0, "Cash", "Undeposited Funds", account["Id"], False)
    (cash,) = support.records(world, "QB_Sales_Receipt__c", QB_Sales_Receipt_ID__c=walk_in["TxnID"])
    assert (cash["Amount__c"], cash["Deposit_To__c"], cash.get("Linked_Account__c")) == (150.0, "Checking", None)

    world.qb_sim.advance(60)
    world.qb_sim.modify(sale["TxnID"], {"Memo": "Paid at the counter"})
    world.qb_sim.delete(walk_in["TxnID"])
    report = inbound().run()
    assert report.ok, report.failures
    (record,) = support.records(world, "QB_Sales_Receipt__c", QB_Sales_Receipt_ID__c=sale["TxnID"])
    (cash,) = support.records(world, "QB_Sales_Receipt__c", QB_Sales_Receipt_ID__c=walk_in["TxnID"])
    assert (record["Memo__c"], record["Deleted_In_QuickBooks__c"]) == ("Paid at the counter", False)
    assert cash["Deleted_In_QuickBooks__c"] is True
