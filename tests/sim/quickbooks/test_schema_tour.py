"""Every request type the simulator models, answered with records, validates under both qbXML versions."""

from __future__ import annotations

import pytest

TOUR = [
    "<HostQueryRq/>", "<CompanyQueryRq/>", "<PreferencesQueryRq/>",
    "<AccountAddRq><AccountAdd><Name>Tour Income</Name><AccountType>Income</AccountType><OpenBalance>0.00"
    "</OpenBalance><TaxLineID>1</TaxLineID></AccountAdd></AccountAddRq>",
    "<StandardTermsAddRq><StandardTermsAdd><Name>Net 60</Name><StdDueDays>60</StdDueDays><StdDiscountDays>10"
    "</StdDiscountDays><DiscountPct>2.0</DiscountPct></StandardTermsAdd></StandardTermsAddRq>",
    "<DateDrivenTermsAddRq><DateDrivenTermsAdd><Name>EOM</Name><DayOfMonthDue>28</DayOfMonthDue>"
    "</DateDrivenTermsAdd></DateDrivenTermsAddRq>",
    "<CustomerAddRq><CustomerAdd><Name>Tour Co</Name><CompanyName>Tour Co</CompanyName><FirstName>Tia</FirstName>"
    "<LastName>Tour</LastName><BillAddress><Addr1>1 Way</Addr1><City>Reno</City><State>NV</State><PostalCode>89501"
    "</PostalCode><Country>US</Country></BillAddress><ShipToAddress><Name>Dock</Name><Addr1>2 Way</Addr1>"
    "<DefaultShipTo>true</DefaultShipTo></ShipToAddress><Phone>555</Phone><Email>t@t.test</Email>"
    "<Contacts><FirstName>Ann</FirstName></Contacts><TermsRef><FullName>Net 60</FullName></TermsRef>"
    "<CreditLimit>1000.00</CreditLimit><JobStatus>InProgress</JobStatus><Notes>n</Notes>"
    "<AdditionalNotes><Note>a</Note></AdditionalNotes><PreferredDeliveryMethod>Email</PreferredDeliveryMethod>"
    "<ExternalGUID>{11111111-2222-3333-4444-555555555555}</ExternalGUID></CustomerAdd></CustomerAddRq>",
    "<CustomerAddRq><CustomerAdd><Name>Tour Job</Name><ParentRef><FullName>Tour Co</FullName></ParentRef>"
    "</CustomerAdd></CustomerAddRq>",
    "<VendorAddRq><VendorAdd><Name>Tour Vendor</Name><VendorAddress><Addr1>3 Way</Addr1></VendorAddress>"
    "</VendorAdd></VendorAddRq>",
    "<OtherNameAddRq><OtherNameAdd><Name>Tour Other</Name></OtherNameAdd></OtherNameAddRq>",
    "<EmployeeAddRq><EmployeeAdd><FirstName>Eve</FirstName><LastName>Tour</LastName></EmployeeAdd></EmployeeAddRq>",
    "<ItemServiceAddRq><ItemServiceAdd><Name>Tour Svc</Name><BarCode><BarCodeValue>123</BarCodeValue></BarCode>"
    "<SalesAndPurchase><SalesDesc>s</SalesDesc><SalesPrice>10.00</SalesPrice><IncomeAccountRef><FullName>Tour "
    "Income</FullName></IncomeAccountRef><PurchaseCost>4.00</PurchaseCost><ExpenseAccountRef><FullName>Office "
    "Supplies</FullName></ExpenseAccountRef><PrefVendorRef><FullName>Tour Vendor</FullName></PrefVendorRef>"
    "</SalesAndPurchase></ItemServiceAdd></ItemServiceAddRq>",
    "<ItemNonInventoryAddRq><ItemNonInventoryAdd><Name>Tour Part</Name><SalesOrPurchase><Price>3.00</Price>"
    "<AccountRef><FullName>Sales</FullName></AccountRef></SalesOrPurchase></ItemNonInventoryAdd>"
    "</ItemNonInventoryAddRq>",
    "<ItemInventoryAddRq><ItemInventoryAdd><Name>Tour Stock</Name><SalesPrice>9.99</SalesPrice><IncomeAccountRef>"
    "<FullName>Sales</FullName></IncomeAccountRef><COGSAccountRef><FullName>Cost of Goods Sold</FullName>"
    "</COGSAccountRef><AssetAccountRef><FullName>Inventory Asset</FullName></AssetAccountRef><QuantityOnHand>5"
    "</QuantityOnHand><TotalValue>20.00</TotalValue></ItemInventoryAdd></ItemInventoryAddRq>",
    "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Tour Co:Tour Job</FullName></CustomerRef><TxnDate>2026-02-27"
    "</TxnDate><RefNumber>T-1</RefNumber><PONumber>PO</PONumber><Memo>m</Memo><InvoiceLineAdd><ItemRef><FullName>"
    "Tour Svc</FullName></ItemRef><Quantity>2</Quantity><ServiceDate>2026-02-26</ServiceDate></InvoiceLineAdd>"
    "<InvoiceLineAdd><ItemRef><FullName>Tour Stock</FullName></ItemRef><Quantity>1</Quantity></InvoiceLineAdd>"
    "<InvoiceLineAdd><Desc>Note line</Desc></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>",
    "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Tour Co:Tour Job</FullName></CustomerRef>"
    "<RefNumber>P-1</RefNumber><TotalAmount>25.00</TotalAmount><PaymentMethodRef><FullName>Visa</FullName>"
    "</PaymentMethodRef><IsAutoApply>true</IsAutoApply></ReceivePaymentAdd></ReceivePaymentAddRq>",
    "<AccountQueryRq/>", "<TermsQueryRq/>", "<StandardTermsQueryRq/>", "<DateDrivenTermsQueryRq/>",
    "<CustomerQueryRq/>", "<VendorQueryRq/>", "<OtherNameQueryRq/>", "<EmployeeQueryRq/>", "<ItemQueryRq/>",
    "<ItemServiceQueryRq/>", "<ItemNonInventoryQueryRq/>", "<ItemInventoryQueryRq/>",
    "<InvoiceQueryRq><IncludeLineItems>true</IncludeLineItems><IncludeLinkedTxns>true</IncludeLinkedTxns>"
    "</InvoiceQueryRq>",
    "<ReceivePaymentQueryRq/>",
    "<ListDelRq><ListDelType>OtherName</ListDelType><ListID>{other}</ListID></ListDelRq>",
    "<ListDeletedQueryRq><ListDelType>OtherName</ListDelType></ListDeletedQueryRq>",
    "<TxnDelRq><TxnDelType>ReceivePayment</TxnDelType><TxnID>{payment}</TxnID></TxnDelRq>",
    "<TxnDeletedQueryRq><TxnDelType>ReceivePayment</TxnDelType></TxnDeletedQueryRq>",
]


@pytest.mark.parametrize("version", ["13.0", "16.0"])
def test_every_modelled_request_answers_with_records_that_validate(qb, txt, version):
    ids: dict[str, str] = {}
    for request in TOUR:
        for key, value in ids.items():
            request = request.replace("{" + key + "}", value)
        response = qb.one(request, version)
        assert response.get("statusCode") == "0", (request[:60], response.get("statusMessage"))
        assert len(response) >= 1, request[:60]
        if response.tag == "OtherNameAddRs":
            ids["other"] = txt(response[0], "ListID")
        if response.tag == "ReceivePaymentAddRs":
            ids["payment"] = txt(response[0], "TxnID")
            assert txt(response[0], "AppliedToTxnRet/Amount") == "25.00"
    (invoice,) = qb.one("<InvoiceQueryRq><RefNumber>T-1</RefNumber></InvoiceQueryRq>", version)
    assert (txt(invoice, "Subtotal"), txt(invoice, "BalanceRemaining")) == ("29.99", "29.99")  # payment deleted
