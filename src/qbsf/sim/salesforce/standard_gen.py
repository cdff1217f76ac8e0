"""Regenerate ``standard_objects.json``: ``python -m qbsf.sim.salesforce.standard_gen ../shared/salesforce/describe``.

Account, Contact and Opportunity are compacted from real describe results; Product2, Pricebook2, PricebookEntry,
OpportunityLineItem, Order, OrderItem, Quote, QuoteLineItem, User and Organization are written from Salesforce's object
reference (no recorded describe exists here).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from qbsf.sim.salesforce.schema import STANDARD_SCHEMA_FILE, compact_field

EMULATED = ("Account", "Contact", "Opportunity", "Product2", "Pricebook2", "PricebookEntry", "OpportunityLineItem",
            "User", "Organization", "Order", "OrderItem", "Quote", "QuoteLineItem")
# Child relationships among emulated objects, as (parent, child, field, relationshipName, cascadeDelete).
CHILDREN = [
    ("Account", "Account", "ParentId", "ChildAccounts", False),
    ("Account", "Contact", "AccountId", "Contacts", True),
    ("Account", "Opportunity", "AccountId", "Opportunities", True),
    ("Contact", "Opportunity", "ContactId", "Opportunities", False),
    ("Opportunity", "OpportunityLineItem", "OpportunityId", "OpportunityLineItems", True),
    ("Product2", "PricebookEntry", "Product2Id", "PricebookEntries", True),
    ("Pricebook2", "PricebookEntry", "Pricebook2Id", "PricebookEntries", True),
    ("PricebookEntry", "OpportunityLineItem", "PricebookEntryId", "OpportunityLineItems", False),
    ("Account", "Order", "AccountId", "Orders", False),
    ("Opportunity", "Order", "OpportunityId", "Orders", False),
    ("Pricebook2", "Order", "Pricebook2Id", "Orders", False),
    ("Order", "OrderItem", "OrderId", "OrderItems", True),
    ("PricebookEntry", "OrderItem", "PricebookEntryId", "OrderItems", False),
    ("Opportunity", "Quote", "OpportunityId", "Quotes", True),
    ("Pricebook2", "Quote", "Pricebook2Id", "Quotes", False),
    ("Quote", "QuoteLineItem", "QuoteId", "QuoteLineItems", True),
    ("PricebookEntry", "QuoteLineItem", "PricebookEntryId", "QuoteLineItems", False),
]
_SKIPPED_TYPES = {"address", "location"}
# Fields an emulated object has beyond its recorded describe (recorded in an org without that feature), by object.
ADDED_TO_RECORDED = {"Opportunity": ("SyncedQuoteId",)}


def _field(name: str, type_: str, label: str, length: int = 0, *, nillable: bool = True, createable: bool = True,
           updateable: bool = True, defaulted: bool = False, ref: str | None = None, rel: str | None = None,
           picklist: list[str] | None = None, precision: int = 0, scale: int = 0, id_lookup: bool = False,
           external_id: bool = False, restrict: bool = False) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": label, "length": length, "precision": precision, "scale": scale,
            "nillable": nillable, "createable": createable, "updateable": updateable, "defaultedOnCreate": defaulted,
            "externalId": external_id, "unique": False, "idLookup": id_lookup, "referenceTo": [ref] if ref else [],
            "relationshipName": rel, "restrictedPicklist": False, "picklistValues": picklist or [],
            "cascadeDelete": False, **({"restrictedDelete": True} if restrict else {})}


def system_fields(label: str) -> list[dict[str, Any]]:
    """Id, IsDeleted and the audit fields every object has."""
    ro = {"createable": False, "updateable": False}
    return [
        _field("Id", "id", f"{label} ID", 18, nillable=False, defaulted=True, id_lookup=True, **ro),
        _field("IsDeleted", "boolean", "Deleted", nillable=False, defaulted=True, **ro),
        _field("CreatedDate", "datetime", "Created Date", nillable=False, defaulted=True, **ro),
        _field("CreatedById", "reference", "Created By ID", 18, nillable=False, defaulted=True, ref="User",
               rel="CreatedBy", **ro),
        _field("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, defaulted=True, **ro),
        _field("LastModifiedById", "reference", "Last Modified By ID", 18, nillable=False, defaulted=True,
               ref="User", rel="LastModifiedBy", **ro),
        _field("SystemModstamp", "datetime", "System Modstamp", nillable=False, defaulted=True, **ro),
    ]


def _reference_objects() -> list[dict[str, Any]]:
    ro = {"createable": False, "updateable": False}
    once = {"updateable": False}
    product2 = [*system_fields("Product"),
        _field("Name", "string", "Product Name", 255, nillable=False, id_lookup=True),
        _field("ProductCode", "string", "Product Code", 255),
        _field("Description", "textarea", "Product Description", 4000),
        _field("IsActive", "boolean", "Active", nillable=False, defaulted=True),
        _field("IsArchived", "boolean", "Is Archived", nillable=False, defaulted=True, **ro),
        _field("Family", "picklist", "Product Family", 40, picklist=["None"]),
        _field("ExternalId", "string", "External ID", 255),
        _field("DisplayUrl", "url", "Display URL", 1000),
        _field("QuantityUnitOfMeasure", "picklist", "Quantity Unit Of Measure", 255, picklist=["Each"]),
        _field("StockKeepingUnit", "string", "Product SKU", 180),
    ]
    pricebook2 = [*system_fields("Price Book"),
        _field("Name", "string", "Price Book Name", 255, nillable=False, id_lookup=True),
        _field("IsActive", "boolean", "Active", nillable=False, defaulted=True),
        _field("IsArchived", "boolean", "Is Archived", nillable=False, defaulted=True, **ro),
        _field("Description", "string", "Description", 255),
        _field("IsStandard", "boolean", "Is Standard Price Book", nillable=False, defaulted=True, **ro),
    ]
    pricebook_entry = [*system_fields("Price Book Entry"),
        _field("Name", "string", "Product Name", 255, **ro),
        _field("Pricebook2Id", "reference", "Price Book ID", 18, nillable=False, ref="Pricebook2", rel="Pricebook2",
               **once),
        _field("Product2Id", "reference", "Product ID", 18, nillable=False, ref="Product2", rel="Product2", **once),
        _field("UnitPrice", "currency", "List Price", nillable=False, precision=18, scale=2),
        _field("IsActive", "boolean", "Active", nillable=False, defaulted=True),
        _field("UseStandardPrice", "boolean", "Use Standard Price", nillable=False, defaulted=True),
        _field("ProductCode", "string", "Product Code", 255, **ro),
        _field("IsArchived", "boolean", "Is Archived", nillable=False, defaulted=True, **ro),
    ]
    line_item = [*system_fields("Line Item"),
        _field("OpportunityId", "reference", "Opportunity ID", 18, nillable=False, ref="Opportunity",
               rel="Opportunity", **once),
        _field("SortOrder", "int", "Sort Order", precision=9),
        _field("PricebookEntryId", "reference", "Price Book Entry ID", 18, defaulted=True, ref="PricebookEntry",
               rel="PricebookEntry", restrict=True, **once),
        _field("Product2Id", "reference", "Product ID", 18, defaulted=True, ref="Product2", rel="Product2",
               restrict=True, **once),
        _field("ProductCode", "string", "Product Code", 255, **ro),
        _field("Name", "string", "Opportunity Product Name", 376, **ro),
        _field("Quantity", "double", "Quantity", nillable=False, precision=12, scale=2),
        _field("TotalPrice", "currency", "Total Price", defaulted=True, precision=18, scale=2),
        _field("UnitPrice", "currency", "Sales Price", defaulted=True, precision=18, scale=2),
        _field("ListPrice", "currency", "List Price", precision=18, scale=2, **ro),
        _field("ServiceDate", "date", "Date"),
        _field("Description", "string", "Line Description", 255),
    ]
    user = [*system_fields("User"),
        _field("Username", "string", "Username", 80, nillable=False, id_lookup=True),
        _field("LastName", "string", "Last Name", 80, nillable=False),
        _field("FirstName", "string", "First Name", 40),
        _field("Name", "string", "Full Name", 121, nillable=False, defaulted=True, **ro),
        _field("Email", "email", "Email", 128, nillable=False),
        _field("Alias", "string", "Alias", 8, nillable=False),
        _field("IsActive", "boolean", "Active", nillable=False, defaulted=True),
        _field("TimeZoneSidKey", "picklist", "Time Zone", 40, nillable=False, defaulted=True,
               picklist=["America/Los_Angeles", "America/New_York", "Europe/London", "GMT"]),
    ]
    # Object Reference, "Organization": one read-only record per org (key prefix 00D); tools read it to tell what
    # kind of org they are logged into (the Salesforce CLI queries Name, InstanceName, IsSandbox,
    # TrialExpirationDate, NamespacePrefix and OrganizationType after every login). It has no IsDeleted field.
    organization = [*(f for f in system_fields("Organization") if f["name"] != "IsDeleted"),
        _field("Name", "string", "Name", 80, nillable=False, **ro),
        _field("Division", "string", "Division", 80, **ro),
        _field("Street", "textarea", "Street", 255, **ro),
        _field("City", "string", "City", 40, **ro),
        _field("State", "string", "State/Province", 80, **ro),
        _field("PostalCode", "string", "Zip/Postal Code", 20, **ro),
        _field("Country", "string", "Country", 80, **ro),
        _field("Phone", "phone", "Phone", 40, **ro),
        _field("PrimaryContact", "string", "Primary Contact", 80, **ro),
        _field("DefaultLocaleSidKey", "picklist", "Locale", 40, nillable=False, picklist=["en_US"], **ro),
        _field("LanguageLocaleKey", "picklist", "Language", 40, nillable=False, picklist=["en_US"], **ro),
        _field("TimeZoneSidKey", "picklist", "Time Zone", 40, nillable=False, picklist=["GMT"], **ro),
        _field("FiscalYearStartMonth", "int", "Fiscal Year Starts In", precision=2, **ro),
        _field("InstanceName", "string", "Instance Name", 5, **ro),
        _field("IsSandbox", "boolean", "Is Sandbox", nillable=False, defaulted=True, **ro),
        _field("IsReadOnly", "boolean", "Is Read Only", nillable=False, defaulted=True, **ro),
        _field("NamespacePrefix", "string", "Namespace Prefix", 15, **ro),
        _field("OrganizationType", "picklist", "Edition", 40, picklist=[
            "Team Edition", "Professional Edition", "Enterprise Edition", "Developer Edition", "Personal Edition",
            "Unlimited Edition", "Contact Manager Edition", "Base Edition"], **ro),
        _field("TrialExpirationDate", "datetime", "Trial Expiration Date", **ro),
    ]
    return [
        {"name": "Product2", "keyPrefix": "01t", "label": "Product", "labelPlural": "Products", "fields": product2},
        {"name": "Pricebook2", "keyPrefix": "01s", "label": "Price Book", "labelPlural": "Price Books",
         "fields": pricebook2},
        {"name": "PricebookEntry", "keyPrefix": "01u", "label": "Price Book Entry",
         "labelPlural": "Price Book Entries", "fields": pricebook_entry},
        {"name": "OpportunityLineItem", "keyPrefix": "00k", "label": "Opportunity Product",
         "labelPlural": "Opportunity Product", "fields": line_item},
        {"name": "User", "keyPrefix": "005", "label": "User", "labelPlural": "Users", "fields": user},
        {"name": "Organization", "keyPrefix": "00D", "label": "Organization", "labelPlural": "Organizations",
         "fields": organization},
        *_order_and_quote_objects(),
    ]


def _order_and_quote_objects() -> list[dict[str, Any]]:
    """Order, OrderItem, Quote and QuoteLineItem with the fields a sync reads and writes, from Salesforce's Object
    Reference (developer.salesforce.com/docs/platform/object-reference/references/standard-objects/object-order.html,
    …/object-orderitem.html, …/object-quote.html, …/object-quotelineitem.html): "Required" fields are not
    nillable; roll-ups, auto-numbers and values taken from the price book entry are read-only. Their price book rules
    are in :mod:`qbsf.sim.salesforce.orders`."""
    ro = {"createable": False, "updateable": False}
    once = {"updateable": False}
    money = {"precision": 18, "scale": 2}
    order = [*system_fields("Order"),
        _field("AccountId", "reference", "Account ID", 18, nillable=False, ref="Account", rel="Account"),
        _field("OpportunityId", "reference", "Opportunity ID", 18, ref="Opportunity", rel="Opportunity"),
        _field("QuoteId", "reference", "Quote ID", 18, ref="Quote", rel="Quote"),
        _field("Pricebook2Id", "reference", "Price Book ID", 18, ref="Pricebook2", rel="Pricebook2"),
        _field("OrderNumber", "string", "Order Number", 30, nillable=False, defaulted=True, id_lookup=True, **ro),
        _field("Name", "string", "Order Name", 80),
        _field("Status", "picklist", "Status", 40, nillable=False, picklist=["Draft", "Activated"]),
        _field("StatusCode", "picklist", "Status Category", 40, defaulted=True, picklist=["Draft", "Activated"],
               **ro),
        _field("EffectiveDate", "date", "Order Start Date", nillable=False),
        _field("EndDate", "date", "Order End Date"),
        _field("PoNumber", "string", "PO Number", 80),
        _field("PoDate", "date", "PO Date"),
        _field("Type", "picklist", "Order Type", 40, picklist=["New", "Renewal"]),
        _field("Description", "textarea", "Description", 32000),
        _field("BillingStreet", "textarea", "Billing Street", 255),
        _field("BillingCity", "string", "Billing City", 40),
        _field("BillingState", "string", "Billing State/Province", 80),
        _field("BillingPostalCode", "string", "Billing Zip/Postal Code", 20),
        _field("BillingCountry", "string", "Billing Country", 80),
        _field("ShippingStreet", "textarea", "Shipping Street", 255),
        _field("ShippingCity", "string", "Shipping City", 40),
        _field("ShippingState", "string", "Shipping State/Province", 80),
        _field("ShippingPostalCode", "string", "Shipping Zip/Postal Code", 20),
        _field("ShippingCountry", "string", "Shipping Country", 80),
        _field("TotalAmount", "currency", "Order Amount", defaulted=True, **money, **ro),
        _field("ActivatedDate", "datetime", "Activated Date", createable=False),
    ]
    order_item = [*system_fields("Order Product"),
        _field("OrderId", "reference", "Order ID", 18, nillable=False, ref="Order", rel="Order", **once),
        _field("PricebookEntryId", "reference", "Price Book Entry ID", 18, nillable=False, ref="PricebookEntry",
               rel="PricebookEntry", restrict=True, **once),
        _field("Product2Id", "reference", "Product ID", 18, defaulted=True, ref="Product2", rel="Product2", **once),
        _field("QuoteLineItemId", "reference", "Quote Line Item ID", 18, ref="QuoteLineItem", rel="QuoteLineItem"),
        _field("OrderItemNumber", "string", "Order Product Number", 10, nillable=False, defaulted=True,
               id_lookup=True, **ro),
        _field("Quantity", "double", "Quantity", nillable=False, precision=18, scale=2),
        _field("UnitPrice", "currency", "Unit Price", nillable=False, **money),
        _field("ListPrice", "currency", "List Price", **money, **ro),
        _field("TotalPrice", "currency", "Total Price", defaulted=True, **money, **ro),
        _field("Description", "string", "Line Description", 255),
        _field("ServiceDate", "date", "Start Date"),
        _field("EndDate", "date", "End Date"),
    ]
    quote = [*system_fields("Quote"),
        _field("Name", "string", "Quote Name", 255, nillable=False),
        _field("OpportunityId", "reference", "Opportunity ID", 18, nillable=False, ref="Opportunity",
               rel="Opportunity", **once),
        _field("AccountId", "reference", "Account ID", 18, ref="Account", rel="Account", **ro),
        _field("ContactId", "reference", "Contact ID", 18, ref="Contact", rel="Contact"),
        _field("Pricebook2Id", "reference", "Price Book ID", 18, ref="Pricebook2", rel="Pricebook2"),
        _field("QuoteNumber", "string", "Quote Number", 30, nillable=False, defaulted=True, id_lookup=True, **ro),
        _field("Status", "picklist", "Status", 40, defaulted=True, picklist=[
            "Draft", "Needs Review", "In Review", "Approved", "Rejected", "Presented", "Accepted", "Denied"]),
        _field("ExpirationDate", "date", "Expiration Date"),
        _field("Description", "textarea", "Description", 32000),
        _field("Email", "email", "Email", 80),
        _field("Phone", "phone", "Phone", 40),
        _field("IsSyncing", "boolean", "Syncing", nillable=False, defaulted=True, **ro),
        _field("LineItemCount", "int", "Line Items", precision=9, **ro),
        _field("Subtotal", "currency", "Subtotal", **money, **ro),
        _field("Discount", "percent", "Discount", precision=18, scale=2, **ro),
        _field("TotalPrice", "currency", "Total Price", **money, **ro),
        _field("GrandTotal", "currency", "Grand Total", **money, **ro),
    ]
    quote_line = [*system_fields("Quote Line Item"),
        _field("QuoteId", "reference", "Quote ID", 18, nillable=False, ref="Quote", rel="Quote", **once),
        _field("PricebookEntryId", "reference", "Price Book Entry ID", 18, nillable=False, ref="PricebookEntry",
               rel="PricebookEntry", restrict=True, **once),
        _field("Product2Id", "reference", "Product ID", 18, defaulted=True, ref="Product2", rel="Product2", **once),
        _field("LineNumber", "string", "Line Item Number", 255, nillable=False, defaulted=True, **ro),
        _field("Quantity", "double", "Quantity", nillable=False, precision=18, scale=2),
        _field("UnitPrice", "currency", "Sales Price", nillable=False, **money),
        _field("Discount", "percent", "Discount", precision=18, scale=2),
        _field("ListPrice", "currency", "List Price", **money, **ro),
        _field("Subtotal", "currency", "Subtotal", **money, **ro),
        _field("TotalPrice", "currency", "Total Price", **money, **ro),
        _field("Description", "string", "Line Item Description", 255),
        _field("ServiceDate", "date", "Date"),
        _field("SortOrder", "int", "Sort Order", precision=9),
    ]
    return [
        {"name": "Order", "keyPrefix": "801", "label": "Order", "labelPlural": "Orders", "fields": order},
        {"name": "OrderItem", "keyPrefix": "802", "label": "Order Product", "labelPlural": "Order Products",
         "fields": order_item},
        {"name": "Quote", "keyPrefix": "0Q0", "label": "Quote", "labelPlural": "Quotes", "fields": quote},
        {"name": "QuoteLineItem", "keyPrefix": "0QL", "label": "Quote Line Item", "labelPlural": "Quote Line Items",
         "fields": quote_line},
    ]


def compact_object(describe: dict[str, Any]) -> dict[str, Any]:
    """One recorded describe result reduced to the standard fields among emulated objects the emulator needs."""
    fields = []
    for entry in describe["fields"]:
        refs = entry.get("referenceTo") or []
        if entry["name"].endswith("__c") or entry["type"] in _SKIPPED_TYPES:
            continue  # custom fields come from our own metadata; compound fields are not emulated
        if entry["type"] == "reference" and not all(r in EMULATED for r in refs):
            continue
        fields.append(compact_field(entry))
    return {"name": describe["name"], "keyPrefix": describe["keyPrefix"], "label": describe["label"],
            "labelPlural": describe["labelPlural"], "fields": fields}


def build(describe_dir: Path) -> dict[str, Any]:
    """The whole compact standard schema."""
    objects = [compact_object(json.loads((describe_dir / f"{name}.json").read_text(encoding="utf-8")))
               for name in ("Account", "Contact", "Opportunity")]
    objects += _reference_objects()
    by_name = {o["name"]: o for o in objects}
    # Quote syncing (help.salesforce.com/s/articleView?id=sales.quotes_synch.htm): the opportunity's Synced Quote
    # field names the one quote it syncs with, and that quote's IsSyncing is true. The recorded Opportunity describe
    # comes from an org without quotes, so the field is added here as the object reference gives it (a nillable
    # reference to Quote set by update — a new opportunity has no quote yet; relationship SyncedQuote).
    by_name["Opportunity"]["fields"].append(
        _field("SyncedQuoteId", "reference", "Quote ID", 18, ref="Quote", rel="SyncedQuote", createable=False))
    for parent, child, field, relationship, cascade in CHILDREN:
        by_name[parent].setdefault("childRelationships", []).append(
            {"childSObject": child, "field": field, "relationshipName": relationship, "cascadeDelete": cascade})
    return {"source": "Account/Contact/Opportunity: recorded describe results (CumulusCI cassettes); "
                      "others: Salesforce object reference", "objects": objects}


def main(argv: list[str]) -> None:
    """Write the JSON beside this module."""
    target = Path(__file__).with_name(STANDARD_SCHEMA_FILE)
    target.write_text(json.dumps(build(Path(argv[0])), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
