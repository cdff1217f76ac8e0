"""Typed QuickBooks records and their flat field view (the seam with the mapping engine).

Records are plain slotted dataclasses named and spelled as qbXML spells them (``ListID``, ``EditSequence``,
``BillAddress``). :func:`to_flat` turns one into ``{"BillAddress.Addr1": …, "CustomerRef.ListID": …}``;
:func:`customer_from_flat` and friends go back, accepting the dotted paths and the manual's aliases
(``BillAddr1``..``BillAddr5``, ``ShipAddr1``..``ShipAddr5``; a bare ``CustomerRef`` means its FullName).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import typing
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from qbsf.quickbooks.errors import FieldValueError, UnknownFieldError

__all__ = [
    "Account",
    "Address",
    "AppliedToTxn",
    "Bill",
    "BillPaymentCheck",
    "CompanyInfo",
    "CreditMemo",
    "CreditMemoLine",
    "Customer",
    "DeletedRecord",
    "Estimate",
    "EstimateLine",
    "ExpenseLine",
    "HostInfo",
    "Invoice",
    "InvoiceLine",
    "InvoiceLineGroup",
    "ItemInventory",
    "ItemLine",
    "ItemNonInventory",
    "ItemService",
    "LineGroup",
    "LinkToTxn",
    "LinkedTxn",
    "ReceivePayment",
    "Ref",
    "SalesOrder",
    "SalesOrderLine",
    "SalesReceipt",
    "SalesReceiptLine",
    "SetCredit",
    "Terms",
    "Vendor",
    "account_from_flat",
    "apply_flat",
    "canonical_path",
    "customer_from_flat",
    "field_kinds",
    "flat_fields",
    "invoice_from_flat",
    "invoice_line_from_flat",
    "item_inventory_from_flat",
    "item_non_inventory_from_flat",
    "item_service_from_flat",
    "label",
    "lines_from_flat",
    "record_from_flat",
    "terms_from_flat",
    "to_flat",
]


@dataclass(slots=True)
class Ref:
    """A reference to a list element: by ListID, by FullName, or both."""

    ListID: str | None = None
    FullName: str | None = None


@dataclass(slots=True)
class Address:
    """A QuickBooks address block (five 41-character lines, city, state, postal code, country, note)."""

    Addr1: str | None = None
    Addr2: str | None = None
    Addr3: str | None = None
    Addr4: str | None = None
    Addr5: str | None = None
    City: str | None = None
    State: str | None = None
    PostalCode: str | None = None
    Country: str | None = None
    Note: str | None = None


@dataclass(slots=True)
class Customer:
    """A customer or (with ParentRef) a sub-customer/job; FullName is "Parent:Child"."""

    ListID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    Name: str | None = None
    FullName: str | None = None
    IsActive: bool | None = None
    ClassRef: Ref | None = None
    ParentRef: Ref | None = None
    Sublevel: int | None = None
    CompanyName: str | None = None
    Salutation: str | None = None
    FirstName: str | None = None
    MiddleName: str | None = None
    LastName: str | None = None
    JobTitle: str | None = None
    BillAddress: Address | None = None
    ShipAddress: Address | None = None
    PrintAs: str | None = None
    Phone: str | None = None
    Mobile: str | None = None
    Pager: str | None = None
    AltPhone: str | None = None
    Fax: str | None = None
    Email: str | None = None
    Cc: str | None = None
    Contact: str | None = None
    AltContact: str | None = None
    CustomerTypeRef: Ref | None = None
    TermsRef: Ref | None = None
    SalesRepRef: Ref | None = None
    Balance: Decimal | None = None
    TotalBalance: Decimal | None = None
    SalesTaxCodeRef: Ref | None = None
    ResaleNumber: str | None = None
    AccountNumber: str | None = None
    CreditLimit: Decimal | None = None
    JobStatus: str | None = None
    JobDesc: str | None = None
    Notes: str | None = None
    PreferredDeliveryMethod: str | None = None
    ExternalGUID: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _ItemBase:
    ListID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    Name: str | None = None
    FullName: str | None = None
    IsActive: bool | None = None
    ClassRef: Ref | None = None
    ParentRef: Ref | None = None
    Sublevel: int | None = None
    SalesTaxCodeRef: Ref | None = None
    SalesDesc: str | None = None
    SalesPrice: Decimal | None = None
    IncomeAccountRef: Ref | None = None
    PurchaseDesc: str | None = None
    PurchaseCost: Decimal | None = None
    ExternalGUID: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ItemService(_ItemBase):
    """A service item. Sales side (SalesDesc/SalesPrice/IncomeAccountRef) travels as SalesOrPurchase unless a
    purchase side is set, then as SalesAndPurchase."""

    ExpenseAccountRef: Ref | None = None


@dataclass(slots=True)
class ItemNonInventory(_ItemBase):
    """A non-inventory part (same sales/purchase shape as a service item)."""

    ManufacturerPartNumber: str | None = None
    ExpenseAccountRef: Ref | None = None


@dataclass(slots=True)
class ItemInventory(_ItemBase):
    """An inventory part: needs income, COGS and inventory asset accounts."""

    ManufacturerPartNumber: str | None = None
    COGSAccountRef: Ref | None = None
    AssetAccountRef: Ref | None = None
    ReorderPoint: Decimal | None = None
    QuantityOnHand: Decimal | None = None
    AverageCost: Decimal | None = None


@dataclass(slots=True)
class LinkToTxn:
    """A line made from a line of another transaction (InvoiceLineAdd/LinkToTxn: the sales order or estimate and its
    line; QuickBooks copies what the line leaves out and counts the quantity as invoiced). Sent on an Add only."""

    TxnID: str | None = None
    TxnLineID: str | None = None


@dataclass(slots=True)
class SetCredit:
    """A credit memo's credit applied to the invoice a payment line pays (AppliedToTxnAdd/Mod SetCredit): the credit
    memo (CreditTxnID) and how much of what remains on it (AppliedAmount); ``Override`` lets QuickBooks take it even
    when the invoice and the credit were made for different items or accounts. QuickBooks answers with a LinkedTxn
    to the credit memo on the payment line (``AppliedToTxn.linked``)."""

    CreditTxnID: str | None = None
    TxnLineID: str | None = None
    AppliedAmount: Decimal | None = None
    Override: bool | None = None


@dataclass(slots=True)
class _SalesLine:
    """The line Intuit gives an invoice, a credit memo and a sales receipt alike (in this element order). Each
    document has its own subclass, so a line of one document is never taken for another's."""

    TxnLineID: str | None = None
    ItemRef: Ref | None = None
    Desc: str | None = None
    Quantity: Decimal | None = None
    Rate: Decimal | None = None
    ClassRef: Ref | None = None
    Amount: Decimal | None = None
    ServiceDate: date | None = None
    SalesTaxCodeRef: Ref | None = None
    Other1: str | None = None
    Other2: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class InvoiceLine(_SalesLine):
    """One invoice line; TxnLineID is None for a line not yet in QuickBooks (sent as -1). ``LinkToTxn`` (Add only)
    makes it from a line of a sales order or estimate."""

    LinkToTxn: LinkToTxn | None = None


