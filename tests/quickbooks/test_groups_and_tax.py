"""qbsf's reader and Mods for invoices with item groups and sales tax (QuickBooks simulator, schema-validated)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qbsf.quickbooks import records as rec


@pytest.fixture
def qb_sim():
    """A company that collects sales tax, with a part, a service and an item group a QuickBooks user made."""
    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator(sales_tax=True)
    sim.add("ItemNonInventory", {"Name": "Widget", "SalesOrPurchase": {"Price": "100.00",
                                                                       "AccountRef": {"FullName": "Sales"}}})
    sim.add("ItemService", {"Name": "Setup", "SalesOrPurchase": {"Price": "50.00",
                                                                 "AccountRef": {"FullName": "Services"}}})
    sim.add("ItemGroup", {"Name": "Starter Kit", "ItemGroupLine": [
        {"ItemRef": {"FullName": "Widget"}, "Quantity": "2"}, {"ItemRef": {"FullName": "Setup"}, "Quantity": "1"}]})
    sim.add("Customer", {"Name": "Acme"})
    yield sim
    sim.close()


def _invoice_with_a_group(sim) -> dict:
    """An invoice typed in QuickBooks: a Setup line, the Starter Kit group, a Widget line."""
    return sim.add("Invoice", {
        "CustomerRef": {"FullName": "Acme"},
        "InvoiceLineAdd": [{"ItemRef": {"FullName": "Setup"}, "Quantity": "1"},
                           {"ItemRef": {"FullName": "Widget"}, "Quantity": "1"}],
        "InvoiceLineGroupAdd": [{"ItemGroupRef": {"FullName": "Starter Kit"}}],
        "_line_order": ["line", "group", "line"]})


def test_reader_keeps_group_lines_and_reads_the_tax_totals(qb_client, qb_sim):
    added = _invoice_with_a_group(qb_sim)
    (invoice,) = qb_client.query_invoices(txn_ids=[added["TxnID"]])
    assert [line.ItemRef.FullName for line in invoice.lines] == ["Setup", "Widget"]
    (group,) = invoice.groups
    assert (group.ItemGroupRef.FullName, group.position, group.TotalAmount) == ("Starter Kit", 1, Decimal("250.00"))
    assert [(line.ItemRef.FullName, line.Quantity) for line in group.lines] == [("Widget", Decimal("2")),
                                                                                ("Setup", Decimal("1"))]
    # 50 + 250 + 100 = 400; taxable: the three widgets, 300 at 7.25 % = 21.75.
    assert (invoice.Subtotal, invoice.SalesTaxPercentage, invoice.SalesTaxTotal, invoice.BalanceRemaining) == (
        Decimal("400.00"), Decimal("7.25"), Decimal("21.75"), Decimal("421.75"))
    assert invoice.ItemSalesTaxRef.FullName == "State Tax" and invoice.CustomerSalesTaxCodeRef.FullName == "Tax"
    assert not {"InvoiceLineGroupRet", "SalesTaxPercentage", "ItemSalesTaxRef"} & set(invoice.extra), \
        "the group and the tax fields are read, not left over"
    flat = rec.to_flat(invoice)
    assert flat["SalesTaxTotal"] == Decimal("21.75") and flat["BalanceRemaining"] == Decimal("421.75")


def test_replacing_the_lines_never_deletes_a_group_a_quickbooks_user_added(qb_client, qb_sim):
    added = _invoice_with_a_group(qb_sim)
    (base,) = qb_client.query_invoices(txn_ids=[added["TxnID"]])
    new_lines = [rec.InvoiceLine(TxnLineID=base.lines[0].TxnLineID, ItemRef=rec.Ref(FullName="Setup"),
                                 Quantity=Decimal("3")),
                 rec.InvoiceLine(ItemRef=rec.Ref(FullName="Widget"), Quantity=Decimal("5"))]
    qb_client.mod(base, {"Memo": "from Salesforce"}, lines=new_lines)
    stored = qb_sim.get(added["TxnID"])
    (group,) = stored["InvoiceLineGroupRet"]
    assert group["TxnLineID"] == base.groups[0].TxnLineID and group["TotalAmount"] == "250.00"
    (after,) = qb_client.query_invoices(txn_ids=[added["TxnID"]])
    assert [line.Quantity for line in after.lines] == [Decimal("3"), Decimal("5")]
    assert after.groups[0].position == 1, "the group stays where the QuickBooks user put it"
    assert after.Subtotal == Decimal("900.00") and after.Memo == "from Salesforce"
    assert after.SalesTaxTotal == Decimal("50.75")  # (the 500 of widgets + the kit's 200 of widgets) × 7.25 %


def test_a_mod_without_lines_leaves_lines_and_groups_alone(qb_client, qb_sim):
    added = _invoice_with_a_group(qb_sim)
    (base,) = qb_client.query_invoices(txn_ids=[added["TxnID"]])
    qb_client.mod(base, {"PONumber": "PO-9"})
    (after,) = qb_client.query_invoices(txn_ids=[added["TxnID"]])
    assert len(after.groups) == 1 and len(after.lines) == 2 and after.PONumber == "PO-9"
