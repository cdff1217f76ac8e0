"""Invoices: Opportunity → QuickBooks Invoice out, QuickBooks Invoice → QB_Invoice__c in.

Why two declarations in one module: a :class:`SyncedEntity` is one Salesforce object ↔ QuickBooks entity pair,
with one crosswalk. The two invoice directions write different Salesforce objects — a closed-won Opportunity (the
deal, with its line items) becomes an invoice; every QuickBooks invoice (whoever made it, with its balance,
payments and status) is mirrored as a ``QB_Invoice__c`` — so they are two pairs, each declared once: their
crosswalks, mapping sheets, eligibility and life cycle differ. What they share — the QuickBooks side (Invoice,
TxnID, the words a bookkeeper uses) and the invoice rules (payments applied, status) — is written once here, in
:class:`InvoiceHooks`, which both declarations use. The inbound declaration names the outbound one as its
``origin``, so a mirrored invoice links back to the Opportunity it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from qbsf.sync.entities.base import TXN_ID, ChildSpec, EntityHooks, ParentRef, SyncedEntity

QB_ENTITY = "Invoice"
QB_TYPES = ("Invoice",)


def _amount(values: Mapping[str, Any], name: str) -> Decimal:
    try:
        return Decimal(str(values.get(name) or 0))
    except InvalidOperation:
        return Decimal(0)


class InvoiceHooks(EntityHooks):
    """Invoice rules: payments applied, status, jobs billed to their customer, crash reconcile by time."""

    # ---- Salesforce → QuickBooks -------------------------------------------------------------------------------
    def after_mod(self, entity: SyncedEntity, *, label: str, before: Mapping[str, Any],
                  after: Mapping[str, Any]) -> str | None:
        # A Salesforce change that alters the total of an invoice with payments applied: warn with the new open
        # balance (the customer now owes money on an invoice they consider settled).
        applied = _amount(before, "AppliedAmount")
        if applied == 0 or _amount(before, "Subtotal") == _amount(after, "Subtotal"):
            return None
        return (f"the invoice of {label} has payments applied ({abs(applied)}); the change from Salesforce moved its "
                f"total from {_amount(before, 'Subtotal')} to {_amount(after, 'Subtotal')}: open balance now "
                f"{_amount(after, 'BalanceRemaining')}. Tell the customer, or issue a credit memo")

    def find_written(self, entity: SyncedEntity, qb: Any, names: Sequence[str], since: datetime) -> list[Any]:
        # An invoice has no unique name: the invoices modified since the interrupted Add are searched instead.
        return list(qb.modified_since(entity.qb_entity, since))

    # ---- QuickBooks → Salesforce -------------------------------------------------------------------------------
    def prepare_inbound(self, entity: SyncedEntity, flats: Sequence[dict[str, Any]], qb: Any) -> None:
        """An invoice for a job (``Parent:Job``) links to the top-level customer's Account, the job is not one.

        The top-level customers' ListIDs come from one QuickBooks query per batch, only when jobs are invoiced.
        """
        jobs = {flat.get("CustomerRef.FullName") for flat in flats
                if ":" in str(flat.get("CustomerRef.FullName") or "")}
        if not jobs:
            return
        tops = sorted({str(name).split(":", 1)[0] for name in jobs})
        found = {c.FullName.casefold(): c.ListID for c in qb.query("Customer", names=tops, include_inactive=True)
                 if c.FullName and c.ListID}
        for flat in flats:
            name = str(flat.get("CustomerRef.FullName") or "")
            top = found.get(name.split(":", 1)[0].casefold()) if ":" in name else None
            if top is not None:
                flat["CustomerRef.ListID"] = top

    def complete_payload(self, entity: SyncedEntity, payload: dict[str, Any], flat: Mapping[str, Any], *,
                         config: Any, today: Any, origin_sf_id: str | None) -> None:
        from qbsf.sync.invoice_status import derive_status

        payload[config.status_field] = derive_status(flat.get(entity.balance_field), flat.get("DueDate"), today)
        field = getattr(config, "opportunity_field", None)
        if origin_sf_id is not None and field and field not in payload:
            payload[str(field)] = origin_sf_id

    # ---- life cycle --------------------------------------------------------------------------------------------
    def gone_advice(self, entity: SyncedEntity, kind: str) -> str:
        return {
            "deleted": f"void or delete the invoice in QuickBooks if the deal is off, or undelete the "
                       f"{entity.sf_object} (it relinks)",
            "merged": "check the invoice in QuickBooks",
            "ineligible": f"void the invoice in QuickBooks if the deal is lost (a customer could be chased for it), "
                          f"or move the {entity.sf_object} back",
        }.get(kind) or super().gone_advice(entity, kind)

    def memo(self, entity: SyncedEntity, kind: str) -> str:
        return {"deleted": "deal deleted in Salesforce", "merged": "deal merged in Salesforce",
                "ineligible": "deal no longer Closed Won in Salesforce"}[kind]


HOOKS = InvoiceHooks()

OPPORTUNITY = SyncedEntity(
    key="Opportunity", sf_object="Opportunity", qb_id_field="QB_Invoice_ID__c", qb_entity=QB_ENTITY,
    qb_id_kind=TXN_ID, outbound_sheet="Oppty_to_Invoice",
    base_fields=("Id", "Name", "SystemModstamp", "LastModifiedById", "QB_Invoice_ID__c", "AccountId", "CloseDate",
                 "StageName"),
    parents=(ParentRef("AccountId", "Account", "Account.QB_Customer_ID__c", qb_ref="CustomerRef"),),
    eligibility="StageName = 'Closed Won'",
    lines=ChildSpec(
        relationship="OpportunityLineItems", sf_object="OpportunityLineItem", sheet="OpptyLines_CHILD_Oppty",
        base_fields=("Id", "Product2Id", "Quantity", "UnitPrice", "TotalPrice", "Description", "SortOrder"),
        parents=(ParentRef("Product2Id", "Product2", "Product2.QB_Item_ID__c"),),
        element="InvoiceLine", file_words=("opptylines", "_child_oppty"),
        own_fields=frozenset({"UnitPrice", "ListPrice", "TotalPrice", "Quantity", "ServiceDate", "Discount",
                              "PricebookEntryId", "OpportunityId"}),
    ),
    qb_types=QB_TYPES, qb_label="Invoice", aliases=("oppty",),
    outbound_words=("oppty", "opportunity"),
    own_fields=frozenset({
        "StageName", "CloseDate", "Probability", "ForecastCategoryName", "NextStep", "IsWon", "IsClosed",
        "ExpectedRevenue", "TotalOpportunityQuantity", "HasOpportunityLineItem"}),
    hooks=HOOKS,
)

QB_INVOICE = SyncedEntity(
    key="QB_Invoice__c", sf_object="QB_Invoice__c", qb_id_field="QB_Invoice_ID__c", qb_entity=QB_ENTITY,
    qb_id_kind=TXN_ID, inbound_sheet="Invoice_to_SF", qb_types=QB_TYPES, daily_status=True,
    origin="Opportunity", sf_label="Invoice", qb_label="Invoice", aliases=("invoices", "qb_invoice"),
    inbound_words=("invoice",), hooks=HOOKS,
)
