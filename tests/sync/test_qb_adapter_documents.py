"""The engine's QuickBooks port serves every declared entity from its declaration: no per-entity branch decides the
record class, the id field (ListID/TxnID), the lines or the query."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qbsf.quickbooks import records as rec
from qbsf.sync.adapters import QuickBooksAdapter


@pytest.fixture
def adapter(qb_client) -> QuickBooksAdapter:
    port = QuickBooksAdapter(qb_client)
    assert all(w.ok for w in port.add_many("Customer", [{"Name": "Acme"}]))
    assert all(w.ok for w in port.add_many("ItemService", [{"Name": n, "SalesPrice": p} for n, p in
                                                            (("Consulting", 150), ("Setup", 40))]))
    return port


def _lines(*items: tuple[str, int]) -> list[dict]:
    return [{"ItemRef.FullName": item, "Quantity": quantity} for item, quantity in items]


def test_a_sales_order_is_added_and_its_lines_replaced_keeping_line_ids(adapter, qb_client):
    [added] = adapter.add_many("SalesOrder", [{"CustomerRef.FullName": "Acme", "RefNumber": "SO-1",
                                               "lines": _lines(("Consulting", 2), ("Setup", 1))}])
    assert added.ok and added.qb_id and added.edit_sequence
    before = dict(adapter.current_lines(added.qb_id))
    assert len(before) == 2
    # same lines, other order: nothing to send
    [same] = adapter.mod_many("SalesOrder", [{"TxnID": added.qb_id, "EditSequence": added.edit_sequence,
                                              "lines": _lines(("Setup", 1), ("Consulting", 2))}])
    assert same.unchanged
    # Consulting changes, Setup is removed in Salesforce: the Consulting line keeps its TxnLineID, Setup is gone
    [changed] = adapter.mod_many("SalesOrder", [{"TxnID": added.qb_id, "EditSequence": added.edit_sequence,
                                                 "lines": _lines(("Consulting", 5))}])
    assert changed.ok and not changed.unchanged
    [order] = qb_client.query("SalesOrder", ids=[added.qb_id], include_lines=True)
    consulting_id = next(i for i, f in before.items() if f["ItemRef.FullName"] == "Consulting")
    assert [(line.TxnLineID, line.Quantity) for line in order.lines] == [(consulting_id, Decimal(5))]


def test_found_and_modified_records_of_any_entity(adapter, qb_client):
    qb_client.add(rec.Vendor(Name="Paper Co"))
    [vendor] = adapter.find_by_names("Vendor", ["Paper Co", "Nobody"])
    assert vendor.full_name == "Paper Co" and vendor.qb_type == "Vendor"
    [estimate] = adapter.add_many("Estimate", [{"CustomerRef.FullName": "Acme", "RefNumber": "E-7",
                                                "lines": _lines(("Setup", 1))}])
    [by_ref] = adapter.find_by_names("Estimate", ["E-7"])
    assert by_ref.qb_id == estimate.qb_id and by_ref.qb_type == "Estimate"
    [since] = adapter.modified_since("Estimate", qb_client.query("Estimate", ids=[estimate.qb_id]).__next__()
                                     .TimeModified)
    assert since.qb_id == estimate.qb_id
    assert {f.full_name for f in adapter.list_all("Item")} == {"Consulting", "Setup"}
    found = adapter.edit_sequences("Estimate", [estimate.qb_id])
    assert found[estimate.qb_id].edit_sequence == estimate.edit_sequence


def test_payment_lines_are_keyed_by_the_invoice_they_pay(adapter, qb_client):
    invoices = adapter.add_many("Invoice", [{"CustomerRef.FullName": "Acme", "lines": _lines(("Consulting", 1))}
                                            for _ in range(2)])
    [payment] = adapter.add_many("ReceivePayment", [{
        "CustomerRef.FullName": "Acme", "TotalAmount": 200,
        "lines": [{"TxnID": invoices[0].qb_id, "Amount": 150}, {"TxnID": invoices[1].qb_id, "Amount": 50}]}])
    assert payment.ok
    assert [(key, fields["Amount"]) for key, fields in adapter.current_lines(payment.qb_id)] == [
        (invoices[0].qb_id, Decimal("150.00")), (invoices[1].qb_id, Decimal("50.00"))]
    [moved] = adapter.mod_many("ReceivePayment", [{
        "TxnID": payment.qb_id, "EditSequence": payment.edit_sequence,
        "lines": [{"TxnID": invoices[0].qb_id, "Amount": 100}, {"TxnID": invoices[1].qb_id, "Amount": 100}]}])
    assert moved.ok and not moved.unchanged
    balances = [i.BalanceRemaining for i in qb_client.query("Invoice", ids=[w.qb_id for w in invoices])]
    assert balances == [Decimal("50.00"), Decimal("50.00")]


def test_an_undeclared_entity_or_a_bad_line_fails_the_record_with_a_clear_message(adapter):
    [unknown] = adapter.add_many("PurchaseOrder", [{"RefNumber": "PO-1"}])
    assert unknown.error is not None and "does not know the QuickBooks entity 'PurchaseOrder'" in unknown.error.message
    [bad_line, good] = adapter.add_many("SalesOrder", [
        {"CustomerRef.FullName": "Acme", "lines": [{"ItemRef.FullName": "Setup", "ServiceDate": "2026-03-01"}]},
        {"CustomerRef.FullName": "Acme", "lines": _lines(("Setup", 1))}])
    assert bad_line.error is not None and "line 1" in bad_line.error.message
    assert "SalesOrderLine has no field 'ServiceDate'" in bad_line.error.message
    assert good.ok
    [no_lines] = adapter.add_many("Customer", [{"Name": "Lines Inc", "lines": _lines(("Setup", 1))}])
    assert no_lines.error is not None and "has no lines" in no_lines.error.message
