"""Fixtures for the mapping engine tests: build a mapping from CSV rows in a few words."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.mapping.support import mapping_from_rows

from qbsf.mapping import Catalogue, Direction, Mapping, MappingKind, use_catalogue

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"


# The mapping engine knows no entity: its tests declare the template's sheets themselves, as the sync layer's
# registry does for qbsf (tests/sync/test_registry.py checks the registry declares the same sheets).
SF, QB = Direction.SF_TO_QB, Direction.QB_TO_SF
TEMPLATE = Catalogue(
    [
        MappingKind("Acct_to_Customer", SF, "Account", "Customer"),
        MappingKind("Customer_to_Acct", QB, "Account", "Customer"),
        MappingKind("Product_to_Item", SF, "Product2", "Item"),
        MappingKind("Item_to_Product", QB, "Product2", "Item"),
        MappingKind("Oppty_to_Invoice", SF, "Opportunity", "Invoice"),
        MappingKind("Invoice_to_SF", QB, "QB_Invoice__c", "Invoice"),
        MappingKind("OpptyLines_CHILD_Oppty", SF, "OpportunityLineItem", "InvoiceLine", child=True,
                    parent_sheet="Oppty_to_Invoice"),
        MappingKind("Contact_to_SubCustomer", SF, "Contact", "Customer"),
        MappingKind("Payment_to_SF", QB, "QB_Payment__c", "ReceivePayment"),
        MappingKind("CreditMemo_to_SF", QB, "QB_Credit_Memo__c", "CreditMemo"),
        MappingKind("SalesReceipt_to_SF", QB, "QB_Sales_Receipt__c", "SalesReceipt"),
        MappingKind("Vendor_to_SF", QB, "QB_Vendor__c", "Vendor"),
        MappingKind("Bill_to_SF", QB, "QB_Bill__c", "Bill"),
        MappingKind("Order_to_SalesOrder", SF, "Order", "SalesOrder"),
        MappingKind("SalesOrder_to_Order", QB, "Order", "SalesOrder"),
        MappingKind("OrderLines_CHILD_Order", SF, "OrderItem", "SalesOrderLine", child=True,
                    parent_sheet="Order_to_SalesOrder"),
        MappingKind("Quote_to_Estimate", SF, "Quote", "Estimate"),
        MappingKind("Estimate_to_Quote", QB, "Quote", "Estimate"),
        MappingKind("QuoteLines_CHILD_Quote", SF, "QuoteLineItem", "EstimateLine", child=True,
                    parent_sheet="Quote_to_Estimate"),
    ],
    words={"acct": "Acct_to_Customer", "account": "Acct_to_Customer", "product": "Product_to_Item",
           "oppty": "Oppty_to_Invoice", "opportunity": "Oppty_to_Invoice", "invoice": "Invoice_to_SF",
           "contact": "Contact_to_SubCustomer", "subcustomer": "Contact_to_SubCustomer",
           "opptylines": "OpptyLines_CHILD_Oppty", "_child_oppty": "OpptyLines_CHILD_Oppty",
           "payment": "Payment_to_SF", "vendor": "Vendor_to_SF", "bill": "Bill_to_SF",
           "creditmemo": "CreditMemo_to_SF", "salesreceipt": "SalesReceipt_to_SF",
           "orderlines": "OrderLines_CHILD_Order",
           "quotelines": "QuoteLines_CHILD_Quote"},
    own_fields={"Account": frozenset({"BillingStreet", "BillingCity", "Industry", "Website"}),
                "Contact": frozenset({"FirstName", "LastName", "Email", "MailingStreet"}),
                "Product2": frozenset({"ProductCode", "Family"}),
                "Opportunity": frozenset({"StageName", "CloseDate"}),
                "OpportunityLineItem": frozenset({"UnitPrice", "Quantity"}),
                "OrderItem": frozenset({"UnitPrice", "Quantity"}),
                "QuoteLineItem": frozenset({"UnitPrice", "Quantity"})},
)


@pytest.fixture(autouse=True, scope="module")
def template_catalogue() -> Iterator[Catalogue]:
    """Every mapping test loads CSVs against the template's sheets, whatever the sync layer installed."""
    previous = use_catalogue(TEMPLATE)
    yield TEMPLATE
    use_catalogue(previous)


@pytest.fixture
def mapping_of() -> Callable[..., Mapping]:
    """``mapping_of("Name,Name,Y,Trim", name="Acct_to_Customer.csv")``: a compiled mapping from data rows."""

    return mapping_from_rows


@pytest.fixture
def one() -> Callable[..., object]:
    """``one("Trim|Upper", "  x ")``: the value one transformation chain makes of one input (None if empty)."""

    def transform(chain: str, value: object, default: str = "", lookups: object = None) -> object:
        mapping = mapping_from_rows(f"Src,Dst,N,\"{chain.replace(chr(34), chr(34) * 2)}\",\"{default}\",")
        result = mapping.apply({"Id": "001A", "Src": value}, lookups)  # type: ignore[arg-type]
        return result if not isinstance(result, dict) else result["Dst"]

    return transform


@pytest.fixture
def examples_dir() -> Path:
    """The shipped example mappings."""
    return EXAMPLES
