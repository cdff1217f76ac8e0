"""QuickBooksClient.void_many: TxnVoidRq per transaction, schema-checked; one that fails does not stop the others."""

from __future__ import annotations

from decimal import Decimal


def _invoice(qb_sim) -> str:
    customer = qb_sim.add("Customer", {"Name": "Acme"})
    item = qb_sim.add("ItemService", {"Name": "Consulting", "SalesOrPurchase": {
        "Price": "100.00", "AccountRef": {"FullName": "Sales"}}})
    invoice = qb_sim.add("Invoice", {"CustomerRef": {"ListID": customer["ListID"]}, "Memo": "Opportunity: Big deal",
                                     "InvoiceLineAdd": [{"ItemRef": {"ListID": item["ListID"]}, "Quantity": "3"}]})
    return invoice["TxnID"]


def test_void_many_voids_each_and_fails_the_unknown_one_alone(qb_sim, qb_client) -> None:
    txn_id = _invoice(qb_sim)
    assert qb_client.qbxml_version  # negotiated first (HostQuery)
    sent = qb_client.messages_sent

    voided, unknown = qb_client.void_many("Invoice", [txn_id, "999-999"])

    assert qb_client.messages_sent == sent + 1, "both in one message"
    assert voided.ok and voided.ret == txn_id
    assert not unknown.ok and "999-999" in str(unknown.error)
    invoice = qb_sim.get(txn_id)
    assert invoice["Memo"] == "VOID: Opportunity: Big deal" and Decimal(invoice["Subtotal"]) == 0
    assert [Decimal(line["Quantity"]) for line in invoice["InvoiceLineRet"]] == [0]
