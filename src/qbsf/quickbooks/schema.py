"""Element orders and field limits for the qbXML requests qbsf builds.

qbXML is order-sensitive (``xsd:sequence``) and QuickBooks rejects out-of-order elements, so every request
element is emitted in the order declared here, transcribed from Intuit's qbXML 16.0 schema (13.0 declares the
same order without the few elements 16.0 added, none of which qbsf writes; tests check both against the XSD).
Limits are the schema's ``maxLength`` facets for the values qbsf writes.
"""

from __future__ import annotations

REF_ORDER = ("ListID", "FullName")
ADDRESS_ORDER = ("Addr1", "Addr2", "Addr3", "Addr4", "Addr5", "City", "State", "PostalCode", "Country", "Note")

# Request (and nested aggregate) element → its children in schema order.
ORDER: dict[str, tuple[str, ...]] = {
    "CustomerAdd": (
        "Name", "IsActive", "ClassRef", "ParentRef", "CompanyName", "Salutation", "FirstName", "MiddleName",
        "LastName", "Suffix", "JobTitle", "BillAddress", "ShipAddress", "ShipToAddress", "PrintAs", "Phone",
        "Mobile", "Pager", "AltPhone", "Fax", "Email", "Cc", "Contact", "AltContact", "AdditionalContactRef",
        "Contacts", "CustomerTypeRef", "TermsRef", "SalesRepRef", "OpenBalance", "OpenBalanceDate",
        "SalesTaxCodeRef", "ItemSalesTaxRef", "SalesTaxCountry", "ResaleNumber", "AccountNumber", "CreditLimit",
        "PreferredPaymentMethodRef", "CreditCardInfo", "JobStatus", "JobStartDate", "JobProjectedEndDate",
        "JobEndDate", "JobDesc", "JobTypeRef", "Notes", "AdditionalNotes", "IsStatementWithParent",
        "DeliveryMethod", "PreferredDeliveryMethod", "PriceLevelRef", "ExternalGUID", "TaxRegistrationNumber",
        "CurrencyRef"),
    "CustomerMod": (
        "ListID", "EditSequence", "Name", "IsActive", "ClassRef", "ParentRef", "CompanyName", "Salutation",
        "FirstName", "MiddleName", "LastName", "Suffix", "JobTitle", "BillAddress", "ShipAddress", "ShipToAddress",
        "PrintAs", "Phone", "Mobile", "Pager", "AltPhone", "Fax", "Email", "Cc", "Contact", "AltContact",
        "AdditionalContactRef", "ContactsMod", "CustomerTypeRef", "TermsRef", "SalesRepRef", "SalesTaxCodeRef",
        "ItemSalesTaxRef", "SalesTaxCountry", "ResaleNumber", "AccountNumber", "CreditLimit",
        "PreferredPaymentMethodRef", "CreditCardInfo", "JobStatus", "JobStartDate", "JobProjectedEndDate",
        "JobEndDate", "JobDesc", "JobTypeRef", "Notes", "AdditionalNotesMod", "IsStatementWithParent",
        "DeliveryMethod", "PreferredDeliveryMethod", "PriceLevelRef", "TaxRegistrationNumber", "CurrencyRef"),
    "ItemServiceAdd": (
        "Name", "BarCode", "IsActive", "ClassRef", "ParentRef", "UnitOfMeasureSetRef", "IsTaxIncluded",
        "SalesTaxCodeRef", "SalesOrPurchase", "SalesAndPurchase", "ExternalGUID"),
    "ItemServiceMod": (
        "ListID", "EditSequence", "Name", "BarCode", "IsActive", "ClassRef", "ParentRef", "UnitOfMeasureSetRef",
        "ForceUOMChange", "IsTaxIncluded", "SalesTaxCodeRef", "SalesOrPurchaseMod", "SalesAndPurchaseMod"),
    "ItemNonInventoryAdd": (
        "Name", "BarCode", "IsActive", "ParentRef", "ClassRef", "ManufacturerPartNumber", "UnitOfMeasureSetRef",
        "IsTaxIncluded", "SalesTaxCodeRef", "SalesOrPurchase", "SalesAndPurchase", "ExternalGUID"),
    "ItemNonInventoryMod": (
        "ListID", "EditSequence", "Name", "BarCode", "IsActive", "ClassRef", "ParentRef", "ManufacturerPartNumber",
        "UnitOfMeasureSetRef", "ForceUOMChange", "IsTaxIncluded", "SalesTaxCodeRef", "SalesOrPurchaseMod",
        "SalesAndPurchaseMod"),
    "ItemInventoryAdd": (
        "Name", "BarCode", "IsActive", "ClassRef", "ParentRef", "ManufacturerPartNumber", "UnitOfMeasureSetRef",
        "IsTaxIncluded", "SalesTaxCodeRef", "SalesDesc", "SalesPrice", "IncomeAccountRef", "PurchaseDesc",
        "PurchaseCost", "PurchaseTaxCodeRef", "COGSAccountRef", "PrefVendorRef", "AssetAccountRef", "ReorderPoint",
        "Max", "QuantityOnHand", "TotalValue", "InventoryDate", "ExternalGUID"),
    "ItemInventoryMod": (
        "ListID", "EditSequence", "Name", "BarCode", "IsActive", "ClassRef", "ParentRef", "ManufacturerPartNumber",
        "UnitOfMeasureSetRef", "ForceUOMChange", "IsTaxIncluded", "SalesTaxCodeRef", "SalesDesc", "SalesPrice",
        "IncomeAccountRef", "ApplyIncomeAccountRefToExistingTxns", "PurchaseDesc", "PurchaseCost",
        "PurchaseTaxCodeRef", "COGSAccountRef", "ApplyCOGSAccountRefToExistingTxns", "PrefVendorRef",
        "AssetAccountRef", "ReorderPoint", "Max"),
    "SalesOrPurchase": (
        "Desc", "Price", "PricePercent", "AccountRef"),
    "SalesOrPurchaseMod": (
        "Desc", "Price", "PricePercent", "AccountRef", "ApplyAccountRefToExistingTxns"),
    "SalesAndPurchase": (
        "SalesDesc", "SalesPrice", "IncomeAccountRef", "PurchaseDesc", "PurchaseCost", "PurchaseTaxCodeRef",
        "ExpenseAccountRef", "PrefVendorRef"),
    "SalesAndPurchaseMod": (
        "SalesDesc", "SalesPrice", "IncomeAccountRef", "ApplyIncomeAccountRefToExistingTxns", "PurchaseDesc",
        "PurchaseCost", "PurchaseTaxCodeRef", "ExpenseAccountRef", "ApplyExpenseAccountRefToExistingTxns",
        "PrefVendorRef"),
    "InvoiceAdd": (
        "CustomerRef", "ClassRef", "ARAccountRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress",
        "ShipAddress", "IsPending", "IsFinanceCharge", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB",
        "ShipDate", "ShipMethodRef", "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed",
        "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other", "ExchangeRate", "ExternalGUID", "LinkToTxnID",
        "SetCredit", "InvoiceLineAdd", "InvoiceLineGroupAdd", "DiscountLineAdd", "SalesTaxLineAdd",
        "ShippingLineAdd"),
    "InvoiceMod": (
        "TxnID", "EditSequence", "CustomerRef", "ClassRef", "ARAccountRef", "TemplateRef", "TxnDate", "RefNumber",
        "BillAddress", "ShipAddress", "IsPending", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB",
        "ShipDate", "ShipMethodRef", "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed",
        "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other", "ExchangeRate", "SetCredit", "InvoiceLineMod",
        "InvoiceLineGroupMod"),
    "InvoiceLineGroupMod": (
        "TxnLineID", "ItemGroupRef", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "InvoiceLineMod"),
    "InvoiceLineAdd": (
        "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "Rate", "RatePercent", "PriceLevelRef", "ClassRef",
        "Amount", "TaxAmount", "OptionForPriceRuleConflict", "InventorySiteRef", "InventorySiteLocationRef",
        "SerialNumber", "LotNumber", "ServiceDate", "SalesTaxCodeRef", "IsTaxable", "OverrideItemAccountRef",
        "Other1", "Other2", "LinkToTxn", "DataExt"),
    "InvoiceLineMod": (
        "TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Rate", "RatePercent",
        "PriceLevelRef", "ClassRef", "Amount", "TaxAmount", "OptionForPriceRuleConflict", "InventorySiteRef",
        "InventorySiteLocationRef", "SerialNumber", "LotNumber", "ServiceDate", "SalesTaxCodeRef",
        "OverrideItemAccountRef", "Other1", "Other2"),
    # The add-on documents (sales orders, estimates, credit memos, sales receipts, payments, vendors, bills, bill
    # payments), their lines and queries. Where 16.0 adds elements (SalesOrderAdd's SOChannel, BillAdd's ClassRef …)
    # the 16.0 order is declared; qbsf's records carry none of those, so what it sends is valid in 13.0 too.
    "VendorAdd": (
        "Name", "IsActive", "ClassRef", "CompanyName", "Salutation", "FirstName", "MiddleName", "LastName", "Suffix",
        "JobTitle", "VendorAddress", "ShipAddress", "Phone", "Mobile", "Pager", "AltPhone", "Fax", "Email", "Cc",
        "Contact", "AltContact", "AdditionalContactRef", "Contacts", "NameOnCheck", "AccountNumber", "Notes",
        "AdditionalNotes", "VendorTypeRef", "TermsRef", "CreditLimit", "VendorTaxIdent", "IsVendorEligibleFor1099",
        "OpenBalance", "OpenBalanceDate", "BillingRateRef", "ExternalGUID", "SalesTaxCodeRef", "SalesTaxCountry",
        "IsSalesTaxAgency", "SalesTaxReturnRef", "TaxRegistrationNumber", "ReportingPeriod", "IsTaxTrackedOnPurchases",
        "TaxOnPurchasesAccountRef", "IsTaxTrackedOnSales", "TaxOnSalesAccountRef", "IsTaxOnTax", "PrefillAccountRef",
        "CurrencyRef",
    ),
    "VendorMod": (
        "ListID", "EditSequence", "Name", "IsActive", "ClassRef", "CompanyName", "Salutation", "FirstName",
        "MiddleName", "LastName", "Suffix", "JobTitle", "VendorAddress", "ShipAddress", "Phone", "Mobile", "Pager",
        "AltPhone", "Fax", "Email", "Cc", "Contact", "AltContact", "AdditionalContactRef", "ContactsMod", "NameOnCheck",
        "AccountNumber", "Notes", "AdditionalNotesMod", "VendorTypeRef", "TermsRef", "CreditLimit", "VendorTaxIdent",
        "IsVendorEligibleFor1099", "BillingRateRef", "SalesTaxCodeRef", "SalesTaxCountry", "IsSalesTaxAgency",
        "SalesTaxReturnRef", "TaxRegistrationNumber", "ReportingPeriod", "IsTaxTrackedOnPurchases",
        "TaxOnPurchasesAccountRef", "IsTaxTrackedOnSales", "TaxOnSalesAccountRef", "IsTaxOnTax", "PrefillAccountRef",
        "CurrencyRef",
    ),
    "SalesOrderAdd": (
        "CustomerRef", "ClassRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress", "ShipAddress", "PONumber",
        "TermsRef", "DueDate", "SalesRepRef", "FOB", "ShipDate", "ShipMethodRef", "ItemSalesTaxRef", "IsManuallyClosed",
        "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other",
        "ExchangeRate", "ExternalGUID", "SalesOrderLineAdd", "SalesOrderLineGroupAdd", "SOChannel", "StoreName",
        "StoreType",
    ),
    "SalesOrderMod": (
        "TxnID", "EditSequence", "CustomerRef", "ClassRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress",
        "ShipAddress", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB", "ShipDate", "ShipMethodRef",
        "ItemSalesTaxRef", "IsManuallyClosed", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed",
        "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other", "ExchangeRate", "SalesOrderLineMod",
        "SalesOrderLineGroupMod", "SOChannel", "StoreName", "StoreType",
    ),
    "EstimateAdd": (
        "CustomerRef", "ClassRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress", "ShipAddress", "IsActive",
        "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB", "ItemSalesTaxRef", "Memo", "CustomerMsgRef",
        "IsToBeEmailed", "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other", "ExchangeRate", "ExternalGUID",
        "EstimateLineAdd", "EstimateLineGroupAdd",
    ),
    "EstimateMod": (
        "TxnID", "EditSequence", "CustomerRef", "ClassRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress",
        "ShipAddress", "IsActive", "CreateChangeOrder", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB",
        "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBeEmailed", "IsTaxIncluded", "CustomerSalesTaxCodeRef",
        "Other", "ExchangeRate", "EstimateLineMod", "EstimateLineGroupMod",
    ),
    "CreditMemoAdd": (
        "CustomerRef", "ClassRef", "ARAccountRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress", "ShipAddress",
        "IsPending", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB", "ShipDate", "ShipMethodRef",
        "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded",
        "CustomerSalesTaxCodeRef", "Other", "ExchangeRate", "ExternalGUID", "CreditMemoLineAdd",
        "CreditMemoLineGroupAdd", "DiscountLineAdd", "SalesTaxLineAdd", "ShippingLineAdd",
    ),
    "CreditMemoMod": (
        "TxnID", "EditSequence", "CustomerRef", "ClassRef", "ARAccountRef", "TemplateRef", "TxnDate", "RefNumber",
        "BillAddress", "ShipAddress", "IsPending", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB", "ShipDate",
        "ShipMethodRef", "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded",
        "CustomerSalesTaxCodeRef", "Other", "ExchangeRate", "CreditMemoLineMod", "CreditMemoLineGroupMod",
    ),
    "SalesReceiptAdd": (
        "CustomerRef", "ClassRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress", "ShipAddress", "IsPending",
        "CheckNumber", "PaymentMethodRef", "DueDate", "SalesRepRef", "ShipDate", "ShipMethodRef", "FOB",
        "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded",
        "CustomerSalesTaxCodeRef", "DepositToAccountRef", "CreditCardTxnInfo", "Other", "ExchangeRate", "ExternalGUID",
        "SalesReceiptLineAdd", "SalesReceiptLineGroupAdd", "DiscountLineAdd", "SalesTaxLineAdd", "ShippingLineAdd",
    ),
    "SalesReceiptMod": (
        "TxnID", "EditSequence", "CustomerRef", "ClassRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress",
        "ShipAddress", "IsPending", "CheckNumber", "PaymentMethodRef", "DueDate", "SalesRepRef", "ShipDate",
        "ShipMethodRef", "FOB", "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed",
        "IsTaxIncluded", "CustomerSalesTaxCodeRef", "DepositToAccountRef", "Other", "ExchangeRate",
        "SalesReceiptLineMod", "SalesReceiptLineGroupMod",
    ),
    "ReceivePaymentAdd": (
        "CustomerRef", "ARAccountRef", "TxnDate", "RefNumber", "TotalAmount", "ExchangeRate", "PaymentMethodRef",
        "Memo", "DepositToAccountRef", "CreditCardTxnInfo", "ExternalGUID", "IsAutoApply", "AppliedToTxnAdd",
    ),
    "ReceivePaymentMod": (
        "TxnID", "EditSequence", "CustomerRef", "ARAccountRef", "TxnDate", "RefNumber", "TotalAmount", "ExchangeRate",
        "PaymentMethodRef", "Memo", "DepositToAccountRef", "CreditCardTxnInfoMod", "AppliedToTxnMod",
    ),
    "BillAdd": (
        "VendorRef", "VendorAddress", "APAccountRef", "TxnDate", "DueDate", "RefNumber", "TermsRef", "ClassRef", "Memo",
        "IsTaxIncluded", "SalesTaxCodeRef", "ExchangeRate", "ExternalGUID", "LinkToTxnID", "ExpenseLineAdd",
        "ItemLineAdd", "ItemGroupLineAdd",
    ),
    "BillMod": (
        "TxnID", "EditSequence", "VendorRef", "VendorAddress", "APAccountRef", "TxnDate", "DueDate", "RefNumber",
        "TermsRef", "ClassRef", "Memo", "IsTaxIncluded", "SalesTaxCodeRef", "ExchangeRate", "ClearExpenseLines",
        "ExpenseLineMod", "ClearItemLines", "ItemLineMod", "ItemGroupLineMod",
    ),
    "BillPaymentCheckAdd": (
        "PayeeEntityRef", "APAccountRef", "TxnDate", "BankAccountRef", "IsToBePrinted", "RefNumber", "Memo",
        "ExchangeRate", "ExternalGUID", "AppliedToTxnAdd",
    ),
    "BillPaymentCheckMod": (
        "TxnID", "EditSequence", "TxnDate", "BankAccountRef", "Amount", "ExchangeRate", "IsToBePrinted", "RefNumber",
        "Memo", "AppliedToTxnMod",
    ),
    "SalesOrderLineAdd": (
        "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "Rate", "RatePercent", "PriceLevelRef", "ClassRef", "Amount",
        "TaxAmount", "OptionForPriceRuleConflict", "InventorySiteRef", "InventorySiteLocationRef", "SerialNumber",
        "LotNumber", "SalesTaxCodeRef", "IsManuallyClosed", "Other1", "Other2", "DataExt",
    ),
    "SalesOrderLineMod": (
        "TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Rate", "RatePercent",
        "PriceLevelRef", "ClassRef", "Amount", "TaxAmount", "OptionForPriceRuleConflict", "InventorySiteRef",
        "InventorySiteLocationRef", "SerialNumber", "LotNumber", "SalesTaxCodeRef", "IsManuallyClosed", "Other1",
        "Other2",
    ),
    "SalesOrderLineGroupMod": (
        "TxnLineID", "ItemGroupRef", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "SalesOrderLineMod",
    ),
    "EstimateLineAdd": (
        "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "Rate", "RatePercent", "ClassRef", "Amount", "TaxAmount",
        "OptionForPriceRuleConflict", "InventorySiteRef", "InventorySiteLocationRef", "SalesTaxCodeRef", "MarkupRate",
        "MarkupRatePercent", "PriceLevelRef", "OverrideItemAccountRef", "Other1", "Other2", "DataExt",
    ),
    "EstimateLineMod": (
        "TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Rate", "RatePercent",
        "ClassRef", "Amount", "TaxAmount", "OptionForPriceRuleConflict", "InventorySiteRef", "InventorySiteLocationRef",
        "SalesTaxCodeRef", "MarkupRate", "MarkupRatePercent", "PriceLevelRef", "Other1", "Other2",
    ),
    "EstimateLineGroupMod": (
        "TxnLineID", "ItemGroupRef", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "EstimateLineMod",
    ),
    "CreditMemoLineAdd": (
        "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "Rate", "RatePercent", "PriceLevelRef", "ClassRef", "Amount",
        "TaxAmount", "InventorySiteRef", "InventorySiteLocationRef", "SerialNumber", "LotNumber", "ServiceDate",
        "SalesTaxCodeRef", "IsTaxable", "OverrideItemAccountRef", "Other1", "Other2", "CreditCardTxnInfo", "DataExt",
    ),
    "CreditMemoLineMod": (
        "TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Rate", "RatePercent",
        "PriceLevelRef", "ClassRef", "Amount", "TaxAmount", "InventorySiteRef", "InventorySiteLocationRef",
        "SerialNumber", "LotNumber", "ServiceDate", "SalesTaxCodeRef", "OverrideItemAccountRef", "Other1", "Other2",
    ),
    "CreditMemoLineGroupMod": (
        "TxnLineID", "ItemGroupRef", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "CreditMemoLineMod",
    ),
    "SalesReceiptLineAdd": (
        "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "Rate", "RatePercent", "PriceLevelRef", "ClassRef", "Amount",
        "TaxAmount", "OptionForPriceRuleConflict", "InventorySiteRef", "InventorySiteLocationRef", "SerialNumber",
        "LotNumber", "ServiceDate", "SalesTaxCodeRef", "IsTaxable", "OverrideItemAccountRef", "Other1", "Other2",
        "CreditCardTxnInfo", "DataExt",
    ),
    "SalesReceiptLineMod": (
        "TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Rate", "RatePercent",
        "PriceLevelRef", "ClassRef", "Amount", "TaxAmount", "OptionForPriceRuleConflict", "InventorySiteRef",
        "InventorySiteLocationRef", "SerialNumber", "LotNumber", "ServiceDate", "SalesTaxCodeRef",
        "OverrideItemAccountRef", "Other1", "Other2",
    ),
    "SalesReceiptLineGroupMod": (
        "TxnLineID", "ItemGroupRef", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "SalesReceiptLineMod",
    ),
    "ItemLineAdd": (
        "ItemRef", "InventorySiteRef", "InventorySiteLocationRef", "SerialNumber", "LotNumber",
        "ExpirationDateForSerialLotNumber", "Desc", "Quantity", "UnitOfMeasure", "Cost", "Amount", "TaxAmount",
        "CustomerRef", "ClassRef", "SalesTaxCodeRef", "BillableStatus", "OverrideItemAccountRef", "LinkToTxn",
        "SalesRepRef", "DataExt",
    ),
    "ItemLineMod": (
        "TxnLineID", "ItemRef", "InventorySiteRef", "InventorySiteLocationRef", "SerialNumber", "LotNumber",
        "ExpirationDateForSerialLotNumber", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Cost", "Amount",
        "TaxAmount", "CustomerRef", "ClassRef", "SalesTaxCodeRef", "BillableStatus", "OverrideItemAccountRef",
        "SalesRepRef",
    ),
    "ItemGroupLineMod": (
        "TxnLineID", "ItemGroupRef", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "ItemLineMod",
    ),
    "ExpenseLineAdd": (
        "AccountRef", "Amount", "TaxAmount", "Memo", "CustomerRef", "VendorRef", "ClassRef", "SalesTaxCodeRef",
        "BillableStatus", "SalesRepRef", "DataExt",
    ),
    "ExpenseLineMod": (
        "TxnLineID", "AccountRef", "Amount", "TaxAmount", "Memo", "CustomerRef", "ClassRef", "SalesTaxCodeRef",
        "BillableStatus", "SalesRepRef",
    ),
    "AppliedToTxnAdd": (
        "TxnID", "PaymentAmount", "TxnLineDetail", "SetCredit", "DiscountAmount", "DiscountAccountRef",
        "DiscountClassRef",
    ),
    # A credit memo applied inside AppliedToTxnAdd/Mod, and a line made from another transaction's line.
    "SetCredit": ("CreditTxnID", "TxnLineID", "AppliedAmount", "Override"),
    "LinkToTxn": ("TxnID", "TxnLineID"),
    "AppliedToTxnMod": (
        "TxnID", "PaymentAmount", "SetCredit", "DiscountAmount", "DiscountAccountRef", "DiscountClassRef",
    ),
    "VendorQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "TotalBalanceFilter", "CurrencyFilter", "ClassFilter", "IncludeRetElement", "OwnerID",
    ),
    "ItemNonInventoryQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "ClassFilter", "IncludeRetElement", "OwnerID",
    ),
    "ItemInventoryQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "ClassFilter", "IncludeRetElement", "OwnerID",
    ),
    "StandardTermsQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "IncludeRetElement",
    ),
    "DateDrivenTermsQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "IncludeRetElement",
    ),
    "SalesOrderQueryRq": (
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
        "EntityFilter", "RefNumberFilter", "RefNumberRangeFilter", "CurrencyFilter", "IncludeLineItems",
        "IncludeLinkedTxns", "IncludeRetElement", "OwnerID",
    ),
    "EstimateQueryRq": (
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
        "EntityFilter", "AccountFilter", "RefNumberFilter", "RefNumberRangeFilter", "CurrencyFilter",
        "IncludeLineItems", "IncludeLinkedTxns", "IncludeRetElement", "OwnerID",
    ),
    "CreditMemoQueryRq": (
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
        "EntityFilter", "AccountFilter", "RefNumberFilter", "RefNumberRangeFilter", "CurrencyFilter",
        "IncludeLineItems", "IncludeLinkedTxns", "IncludeRetElement", "OwnerID",
    ),
    "SalesReceiptQueryRq": (
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
        "EntityFilter", "AccountFilter", "RefNumberFilter", "RefNumberRangeFilter", "CurrencyFilter",
        "IncludeLineItems", "IncludeRetElement", "OwnerID",
    ),
    "ReceivePaymentQueryRq": (
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
        "EntityFilter", "AccountFilter", "RefNumberFilter", "RefNumberRangeFilter", "CurrencyFilter",
        "IncludeLineItems", "IncludeRetElement", "OwnerID",
    ),
    "BillQueryRq": (
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
        "EntityFilter", "AccountFilter", "RefNumberFilter", "RefNumberRangeFilter", "CurrencyFilter", "PaidStatus",
        "IncludeLineItems", "IncludeLinkedTxns", "IncludeRetElement", "OwnerID",
    ),
    "BillPaymentCheckQueryRq": (
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter", "TxnDateRangeFilter",
        "EntityFilter", "AccountFilter", "RefNumberFilter", "RefNumberRangeFilter", "CurrencyFilter",
        "IncludeLineItems", "IncludeRetElement", "OwnerID",
    ),
    "AccountAdd": (
        "Name", "IsActive", "ParentRef", "AccountType", "DetailAccountType", "AccountNumber", "BankNumber", "Desc",
        "OpenBalance", "OpenBalanceDate", "SalesTaxCodeRef", "TaxLineID", "CurrencyRef"),
    "AccountMod": (
        "ListID", "EditSequence", "Name", "IsActive", "ParentRef", "AccountType", "AccountNumber", "BankNumber",
        "Desc", "OpenBalance", "OpenBalanceDate", "SalesTaxCodeRef", "TaxLineID", "CurrencyRef"),
    "StandardTermsAdd": (
        "Name", "IsActive", "StdDueDays", "StdDiscountDays", "DiscountPct"),
    "DateDrivenTermsAdd": (
        "Name", "IsActive", "DayOfMonthDue", "DueNextMonthDays", "DiscountDayOfMonth", "DiscountPct"),
    "ModifiedDateRangeFilter": (
        "FromModifiedDate", "ToModifiedDate"),
    "DeletedDateRangeFilter": (
        "FromDeletedDate", "ToDeletedDate"),
    "NameFilter": (
        "MatchCriterion", "Name"),
    "CustomerQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "TotalBalanceFilter", "CurrencyFilter", "ClassFilter", "IncludeRetElement", "OwnerID"),
    "ItemQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "IncludeRetElement", "OwnerID"),
    "ItemServiceQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "ClassFilter", "IncludeRetElement", "OwnerID"),
    "InvoiceQueryRq": (
        "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ModifiedDateRangeFilter",
        "TxnDateRangeFilter", "EntityFilter", "AccountFilter", "RefNumberFilter", "RefNumberRangeFilter",
        "CurrencyFilter", "PaidStatus", "IncludeLineItems", "IncludeLinkedTxns", "IncludeRetElement", "OwnerID"),
    "AccountQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "AccountType", "CurrencyFilter", "IncludeRetElement", "OwnerID"),
    "TermsQueryRq": (
        "ListID", "FullName", "MaxReturned", "ActiveStatus", "FromModifiedDate", "ToModifiedDate", "NameFilter",
        "NameRangeFilter", "IncludeRetElement"),
    "HostQueryRq": (
        "IncludeListMetaData", "IncludeRetElement"),
    "CompanyQueryRq": (
        "IncludeRetElement", "OwnerID"),
    "ListDeletedQueryRq": (
        "ListDelType", "DeletedDateRangeFilter", "IncludeRetElement"),
    "TxnDeletedQueryRq": (
        "TxnDelType", "DeletedDateRangeFilter", "IncludeRetElement"),
    "TxnVoidRq": ("TxnVoidType", "TxnID"),
    "BillAddress": ADDRESS_ORDER,
    "ShipAddress": ADDRESS_ORDER,
    "VendorAddress": ADDRESS_ORDER,
}

