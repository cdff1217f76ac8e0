"""Payments: a QuickBooks ReceivePayment → ``QB_Payment__c``, with one ``QB_Payment_Line__c`` per invoice it pays.

QuickBooks → Salesforce only, by the Payment_to_SF sheet. A payment reaches Salesforce because the payment itself
changed in QuickBooks (its own modified-since read), not only because QuickBooks touched an invoice it pays. Its
lines are the invoices it is applied to (AppliedToTxnRet): each becomes a ``QB_Payment_Line__c`` named by the
payment's and the invoice's TxnIDs (``QB_Payment_Line_ID__c``), linked to the payment and to the mirrored
``QB_Invoice__c``. When a payment is re-applied in QuickBooks, the lines of invoices it no longer pays are deleted.
A payment applied to exactly one invoice also names it on the payment itself (``QB_Payment__c.Invoice__c``, the
lookup a page layout or report shows without the lines); one applied to several leaves it empty.
A payment deleted in QuickBooks keeps its record in Salesforce with ``Deleted_In_QuickBooks__c`` ticked (the
default ``sync.on_qb_delete`` action of this entity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qbsf.errors import NeedsUser, SyncError
from qbsf.sync.entities.base import TXN_ID, EntityHooks, SyncedEntity

LINE_OBJECT = "QB_Payment_Line__c"
LINE_ID_FIELD = "QB_Payment_Line_ID__c"
INVOICE_OBJECT = "QB_Invoice__c"
INVOICE_ID_FIELD = "QB_Invoice_ID__c"


def line_key(payment_txn_id: str, invoice_txn_id: str) -> str:
    """The external id of one payment line: the payment's and the invoice's TxnIDs."""
    return f"{payment_txn_id}:{invoice_txn_id}"


class PaymentHooks(EntityHooks):
    """A payment's rules: its lines written after it, deletion flagged."""

    def default_deletion(self, entity: SyncedEntity) -> tuple[str, Any] | None:
        return ("Deleted_In_QuickBooks__c", True)

    def complete_from_records(self, entity: SyncedEntity, works: Sequence[tuple[Any, dict[str, Any]]], *,
                              resolver: Any) -> dict[str, SyncError]:
        """``Invoice__c``: the invoice a payment applied to exactly one invoice pays. Found like its lines' (the
        crosswalk), and like them left empty when the invoice is not in Salesforce yet — the payment does not wait
        for it (a full pass syncs invoices first; a payment synced alone keeps its own data)."""
        from qbsf.sync.entities.credit_memo import link_invoices

        return link_invoices(entity, works, "Invoice__c", only_invoice, resolver=resolver, wait=False)

    def write_lines(self, entity: SyncedEntity, written: Sequence[tuple[Any, Mapping[str, Any], str, bool]], *,
                    sf: Any, resolver: Any) -> dict[str, SyncError]:
        """One ``QB_Payment_Line__c`` per invoice each payment pays (upserted by its line key; one call per 200
        lines), and the lines of invoices a payment no longer pays deleted (looked for only on payments that were
        in Salesforce before: a payment created now has no old lines)."""
        if not written:
            return {}
        invoices = sorted({str(line.TxnID) for record, *_ in written for line in record.lines if line.TxnID})
        invoice_ids = resolver.find_ids(INVOICE_OBJECT, INVOICE_ID_FIELD, invoices) if invoices else {}
        rows: list[dict[str, Any]] = []
        owners: list[str] = []
        wanted: dict[str, set[str]] = {}
        for record, flat, sf_id, created in written:
            qb_id = str(record.TxnID)
            keys: set[str] = set()
            if not created:
                wanted[sf_id] = keys
            label = str(flat.get("RefNumber") or qb_id)
            for line in record.lines:
                if not line.TxnID:
                    continue
                key = line_key(qb_id, str(line.TxnID))
                keys.add(key)
                rows.append({LINE_ID_FIELD: key, "Name": f"{label} / {line.RefNumber or line.TxnID}"[:80],
                             "Payment__c": sf_id, "Invoice__c": invoice_ids.get(str(line.TxnID)),
                             "Amount_Applied__c": _number(line.Amount),
                             "Invoice_Balance__c": _number(line.BalanceRemaining)})
                owners.append(qb_id)
        errors: dict[str, SyncError] = {}
        for owner, result in zip(owners, sf.upsert_many(LINE_OBJECT, LINE_ID_FIELD, rows) if rows else [],
                                 strict=True):
            if not result.success and owner not in errors:
                errors[owner] = NeedsUser(f"Payment {owner}: a line could not be written ({result.error})",
                                          hint="check the payment's invoices in Salesforce")
        stale = _stale_lines(sf, wanted) if wanted else []
        if stale:
            sf.delete_many(stale)
        return errors


def only_invoice(record: Any) -> str | None:
    """The TxnID of the one invoice a payment pays (None when it pays none or several)."""
    paid = {str(line.TxnID) for line in record.lines if line.TxnID}
    return next(iter(paid)) if len(paid) == 1 else None


def _stale_lines(sf: Any, wanted: Mapping[str, set[str]]) -> list[str]:
    """Ids of the lines of these payments whose invoice the payment no longer pays."""
    from qbsf.salesforce.soql import quote

    ids = sorted(wanted)
    stale: list[str] = []
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        rows = sf.query(f"SELECT Id, Payment__c, {LINE_ID_FIELD} FROM {LINE_OBJECT} WHERE Payment__c IN "
                        f"({', '.join(quote(i) for i in chunk)})")
        stale.extend(row["Id"] for row in rows if row.get(LINE_ID_FIELD) not in wanted.get(row.get("Payment__c"), ()))
    return stale


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


PAYMENT = SyncedEntity(
    key="QB_Payment__c", sf_object="QB_Payment__c", qb_id_field="QB_Payment_ID__c", qb_entity="ReceivePayment",
    qb_id_kind=TXN_ID, inbound_sheet="Payment_to_SF", qb_types=("ReceivePayment",), sf_label="Payment",
    qb_label="Payment", aliases=("payment", "payments", "qb_payment"), inbound_words=("payment",),
    hooks=PaymentHooks(),
)
