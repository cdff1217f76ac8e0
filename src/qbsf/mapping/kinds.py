"""The eight mapping sheets of the template, and how a file name says which one a CSV is."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Direction(enum.Enum):
    """Which way a mapping moves data."""

    SF_TO_QB = "SF→QB"
    QB_TO_SF = "QB→SF"

    @property
    def source_system(self) -> str:
        """The system whose record is read (column 1 of the CSV)."""
        return "Salesforce" if self is Direction.SF_TO_QB else "QuickBooks"

    @property
    def target_system(self) -> str:
        """The system whose record is written (column 2 of the CSV)."""
        return "QuickBooks" if self is Direction.SF_TO_QB else "Salesforce"


@dataclass(frozen=True, slots=True)
class MappingKind:
    """One template sheet: its name, direction, Salesforce object and QuickBooks entity."""

    sheet: str
    direction: Direction
    sf_object: str
    qb_entity: str
    child: bool = False
    parent_sheet: str | None = None

    @property
    def source_object(self) -> str:
        """The object or entity records are read from."""
        return self.sf_object if self.direction is Direction.SF_TO_QB else self.qb_entity

    @property
    def target_object(self) -> str:
        """The object or entity records are written to."""
        return self.qb_entity if self.direction is Direction.SF_TO_QB else self.sf_object

    def __str__(self) -> str:
        return f"{self.sheet} ({self.source_object} → {self.target_object}, {self.direction.value})"


ACCT_TO_CUSTOMER = MappingKind("Acct_to_Customer", Direction.SF_TO_QB, "Account", "Customer")
CUSTOMER_TO_ACCT = MappingKind("Customer_to_Acct", Direction.QB_TO_SF, "Account", "Customer")
PRODUCT_TO_ITEM = MappingKind("Product_to_Item", Direction.SF_TO_QB, "Product2", "Item")
ITEM_TO_PRODUCT = MappingKind("Item_to_Product", Direction.QB_TO_SF, "Product2", "Item")
OPPTY_TO_INVOICE = MappingKind("Oppty_to_Invoice", Direction.SF_TO_QB, "Opportunity", "Invoice")
INVOICE_TO_SF = MappingKind("Invoice_to_SF", Direction.QB_TO_SF, "QB_Invoice__c", "Invoice")
OPPTY_LINES_CHILD_OPPTY = MappingKind(
    "OpptyLines_CHILD_Oppty", Direction.SF_TO_QB, "OpportunityLineItem", "InvoiceLine",
    child=True, parent_sheet="Oppty_to_Invoice",
)
CONTACT_TO_SUBCUSTOMER = MappingKind("Contact_to_SubCustomer", Direction.SF_TO_QB, "Contact", "Customer")

KINDS: tuple[MappingKind, ...] = (
    ACCT_TO_CUSTOMER, CUSTOMER_TO_ACCT, PRODUCT_TO_ITEM, ITEM_TO_PRODUCT,
    OPPTY_TO_INVOICE, INVOICE_TO_SF, OPPTY_LINES_CHILD_OPPTY, CONTACT_TO_SUBCUSTOMER,
)
BY_SHEET: dict[str, MappingKind] = {kind.sheet.casefold(): kind for kind in KINDS}

# Words a file name may carry instead of a full sheet name: the manual's entity words (Acct, Product, Oppty,
# Invoice) and a few obvious others. Full sheet names are longer, so they always win over these.
_ALIASES: dict[str, MappingKind] = {
    "acct": ACCT_TO_CUSTOMER,
    "account": ACCT_TO_CUSTOMER,
    "product": PRODUCT_TO_ITEM,
    "oppty": OPPTY_TO_INVOICE,
    "opportunity": OPPTY_TO_INVOICE,
    "invoice": INVOICE_TO_SF,
    "contact": CONTACT_TO_SUBCUSTOMER,
    "subcustomer": CONTACT_TO_SUBCUSTOMER,
    "opptylines": OPPTY_LINES_CHILD_OPPTY,
    "_child_oppty": OPPTY_LINES_CHILD_OPPTY,
}
_CANDIDATES: tuple[tuple[str, MappingKind], ...] = tuple(
    sorted([*((k.sheet.casefold(), k) for k in KINDS), *_ALIASES.items()], key=lambda item: -len(item[0]))
)
SHEET_NAMES = ", ".join(kind.sheet for kind in KINDS)


# Standard Salesforce fields that belong to exactly one of the synced objects (Salesforce's object reference). A
# mapping whose Salesforce column names one of another object's is the wrong file for its sheet: a Product2 sheet
# holding BillingStreet was exported from the Account sheet. Custom (__c) and shared fields (Name, Phone,
# Description) say nothing and are never judged here; the org's describe checks everything else.
OWN_FIELDS: dict[str, frozenset[str]] = {
    "Account": frozenset({
        "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "ShippingStreet",
        "ShippingCity", "ShippingState", "ShippingPostalCode", "ShippingCountry", "AccountNumber", "Industry",
        "AnnualRevenue", "NumberOfEmployees", "Website", "Sic", "TickerSymbol", "Ownership", "Rating", "Site"}),
    "Contact": frozenset({
        "FirstName", "LastName", "Salutation", "Title", "Email", "MobilePhone", "HomePhone", "OtherPhone",
        "AssistantName", "AssistantPhone", "Birthdate", "Department", "MailingStreet", "MailingCity", "MailingState",
        "MailingPostalCode", "MailingCountry", "OtherStreet", "OtherCity", "OtherState", "OtherPostalCode",
        "OtherCountry", "ReportsToId"}),
    "Product2": frozenset({"ProductCode", "Family", "QuantityUnitOfMeasure", "StockKeepingUnit", "DisplayUrl"}),
    "Opportunity": frozenset({
        "StageName", "CloseDate", "Probability", "ForecastCategoryName", "NextStep", "IsWon", "IsClosed",
        "ExpectedRevenue", "TotalOpportunityQuantity", "HasOpportunityLineItem"}),
    "OpportunityLineItem": frozenset({
        "UnitPrice", "ListPrice", "TotalPrice", "Quantity", "ServiceDate", "Discount", "PricebookEntryId",
        "OpportunityId"}),
}


def owner_of_field(kind: MappingKind, name: str) -> str | None:
    """The other synced Salesforce object ``name`` is a standard field of, when it is not one of ``kind``'s own."""
    if "." in name or name.casefold().endswith("__c"):
        return None
    own = OWN_FIELDS.get(kind.sf_object, frozenset())
    if name in own:
        return None
    return next((sobject for sobject, fields in OWN_FIELDS.items() if name in fields), None)


