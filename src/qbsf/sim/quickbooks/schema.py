"""Element orders and field limits the simulator answers with.

qbXML is order-sensitive (``xsd:sequence``), so every ``*Ret`` the simulator
builds is emitted in the order Intuit's schema declares. The names below are
transcribed from the qbXML 13.0/16.0 element declarations (identical for the
records modelled here, except where a tuple is marked 16.0-only).
"""

from __future__ import annotations

_LIST_CORE = ("ListID", "TimeCreated", "TimeModified", "EditSequence")
_TXN_CORE = ("TxnID", "TimeCreated", "TimeModified", "EditSequence", "TxnNumber")

RET_ORDER: dict[str, tuple[str, ...]] = {
    "Customer": (
        *_LIST_CORE, "Name", "FullName", "IsActive", "ClassRef", "ParentRef", "Sublevel", "CompanyName",
        "Salutation", "FirstName", "MiddleName", "LastName", "Suffix", "JobTitle", "BillAddress", "BillAddressBlock",
        "ShipAddress", "ShipAddressBlock", "ShipToAddress", "PrintAs", "Phone", "Mobile", "Pager", "AltPhone", "Fax",
        "Email", "Cc", "Contact", "AltContact", "AdditionalContactRef", "ContactsRet", "CustomerTypeRef", "TermsRef",
        "SalesRepRef", "Balance", "TotalBalance", "SalesTaxCodeRef", "ItemSalesTaxRef", "SalesTaxCountry",
        "ResaleNumber", "AccountNumber", "CreditLimit", "PreferredPaymentMethodRef", "CreditCardInfo", "JobStatus",
        "JobStartDate", "JobProjectedEndDate", "JobEndDate", "JobDesc", "JobTypeRef", "Notes", "AdditionalNotesRet",
        "IsStatementWithParent", "DeliveryMethod", "PreferredDeliveryMethod", "PriceLevelRef", "ExternalGUID",
        "TaxRegistrationNumber", "CurrencyRef", "DataExtRet",
    ),
    "Vendor": (
        *_LIST_CORE, "Name", "IsActive", "ClassRef", "IsTaxAgency", "CompanyName", "Salutation", "FirstName",
        "MiddleName", "LastName", "Suffix", "JobTitle", "VendorAddress", "VendorAddressBlock", "ShipAddress", "Phone",
        "Mobile", "Pager", "AltPhone", "Fax", "Email", "Cc", "Contact", "AltContact", "AdditionalContactRef",
        "ContactsRet", "NameOnCheck", "AccountNumber", "Notes", "AdditionalNotesRet", "VendorTypeRef", "TermsRef",
        "CreditLimit", "VendorTaxIdent", "IsVendorEligibleFor1099", "Balance", "BillingRateRef", "ExternalGUID",
        "SalesTaxCodeRef", "SalesTaxCountry", "IsSalesTaxAgency", "SalesTaxReturnRef", "TaxRegistrationNumber",
        "ReportingPeriod", "IsTaxTrackedOnPurchases", "TaxOnPurchasesAccountRef", "IsTaxTrackedOnSales",
        "TaxOnSalesAccountRef", "IsTaxOnTax", "PrefillAccountRef", "CurrencyRef", "DataExtRet",
    ),
    "OtherName": (
        *_LIST_CORE, "Name", "IsActive", "CompanyName", "Salutation", "FirstName", "MiddleName", "LastName",
        "OtherNameAddress", "OtherNameAddressBlock", "Phone", "AltPhone", "Fax", "Email", "Contact", "AltContact",
        "AccountNumber", "Notes", "ExternalGUID", "DataExtRet",
    ),
    "Employee": (
        *_LIST_CORE, "Name", "IsActive", "Salutation", "FirstName", "MiddleName", "LastName", "Suffix", "JobTitle",
        "SupervisorRef", "Department", "Description", "TargetBonus", "EmployeeAddress", "PrintAs", "Phone", "Mobile",
        "Pager", "PagerPIN", "AltPhone", "Fax", "SSN", "Email", "AdditionalContactRef", "EmergencyContacts",
        "EmployeeType", "PartOrFullTime", "Exempt", "KeyEmployee", "Gender", "HiredDate", "OriginalHireDate",
        "AdjustedServiceDate", "ReleasedDate", "BirthDate", "USCitizen", "Ethnicity", "Disabled", "DisabilityDesc",
        "OnFile", "WorkAuthExpireDate", "USVeteran", "MilitaryStatus", "AccountNumber", "Notes", "AdditionalNotesRet",
        "BillingRateRef", "EmployeePayrollInfo", "ExternalGUID", "DataExtRet",
    ),
    "Account": (
        *_LIST_CORE, "Name", "FullName", "IsActive", "ParentRef", "Sublevel", "AccountType", "DetailAccountType",
        "SpecialAccountType", "IsTaxAccount", "AccountNumber", "BankNumber", "LastCheckNumber", "Desc", "Balance",
        "TotalBalance", "SalesTaxCodeRef", "TaxLineInfoRet", "CashFlowClassification", "CurrencyRef", "DataExtRet",
    ),
    "StandardTerms": (*_LIST_CORE, "Name", "IsActive", "StdDueDays", "StdDiscountDays", "DiscountPct"),
    "DateDrivenTerms": (
        *_LIST_CORE, "Name", "IsActive", "DayOfMonthDue", "DueNextMonthDays", "DiscountDayOfMonth", "DiscountPct",
    ),
    "ItemService": (
        *_LIST_CORE, "Name", "FullName", "BarCodeValue", "IsActive", "ClassRef", "ParentRef", "Sublevel",
        "UnitOfMeasureSetRef", "IsTaxIncluded", "SalesTaxCodeRef", "SalesOrPurchase", "SalesAndPurchase",
        "ExternalGUID", "DataExtRet",
    ),
    "ItemNonInventory": (
        *_LIST_CORE, "Name", "FullName", "BarCodeValue", "IsActive", "ClassRef", "ParentRef", "Sublevel",
        "ManufacturerPartNumber", "UnitOfMeasureSetRef", "IsTaxIncluded", "SalesTaxCodeRef", "SalesOrPurchase",
        "SalesAndPurchase", "ExternalGUID", "DataExtRet",
    ),
    "ItemInventory": (
        *_LIST_CORE, "Name", "FullName", "BarCodeValue", "IsActive", "ClassRef", "ParentRef", "Sublevel",
        "ManufacturerPartNumber", "UnitOfMeasureSetRef", "IsTaxIncluded", "SalesTaxCodeRef", "SalesDesc", "SalesPrice",
        "IncomeAccountRef", "PurchaseDesc", "PurchaseCost", "PurchaseTaxCodeRef", "COGSAccountRef", "PrefVendorRef",
        "AssetAccountRef", "ReorderPoint", "Max", "QuantityOnHand", "AverageCost", "QuantityOnOrder",
        "QuantityOnSalesOrder", "ExternalGUID", "DataExtRet",
    ),
    # Standard lists (OSR: SalesRepAdd, ClassAdd, …; qbXML 13.0/16.0 declare the same elements for them).
    "SalesRep": (*_LIST_CORE, "Initial", "IsActive", "SalesRepEntityRef"),
    "Class": (*_LIST_CORE, "Name", "FullName", "IsActive", "ParentRef", "Sublevel"),
    "CustomerType": (*_LIST_CORE, "Name", "FullName", "IsActive", "ParentRef", "Sublevel"),
    "VendorType": (*_LIST_CORE, "Name", "FullName", "IsActive", "ParentRef", "Sublevel"),
    "JobType": (*_LIST_CORE, "Name", "FullName", "IsActive", "ParentRef", "Sublevel"),
    "Template": (*_LIST_CORE, "Name", "IsActive", "TemplateType"),
    "ShipMethod": (*_LIST_CORE, "Name", "IsActive"),
    "CustomerMsg": (*_LIST_CORE, "Name", "IsActive"),
    "PaymentMethod": (*_LIST_CORE, "Name", "IsActive", "PaymentMethodType"),
    "SalesTaxCode": (*_LIST_CORE, "Name", "IsActive", "IsTaxable", "Desc", "ItemPurchaseTaxRef", "ItemSalesTaxRef"),
    "ItemSalesTax": (
        *_LIST_CORE, "Name", "BarCodeValue", "IsActive", "ClassRef", "ItemDesc", "TaxRate", "TaxVendorRef",
        "SalesTaxReturnLineRef", "ExternalGUID", "DataExtRet",
    ),
    "ItemGroup": (
        *_LIST_CORE, "Name", "BarCodeValue", "IsActive", "ItemDesc", "UnitOfMeasureSetRef", "IsPrintItemsInGroup",
        "SpecialItemType", "ExternalGUID", "ItemGroupLine", "DataExtRet",
    ),
    "Invoice": (
        *_TXN_CORE, "CustomerRef", "ClassRef", "ARAccountRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress",
        "BillAddressBlock", "ShipAddress", "ShipAddressBlock", "IsPending", "IsFinanceCharge", "PONumber", "TermsRef",
        "DueDate", "SalesRepRef", "FOB", "ShipDate", "ShipMethodRef", "Subtotal", "ItemSalesTaxRef",
        "SalesTaxPercentage", "SalesTaxTotal", "AppliedAmount", "BalanceRemaining", "CurrencyRef", "ExchangeRate",
        "BalanceRemainingInHomeCurrency", "Memo", "IsPaid", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed",
        "IsTaxIncluded", "CustomerSalesTaxCodeRef", "SuggestedDiscountAmount", "SuggestedDiscountDate", "Other",
        "ExternalGUID", "LinkedTxn", "InvoiceLineRet", "InvoiceLineGroupRet", "DiscountLineRet", "SalesTaxLineRet",
        "ShippingLineRet", "DataExtRet",
    ),
    "SalesReceipt": (
        *_TXN_CORE, "CustomerRef", "ClassRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress",
        "BillAddressBlock", "ShipAddress", "ShipAddressBlock", "IsPending", "CheckNumber", "PaymentMethodRef",
        "DueDate", "SalesRepRef", "ShipDate", "ShipMethodRef", "FOB", "Subtotal", "ItemSalesTaxRef",
        "SalesTaxPercentage", "SalesTaxTotal", "TotalAmount", "CurrencyRef", "ExchangeRate",
        "TotalAmountInHomeCurrency", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded",
        "CustomerSalesTaxCodeRef", "DepositToAccountRef", "CreditCardTxnInfo", "Other", "ExternalGUID",
        "SalesReceiptLineRet", "SalesReceiptLineGroupRet", "DiscountLineRet", "SalesTaxLineRet", "ShippingLineRet",
        "DataExtRet",
    ),
    "ReceivePayment": (
        *_TXN_CORE, "CustomerRef", "ARAccountRef", "TxnDate", "RefNumber", "TotalAmount", "CurrencyRef",
        "ExchangeRate", "TotalAmountInHomeCurrency", "PaymentMethodRef", "Memo", "DepositToAccountRef",
        "CreditCardTxnInfo", "UnusedPayment", "UnusedCredits", "ExternalGUID", "AppliedToTxnRet", "DataExtRet",
    ),
}

