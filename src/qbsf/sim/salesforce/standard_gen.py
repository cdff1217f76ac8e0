"""Regenerate ``standard_objects.json``: ``python -m qbsf.sim.salesforce.standard_gen ../shared/salesforce/describe``.

Account, Contact and Opportunity are compacted from real describe results; Product2, Pricebook2, PricebookEntry,
OpportunityLineItem, User and Organization are written from Salesforce's object reference (no recorded describe exists
here).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from qbsf.sim.salesforce.schema import STANDARD_SCHEMA_FILE, compact_field

EMULATED = ("Account", "Contact", "Opportunity", "Product2", "Pricebook2", "PricebookEntry", "OpportunityLineItem",
            "User", "Organization")
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
]
_SKIPPED_TYPES = {"address", "location"}


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
