"""Bills paid by check, invoices made from sales orders and estimates, credit memos applied to invoices: hand-written
qbXML, every request and answer checked against Intuit's schema (the ``qb`` fixture), in 13.0 and 16.0."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qbsf.sim.quickbooks.cli import app

VERSIONS = pytest.mark.parametrize("version", ["13.0", "16.0"])
ACME = "<CustomerRef><FullName>Acme</FullName></CustomerRef>"


@pytest.fixture
def company(qb):
    """Acme, Bolt (another customer), a service at 150.00, a part at 10.00, two vendors."""
    for name in ("Acme", "Bolt"):
        qb.ok(f"<CustomerAddRq><CustomerAdd><Name>{name}</Name></CustomerAdd></CustomerAddRq>")
    qb.ok("<ItemServiceAddRq><ItemServiceAdd><Name>Consulting</Name><SalesOrPurchase><Desc>Consulting hours</Desc>"
          "<Price>150.00</Price><AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase>"
          "</ItemServiceAdd></ItemServiceAddRq>")
    qb.ok("<ItemServiceAddRq><ItemServiceAdd><Name>Widget</Name><SalesOrPurchase><Price>10.00</Price>"
          "<AccountRef><FullName>Sales</FullName></AccountRef></SalesOrPurchase></ItemServiceAdd></ItemServiceAddRq>")
    for name in ("Paper Co", "Ink Co"):
        qb.ok(f"<VendorAddRq><VendorAdd><Name>{name}</Name><VendorAddress><City>Elko</City></VendorAddress>"
              "</VendorAdd></VendorAddRq>")


def one_of(qb, txt, kind: str, txn_id: str, version: str = "16.0", extra: str = ""):
    (ret,) = qb.one(f"<{kind}QueryRq><TxnID>{txn_id}</TxnID>{extra}</{kind}QueryRq>", version)
    return ret


def vendor_balance(qb, txt, name: str) -> str | None:
    (vendor,) = qb.one(f"<VendorQueryRq><FullName>{name}</FullName></VendorQueryRq>")
    return txt(vendor, "Balance")


def bill(qb, txt, vendor: str = "Paper Co", amount: str = "65.50", ref: str = "PC-1001") -> str:
    ret = qb.ok(f"<BillAddRq><BillAdd><VendorRef><FullName>{vendor}</FullName></VendorRef>"
                f"<TxnDate>2026-03-01</TxnDate><RefNumber>{ref}</RefNumber><ExpenseLineAdd><AccountRef><FullName>"
                f"Office Supplies</FullName></AccountRef><Amount>{amount}</Amount></ExpenseLineAdd></BillAdd>"
                "</BillAddRq>")
    return txt(ret, "TxnID")


def pay_bills(vendor: str, *applied: tuple[str, str | None], bank: str = "Checking", ref: str = "1001") -> str:
    rows = "".join(f"<AppliedToTxnAdd><TxnID>{txn}</TxnID>"
                   + (f"<PaymentAmount>{amount}</PaymentAmount>" if amount is not None else "")
                   + "</AppliedToTxnAdd>" for txn, amount in applied)
    return (f"<BillPaymentCheckAddRq><BillPaymentCheckAdd><PayeeEntityRef><FullName>{vendor}</FullName>"
            f"</PayeeEntityRef><TxnDate>2026-03-05</TxnDate><BankAccountRef><FullName>{bank}</FullName>"
            f"</BankAccountRef><RefNumber>{ref}</RefNumber>{rows}</BillPaymentCheckAdd></BillPaymentCheckAddRq>")


# --- bills paid by check -------------------------------------------------------------------------------------------
@VERSIONS
def test_bill_paid_in_two_checks_turns_paid_and_the_vendor_owes_nothing(qb, txt, company, version):
    bill_id = bill(qb, txt)
    assert vendor_balance(qb, txt, "Paper Co") == "65.50"
    first = qb.ok(pay_bills("Paper Co", (bill_id, "40.00")), version)
    assert (txt(first, "Amount"), txt(first, "APAccountRef/FullName"), txt(first, "Address/City")) == (
        "40.00", "Accounts Payable", "Elko")
    assert (txt(first, "AppliedToTxnRet/TxnType"), txt(first, "AppliedToTxnRet/BalanceRemaining")) == (
        "Bill", "25.50")
    partly = one_of(qb, txt, "Bill", bill_id, version, "<IncludeLinkedTxns>true</IncludeLinkedTxns>")
    assert (txt(partly, "OpenAmount"), txt(partly, "IsPaid")) == ("25.50", "false")
    assert (txt(partly, "LinkedTxn/TxnType"), txt(partly, "LinkedTxn/Amount")) == ("BillPaymentCheck", "-40.00")
    assert vendor_balance(qb, txt, "Paper Co") == "25.50"
    qb.ok(pay_bills("Paper Co", (bill_id, "25.50"), ref="1002"), version)
    paid = one_of(qb, txt, "Bill", bill_id, version)
    assert (txt(paid, "OpenAmount"), txt(paid, "IsPaid")) == ("0.00", "true")
    assert vendor_balance(qb, txt, "Paper Co") == "0.00"
    (listed,) = qb.one("<BillQueryRq><PaidStatus>PaidOnly</PaidStatus></BillQueryRq>", version)
    assert txt(listed, "TxnID") == bill_id
    checks = qb.one("<BillPaymentCheckQueryRq><EntityFilter><FullName>Paper Co</FullName></EntityFilter>"
                    "</BillPaymentCheckQueryRq>", version)
    assert [txt(c, "RefNumber") for c in checks] == ["1001", "1002"]


def test_one_check_pays_two_bills_and_its_deletion_reopens_them(qb, txt, company):
    first, second = bill(qb, txt, amount="30.00", ref="A"), bill(qb, txt, amount="20.00", ref="B")
    check = qb.ok(pay_bills("Paper Co", (first, "30.00"), (second, "5.00")))
    assert txt(check, "Amount") == "35.00"
    assert [txt(a, "BalanceRemaining") for a in check.findall("AppliedToTxnRet")] == ["0.00", "15.00"]
    assert vendor_balance(qb, txt, "Paper Co") == "15.00"
    gone = qb.one(f"<TxnDelRq><TxnDelType>BillPaymentCheck</TxnDelType><TxnID>{txt(check, 'TxnID')}</TxnID>"
                  "</TxnDelRq>")
    assert gone.get("statusCode") == "0"
    assert [txt(one_of(qb, txt, "Bill", b), "IsPaid") for b in (first, second)] == ["false", "false"]
    assert vendor_balance(qb, txt, "Paper Co") == "50.00"
    (deleted,) = qb.one("<TxnDeletedQueryRq><TxnDelType>BillPaymentCheck</TxnDelType></TxnDeletedQueryRq>")
    assert txt(deleted, "TxnID") == txt(check, "TxnID")


@pytest.mark.parametrize(("case", "code"), [
    ("another vendor's bill", "3140"), ("more than is open", "3210"), ("no amount", "3150"),
    ("not a bank account", "3140"),
])
def test_bill_payment_refusals(qb, txt, company, case, code):
    bill_id = bill(qb, txt)
    request = {
        "another vendor's bill": pay_bills("Ink Co", (bill_id, "10.00")),
        "more than is open": pay_bills("Paper Co", (bill_id, "65.51")),
        "no amount": pay_bills("Paper Co", (bill_id, None)),
        "not a bank account": pay_bills("Paper Co", (bill_id, "10.00"), bank="Office Supplies"),
    }[case]
    refused = qb.one(request)
    assert refused.get("statusCode") == code, refused.get("statusMessage")
    assert txt(one_of(qb, txt, "Bill", bill_id), "OpenAmount") == "65.50"  # nothing was paid


# --- invoices made from sales orders and estimates -----------------------------------------------------------------
def sales_order(qb, txt, customer: str = "Acme") -> tuple[str, list[str]]:
    ret = qb.ok(f"<SalesOrderAddRq><SalesOrderAdd><CustomerRef><FullName>{customer}</FullName></CustomerRef>"
                "<TxnDate>2026-03-01</TxnDate>"
                "<SalesOrderLineAdd><ItemRef><FullName>Consulting</FullName></ItemRef><Quantity>2</Quantity>"
                "</SalesOrderLineAdd><SalesOrderLineAdd><ItemRef><FullName>Widget</FullName></ItemRef>"
                "<Quantity>5</Quantity></SalesOrderLineAdd></SalesOrderAdd></SalesOrderAddRq>")
    return txt(ret, "TxnID"), [txt(x, "TxnLineID") for x in ret.findall("SalesOrderLineRet")]


@VERSIONS
def test_invoice_from_a_sales_order_line_then_the_rest_fully_invoices_it(qb, txt, company, version):
    order_id, (_, widget) = sales_order(qb, txt)
    partial = qb.ok("<InvoiceAddRq><InvoiceAdd>" + ACME + "<InvoiceLineAdd><Quantity>3</Quantity><LinkToTxn>"
                    f"<TxnID>{order_id}</TxnID><TxnLineID>{widget}</TxnLineID></LinkToTxn></InvoiceLineAdd>"
                    "</InvoiceAdd></InvoiceAddRq>", version)
    assert (txt(partial, "InvoiceLineRet/ItemRef/FullName"), txt(partial, "InvoiceLineRet/Amount")) == (
        "Widget", "30.00")
    order = one_of(qb, txt, "SalesOrder", order_id, version,
                   "<IncludeLineItems>true</IncludeLineItems><IncludeLinkedTxns>true</IncludeLinkedTxns>")
    assert [txt(x, "Invoiced") for x in order.findall("SalesOrderLineRet")] == ["0", "3"]
    assert txt(order, "IsFullyInvoiced") == "false"
    assert (txt(order, "LinkedTxn/TxnType"), txt(order, "LinkedTxn/LinkType")) == ("Invoice", "QUANTYPE")
    rest = qb.ok("<InvoiceAddRq><InvoiceAdd>" + ACME + f"<LinkToTxnID>{order_id}</LinkToTxnID></InvoiceAdd>"
                 "</InvoiceAddRq>", version)
    assert [(txt(x, "ItemRef/FullName"), txt(x, "Quantity")) for x in rest.findall("InvoiceLineRet")] == [
        ("Consulting", "2"), ("Widget", "2")]
    assert txt(rest, "Subtotal") == "320.00"
    order = one_of(qb, txt, "SalesOrder", order_id, version, "<IncludeLineItems>true</IncludeLineItems>")
    assert txt(order, "IsFullyInvoiced") == "true"
    again = qb.one("<InvoiceAddRq><InvoiceAdd>" + ACME + f"<LinkToTxnID>{order_id}</LinkToTxnID></InvoiceAdd>"
                   "</InvoiceAddRq>", version)
    assert again.get("statusCode") == "3210"
    # Deleting an invoice gives its quantities back to the order.
    deleted = qb.one(f"<TxnDelRq><TxnDelType>Invoice</TxnDelType><TxnID>{txt(partial, 'TxnID')}</TxnID>"
                     "</TxnDelRq>", version)
    assert deleted.get("statusCode") == "0"
    order = one_of(qb, txt, "SalesOrder", order_id, version, "<IncludeLineItems>true</IncludeLineItems>")
    assert [txt(x, "Invoiced") for x in order.findall("SalesOrderLineRet")] == ["2", "2"]
    assert txt(order, "IsFullyInvoiced") == "false"


@VERSIONS
def test_invoice_mod_gives_back_what_a_removed_or_smaller_linked_line_took(qb, txt, company, version):
    order_id, _ = sales_order(qb, txt)
    made = qb.ok("<InvoiceAddRq><InvoiceAdd>" + ACME + f"<LinkToTxnID>{order_id}</LinkToTxnID></InvoiceAdd>"
                 "</InvoiceAddRq>", version)
    consulting, widget = (txt(x, "TxnLineID") for x in made.findall("InvoiceLineRet"))
    assert txt(one_of(qb, txt, "SalesOrder", order_id, version), "IsFullyInvoiced") == "true"
    # The widget line is left out (deleted) and consulting goes from 2 to 1.
    changed = qb.ok(f"<InvoiceModRq><InvoiceMod><TxnID>{txt(made, 'TxnID')}</TxnID><EditSequence>"
                    f"{txt(made, 'EditSequence')}</EditSequence><InvoiceLineMod><TxnLineID>{consulting}</TxnLineID>"
                    "<Quantity>1</Quantity></InvoiceLineMod></InvoiceMod></InvoiceModRq>", version)
    assert [txt(x, "TxnLineID") for x in changed.findall("InvoiceLineRet")] == [consulting]
    assert widget
    order = one_of(qb, txt, "SalesOrder", order_id, version,
                   "<IncludeLineItems>true</IncludeLineItems><IncludeLinkedTxns>true</IncludeLinkedTxns>")
    assert [txt(x, "Invoiced") for x in order.findall("SalesOrderLineRet")] == ["1", "0"]
    assert txt(order, "IsFullyInvoiced") == "false"
    assert txt(order, "LinkedTxn/TxnID") == txt(made, "TxnID")  # still linked through the consulting line


def test_linked_invoice_refusals(qb, txt, company):
    order_id, (consulting, _) = sales_order(qb, txt)
    too_many = qb.one("<InvoiceAddRq><InvoiceAdd>" + ACME + "<InvoiceLineAdd><Quantity>3</Quantity><LinkToTxn>"
                      f"<TxnID>{order_id}</TxnID><TxnLineID>{consulting}</TxnLineID></LinkToTxn></InvoiceLineAdd>"
                      "</InvoiceAdd></InvoiceAddRq>")
    assert too_many.get("statusCode") == "3210"
    other = qb.one("<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Bolt</FullName></CustomerRef>"
                   f"<LinkToTxnID>{order_id}</LinkToTxnID></InvoiceAdd></InvoiceAddRq>")
    assert other.get("statusCode") == "3140"
    closed = qb.ok(f"<SalesOrderModRq><SalesOrderMod><TxnID>{order_id}</TxnID><EditSequence>"
                   f"{txt(one_of(qb, txt, 'SalesOrder', order_id), 'EditSequence')}</EditSequence>"
                   "<IsManuallyClosed>true</IsManuallyClosed></SalesOrderMod></SalesOrderModRq>")
    assert txt(closed, "IsManuallyClosed") == "true"
    refused = qb.one("<InvoiceAddRq><InvoiceAdd>" + ACME + f"<LinkToTxnID>{order_id}</LinkToTxnID></InvoiceAdd>"
                     "</InvoiceAddRq>")
    assert refused.get("statusCode") == "3210"
    assert qb.sim.count("Invoice") == 0


@VERSIONS
def test_invoice_from_an_estimate_copies_its_lines_and_links_both(qb, txt, company, version):
    estimate = qb.ok("<EstimateAddRq><EstimateAdd>" + ACME + "<EstimateLineAdd><ItemRef><FullName>Consulting"
                     "</FullName></ItemRef><Quantity>4</Quantity></EstimateLineAdd></EstimateAdd></EstimateAddRq>",
                     version)
    invoice = qb.ok("<InvoiceAddRq><InvoiceAdd>" + ACME + f"<LinkToTxnID>{txt(estimate, 'TxnID')}</LinkToTxnID>"
                    "</InvoiceAdd></InvoiceAddRq>", version)
    assert (txt(invoice, "InvoiceLineRet/Desc"), txt(invoice, "BalanceRemaining")) == ("Consulting hours", "600.00")
    (linked_invoice,) = qb.one(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID>"
                               "<IncludeLinkedTxns>true</IncludeLinkedTxns></InvoiceQueryRq>", version)
    assert (txt(linked_invoice, "LinkedTxn/TxnType"), txt(linked_invoice, "LinkedTxn/Amount")) == (
        "Estimate", "600.00")
    after = one_of(qb, txt, "Estimate", txt(estimate, "TxnID"), version,
                   "<IncludeLinkedTxns>true</IncludeLinkedTxns>")
    assert (txt(after, "LinkedTxn/TxnID"), txt(after, "IsActive")) == (txt(invoice, "TxnID"), "true")


# --- credit memos applied to invoices ------------------------------------------------------------------------------
def credit_memo(qb, txt, amount: str = "70.00", customer: str = "Acme") -> str:
    ret = qb.ok(f"<CreditMemoAddRq><CreditMemoAdd><CustomerRef><FullName>{customer}</FullName></CustomerRef>"
                f"<CreditMemoLineAdd><Desc>Returned</Desc><Amount>{amount}</Amount></CreditMemoLineAdd>"
                "</CreditMemoAdd></CreditMemoAddRq>")
    return txt(ret, "TxnID")


def invoice(qb, txt, amount: str = "300.00") -> str:
    ret = qb.ok("<InvoiceAddRq><InvoiceAdd>" + ACME + f"<InvoiceLineAdd><Desc>Work</Desc><Amount>{amount}</Amount>"
                "</InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>")
    return txt(ret, "TxnID")


def payment(invoice_id: str, amount: str | None, credits: list[tuple[str, str]], total: str | None = None) -> str:
    sets = "".join(f"<SetCredit><CreditTxnID>{memo}</CreditTxnID><AppliedAmount>{applied}</AppliedAmount>"
                   "</SetCredit>" for memo, applied in credits)
    return ("<ReceivePaymentAddRq><ReceivePaymentAdd>" + ACME + "<TxnDate>2026-03-06</TxnDate>"
            + (f"<TotalAmount>{total}</TotalAmount>" if total else "")
            + f"<AppliedToTxnAdd><TxnID>{invoice_id}</TxnID>"
            + (f"<PaymentAmount>{amount}</PaymentAmount>" if amount else "") + sets
            + "</AppliedToTxnAdd></ReceivePaymentAdd></ReceivePaymentAddRq>")


@VERSIONS
def test_credit_memo_applied_with_a_payment_lowers_the_invoice_and_uses_the_credit(qb, txt, company, version):
    invoice_id, memo_id = invoice(qb, txt), credit_memo(qb, txt)
    (acme,) = qb.one("<CustomerQueryRq><FullName>Acme</FullName></CustomerQueryRq>")
    assert txt(acme, "Balance") == "230.00"  # the invoice less the open credit
    paid = qb.ok(payment(invoice_id, "100.00", [(memo_id, "70.00")], total="100.00"), version)
    assert (txt(paid, "AppliedToTxnRet/Amount"), txt(paid, "AppliedToTxnRet/BalanceRemaining")) == (
        "100.00", "130.00")
    assert (txt(paid, "AppliedToTxnRet/LinkedTxn/TxnType"), txt(paid, "AppliedToTxnRet/LinkedTxn/Amount")) == (
        "CreditMemo", "-70.00")
    after = one_of(qb, txt, "Invoice", invoice_id, version, "<IncludeLinkedTxns>true</IncludeLinkedTxns>")
    assert (txt(after, "BalanceRemaining"), txt(after, "AppliedAmount")) == ("130.00", "-170.00")
    assert {txt(x, "TxnType") for x in after.findall("LinkedTxn")} == {"ReceivePayment", "CreditMemo"}
    memo = one_of(qb, txt, "CreditMemo", memo_id, version, "<IncludeLinkedTxns>true</IncludeLinkedTxns>")
    assert (txt(memo, "CreditRemaining"), txt(memo, "LinkedTxn/TxnID")) == ("0.00", invoice_id)
    (acme,) = qb.one("<CustomerQueryRq><FullName>Acme</FullName></CustomerQueryRq>")
    assert txt(acme, "Balance") == "130.00"


def test_credit_alone_and_its_undoing_when_the_payment_is_deleted(qb, txt, company):
    invoice_id, memo_id = invoice(qb, txt), credit_memo(qb, txt)
    paid = qb.ok(payment(invoice_id, None, [(memo_id, "50.00")]))
    assert txt(paid, "TotalAmount") == "0.00"
    assert txt(one_of(qb, txt, "Invoice", invoice_id), "BalanceRemaining") == "250.00"
    assert txt(one_of(qb, txt, "CreditMemo", memo_id), "CreditRemaining") == "20.00"
    deleted = qb.one(f"<TxnDelRq><TxnDelType>ReceivePayment</TxnDelType><TxnID>{txt(paid, 'TxnID')}</TxnID>"
                     "</TxnDelRq>")
    assert deleted.get("statusCode") == "0"
    assert txt(one_of(qb, txt, "Invoice", invoice_id), "BalanceRemaining") == "300.00"
    assert txt(one_of(qb, txt, "CreditMemo", memo_id), "CreditRemaining") == "70.00"


def test_deleting_an_applied_credit_memo_reopens_the_invoice(qb, txt, company):
    invoice_id, memo_id = invoice(qb, txt), credit_memo(qb, txt)
    qb.ok(payment(invoice_id, None, [(memo_id, "70.00")]))
    gone = qb.one(f"<TxnDelRq><TxnDelType>CreditMemo</TxnDelType><TxnID>{memo_id}</TxnID></TxnDelRq>")
    assert gone.get("statusCode") == "0"
    after = one_of(qb, txt, "Invoice", invoice_id, extra="<IncludeLinkedTxns>true</IncludeLinkedTxns>")
    assert txt(after, "BalanceRemaining") == "300.00"
    assert "CreditMemo" not in {txt(x, "TxnType") for x in after.findall("LinkedTxn")}


@pytest.mark.parametrize(("case", "code"), [("more than the credit", "3210"), ("above the balance", "3210"),
                                            ("another customer's credit", "3140")])
def test_credit_refusals(qb, txt, company, case, code):
    invoice_id = invoice(qb, txt, "100.00")
    memo_id = credit_memo(qb, txt, customer="Bolt" if case == "another customer's credit" else "Acme")
    request = {
        "more than the credit": payment(invoice_id, None, [(memo_id, "70.01")]),
        "above the balance": payment(invoice_id, "40.00", [(memo_id, "70.00")], total="40.00"),
        "another customer's credit": payment(invoice_id, None, [(memo_id, "10.00")]),
    }[case]
    refused = qb.one(request)
    assert refused.get("statusCode") == code, refused.get("statusMessage")
    assert txt(one_of(qb, txt, "Invoice", invoice_id), "BalanceRemaining") == "100.00"
    assert qb.sim.count("ReceivePayment") == 0


def test_show_lists_bill_payments(tmp_path):
    from qbsf.sim.quickbooks import QuickBooksSimulator

    path = tmp_path / "company.qbsim"
    with QuickBooksSimulator(path) as sim:
        sim.add("Vendor", {"Name": "Paper Co"})
        made = sim.add("Bill", {"VendorRef": {"FullName": "Paper Co"}, "ExpenseLineAdd": {
            "AccountRef": {"FullName": "Office Supplies"}, "Amount": "3.00"}})
        sim.add("BillPaymentCheck", {"PayeeEntityRef": {"FullName": "Paper Co"},
                                     "BankAccountRef": {"FullName": "Checking"}, "RefNumber": "77",
                                     "AppliedToTxnAdd": {"TxnID": made["TxnID"], "PaymentAmount": "3.00"}})
    result = CliRunner().invoke(app, ["show", str(path), "--kind", "BillPaymentCheck"])
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in result.output.splitlines()]
    assert (record["RefNumber"], record["Amount"], record["AppliedToTxnRet"][0]["TxnID"]) == (
        "77", "3.00", made["TxnID"])


def test_a_credit_set_by_a_payment_mod_is_said_to_be_unsupported_never_dropped_silently(qb, txt, company):
    invoice_id, memo_id = invoice(qb, txt), credit_memo(qb, txt)
    paid = qb.ok(payment(invoice_id, "100.00", [], total="100.00"))
    answer = qb.one(f"<ReceivePaymentModRq><ReceivePaymentMod><TxnID>{txt(paid, 'TxnID')}</TxnID><EditSequence>"
                    f"{txt(paid, 'EditSequence')}</EditSequence><AppliedToTxnMod><TxnID>{invoice_id}</TxnID>"
                    f"<PaymentAmount>100.00</PaymentAmount><SetCredit><CreditTxnID>{memo_id}</CreditTxnID>"
                    "<AppliedAmount>70.00</AppliedAmount></SetCredit></AppliedToTxnMod></ReceivePaymentMod>"
                    "</ReceivePaymentModRq>")
    assert answer.get("statusCode") == "530" and '"AppliedToTxnMod/SetCredit"' in answer.get("statusMessage")
    assert txt(one_of(qb, txt, "CreditMemo", memo_id), "CreditRemaining") == "70.00"
