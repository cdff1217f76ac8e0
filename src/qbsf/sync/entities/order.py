"""Orders: a Salesforce Order with its products (OrderItem) → a QuickBooks SalesOrder, its status back.

Salesforce → QuickBooks by the Order_to_SalesOrder sheet (and OrderLines_CHILD_Order for its lines), for orders that
meet the eligibility (default ``Status = 'Activated'``: a Draft order is still being written). Lines are replaced
like an invoice's: a line changed in Salesforce keeps its QuickBooks TxnLineID, a line removed there is removed
from the sales order. QuickBooks → Salesforce by the SalesOrder_to_Order sheet, which only writes QuickBooks'
values back to the Orders qbsf sent (``inbound_creates=False``): the sales order turns fully invoiced when it is
invoiced in QuickBooks (IsFullyInvoiced) or is closed by hand there (IsManuallyClosed). A sales order made in
QuickBooks stays in QuickBooks.
"""

from __future__ import annotations

from typing import Any

from qbsf.sync.entities.base import TXN_ID, ChildSpec, EntityHooks, ParentRef, SyncedEntity

# Standard fields a sales document shares with other synced objects (an Account's addresses, an opportunity
# product's price fields): its own too, so a mapping of them is not taken for the wrong object's.
ADDRESS_FIELDS = tuple(f"{kind}{part}" for kind in ("Billing", "Shipping")
                       for part in ("Street", "City", "State", "PostalCode", "Country"))
LINE_FIELDS = ("Quantity", "UnitPrice", "ListPrice", "TotalPrice", "ServiceDate", "PricebookEntryId")


# What sync.on_sf_gone can do with a sales document whose Salesforce record went away: report it. QuickBooks voids
# only posting transactions (TxnVoidRq's TxnVoidType lists no SalesOrder or Estimate), and the memo action's
# "unpaid" check reads an invoice's balance, which a sales order or estimate does not have.
GONE_ACTIONS = ("report",)


class SalesDocumentHooks(EntityHooks):
    """A sales document sent from Salesforce (sales order, estimate): read through the client's one query by
    entity; advice and memos in a bookkeeper's words when its Salesforce record goes away."""

    def gone_advice(self, entity: SyncedEntity, kind: str) -> str:
        word = entity.qb_word.casefold()
        return {
            "deleted": f"delete or close the {word} in QuickBooks if it is off, or undelete the {entity.sf_word} "
                       f"(it relinks)",
            "merged": f"check the {word} in QuickBooks",
            "ineligible": f"close the {word} in QuickBooks if it is off, or make the {entity.sf_word} eligible again",
        }.get(kind) or super().gone_advice(entity, kind)

    def memo(self, entity: SyncedEntity, kind: str) -> str:
        return {"deleted": f"{entity.sf_word} deleted in Salesforce", "merged": f"{entity.sf_word} merged in "
                "Salesforce", "ineligible": f"{entity.sf_word} no longer eligible in Salesforce"}[kind]

    def label(self, entity: SyncedEntity, flat: Any) -> str:
        return f"{entity.qb_word} {flat.get('RefNumber') or flat.get(TXN_ID)}"


ORDER = SyncedEntity(
    key="Order", sf_object="Order", qb_id_field="QB_Sales_Order_ID__c", qb_entity="SalesOrder", qb_id_kind=TXN_ID,
    outbound_sheet="Order_to_SalesOrder", inbound_sheet="SalesOrder_to_Order", inbound_creates=False,
    gone_actions=GONE_ACTIONS,
    base_fields=("Id", "OrderNumber", "SystemModstamp", "LastModifiedById", "QB_Sales_Order_ID__c", "AccountId",
                 "EffectiveDate", "Status"),
    parents=(ParentRef("AccountId", "Account", "Account.QB_Customer_ID__c", qb_ref="CustomerRef"),),
    eligibility="Status = 'Activated'",
    lines=ChildSpec(
        relationship="OrderItems", sf_object="OrderItem", sheet="OrderLines_CHILD_Order",
        base_fields=("Id", "Product2Id", "Quantity", "UnitPrice", "TotalPrice", "Description"),
        parents=(ParentRef("Product2Id", "Product2", "Product2.QB_Item_ID__c"),),
        element="SalesOrderLine", file_words=("orderlines",),
        own_fields=frozenset({"OrderId", "OrderItemNumber", "QuoteLineItemId", *LINE_FIELDS}),
        order_by="OrderItemNumber, Id",
    ),
    name_field="OrderNumber", qb_types=("SalesOrder",), sf_label="Order", qb_label="Sales Order",
    aliases=("orders", "salesorder", "sales_order"),
    own_fields=frozenset({"EffectiveDate", "OrderNumber", "PoNumber", "PoDate", "ActivatedDate", "StatusCode",
                          "TotalAmount", *ADDRESS_FIELDS}),
    hooks=SalesDocumentHooks(),
)
