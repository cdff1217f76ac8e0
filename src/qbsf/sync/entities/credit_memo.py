"""Credit memos: a QuickBooks CreditMemo → ``QB_Credit_Memo__c``, QuickBooks → Salesforce only (CreditMemo_to_SF).

A credit memo brings its customer's Account, date, number, amount and what is left of the credit
(``CreditRemaining``), its lines summarised one per row in ``Lines_Summary__c`` and, once it is applied, the
invoice it went to (``Invoice__c``; the invoice given the most when it was split). Its status is derived: Used when
no credit remains, else Open.

What QuickBooks does, from Intuit's qbXML On-Screen Reference (developer.intuit.com/app/developer/qbdesktop/docs/
api-reference/qbdesktop/creditmemoadd, …/creditmemoquery, …/receivepaymentadd): a credit memo "doesn't actually get
applied until it is referenced in a ReceivePayment transaction inside the SetCredit aggregate"; applying it lowers
the invoice's balance and the memo's CreditRemaining, and both transactions list each other among their linked
transactions (IncludeLinkedTxns, LinkType AMTTYPE). Applying it changes the memo itself (TimeModified), so the memo's
own modified-since read brings the new remaining credit and the invoice; the invoice's read brings its lower
balance. The read asks the memo's lines and linked transactions (``reads_lines``, ``reads_linked``).

A credit memo deleted in QuickBooks keeps its record in Salesforce with ``Deleted_In_QuickBooks__c`` ticked (the
default ``sync.on_qb_delete`` action of this entity), as a payment does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from qbsf.errors import AfterDependency, SyncError
from qbsf.sync.entities.base import TXN_ID, EntityHooks, SyncedEntity

INVOICE_OBJECT = "QB_Invoice__c"
INVOICE_ID_FIELD = "QB_Invoice_ID__c"
INVOICE_KEY = "QB_Invoice__c"  # the crosswalk the invoice's Salesforce Id is found in
DELETED_FIELD = "Deleted_In_QuickBooks__c"
USED = "Used"
OPEN = "Open"
# Salesforce's long text area holds 131,072 characters; the package's field is 32,768.
SUMMARY_LIMIT = 32_768


class KeptWhenDeletedHooks(EntityHooks):
    """A QuickBooks document whose record stays in Salesforce, flagged, when it is deleted in QuickBooks."""

    def default_deletion(self, entity: SyncedEntity) -> tuple[str, Any] | None:
        return (DELETED_FIELD, True)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _amount(value: Any) -> str:
    number = _decimal(value)
    return "" if number is None else f"{number:,.2f}"


def _quantity(value: Any) -> str:
    number = _decimal(value)
    if number is None or number == 1:
        return ""
    return f" × {number.normalize():f}"


def summarise_lines(lines: Iterable[Any], groups: Iterable[Any] = ()) -> str:
    """A document's lines as a bookkeeper reads them, one per row: ``Widget × 2: 20.00``; a line without an item
    shows its description; an item group shows as one row with its total."""
    rows: list[tuple[int, str]] = []
    for position, line in enumerate(lines):
        name = (line.ItemRef.FullName if line.ItemRef is not None and line.ItemRef.FullName else None) or \
            (line.Desc or "").strip() or "(no item)"
        rows.append((position * 2, f"{name}{_quantity(line.Quantity)}: {_amount(line.Amount)}".rstrip(": ")))
    for group in groups:
        name = group.ItemGroupRef.FullName if group.ItemGroupRef is not None and group.ItemGroupRef.FullName \
            else (group.Desc or "(item group)")
        rows.append((group.position * 2 - 1, f"{name}{_quantity(group.Quantity)}: {_amount(group.TotalAmount)}"))
    text = "\n".join(row for _, row in sorted(rows, key=lambda pair: pair[0]))
    return text if len(text) <= SUMMARY_LIMIT else text[:SUMMARY_LIMIT - 1] + "…"


def applied_invoice(record: Any) -> str | None:
    """The TxnID of the invoice a credit memo was applied to (the one given the most when it was split)."""
    applied: dict[str, Decimal] = {}
    for link in getattr(record, "linked", ()) or ():
        if link.TxnType == "Invoice" and link.TxnID:
            applied[link.TxnID] = applied.get(link.TxnID, Decimal(0)) + abs(_decimal(link.Amount) or Decimal(0))
    if not applied:
        return None
    return max(applied, key=lambda txn_id: (applied[txn_id], txn_id))


def link_invoices(entity: SyncedEntity, works: Sequence[tuple[Any, dict[str, Any]]], field: str,
                  invoice_of: Any, *, resolver: Any, wait: bool = True) -> dict[str, SyncError]:
    """Fill ``field`` of each payload with the Salesforce Id of the invoice ``invoice_of(record)`` names (one
    crosswalk look-up for the batch; None when the record names none). A record naming an invoice that is not in
    Salesforce yet waits for it (retried as soon as the invoice is linked) — or, without ``wait``, goes now with
    the field empty (for a record whose lines name the invoice too)."""
    wanted = {str(record.TxnID): invoice_of(record) for record, _ in works}
    invoices = sorted({txn_id for txn_id in wanted.values() if txn_id})
    found = resolver.find_ids(INVOICE_OBJECT, INVOICE_ID_FIELD, invoices) if invoices else {}
    errors: dict[str, SyncError] = {}
    for record, payload in works:
        txn_id = wanted[str(record.TxnID)]
        if txn_id and txn_id not in found and wait:
            label = f"{entity.qb_word} {record.RefNumber or record.TxnID}"
            errors[str(record.TxnID)] = AfterDependency(
                f"{label} is applied to QuickBooks invoice {txn_id}, which is not in Salesforce yet",
                hint="it syncs as soon as the invoice does; check the invoice's failures if it does not",
                parent=(INVOICE_KEY, txn_id))
            continue
        payload[field] = found.get(txn_id) if txn_id else None
    return errors


class CreditMemoHooks(KeptWhenDeletedHooks):
    """A credit memo's rules: status from the credit left, lines summarised, the invoice it was applied to."""

    def complete_payload(self, entity: SyncedEntity, payload: dict[str, Any], flat: Mapping[str, Any], *,
                         config: Any, today: Any, origin_sf_id: str | None) -> None:
        remaining = _decimal(flat.get("CreditRemaining"))
        payload[config.status_field] = USED if remaining is not None and remaining <= 0 else OPEN

    def complete_from_records(self, entity: SyncedEntity, works: Sequence[tuple[Any, dict[str, Any]]], *,
                              resolver: Any) -> dict[str, SyncError]:
        for record, payload in works:
            payload["Lines_Summary__c"] = summarise_lines(record.lines, record.groups) or None
        return link_invoices(entity, works, "Invoice__c", applied_invoice, resolver=resolver)


CREDIT_MEMO = SyncedEntity(
    key="QB_Credit_Memo__c", sf_object="QB_Credit_Memo__c", qb_id_field="QB_Credit_Memo_ID__c",
    qb_entity="CreditMemo", qb_id_kind=TXN_ID, inbound_sheet="CreditMemo_to_SF", qb_types=("CreditMemo",),
    reads_lines=True, reads_linked=True, sf_label="Credit Memo", qb_label="Credit Memo",
    aliases=("credit memo", "credit memos", "creditmemos", "qb_credit_memo"), inbound_words=("creditmemo",),
    hooks=CreditMemoHooks(),
)