@dataclass(slots=True)
class LineGroup:
    """An item group on a sales transaction or bill (InvoiceLineGroupRet, SalesOrderLineGroupRet, ItemGroupLineRet
    …): the group item, its quantity and total, and the lines QuickBooks expanded it into. ``position`` is how many
    plain lines stand before it. qbsf never changes a group: a Mod that replaces the lines sends each group back by
    its TxnLineID, so a group a QuickBooks user added is kept where it stands."""

    TxnLineID: str | None = None
    ItemGroupRef: Ref | None = None
    Desc: str | None = None
    Quantity: Decimal | None = None
    IsPrintItemsInGroup: bool | None = None
    TotalAmount: Decimal | None = None
    ServiceDate: date | None = None
    lines: list[Any] = field(default_factory=list)
    position: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


InvoiceLineGroup = LineGroup  # the name it had when invoices were the only transaction with groups


@dataclass(slots=True)
class SalesOrderLine:
    """One sales order line; ``Invoiced`` (how much of it has been invoiced) comes back from QuickBooks."""

    TxnLineID: str | None = None
    ItemRef: Ref | None = None
    Desc: str | None = None
    Quantity: Decimal | None = None
    Rate: Decimal | None = None
    ClassRef: Ref | None = None
    Amount: Decimal | None = None
    SalesTaxCodeRef: Ref | None = None
    Invoiced: Decimal | None = None
    IsManuallyClosed: bool | None = None
    Other1: str | None = None
    Other2: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EstimateLine:
    """One estimate line (an estimate has no service dates; it can carry a markup)."""

    TxnLineID: str | None = None
    ItemRef: Ref | None = None
    Desc: str | None = None
    Quantity: Decimal | None = None
    Rate: Decimal | None = None
    ClassRef: Ref | None = None
    Amount: Decimal | None = None
    SalesTaxCodeRef: Ref | None = None
    MarkupRate: Decimal | None = None
    Other1: str | None = None
    Other2: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CreditMemoLine(_SalesLine):
    """One credit memo line (the shape of an invoice line)."""


