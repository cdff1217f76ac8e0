"""TxnVoidRq in the simulator: voiding an invoice.

What QuickBooks does, from Intuit's qbXML reference for TxnVoid
(https://developer.intuit.com/app/developer/qbdesktop/docs/api-reference/qbdesktop/txnvoid): "Voiding a transaction
sets its amount to zero but keeps a record of it in QuickBooks. (Using TxnDel to delete a transaction, on the other
hand, removes the transaction completely.)" The request is ``TxnVoidType`` + ``TxnID``; the answer ``TxnVoidRs``
holds leaves (TxnVoidType, TxnID, TimeCreated, TimeModified, RefNumber), no ``*Ret`` (qbxmlops130.xsd,
TxnVoidRsType / group TxnVoidRet).

How a voided invoice reads back, as observed on QuickBooks Enterprise 24.0 and documented by QuBe Sync's
QuickBooks Desktop API (execute_txn_void, https://glama.ai/mcp/connectors/com.qubesync/quickbooks-desktop-api/tools/
execute_txn_void): the invoice keeps its number and its lines, each line's quantity and amount at zero (the rate
stays), "VOID: " in front of its memo, and it reads back as paid (balance 0). Payments that were applied to it stay,
and what they had applied becomes unused payment. Stock sold on it returns to the shelf.

Only invoices are modelled (qbsf voids nothing else); another TxnVoidType answers 3250 like any feature the
simulator does not model.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsf.sim.quickbooks.company import Company, QbStatus, money, parse_decimal, to_cents
from qbsf.sim.quickbooks.store import Row

VOIDABLE = ("Invoice",)
VOID_PREFIX = "VOID: "


def txn_void(company: Company, kind: str, txn_id: str) -> Row:
    """Void invoice ``txn_id`` in place (see the module docstring); returns the voided row."""
    row = company.get(txn_id, (kind,))
    if row is None:
        raise company.not_found(txn_id)
    body = row.body
    company._adjust_inventory(company.all_lines(body), +1)  # the goods sold on it are back in stock
    for line in company.all_lines(body):
        _zero(line)
    for group in body.get("InvoiceLineGroupRet", []):
        if "Quantity" in group:
            group["Quantity"] = "0"
        group["TotalAmount"] = money(Decimal(0))
    _free_payments(company, row)
    memo = str(body.get("Memo") or "")
    body["Memo"] = VOID_PREFIX + memo if memo else VOID_PREFIX.strip()
    body["AppliedAmount"] = money(Decimal(0))
    company._invoice_totals(row)
    company._touch(row)
    company.store.update(row)
    return row


def _zero(line: dict[str, Any]) -> None:
    if "Quantity" in line:
        line["Quantity"] = "0"
    line["Amount"] = money(Decimal(0))


def _free_payments(company: Company, invoice: Row) -> None:
    """What payments had applied to the invoice becomes their unused payment; the links go."""
    for link in invoice.body.get("LinkedTxn", []):
        payment = company.get(link.get("TxnID", ""), ("ReceivePayment",))
        if payment is None:
            continue
        kept = [a for a in payment.body.get("AppliedToTxnRet", []) if a["TxnID"] != invoice.id]
        unused = parse_decimal(payment.body.get("UnusedPayment", "0"), "UnusedPayment") - parse_decimal(
            link["Amount"], "Amount")
        payment.body["AppliedToTxnRet"] = kept
        payment.body["UnusedPayment"] = money(unused)
        payment.balance_cents = -to_cents(unused)
        company._touch(payment)
        company.store.update(payment)
        company.store.set_uses(payment.id, [payment.customer_id or "", *(a["TxnID"] for a in kept)])
    invoice.body["LinkedTxn"] = [link for link in invoice.body.get("LinkedTxn", [])
                                 if link.get("TxnType") not in (None, "ReceivePayment")]


def unsupported(kind: str) -> QbStatus:
    return QbStatus(3250, f"This feature is not enabled or not available in this version of QuickBooks (the "
                          f"simulator does not model TxnVoid of {kind}).")