# Orders of nested aggregates the simulator builds or merges (a Mod may touch only some of their children).
_ADDRESS = ("Addr1", "Addr2", "Addr3", "Addr4", "Addr5", "City", "State", "PostalCode", "Country", "Note")
SUB_ORDER: dict[str, tuple[str, ...]] = {
    "BillAddress": _ADDRESS,
    "ShipAddress": _ADDRESS,
    "VendorAddress": _ADDRESS,
    "OtherNameAddress": _ADDRESS,
    "EmployeeAddress": ("Addr1", "Addr2", "Addr3", "Addr4", "City", "State", "PostalCode", "Country"),
    "ShipToAddress": ("Name", *_ADDRESS, "DefaultShipTo"),
    "SalesOrPurchase": ("Desc", "Price", "PricePercent", "AccountRef"),
    "SalesAndPurchase": (
        "SalesDesc", "SalesPrice", "IncomeAccountRef", "PurchaseDesc", "PurchaseCost", "PurchaseTaxCodeRef",
        "ExpenseAccountRef", "PrefVendorRef",
    ),
    "CreditCardInfo": (
        "CreditCardNumber", "ExpirationMonth", "ExpirationYear", "NameOnCard", "CreditCardAddress",
        "CreditCardPostalCode",
    ),
    "InvoiceLineRet": (
        "TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Rate", "RatePercent",
        "ClassRef", "Amount", "TaxAmount", "InventorySiteRef", "InventorySiteLocationRef", "SerialNumber",
        "LotNumber", "ServiceDate", "SalesTaxCodeRef", "IsTaxable", "Other1", "Other2", "DataExtRet",
    ),
    "ContactsRet": (
        "ListID", "TimeCreated", "TimeModified", "EditSequence", "Contact", "Salutation", "FirstName", "MiddleName",
        "LastName", "JobTitle", "AdditionalContactRef",
    ),
    "SalesReceiptLineRet": (
        "TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Rate", "RatePercent",
        "ClassRef", "Amount", "TaxAmount", "InventorySiteRef", "InventorySiteLocationRef", "SerialNumber",
        "LotNumber", "ServiceDate", "SalesTaxCodeRef", "IsTaxable", "Other1", "Other2", "DataExtRet",
    ),
    "InvoiceLineGroupRet": (
        "TxnLineID", "ItemGroupRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "IsPrintItemsInGroup",
        "TotalAmount", "ServiceDate", "InvoiceLineRet", "DataExtRet",
    ),
    "ItemGroupLine": ("ItemRef", "Quantity", "UnitOfMeasure"),
    "LinkedTxn": ("TxnID", "TxnType", "TxnDate", "RefNumber", "LinkType", "Amount"),
    "AppliedToTxnRet": ("TxnID", "TxnType", "TxnDate", "RefNumber", "BalanceRemaining", "Amount", "LinkedTxn"),
}

