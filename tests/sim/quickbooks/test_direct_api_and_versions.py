"""The direct API tests and the demo use, metaData counts, and the invoice flow under qbXML 13.0."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qbsf.sim.quickbooks import QuickBooksSimulator, SimulatorError


def test_direct_api_adds_modifies_counts_and_deletes(sim):
    acme = sim.add("Customer", {"Name": "Acme", "BillAddress": {"City": "Reno", "Addr1": "1 Main"}})
    assert list(acme["BillAddress"]) == ["Addr1", "City"]  # put in schema order
    sim.add("Customer", {"Name": "Job", "ParentRef": {"FullName": "Acme"}})
    sim.add("ItemService", {"Name": "Hour", "SalesOrPurchase": {"Price": "10.00", "AccountRef": {"FullName": "Sales"}}})
    invoice = sim.add("Invoice", {"CustomerRef": {"FullName": "Acme:Job"},
                                  "InvoiceLineAdd": [{"ItemRef": {"FullName": "Hour"}, "Quantity": "3"}]})
    assert invoice["Subtotal"] == "30.00" and invoice["InvoiceLineRet"][0]["Amount"] == "30.00"
    assert sim.count("Customer") == 2 and sim.count("Item") == 1 and sim.count("Invoice") == 1
    assert sim.count("Terms") == 3
    sim.advance(30)
    renamed = sim.modify(acme["ListID"], {"Name": "Acme Inc"})  # as a user editing in QuickBooks
    assert renamed["EditSequence"] != acme["EditSequence"]
    assert [c["FullName"] for c in sim.customers()] == ["Acme Inc", "Acme Inc:Job"]
    assert sim.customers()[0]["TotalBalance"] == "30.00" and sim.customers()[0]["Balance"] == "0.00"
    assert sim.invoices()[0]["CustomerRef"]["FullName"] == "Acme Inc:Job"
    payment = sim.add("ReceivePayment", {"CustomerRef": {"FullName": "Acme Inc:Job"}, "TotalAmount": "30.00",
                                         "IsAutoApply": "true"})
    assert sim.get(invoice["TxnID"])["IsPaid"] == "true"
    assert sim.payments()[0]["TxnID"] == payment["TxnID"]
    with pytest.raises(SimulatorError) as in_use:
        sim.delete(acme["ListID"])
    assert in_use.value.status_code == 3170
    sim.delete(payment["TxnID"])
    assert sim.get(invoice["TxnID"])["IsPaid"] == "false"
    sim.delete(invoice["TxnID"])
    assert sim.count("Invoice") == 0 and sim.get(invoice["TxnID"]) is None
    assert {a["Name"] for a in sim.accounts()} >= {"Sales", "Undeposited Funds"}
    assert sim.items()[0]["kind"] == "ItemService"
    assert [t["Name"] for t in sim.terms()] == ["Due on receipt", "Net 15", "Net 30"]


def test_direct_api_refuses_what_quickbooks_refuses(sim):
    sim.add("Vendor", {"Name": "Supplier"})
    with pytest.raises(SimulatorError, match="already in use") as refused:
        sim.add("Customer", {"Name": "Supplier"})
    assert refused.value.status_code == 3100
    with pytest.raises(SimulatorError) as missing:
        sim.modify("80000999-1", {"Name": "x"})
    assert missing.value.status_code == 3120
    assert sim.vendors()[0]["Name"] == "Supplier"


def test_clock_can_be_set_and_advanced(sim):
    sim.set_clock(datetime(2027, 1, 15, 8, 30, 0))  # naive: the company's own time
    assert sim.add("Customer", {"Name": "Jan"})["TimeCreated"] == "2027-01-15T08:30:00-08:00"
    sim.advance(86400)
    assert sim.now() == datetime(2027, 1, 16, 16, 30, tzinfo=UTC)
    invoice_date = sim.add("Invoice", {"CustomerRef": {"FullName": "Jan"}, "TermsRef": {"FullName": "Net 15"}})
    assert (invoice_date["TxnDate"], invoice_date["DueDate"]) == ("2027-01-16", "2027-01-31")


def test_date_driven_terms_set_the_due_date(sim):
    sim.add("DateDrivenTerms", {"Name": "10th", "DayOfMonthDue": "10", "DueNextMonthDays": "5"})
    sim.add("Customer", {"Name": "Dee"})
    due = [sim.add("Invoice", {"CustomerRef": {"FullName": "Dee"}, "TermsRef": {"FullName": "10th"},
                               "TxnDate": day})["DueDate"] for day in ("2026-03-01", "2026-03-07", "2026-03-12")]
    assert due == ["2026-03-10", "2026-04-10", "2026-04-10"]


def test_meta_data_only_counts_matches(qb, sim):
    for n in range(7):
        sim.add("Customer", {"Name": f"M{n}"})
    counted = qb.one('<CustomerQueryRq metaData="MetaDataOnly"/>')
    assert (counted.get("statusCode"), counted.get("retCount"), len(counted)) == ("0", "7", 0)
    both = qb.one('<CustomerQueryRq metaData="MetaDataAndResponseData"><MaxReturned>3</MaxReturned>'
                  "</CustomerQueryRq>")
    assert (both.get("retCount"), len(both)) == ("3", 3)


def test_invoice_and_payment_flow_validates_under_qbxml_13(qb, txt):
    qb.ok("<CustomerAddRq><CustomerAdd><Name>Thirteen</Name></CustomerAdd></CustomerAddRq>", "13.0")
    qb.ok("<ItemNonInventoryAddRq><ItemNonInventoryAdd><Name>Box</Name><SalesOrPurchase><Price>2.50</Price>"
          "<AccountRef><FullName>Sales</FullName></AccountRef></SalesOrPurchase></ItemNonInventoryAdd>"
          "</ItemNonInventoryAddRq>", "13.0")
    invoice = qb.ok("<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Thirteen</FullName></CustomerRef>"
                    "<InvoiceLineAdd><ItemRef><FullName>Box</FullName></ItemRef><Quantity>4</Quantity>"
                    "</InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>", "13.0")
    assert txt(invoice, "Subtotal") == "10.00"
    qb.ok("<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Thirteen</FullName></CustomerRef>"
          "<TotalAmount>10.00</TotalAmount><IsAutoApply>true</IsAutoApply></ReceivePaymentAdd>"
          "</ReceivePaymentAddRq>", "13.0")
    (paid,) = qb.one("<InvoiceQueryRq><PaidStatus>PaidOnly</PaidStatus><IncludeLineItems>true</IncludeLineItems>"
                     "<IncludeLinkedTxns>true</IncludeLinkedTxns></InvoiceQueryRq>", "13.0")
    assert txt(paid, "IsPaid") == "true" and txt(paid, "LinkedTxn/TxnType") == "ReceivePayment"


def test_deleting_an_invoice_frees_the_payment_applied_to_it(sim):
    sim.add("Customer", {"Name": "Free"})
    invoice = sim.add("Invoice", {"CustomerRef": {"FullName": "Free"},
                                  "InvoiceLineAdd": [{"Desc": "Setup", "Amount": "80.00"}]})
    payment = sim.add("ReceivePayment", {"CustomerRef": {"FullName": "Free"}, "TotalAmount": "100.00",
                                         "IsAutoApply": "true"})
    assert payment["UnusedPayment"] == "20.00"
    sim.delete(invoice["TxnID"])
    after = sim.get(payment["TxnID"])
    assert after["UnusedPayment"] == "100.00" and "AppliedToTxnRet" not in after


def test_a_second_simulator_on_the_same_clock_starts_its_own_company():
    one, two = QuickBooksSimulator(), QuickBooksSimulator(company_name="Other Co")
    try:
        one.add("Customer", {"Name": "Only In One"})
        assert two.count("Customer") == 0 and two.company_name == "Other Co"
    finally:
        one.close()
        two.close()


def test_a_python_boolean_given_to_the_direct_api_is_qbxmls_true_or_false() -> None:
    sim = QuickBooksSimulator()
    acme = sim.add("Customer", {"Name": "Acme", "IsActive": True})
    assert acme["IsActive"] == "true"
    made_inactive = sim.modify(acme["ListID"], {"IsActive": False})
    assert made_inactive["IsActive"] == "false" and sim.get(acme["ListID"])["IsActive"] == "false"
