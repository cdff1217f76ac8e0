"""Element orders of the sales orders, estimates, credit memos and bills the simulator keeps.

Transcribed from the qbXML 13.0/16.0 element declarations (SalesOrderRet, EstimateRet, CreditMemoRet, BillRet and
their line aggregates): only the elements both versions declare are listed, so one answer validates against either
(16.0 adds BillRet's IsPending/ClassRef and SalesOrderRet's fulfilment elements, which the simulator leaves out).
:mod:`qbsf.sim.quickbooks.schema` merges these into its tables.
"""

from __future__ import annotations

_TXN_CORE = ("TxnID", "TimeCreated", "TimeModified", "EditSequence", "TxnNumber")
_SALES_HEAD = ("CustomerRef", "ClassRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress", "BillAddressBlock",
               "ShipAddress", "ShipAddressBlock")

DOC_KINDS = ("SalesOrder", "Estimate", "CreditMemo", "Bill")
# Transactions that settle others (qbsf.sim.quickbooks.links): a check that pays bills.
LINK_KINDS = ("BillPaymentCheck",)

DOC_RET_ORDER: dict[str, tuple[str, ...]] = {
    "SalesOrder": (
        *_TXN_CORE, *_SALES_HEAD, "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB", "ShipDate",
        "ShipMethodRef", "Subtotal", "ItemSalesTaxRef", "SalesTaxPercentage", "SalesTaxTotal", "TotalAmount",
        "CurrencyRef", "ExchangeRate", "TotalAmountInHomeCurrency", "IsManuallyClosed", "IsFullyInvoiced", "Memo",
        "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other",
        "ExternalGUID", "LinkedTxn", "SalesOrderLineRet", "DataExtRet",
    ),
    "Estimate": (
        *_TXN_CORE, *_SALES_HEAD, "IsActive", "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB", "Subtotal",
        "ItemSalesTaxRef", "SalesTaxPercentage", "SalesTaxTotal", "TotalAmount", "CurrencyRef", "ExchangeRate",
        "TotalAmountInHomeCurrency", "Memo", "CustomerMsgRef", "IsToBeEmailed", "IsTaxIncluded",
        "CustomerSalesTaxCodeRef", "Other", "ExternalGUID", "LinkedTxn", "EstimateLineRet", "DataExtRet",
    ),
    "CreditMemo": (
        *_TXN_CORE, "CustomerRef", "ClassRef", "ARAccountRef", "TemplateRef", "TxnDate", "RefNumber", "BillAddress",
        "BillAddressBlock", "ShipAddress", "ShipAddressBlock", "IsPending", "PONumber", "TermsRef", "DueDate",
        "SalesRepRef", "FOB", "ShipDate", "ShipMethodRef", "Subtotal", "ItemSalesTaxRef", "SalesTaxPercentage",
        "SalesTaxTotal", "TotalAmount", "CreditRemaining", "CurrencyRef", "ExchangeRate",
        "CreditRemainingInHomeCurrency", "Memo", "CustomerMsgRef", "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded",
        "CustomerSalesTaxCodeRef", "Other", "ExternalGUID", "LinkedTxn", "CreditMemoLineRet", "DataExtRet",
    ),
    "Bill": (
        *_TXN_CORE, "VendorRef", "VendorAddress", "APAccountRef", "TxnDate", "DueDate", "AmountDue", "CurrencyRef",
        "ExchangeRate", "AmountDueInHomeCurrency", "RefNumber", "TermsRef", "Memo", "IsTaxIncluded",
        "SalesTaxCodeRef", "IsPaid", "ExternalGUID", "LinkedTxn", "ExpenseLineRet", "ItemLineRet", "OpenAmount",
        "DataExtRet",
    ),
    "BillPaymentCheck": (
        *_TXN_CORE, "PayeeEntityRef", "APAccountRef", "TxnDate", "BankAccountRef", "Amount", "CurrencyRef",
        "ExchangeRate", "AmountInHomeCurrency", "RefNumber", "Memo", "Address", "AddressBlock", "IsToBePrinted",
        "ExternalGUID", "AppliedToTxnRet", "DataExtRet",
    ),
}

_SALES_LINE = ("TxnLineID", "ItemRef", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Rate", "RatePercent",
               "ClassRef", "Amount", "TaxAmount", "InventorySiteRef", "InventorySiteLocationRef")
DOC_SUB_ORDER: dict[str, tuple[str, ...]] = {
    "SalesOrderLineRet": (*_SALES_LINE, "SerialNumber", "LotNumber", "SalesTaxCodeRef", "Invoiced",
                          "IsManuallyClosed", "Other1", "Other2", "DataExtRet"),
    "EstimateLineRet": (*_SALES_LINE, "SalesTaxCodeRef", "MarkupRate", "MarkupRatePercent", "Other1", "Other2",
                        "DataExtRet"),
    "CreditMemoLineRet": (*_SALES_LINE, "SerialNumber", "LotNumber", "ServiceDate", "SalesTaxCodeRef", "IsTaxable",
                          "Other1", "Other2", "DataExtRet"),
    "ExpenseLineRet": ("TxnLineID", "AccountRef", "Amount", "TaxAmount", "Memo", "CustomerRef", "VendorRef",
                       "ClassRef", "SalesTaxCodeRef", "BillableStatus", "SalesRepRef", "DataExtRet"),
    "ItemLineRet": ("TxnLineID", "ItemRef", "InventorySiteRef", "InventorySiteLocationRef", "SerialNumber",
                    "LotNumber", "Desc", "Quantity", "UnitOfMeasure", "OverrideUOMSetRef", "Cost", "Amount",
                    "TaxAmount", "CustomerRef", "ClassRef", "SalesTaxCodeRef", "BillableStatus", "SalesRepRef",
                    "DataExtRet"),
    "Address": ("Addr1", "Addr2", "Addr3", "Addr4", "Addr5", "City", "State", "PostalCode", "Country", "Note"),
}

# The line aggregate each document's Add/Mod carries, and the *LineRet it becomes.
DOC_LINES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "SalesOrder": (("SalesOrderLineAdd", "SalesOrderLineMod", "SalesOrderLineRet"),),
    "Estimate": (("EstimateLineAdd", "EstimateLineMod", "EstimateLineRet"),),
    "CreditMemo": (("CreditMemoLineAdd", "CreditMemoLineMod", "CreditMemoLineRet"),),
    "Bill": (("ExpenseLineAdd", "ExpenseLineMod", "ExpenseLineRet"), ("ItemLineAdd", "ItemLineMod", "ItemLineRet")),
}
DOC_LINE_RETS = tuple(ret for shapes in DOC_LINES.values() for _, _, ret in shapes)

DOC_REPEATED = frozenset({
    *(tag for shapes in DOC_LINES.values() for shape in shapes for tag in shape), "AppliedToTxnMod",
})
# RefNumber lengths (the schema's STRTYPE maxLength): 11 on the sales forms, 20 on a bill.
DOC_REF_NUMBER_LIMIT = {"SalesOrder": 11, "Estimate": 11, "CreditMemo": 11, "Bill": 20, "BillPaymentCheck": 11}