# Elements that may repeat: always kept as lists so one and many look alike.
REPEATED = frozenset({
    "ShipToAddress", "AdditionalContactRef", "Contacts", "ContactsRet", "AdditionalNotes", "AdditionalNotesRet",
    "InvoiceLineAdd", "InvoiceLineMod", "InvoiceLineRet", "InvoiceLineGroupAdd", "InvoiceLineGroupMod",
    "AppliedToTxnAdd", "AppliedToTxnRet", "LinkedTxn", "SetCredit", "LinkToTxnID", "DataExt", "DataExtRet",
    "TxnLineDetail", "InvoiceLineGroupRet", "ItemGroupLine", "SalesReceiptLineAdd", "SalesReceiptLineMod",
    "SalesReceiptLineRet",
})

# QuickBooks' field limits (the schema's maxLength facets), checked on top of the schema so the
# simulator answers 3070 like QuickBooks does when a client skips validation.
NAME_LIMIT = {
    "Customer": 41, "Vendor": 41, "OtherName": 41, "Employee": 41, "Account": 31, "StandardTerms": 31,
    "DateDrivenTerms": 31, "ItemService": 31, "ItemNonInventory": 31, "ItemInventory": 31, "SalesRep": 5,
    "Class": 31, "CustomerType": 31, "VendorType": 31, "JobType": 31, "ShipMethod": 15, "CustomerMsg": 101,
    "PaymentMethod": 31, "SalesTaxCode": 3, "ItemSalesTax": 31, "ItemGroup": 31,
}
FIELD_LIMIT = {
    "CompanyName": 41, "Salutation": 15, "FirstName": 25, "MiddleName": 5, "LastName": 25, "JobTitle": 41,
    "Addr1": 41, "Addr2": 41, "Addr3": 41, "Addr4": 41, "Addr5": 41, "City": 31, "State": 21, "PostalCode": 13,
    "Country": 31, "Note": 41, "PrintAs": 41, "Phone": 21, "Mobile": 21, "Pager": 21, "AltPhone": 21, "Fax": 21,
    "Email": 1023, "Cc": 1023, "Contact": 41, "AltContact": 41, "ResaleNumber": 15, "JobDesc": 99,
    "Notes": 4095, "Memo": 4095, "PONumber": 25, "FOB": 13, "Other": 29, "Other1": 29, "Other2": 29,
    "Desc": 4095, "SalesDesc": 4095, "PurchaseDesc": 4095, "ManufacturerPartNumber": 31, "BankNumber": 25,
    "NameOnCheck": 41,
}
REF_NUMBER_LIMIT = {"Invoice": 11, "ReceivePayment": 20, "SalesReceipt": 11}
ACCOUNT_NUMBER_LIMIT = {"Account": 7, "Customer": 99, "Vendor": 99, "OtherName": 99, "Employee": 99}

