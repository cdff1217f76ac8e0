"""TxnVoidRq: a voided invoice stays, with its lines at zero, "VOID: " before its memo, and reads back as paid.

Behaviour from Intuit's qbXML reference for TxnVoid and QuickBooks Desktop as observed (cited in
qbsf.sim.quickbooks.void); every request and answer here is checked against Intuit's schema.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def invoice(qb, txt):
    qb.ok("<CustomerAddRq><CustomerAdd><Name>Acme</Name></CustomerAdd></CustomerAddRq>")
    qb.ok("<ItemServiceAddRq><ItemServiceAdd><Name>Consulting</Name><SalesOrPurchase><Price>150.00</Price>"
          "<AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase></ItemServiceAdd>"
          "</ItemServiceAddRq>")
    return qb.ok("<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>"
                 "<Memo>Opportunity: Big deal</Memo>"
                 "<InvoiceLineAdd><ItemRef><FullName>Consulting</FullName></ItemRef><Quantity>2</Quantity>"
                 "</InvoiceLineAdd><InvoiceLineAdd><ItemRef><FullName>Consulting</FullName></ItemRef>"
                 "<Quantity>1</Quantity><Rate>90.00</Rate></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>")


def _void(qb, txn_id: str, kind: str = "Invoice"):
    return qb.one(f'<TxnVoidRq requestID="v"><TxnVoidType>{kind}</TxnVoidType><TxnID>{txn_id}</TxnID></TxnVoidRq>')


def test_a_voided_invoice_keeps_its_number_and_lines_at_zero(qb, sim, txt, invoice) -> None:
    txn_id = txt(invoice, "TxnID")
    sim.advance(60)
    answer = _void(qb, txn_id)
    assert answer.tag == "TxnVoidRs" and answer.get("statusCode") == "0", answer.get("statusMessage")
    assert (txt(answer, "TxnVoidType"), txt(answer, "TxnID"), txt(answer, "RefNumber")) == (
        "Invoice", txn_id, txt(invoice, "RefNumber"))
    assert answer.find("InvoiceRet") is None, "TxnVoidRs answers with leaves, no *Ret"
    (after,) = qb.one(f"<InvoiceQueryRq><TxnID>{txn_id}</TxnID><IncludeLineItems>true</IncludeLineItems>"
                      "</InvoiceQueryRq>")
    assert txt(after, "RefNumber") == txt(invoice, "RefNumber")
    assert txt(after, "Memo") == "VOID: Opportunity: Big deal"
    assert (txt(after, "Subtotal"), txt(after, "BalanceRemaining"), txt(after, "IsPaid")) == ("0.00", "0.00", "true")
    lines = after.findall("InvoiceLineRet")
    assert [(txt(line, "Quantity"), txt(line, "Rate"), txt(line, "Amount")) for line in lines] == [
        ("0", "150.00", "0.00"), ("0", "90.00", "0.00")], "lines kept, at zero"
    assert [txt(line, "TxnLineID") for line in lines] == [txt(line, "TxnLineID")
                                                          for line in invoice.findall("InvoiceLineRet")]
    assert txt(after, "EditSequence") != txt(invoice, "EditSequence")
    (customer,) = qb.one("<CustomerQueryRq><FullName>Acme</FullName></CustomerQueryRq>")
    assert txt(customer, "Balance") == "0.00"


def test_a_paid_invoice_voided_leaves_the_payment_unused(qb, txt, invoice) -> None:
    txn_id = txt(invoice, "TxnID")
    payment = qb.ok("<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>"
                    "<TotalAmount>100.00</TotalAmount><AppliedToTxnAdd><TxnID>" + txn_id + "</TxnID>"
                    "<PaymentAmount>100.00</PaymentAmount></AppliedToTxnAdd></ReceivePaymentAdd>"
                    "</ReceivePaymentAddRq>")
    assert _void(qb, txn_id).get("statusCode") == "0"
    (after,) = qb.one(f"<ReceivePaymentQueryRq><TxnID>{txt(payment, 'TxnID')}</TxnID></ReceivePaymentQueryRq>")
    assert txt(after, "UnusedPayment") == "100.00" and after.find("AppliedToTxnRet") is None


def test_voiding_what_the_simulator_does_not_model_or_cannot_find_is_refused(qb, txt, invoice) -> None:
    assert _void(qb, "999-999").get("statusCode") == "3120", "as TxnDel answers an unknown TxnID"
    assert _void(qb, txt(invoice, "TxnID"), kind="Check").get("statusCode") == "3250"
