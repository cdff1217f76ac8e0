"""Estimates: the Opportunity's synced quote (a Salesforce Quote with its line items) → a QuickBooks Estimate, and
the estimate's active state back to the Quote.

Salesforce → QuickBooks by the Quote_to_Estimate sheet (and QuoteLines_CHILD_Quote for its lines), for quotes that
meet the eligibility (default ``IsSyncing = true``: the one quote an opportunity syncs with — its Synced Quote — is
the offer the customer gets; drafts and alternatives stay in Salesforce). Lines are replaced like an invoice's,
keeping their TxnLineIDs. QuickBooks → Salesforce by the Estimate_to_Quote sheet, which only writes QuickBooks'
values back to the Quotes qbsf sent (``inbound_creates=False``): IsActive, which a bookkeeper clears when the
customer declines or the estimate is closed. qbXML has no other state for an estimate (EstimateRet carries IsActive
only); an estimate made in QuickBooks stays in QuickBooks.
"""

from __future__ import annotations

from qbsf.sync.entities.base import TXN_ID, ChildSpec, ParentRef, SyncedEntity
from qbsf.sync.entities.order import ADDRESS_FIELDS, GONE_ACTIONS, LINE_FIELDS, SalesDocumentHooks

QUOTE = SyncedEntity(
    key="Quote", sf_object="Quote", qb_id_field="QB_Estimate_ID__c", qb_entity="Estimate", qb_id_kind=TXN_ID,
    outbound_sheet="Quote_to_Estimate", inbound_sheet="Estimate_to_Quote", inbound_creates=False,
    gone_actions=GONE_ACTIONS,
    base_fields=("Id", "Name", "QuoteNumber", "SystemModstamp", "LastModifiedById", "QB_Estimate_ID__c", "AccountId",
                 "OpportunityId", "IsSyncing"),
    # Quote.AccountId is its Opportunity's Account (read only on the quote).
    parents=(ParentRef("AccountId", "Account", "Account.QB_Customer_ID__c", qb_ref="CustomerRef"),),
    eligibility="IsSyncing = true",
    lines=ChildSpec(
        relationship="QuoteLineItems", sf_object="QuoteLineItem", sheet="QuoteLines_CHILD_Quote",
        base_fields=("Id", "Product2Id", "Quantity", "UnitPrice", "TotalPrice", "Description", "SortOrder"),
        parents=(ParentRef("Product2Id", "Product2", "Product2.QB_Item_ID__c"),),
        element="EstimateLine", file_words=("quotelines",),
        own_fields=frozenset({"QuoteId", "LineNumber", "Discount", "Subtotal", *LINE_FIELDS}),
    ),
    qb_types=("Estimate",), sf_label="Quote", qb_label="Estimate", aliases=("quotes", "estimate", "estimates"),
    own_fields=frozenset({"QuoteNumber", "ExpirationDate", "IsSyncing", "GrandTotal", "LineItemCount",
                          "Subtotal", "Discount", *ADDRESS_FIELDS}),
    hooks=SalesDocumentHooks(),
)
