"""Orders and quotes: the price book rules and roll-ups Salesforce applies to Order/OrderItem and Quote/QuoteLineItem.

From Salesforce's Object Reference (developer.salesforce.com/docs/platform/object-reference/references/
standard-objects/object-order.html, …/object-orderitem.html, …/object-quote.html, …/object-quotelineitem.html):

- An order product and a quote line item need a price book entry (PricebookEntryId, set on create only) from the
  price book of their order or quote; the parent needs a price book first. The messages are the ones orgs answer:
  "Price Book Not Set on Order", "Order Products must have a Price Book Entry that belongs to the Price Book related to
  the parent Order." (a recorded REST answer, FIELD_INTEGRITY_EXCEPTION on PricebookEntryId), and for quotes "The
  pricebook entry is in a different pricebook than the one assigned to the Quote, or Quote has no pricebook
  assigned.".
- Product2Id and ListPrice come from the entry. An order product's TotalPrice is Quantity × UnitPrice; a quote line's
  Subtotal is Quantity × UnitPrice and its TotalPrice that less its Discount (percent).
- Order.TotalAmount sums its products; a quote's Subtotal, TotalPrice, GrandTotal and LineItemCount sum its lines;
  Quote.AccountId is its Opportunity's Account; a new quote takes the Opportunity's price book and starts as Draft.
- Order.StatusCode is the category of Status (Draft or Activated); OrderNumber, QuoteNumber, OrderItemNumber and
  LineNumber are auto-numbers.
- "After an order […] is activated, you can't delete its order products. But you can still edit an order product's
  fields." (help.salesforce.com/apex/HTViewHelpDoc?id=sales.orderproduct_edit.htm, "Editing and Deletion
  Considerations for Order Products"): a user takes the order back to Draft to remove a product, then activates it
  again. The error code is the one the emulator uses for other refused deletes (no recorded answer here).
- Quote syncing (help.salesforce.com/s/articleView?id=sales.quotes_synch.htm, "Sync Quotes and Opportunities"):
  Opportunity.SyncedQuoteId names the one quote the opportunity syncs with, and that quote's IsSyncing is true; an
  opportunity "can sync with only one quote at a time", so syncing another quote stops the first. The quote must be
  one of the opportunity's own (it is "linked to the opportunity that it was created from"); deleting the synced
  quote clears the field (a lookup to a deleted record). Starting or stopping the sync saves the quote (IsSyncing
  changes, so does its SystemModstamp). The product sync between the two records' lines is not emulated.

The state calls :func:`derive` before a record is saved and :func:`roll_up` after, like its other business rules
(:func:`check_synced_quote` and :func:`sync_quotes` for an Opportunity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qbsf.sim.salesforce.values import ApiError

if TYPE_CHECKING:
    from qbsf.sim.salesforce.state import SalesforceState

OBJECTS = frozenset({"Order", "OrderItem", "Quote", "QuoteLineItem"})
_PARENT = {"OrderItem": ("Order", "OrderId"), "QuoteLineItem": ("Quote", "QuoteId")}
_NUMBERS = {"Order": ("OrderNumber", 8), "Quote": ("QuoteNumber", 8), "OrderItem": ("OrderItemNumber", 10),
            "QuoteLineItem": ("LineNumber", 5)}


def _integrity(message: str, field: str = "PricebookEntryId") -> ApiError:
    return ApiError(400, "FIELD_INTEGRITY_EXCEPTION", message, [field])


def derive(state: SalesforceState, sobject: str, record: dict[str, Any], *, creating: bool) -> None:
    """Fields Salesforce fills in before the save, and the price book checks on a new line."""
    tables = state._tables
    if creating and sobject in _NUMBERS:
        field, width = _NUMBERS[sobject]
        record[field] = str(len(tables[sobject]) + 1).zfill(width)  # deleted rows stay: numbers never repeat
    if sobject == "Order":
        record["StatusCode"] = "Activated" if record.get("Status") == "Activated" else "Draft"
        return
    if sobject == "Quote":
        opportunity = tables["Opportunity"].get(record.get("OpportunityId") or "") or {}
        record["AccountId"] = opportunity.get("AccountId")
        if creating and record.get("Pricebook2Id") is None:
            record["Pricebook2Id"] = opportunity.get("Pricebook2Id")
        if creating and record.get("Status") is None:
            record["Status"] = "Draft"  # the Status picklist's default in a new org
        return
    parent_object, parent_field = _PARENT[sobject]
    parent = tables[parent_object].get(record.get(parent_field) or "") or {}
    if creating and record.get("PricebookEntryId") is not None:  # none at all: the required-field check answers
        entry = tables["PricebookEntry"].get(record.get("PricebookEntryId") or "")
        if entry is None or entry.get("IsDeleted"):
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["PricebookEntryId"])
        book = parent.get("Pricebook2Id")
        if sobject == "OrderItem" and book is None:
            raise _integrity("Price Book Not Set on Order")
        if sobject == "OrderItem" and entry.get("Pricebook2Id") != book:
            raise _integrity("Order Products must have a Price Book Entry that belongs to the Price Book related to "
                             "the parent Order.: Price Book Entry ID")
        if sobject == "QuoteLineItem" and (book is None or entry.get("Pricebook2Id") != book):
            raise _integrity("The pricebook entry is in a different pricebook than the one assigned to the Quote, or "
                             "Quote has no pricebook assigned.")
        record["Product2Id"] = entry.get("Product2Id")
        record["ListPrice"] = entry.get("UnitPrice")
    amount = round((record.get("Quantity") or 0) * (record.get("UnitPrice") or 0), 2)
    if sobject == "OrderItem":
        record["TotalPrice"] = amount
    else:
        record["Subtotal"] = amount
        record["TotalPrice"] = round(amount * (1 - (record.get("Discount") or 0) / 100), 2)


def roll_up(state: SalesforceState, sobject: str, record: dict[str, Any]) -> None:
    """After a line is saved or deleted: its order's TotalAmount, or its quote's totals."""
    if sobject not in _PARENT:
        return
    parent_object, parent_field = _PARENT[sobject]
    parent_id = record.get(parent_field)
    parent = state._tables[parent_object].get(parent_id or "")
    if parent is None or parent.get("IsDeleted"):
        return
    lines = state._children_or_scan(sobject, parent_field, parent_id)
    total = round(sum(line.get("TotalPrice") or 0 for line in lines), 2)
    if parent_object == "Order":
        updated = {**parent, "TotalAmount": total}
    else:
        subtotal = round(sum(line.get("Subtotal") or 0 for line in lines), 2)
        discount = round((1 - total / subtotal) * 100, 2) if subtotal else 0.0
        updated = {**parent, "Subtotal": subtotal, "TotalPrice": total, "GrandTotal": total,
                   "LineItemCount": len(lines), "Discount": discount}
    now = state.now()
    updated.update({"SystemModstamp": now, "LastModifiedDate": now})
    state._put(parent_object, parent_id, updated)


def check_synced_quote(state: SalesforceState, record: dict[str, Any]) -> None:
    """Before an Opportunity is saved: its synced quote must be one of its own quotes."""
    quote_id = record.get("SyncedQuoteId")
    if not quote_id:
        return
    quote = state._tables["Quote"].get(quote_id)
    if quote is None or quote.get("IsDeleted") or quote.get("OpportunityId") != record.get("Id"):
        raise _integrity("The synced quote must be a quote of this opportunity.", "SyncedQuoteId")


def sync_quotes(state: SalesforceState, opportunity: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """After an Opportunity is saved: the quote it stopped syncing with and the one it syncs with now."""
    before = (previous or {}).get("SyncedQuoteId")
    after = opportunity.get("SyncedQuoteId")
    if before == after:
        return
    now = state.now()
    for quote_id, syncing in ((before, False), (after, True)):
        quote = state._tables["Quote"].get(quote_id or "")
        if quote is not None and not quote.get("IsDeleted"):
            state._put("Quote", quote_id, {**quote, "IsSyncing": syncing, "SystemModstamp": now,
                                           "LastModifiedDate": now})


def check_delete(state: SalesforceState, sobject: str, record: dict[str, Any]) -> None:
    """Before a record is deleted by a user (not by its parent's cascade): an activated order keeps its products."""
    if sobject != "OrderItem":
        return
    order = state._tables["Order"].get(record.get("OrderId") or "") or {}
    if order.get("StatusCode") == "Activated" and not order.get("IsDeleted"):
        raise ApiError(400, "DELETE_FAILED", "You can't delete order products of an activated order: set the "
                                             "order's Status back to Draft first.", [])