LIST_DEL_TYPES = frozenset({
    "Account", "Customer", "DateDrivenTerms", "Employee", "ItemInventory", "ItemNonInventory", "ItemService",
    "OtherName", "StandardTerms", "Vendor", "SalesRep", "Class", "CustomerType", "VendorType", "JobType",
    "ShipMethod", "CustomerMsg", "PaymentMethod", "SalesTaxCode", "ItemSalesTax", "ItemGroup",
})
TXN_DEL_TYPES = frozenset({"Invoice", "ReceivePayment", "SalesReceipt"})

# Sales orders, estimates, credit memos and bills: their orders live beside them (qbsf.sim.quickbooks.doc_schema).
from qbsf.sim.quickbooks.doc_schema import (  # noqa: E402
    DOC_KINDS,
    DOC_REF_NUMBER_LIMIT,
    DOC_REPEATED,
    DOC_RET_ORDER,
    DOC_SUB_ORDER,
    LINK_KINDS,
)

RET_ORDER.update(DOC_RET_ORDER)
SUB_ORDER.update(DOC_SUB_ORDER)
REPEATED = REPEATED | DOC_REPEATED
REF_NUMBER_LIMIT.update(DOC_REF_NUMBER_LIMIT)
TXN_DEL_TYPES = TXN_DEL_TYPES | frozenset(DOC_KINDS) | frozenset(LINK_KINDS)