# Which request elements accept ExternalGUID (CustomerAdd, Item*Add and InvoiceAdd do; Mods never do).
EXTERNAL_GUID_ELEMENTS = frozenset(name for name, children in ORDER.items() if "ExternalGUID" in children)

ADDRESS_LIMITS = {"Addr1": 41, "Addr2": 41, "Addr3": 41, "Addr4": 41, "Addr5": 41, "City": 31, "State": 21,
                  "PostalCode": 13, "Country": 31, "Note": 41}


def _with_addresses(limits: dict[str, int], *prefixes: str) -> dict[str, int]:
    out = dict(limits)
    for prefix in prefixes:
        out.update({f"{prefix}.{name}": size for name, size in ADDRESS_LIMITS.items()})
    return out


# Flat field path → maxLength, per record kind (the schema's facets for the Add/Mod of that kind).
FIELD_LIMITS: dict[str, dict[str, int]] = {
    "Customer": _with_addresses({
        "Name": 41, "CompanyName": 41, "Salutation": 15, "FirstName": 25, "MiddleName": 5, "LastName": 25,
        "JobTitle": 41, "PrintAs": 41, "Phone": 21, "Mobile": 21, "Pager": 21, "AltPhone": 21, "Fax": 21,
        "Email": 1023, "Cc": 1023, "Contact": 41, "AltContact": 41, "ResaleNumber": 15, "AccountNumber": 99,
        "JobDesc": 99, "Notes": 4095,
    }, "BillAddress", "ShipAddress"),
    "ItemService": {"Name": 31, "SalesDesc": 4095, "PurchaseDesc": 4095},
    "ItemNonInventory": {"Name": 31, "ManufacturerPartNumber": 31, "SalesDesc": 4095, "PurchaseDesc": 4095},
    "ItemInventory": {"Name": 31, "ManufacturerPartNumber": 31, "SalesDesc": 4095, "PurchaseDesc": 4095},
    "Invoice": _with_addresses({"RefNumber": 11, "PONumber": 25, "FOB": 13, "Memo": 4095, "Other": 29},
                               "BillAddress", "ShipAddress"),
    "InvoiceLine": {"Desc": 4095, "Other1": 29, "Other2": 29},
    "Account": {"Name": 31, "AccountNumber": 7, "Desc": 200},
    "Terms": {"Name": 31},
    **{kind: _with_addresses({"RefNumber": 11, "PONumber": 25, "FOB": 13, "Memo": 4095, "Other": 29},
                             "BillAddress", "ShipAddress") for kind in ("SalesOrder", "Estimate", "CreditMemo")},
    "SalesReceipt": _with_addresses({"RefNumber": 11, "CheckNumber": 25, "FOB": 13, "Memo": 4095, "Other": 29},
                                    "BillAddress", "ShipAddress"),
    **{kind: {"Desc": 4095, "Other1": 29, "Other2": 29}
       for kind in ("SalesOrderLine", "EstimateLine", "CreditMemoLine", "SalesReceiptLine")},
    "ReceivePayment": {"RefNumber": 20, "Memo": 4095},
    "Vendor": _with_addresses({
        "Name": 41, "CompanyName": 41, "Salutation": 15, "FirstName": 25, "MiddleName": 5, "LastName": 25,
        "JobTitle": 41, "Phone": 21, "Mobile": 21, "Pager": 21, "AltPhone": 21, "Fax": 21, "Email": 1023, "Cc": 1023,
        "Contact": 41, "AltContact": 41, "NameOnCheck": 41, "AccountNumber": 99, "Notes": 4095, "VendorTaxIdent": 15,
    }, "VendorAddress", "ShipAddress"),
    "Bill": _with_addresses({"RefNumber": 20, "Memo": 4095}, "VendorAddress"),
    "ExpenseLine": {"Memo": 4095},
    "ItemLine": {"Desc": 4095},
    "BillPaymentCheck": {"RefNumber": 11, "Memo": 4095},
}

# qbXML versions this client speaks, newest first.
KNOWN_VERSIONS = ("16.0", "13.0")