def sheet_for(sf_object: str, direction: Direction) -> MappingKind | None:
    """The template sheet moving ``sf_object`` in ``direction`` (None when the template has none)."""
    return next((k for k in KINDS if k.sf_object == sf_object and k.direction is direction), None)


class UnknownKind(ValueError):
    """The file name does not say which mapping it is (the message says how to name it)."""


def kind_from_filename(name: str) -> MappingKind:
    """Which template sheet a file is, from its name: the sheet name (or the entity words) found in it.

    Matching is case-insensitive and anywhere in the name, so an Excel export such as
    ``QB_SF_Mapping_Template_v3 - Customer_to_Acct.csv`` is ``Customer_to_Acct`` (inbound) even though it
    also contains ``Acct``. ``_CHILD_`` in the name asks for the child (invoice line) mapping.
    Raises :class:`UnknownKind` when no sheet name is present, or the name could mean two sheets (two sheet names,
    or entity words of two sheets such as ``Oppty_Invoice.csv``), listing the candidates.
    """
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].casefold()
    found = [(word, kind) for word, kind in _CANDIDATES if word in stem]
    # a word inside a longer word found is part of it: acct in customer_to_acct, oppty in opptylines
    found = [(word, kind) for word, kind in found if not any(word != other and word in other for other, _ in found)]
    if not found:
        raise UnknownKind(
            f"the file name does not say which mapping this is; put one of the template sheet names in it "
            f"({SHEET_NAMES}), e.g. 'QB_SF_Mapping_Template_v3 - Acct_to_Customer.csv'"
        )
    if "_child_" in stem:
        found = [item for item in found if item[1].child] or [
            (word, OPPTY_LINES_CHILD_OPPTY) for word, kind in found if kind.sf_object == "Opportunity"
        ]
        if not found:
            raise UnknownKind(
                "the file name has _CHILD_ but names no parent with child mappings; the only child sheet is "
                "OpptyLines_CHILD_Oppty (Opportunity line items → invoice lines)"
            )
    # A full sheet name says which mapping it is; entity words alone (Oppty, Invoice) only when they agree.
    sheets = {kind for word, kind in found if word == kind.sheet.casefold()}
    if len(sheets) > 1:
        names = " and ".join(sorted(kind.sheet for kind in sheets))
        raise UnknownKind(f"the file name matches both {names}; keep only one sheet name in it")
    if sheets:
        return sheets.pop()
    candidates = {kind for _, kind in found}
    if len(candidates) > 1:
        names = sorted(kind.sheet for kind in candidates)
        words = ", ".join(sorted({word for word, _ in found}))
        raise UnknownKind(
            f"the file name is ambiguous: its words ({words}) could mean {' or '.join(names)}; rename it to the "
            f"one sheet it is, e.g. '{names[0]}.csv'"
        )
    return candidates.pop()


def kind_by_sheet(sheet: str) -> MappingKind:
    """The kind for an exact sheet name (case-insensitive); raises :class:`UnknownKind` otherwise."""
    try:
        return BY_SHEET[sheet.strip().casefold()]
    except KeyError:
        raise UnknownKind(f"no template sheet is called {sheet!r}; the sheets are {SHEET_NAMES}") from None