@dataclass(slots=True)
class SalesReceiptLine(_SalesLine):
    """One sales receipt line (the shape of an invoice line)."""


@dataclass(slots=True)
class ItemLine:
    """One item line of a bill: an item bought at ``Cost`` (Amount = Quantity × Cost)."""

    TxnLineID: str | None = None
    ItemRef: Ref | None = None
    Desc: str | None = None
    Quantity: Decimal | None = None
    Cost: Decimal | None = None
    Amount: Decimal | None = None
    CustomerRef: Ref | None = None
    ClassRef: Ref | None = None
    SalesTaxCodeRef: Ref | None = None
    BillableStatus: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ExpenseLine:
    """One expense line of a bill: an amount charged to an account."""

    TxnLineID: str | None = None
    AccountRef: Ref | None = None
    Amount: Decimal | None = None
    Memo: str | None = None
    CustomerRef: Ref | None = None
    ClassRef: Ref | None = None
    SalesTaxCodeRef: Ref | None = None
    BillableStatus: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class LinkedTxn:
    """A transaction linked to this one (read with ``include_linked``): the payment or credit applied to an invoice,
    the invoice made from a sales order or estimate, the check that paid a bill. ``LinkType`` is AMTTYPE (an amount
    applied) or QUANTYPE (quantities carried over)."""

    TxnID: str | None = None
    TxnType: str | None = None
    TxnDate: date | None = None
    RefNumber: str | None = None
    LinkType: str | None = None
    Amount: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AppliedToTxn:
    """What a payment pays: the transaction (TxnID, an invoice for a received payment, a bill for a bill payment)
    and the ``Amount`` applied to it (sent as PaymentAmount); TxnType, TxnDate, RefNumber and BalanceRemaining come
    back from QuickBooks."""

    TxnID: str | None = None
    TxnType: str | None = None
    TxnDate: date | None = None
    RefNumber: str | None = None
    BalanceRemaining: Decimal | None = None
    Amount: Decimal | None = None
    DiscountAmount: Decimal | None = None
    DiscountAccountRef: Ref | None = None
    SetCredit: list[SetCredit] = field(default_factory=list)
    linked: list[LinkedTxn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Invoice:
    """An invoice with its lines; BalanceRemaining and IsPaid come back from QuickBooks. ``LinkToTxnID`` (Add only)
    makes it from whole sales orders or estimates: QuickBooks copies their open lines onto it."""

    TxnID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    TxnNumber: int | None = None
    CustomerRef: Ref | None = None
    ClassRef: Ref | None = None
    ARAccountRef: Ref | None = None
    TemplateRef: Ref | None = None
    TxnDate: date | None = None
    RefNumber: str | None = None
    BillAddress: Address | None = None
    ShipAddress: Address | None = None
    IsPending: bool | None = None
    PONumber: str | None = None
    TermsRef: Ref | None = None
    DueDate: date | None = None
    SalesRepRef: Ref | None = None
    FOB: str | None = None
    ShipDate: date | None = None
    Subtotal: Decimal | None = None
    ItemSalesTaxRef: Ref | None = None
    SalesTaxPercentage: Decimal | None = None
    SalesTaxTotal: Decimal | None = None
    AppliedAmount: Decimal | None = None
    BalanceRemaining: Decimal | None = None
    Memo: str | None = None
    IsPaid: bool | None = None
    IsToBePrinted: bool | None = None
    IsToBeEmailed: bool | None = None
    CustomerSalesTaxCodeRef: Ref | None = None
    Other: str | None = None
    ExternalGUID: str | None = None
    LinkToTxnID: list[str] = field(default_factory=list)
    lines: list[InvoiceLine] = field(default_factory=list)
    groups: list[LineGroup] = field(default_factory=list)
    linked: list[LinkedTxn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SalesOrder:
    """A sales order with its lines; IsFullyInvoiced comes back from QuickBooks, IsManuallyClosed can be set."""

    TxnID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    TxnNumber: int | None = None
    CustomerRef: Ref | None = None
    ClassRef: Ref | None = None
    TemplateRef: Ref | None = None
    TxnDate: date | None = None
    RefNumber: str | None = None
    BillAddress: Address | None = None
    ShipAddress: Address | None = None
    PONumber: str | None = None
    TermsRef: Ref | None = None
    DueDate: date | None = None
    SalesRepRef: Ref | None = None
    FOB: str | None = None
    ShipDate: date | None = None
    Subtotal: Decimal | None = None
    ItemSalesTaxRef: Ref | None = None
    SalesTaxPercentage: Decimal | None = None
    SalesTaxTotal: Decimal | None = None
    TotalAmount: Decimal | None = None
    IsManuallyClosed: bool | None = None
    IsFullyInvoiced: bool | None = None
    Memo: str | None = None
    IsToBePrinted: bool | None = None
    IsToBeEmailed: bool | None = None
    CustomerSalesTaxCodeRef: Ref | None = None
    Other: str | None = None
    ExternalGUID: str | None = None
    lines: list[SalesOrderLine] = field(default_factory=list)
    groups: list[LineGroup] = field(default_factory=list)
    linked: list[LinkedTxn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Estimate:
    """An estimate (a quote) with its lines; IsActive is false once the customer declined or it was invoiced."""

    TxnID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    TxnNumber: int | None = None
    CustomerRef: Ref | None = None
    ClassRef: Ref | None = None
    TemplateRef: Ref | None = None
    TxnDate: date | None = None
    RefNumber: str | None = None
    BillAddress: Address | None = None
    ShipAddress: Address | None = None
    IsActive: bool | None = None
    PONumber: str | None = None
    TermsRef: Ref | None = None
    DueDate: date | None = None
    SalesRepRef: Ref | None = None
    FOB: str | None = None
    Subtotal: Decimal | None = None
    ItemSalesTaxRef: Ref | None = None
    SalesTaxPercentage: Decimal | None = None
    SalesTaxTotal: Decimal | None = None
    TotalAmount: Decimal | None = None
    Memo: str | None = None
    IsToBeEmailed: bool | None = None
    CustomerSalesTaxCodeRef: Ref | None = None
    Other: str | None = None
    ExternalGUID: str | None = None
    lines: list[EstimateLine] = field(default_factory=list)
    groups: list[LineGroup] = field(default_factory=list)
    linked: list[LinkedTxn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CreditMemo:
    """A credit memo with its lines; CreditRemaining (what is not yet applied) comes back from QuickBooks."""

    TxnID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    TxnNumber: int | None = None
    CustomerRef: Ref | None = None
    ClassRef: Ref | None = None
    ARAccountRef: Ref | None = None
    TemplateRef: Ref | None = None
    TxnDate: date | None = None
    RefNumber: str | None = None
    BillAddress: Address | None = None
    ShipAddress: Address | None = None
    IsPending: bool | None = None
    PONumber: str | None = None
    TermsRef: Ref | None = None
    DueDate: date | None = None
    SalesRepRef: Ref | None = None
    FOB: str | None = None
    ShipDate: date | None = None
    Subtotal: Decimal | None = None
    ItemSalesTaxRef: Ref | None = None
    SalesTaxPercentage: Decimal | None = None
    SalesTaxTotal: Decimal | None = None
    TotalAmount: Decimal | None = None
    CreditRemaining: Decimal | None = None
    Memo: str | None = None
    IsToBePrinted: bool | None = None
    IsToBeEmailed: bool | None = None
    CustomerSalesTaxCodeRef: Ref | None = None
    Other: str | None = None
    ExternalGUID: str | None = None
    lines: list[CreditMemoLine] = field(default_factory=list)
    groups: list[LineGroup] = field(default_factory=list)
    linked: list[LinkedTxn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SalesReceipt:
    """A sales receipt (a cash sale: paid when made) with its lines."""

    TxnID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    TxnNumber: int | None = None
    CustomerRef: Ref | None = None
    ClassRef: Ref | None = None
    TemplateRef: Ref | None = None
    TxnDate: date | None = None
    RefNumber: str | None = None
    BillAddress: Address | None = None
    ShipAddress: Address | None = None
    IsPending: bool | None = None
    CheckNumber: str | None = None
    PaymentMethodRef: Ref | None = None
    DueDate: date | None = None
    SalesRepRef: Ref | None = None
    ShipDate: date | None = None
    FOB: str | None = None
    Subtotal: Decimal | None = None
    ItemSalesTaxRef: Ref | None = None
    SalesTaxPercentage: Decimal | None = None
    SalesTaxTotal: Decimal | None = None
    TotalAmount: Decimal | None = None
    Memo: str | None = None
    IsToBePrinted: bool | None = None
    IsToBeEmailed: bool | None = None
    CustomerSalesTaxCodeRef: Ref | None = None
    DepositToAccountRef: Ref | None = None
    Other: str | None = None
    ExternalGUID: str | None = None
    lines: list[SalesReceiptLine] = field(default_factory=list)
    groups: list[LineGroup] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ReceivePayment:
    """A payment received from a customer; ``lines`` are the invoices it is applied to (AppliedToTxn).
    ``IsAutoApply`` (Add only) lets QuickBooks choose the invoices instead."""

    TxnID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    TxnNumber: int | None = None
    CustomerRef: Ref | None = None
    ARAccountRef: Ref | None = None
    TxnDate: date | None = None
    RefNumber: str | None = None
    TotalAmount: Decimal | None = None
    PaymentMethodRef: Ref | None = None
    Memo: str | None = None
    DepositToAccountRef: Ref | None = None
    UnusedPayment: Decimal | None = None
    UnusedCredits: Decimal | None = None
    IsAutoApply: bool | None = None
    ExternalGUID: str | None = None
    lines: list[AppliedToTxn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Vendor:
    """A vendor (shares QuickBooks' name space with customers, employees and other names); Balance is what is
    owed to it."""

    ListID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    Name: str | None = None
    FullName: str | None = None
    IsActive: bool | None = None
    ClassRef: Ref | None = None
    CompanyName: str | None = None
    Salutation: str | None = None
    FirstName: str | None = None
    MiddleName: str | None = None
    LastName: str | None = None
    JobTitle: str | None = None
    VendorAddress: Address | None = None
    ShipAddress: Address | None = None
    Phone: str | None = None
    Mobile: str | None = None
    Pager: str | None = None
    AltPhone: str | None = None
    Fax: str | None = None
    Email: str | None = None
    Cc: str | None = None
    Contact: str | None = None
    AltContact: str | None = None
    NameOnCheck: str | None = None
    AccountNumber: str | None = None
    Notes: str | None = None
    VendorTypeRef: Ref | None = None
    TermsRef: Ref | None = None
    CreditLimit: Decimal | None = None
    VendorTaxIdent: str | None = None
    IsVendorEligibleFor1099: bool | None = None
    Balance: Decimal | None = None
    ExternalGUID: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Bill:
    """A bill from a vendor: expense lines (amounts charged to accounts) and item lines (items bought).
    AmountDue, OpenAmount and IsPaid come back from QuickBooks."""

    TxnID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    TxnNumber: int | None = None
    VendorRef: Ref | None = None
    VendorAddress: Address | None = None
    APAccountRef: Ref | None = None
    TxnDate: date | None = None
    DueDate: date | None = None
    AmountDue: Decimal | None = None
    RefNumber: str | None = None
    TermsRef: Ref | None = None
    Memo: str | None = None
    IsPaid: bool | None = None
    OpenAmount: Decimal | None = None
    ExternalGUID: str | None = None
    expense_lines: list[ExpenseLine] = field(default_factory=list)
    item_lines: list[ItemLine] = field(default_factory=list)
    item_groups: list[LineGroup] = field(default_factory=list)
    linked: list[LinkedTxn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class BillPaymentCheck:
    """A bill paid by check: the vendor (PayeeEntityRef), the bank account and the bills it pays (``lines``).
    Give RefNumber (the check number) or IsToBePrinted."""

    TxnID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    TxnNumber: int | None = None
    PayeeEntityRef: Ref | None = None
    APAccountRef: Ref | None = None
    TxnDate: date | None = None
    BankAccountRef: Ref | None = None
    Amount: Decimal | None = None
    RefNumber: str | None = None
    Memo: str | None = None
    IsToBePrinted: bool | None = None
    ExternalGUID: str | None = None
    lines: list[AppliedToTxn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Account:
    """A chart-of-accounts entry (income, COGS, inventory asset, …)."""

    ListID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    Name: str | None = None
    FullName: str | None = None
    IsActive: bool | None = None
    ParentRef: Ref | None = None
    Sublevel: int | None = None
    AccountType: str | None = None
    SpecialAccountType: str | None = None
    AccountNumber: str | None = None
    Desc: str | None = None
    Balance: Decimal | None = None
    TotalBalance: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Terms:
    """Payment terms: ``kind`` is "StandardTerms" (due in N days) or "DateDrivenTerms" (due on a day of month)."""

    kind: str = "StandardTerms"
    ListID: str | None = None
    TimeCreated: datetime | None = None
    TimeModified: datetime | None = None
    EditSequence: str | None = None
    Name: str | None = None
    IsActive: bool | None = None
    StdDueDays: int | None = None
    StdDiscountDays: int | None = None
    DayOfMonthDue: int | None = None
    DueNextMonthDays: int | None = None
    DiscountDayOfMonth: int | None = None
    DiscountPct: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class HostInfo:
    """What HostQuery says about the QuickBooks installation."""

    ProductName: str | None = None
    MajorVersion: str | None = None
    MinorVersion: str | None = None
    Country: str | None = None
    SupportedQBXMLVersion: list[str] = field(default_factory=list)
    IsAutomaticLogin: bool | None = None
    QBFileMode: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CompanyInfo:
    """What CompanyQuery says about the open company file."""

    IsSampleCompany: bool | None = None
    CompanyName: str | None = None
    LegalCompanyName: str | None = None
    Address: Address | None = None
    Phone: str | None = None
    Fax: str | None = None
    Email: str | None = None
    CompanyWebSite: str | None = None
    FirstMonthFiscalYear: str | None = None
    EIN: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DeletedRecord:
    """One row of ListDeletedQuery/TxnDeletedQuery: what was deleted and when."""

    kind: str
    id: str
    TimeCreated: datetime | None = None
    TimeDeleted: datetime | None = None
    FullName: str | None = None
    RefNumber: str | None = None


# --- field kinds -------------------------------------------------------------------------------------------

# AMTTYPE fields carry exactly two decimals; other decimals (prices, quantities, percents) up to five.
AMOUNT_FIELDS = frozenset({"Balance", "TotalBalance", "CreditLimit", "Amount", "Subtotal", "SalesTaxTotal",
                           "AppliedAmount", "BalanceRemaining", "OpenBalance", "TotalValue", "TotalAmount",
                           "CreditRemaining", "AmountDue", "OpenAmount", "UnusedPayment", "UnusedCredits",
                           "PaymentAmount", "DiscountAmount"})

_KIND_BY_TYPE = {str: "str", Decimal: "decimal", bool: "bool", int: "int", date: "date", datetime: "datetime",
                 Ref: "ref", Address: "address"}


@dataclass(frozen=True, slots=True)
class _Spec:
    kinds: dict[str, str]             # dataclass field → kind (str, decimal, bool, int, date, datetime, ref, ...)
    flat_kinds: dict[str, str]        # flat path → scalar kind
    aliases: dict[str, str]           # alias → flat path


_SPECS: dict[type, _Spec] = {}
_SKIP = {"extra", "kind", "position"}


def _kind_of(annotation: Any) -> str:
    if typing.get_origin(annotation) in (list, dict):
        return "list" if typing.get_origin(annotation) is list else "dict"
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if args else annotation
    origin = typing.get_origin(base)
    if origin is list:
        return "list"
    if base not in _KIND_BY_TYPE and dataclasses.is_dataclass(base):
        return "data"  # an aggregate of its own (LinkToTxn): sent as it is, never a flat field
    return _KIND_BY_TYPE.get(base, "str")


def _spec(cls: type) -> _Spec:
    spec = _SPECS.get(cls)
    if spec is not None:
        return spec
    hints = typing.get_type_hints(cls)
    kinds: dict[str, str] = {}
    flat: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for f in fields(cls):
        kind = _kind_of(hints[f.name])
        kinds[f.name] = kind
        if f.name in _SKIP:
            continue
        if kind == "ref":
            flat[f"{f.name}.ListID"] = "str"
            flat[f"{f.name}.FullName"] = "str"
            aliases[f.name] = f"{f.name}.FullName"
        elif kind == "address":
            for sub in ("Addr1", "Addr2", "Addr3", "Addr4", "Addr5", "City", "State", "PostalCode", "Country",
                        "Note"):
                flat[f"{f.name}.{sub}"] = "str"
            short = f.name.removesuffix("Address")
            for n in range(1, 6):
                aliases[f"{short}Addr{n}"] = f"{f.name}.Addr{n}"
        elif kind in ("list", "data"):
            continue
        else:
            flat[f.name] = kind
    if "SalesDesc" in flat:
        # Items: the qbXML wrapper spellings map onto the unified sales/purchase fields.
        aliases.update({"SalesOrPurchase.Desc": "SalesDesc", "SalesOrPurchase.Price": "SalesPrice",
                        "SalesOrPurchase.AccountRef.ListID": "IncomeAccountRef.ListID",
                        "SalesOrPurchase.AccountRef.FullName": "IncomeAccountRef.FullName",
                        "SalesAndPurchase.SalesDesc": "SalesDesc", "SalesAndPurchase.SalesPrice": "SalesPrice",
                        "SalesAndPurchase.PurchaseDesc": "PurchaseDesc",
                        "SalesAndPurchase.PurchaseCost": "PurchaseCost"})
    spec = _Spec(kinds, flat, aliases)
    _SPECS[cls] = spec
    return spec


def field_kinds(cls: type) -> dict[str, str]:
    """Dataclass field → kind for a record class (used by the message builder and parser)."""
    return _spec(cls).kinds


def flat_fields(cls: type) -> dict[str, str]:
    """Every flat field path a record class has, with its scalar kind."""
    return dict(_spec(cls).flat_kinds)


def to_flat(record: Any) -> dict[str, Any]:
    """The record as ``{dotted path: value}``; a bare ref name (``CustomerRef``) carries its FullName too."""
    spec = _spec(type(record))
    out: dict[str, Any] = {}
    for name, kind in spec.kinds.items():
        if name in _SKIP:
            continue
        value = getattr(record, name)
        if kind == "ref":
            out[f"{name}.ListID"] = value.ListID if value else None
            out[f"{name}.FullName"] = value.FullName if value else None
            out[name] = value.FullName if value else None
        elif kind == "address":
            for sub in Address.__slots__:
                out[f"{name}.{sub}"] = getattr(value, sub) if value else None
        elif kind not in ("list", "data"):
            out[name] = value
    return out


def _coerce(value: Any, kind: str, where: str) -> Any:
    if value is None or (isinstance(value, str) and value == ""):
        return None  # QuickBooks has no empty-but-present value: "" and absent are the same
    try:
        if kind == "str":
            return value if isinstance(value, str) else str(value)
        if kind == "decimal":
            return value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
        if kind == "int":
            return value if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip())
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes", "y"):
                return True
            if text in ("false", "0", "no", "n"):
                return False
            raise ValueError(value)
        if kind == "date":
            if isinstance(value, datetime):
                return value.date()
            return value if isinstance(value, date) else date.fromisoformat(str(value).strip()[:10])
        if kind == "datetime":
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    except (ValueError, InvalidOperation, TypeError):
        raise FieldValueError(f"{where}: {value!r} is not a valid {kind}",
                              hint=f"give {where} a {kind} value (check the mapping's transformation)") from None
    return value


def _set_flat(record: Any, path: str, value: Any) -> None:
    head, _, sub = path.partition(".")
    if not sub:
        setattr(record, head, value)
        return
    holder = getattr(record, head)
    if holder is None:
        if value is None:
            return  # clearing a part of an absent address/reference leaves it absent
        holder = Ref() if head.endswith("Ref") else Address()
        setattr(record, head, holder)
    setattr(holder, sub, value)


def _resolve(cls: type, key: str) -> tuple[str, str]:
    spec = _spec(cls)
    path = spec.aliases.get(key, key)
    kind = spec.flat_kinds.get(path)
    if kind is None:
        valid = sorted(spec.flat_kinds) + sorted(spec.aliases)
        close = difflib.get_close_matches(key, valid, n=3)
        maybe = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UnknownFieldError(
            f"QuickBooks {cls.__name__} has no field {key!r}{maybe}",
            hint="use one of: " + ", ".join(valid),
        )
    return path, kind


R = TypeVar("R")


def record_from_flat(cls: type[R], values: dict[str, Any]) -> R:
    """Build a ``cls`` record from flat fields (dotted paths or aliases); unknown names raise UnknownFieldError."""
    record = cls()
    for key, value in values.items():
        path, kind = _resolve(cls, key)
        _set_flat(record, path, _coerce(value, kind, f"{cls.__name__}.{key}"))
    return record


def apply_flat(record: R, values: dict[str, Any]) -> R:
    """A copy of ``record`` with the flat ``values`` applied (the record itself is left alone)."""
    updated = copy.deepcopy(record)
    cls = type(record)
    kinds = _spec(cls).kinds
    touched: dict[str, set[str]] = {}
    for key, value in values.items():
        path, kind = _resolve(cls, key)
        _set_flat(updated, path, _coerce(value, kind, f"{cls.__name__}.{key}"))
        top, _, sub = path.partition(".")
        if kinds.get(top) == "ref":
            touched.setdefault(top, set()).add(sub)
    for top, subs in touched.items():
        # A reference re-pointed by one half must not keep the other half of the old target.
        before, after = getattr(record, top), getattr(updated, top)
        if after is None or before is None or len(subs) == 2:
            continue
        (sub,) = subs
        other = "ListID" if sub == "FullName" else "FullName"
        if getattr(after, sub) != getattr(before, sub):
            setattr(after, other, None)
    return updated


def canonical_path(cls: type, key: str) -> str:
    """The dotted path an alias stands for (``BillAddr1`` → ``BillAddress.Addr1``); unknown names raise."""
    return _resolve(cls, key)[0]


def customer_from_flat(values: dict[str, Any]) -> Customer:
    """A Customer from flat fields (``Name``, ``BillAddr1``, ``BillAddress.City``, ``ParentRef.ListID`` …)."""
    return record_from_flat(Customer, values)


def item_service_from_flat(values: dict[str, Any]) -> ItemService:
    """An ItemService from flat fields (``Name``, ``SalesDesc``, ``SalesPrice``, ``IncomeAccountRef.FullName`` …)."""
    return record_from_flat(ItemService, values)


def item_non_inventory_from_flat(values: dict[str, Any]) -> ItemNonInventory:
    """An ItemNonInventory from flat fields."""
    return record_from_flat(ItemNonInventory, values)


def item_inventory_from_flat(values: dict[str, Any]) -> ItemInventory:
    """An ItemInventory from flat fields (add ``COGSAccountRef.FullName``/``AssetAccountRef.FullName`` or rely on
    the client's default accounts)."""
    return record_from_flat(ItemInventory, values)


def lines_from_flat(line_cls: type[R], lines: list[dict[str, Any]] | None) -> list[R]:
    """Line records of ``line_cls`` (InvoiceLine, SalesOrderLine, ExpenseLine, AppliedToTxn …) from flat dicts; an
    unknown field names its line (``SalesOrderLine 2 …``)."""
    out: list[R] = []
    for number, values in enumerate(lines or [], start=1):
        try:
            out.append(record_from_flat(line_cls, values))
        except (UnknownFieldError, FieldValueError) as exc:
            exc.message = f"line {number}: {exc.message}"
            exc.args = (exc.message,)
            raise
    return out


def invoice_from_flat(values: dict[str, Any], lines: list[dict[str, Any]] | None = None) -> Invoice:
    """An Invoice from flat header fields plus one flat dict per line."""
    invoice = record_from_flat(Invoice, values)
    invoice.lines = lines_from_flat(InvoiceLine, lines)
    return invoice


def invoice_line_from_flat(values: dict[str, Any]) -> InvoiceLine:
    """An InvoiceLine from flat fields (``ItemRef.ListID``, ``Desc``, ``Quantity``, ``Rate``, ``Amount`` …)."""
    return record_from_flat(InvoiceLine, values)


def account_from_flat(values: dict[str, Any]) -> Account:
    """An Account from flat fields."""
    return record_from_flat(Account, values)


def terms_from_flat(values: dict[str, Any], kind: str = "StandardTerms") -> Terms:
    """Terms from flat fields; ``kind`` is StandardTerms or DateDrivenTerms."""
    terms = record_from_flat(Terms, values)
    terms.kind = kind
    return terms


def label(record: Any) -> str:
    """How a record is named in messages: its type, name or number, and QuickBooks id when it has one."""
    kind = record.kind if isinstance(record, Terms) else type(record).__name__
    name = getattr(record, "FullName", None) or getattr(record, "Name", None) or getattr(record, "RefNumber", None)
    ident = getattr(record, "ListID", None) or getattr(record, "TxnID", None)
    text = f"{kind} {name!r}" if name else kind
    return f"{text} ({ident})" if ident else text
