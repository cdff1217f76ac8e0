"""Mod with a stale EditSequence (3200): re-read, retry once only when nobody touched the fields we change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qbsf.errors import NeedsUser, Retriable
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.client import Change
from qbsf.quickbooks.errors import ModConflictError, StaleEditSequence


@pytest.fixture
def acme(qb_client):
    return qb_client.add(rec.Customer(Name="Acme", Phone="555-0100", Email="old@acme.example"))


def test_other_fields_changed_retries_with_fresh_edit_sequence(qb_client, qb_sim, acme):
    qb_sim.advance(5)
    qb_sim.modify(acme.ListID, {"Email": "someone-else@acme.example"})
    updated = qb_client.mod(acme, {"Phone": "555-0199"})
    assert updated.Phone == "555-0199"
    assert updated.Email == "someone-else@acme.example"


def test_same_field_changed_by_someone_else_is_a_conflict(qb_client, qb_sim, acme):
    qb_sim.advance(5)
    qb_sim.modify(acme.ListID, {"Phone": "555-7777"})
    with pytest.raises(ModConflictError) as caught:
        qb_client.mod(acme, {"Phone": "555-0199"})
    error = caught.value
    assert isinstance(error, NeedsUser)
    assert error.conflicts == {"Phone": ("555-0100", "555-7777", "555-0199")}
    assert "Phone is now '555-7777'" in str(error) and "does not overwrite" in str(error)
    assert qb_sim.get(acme.ListID)["Phone"] == "555-7777"


def test_same_value_set_by_someone_else_is_not_a_conflict(qb_client, qb_sim, acme):
    qb_sim.advance(5)
    qb_sim.modify(acme.ListID, {"Phone": "555-0199"})
    assert qb_client.mod(acme, {"Phone": "555-0199", "Fax": "555-0000"}).Fax == "555-0000"


def test_retry_happens_once_then_stale_is_retriable(qb_client, qb_sim, acme):
    qb_sim.fail_next(status_code=3200, times=2, request_type="CustomerMod")
    [result] = qb_client.mod_many([Change(acme, {"Phone": "555-0101"})])
    assert isinstance(result.error, StaleEditSequence) and isinstance(result.error, Retriable)
    assert result.error.code == 3200


def test_invoice_lines_changed_elsewhere_conflict(qb_client, qb_sim):
    customer = qb_client.add(rec.Customer(Name="Lines Co"))
    item = qb_client.add(rec.ItemService(Name="Hours", SalesPrice=Decimal("100")))
    invoice = qb_client.add(rec.Invoice(CustomerRef=rec.Ref(ListID=customer.ListID), lines=[
        rec.InvoiceLine(ItemRef=rec.Ref(ListID=item.ListID), Quantity=Decimal(1))]))
    qb_sim.advance(5)
    qb_sim.modify(invoice.TxnID, {"InvoiceLineMod": [
        {"TxnLineID": invoice.lines[0].TxnLineID, "Quantity": "5"}]})
    new_lines = [rec.InvoiceLine(TxnLineID=invoice.lines[0].TxnLineID, ItemRef=rec.Ref(ListID=item.ListID),
                                 Quantity=Decimal(2))]
    [result] = qb_client.mod_many([Change(invoice, {"Memo": "x"}, lines=new_lines)])
    assert isinstance(result.error, ModConflictError) and "lines" in result.error.conflicts
    [memo_only] = qb_client.mod_many([Change(invoice, {"Memo": "memo only"})])
    assert memo_only.ok and memo_only.ret.lines[0].Quantity == Decimal(5)
