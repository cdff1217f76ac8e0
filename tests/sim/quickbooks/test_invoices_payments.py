"""Invoices and payments: lines, totals, due dates from terms, line replacement, payments → Paid."""

from __future__ import annotations

import pytest


@pytest.fixture
def company(qb, txt):
    """A customer on Net 30 and two service items, added through qbXML."""
    customer = qb.ok("<CustomerAddRq><CustomerAdd><Name>Acme</Name><BillAddress><Addr1>1 Main St</Addr1>"
                     "<City>Reno</City></BillAddress><TermsRef><FullName>Net 30</FullName></TermsRef></CustomerAdd>"
                     "</CustomerAddRq>")
    for name, price in (("Consulting", "150.00"), ("Training", "99.99")):
        qb.ok(f"<ItemServiceAddRq><ItemServiceAdd><Name>{name}</Name><SalesOrPurchase><Desc>{name} hours</Desc>"
              f"<Price>{price}</Price><AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase>"
              "</ItemServiceAdd></ItemServiceAddRq>")
    return {"customer": txt(customer, "ListID")}


def invoice_add(lines: str, header: str = "<CustomerRef><FullName>Acme</FullName></CustomerRef>") -> str:
    return f'<InvoiceAddRq requestID="inv"><InvoiceAdd>{header}{lines}</InvoiceAdd></InvoiceAddRq>'


LINE = "<InvoiceLineAdd><ItemRef><FullName>{item}</FullName></ItemRef>{rest}</InvoiceLineAdd>"


def test_invoice_add_prices_lines_totals_and_due_date(qb, txt, company):
    ret = qb.ok(invoice_add(LINE.format(item="Consulting", rest="<Quantity>2</Quantity>")
                            + LINE.format(item="Training", rest="<Quantity>3</Quantity><Rate>80.00</Rate>")
                            + LINE.format(item="Training", rest="<Amount>10.00</Amount>"),
                            header="<CustomerRef><FullName>Acme</FullName></CustomerRef>"
                                   "<TxnDate>2026-03-01</TxnDate>"))
    assert txt(ret, "TxnID") and txt(ret, "TxnNumber") == "1"
    assert txt(ret, "CustomerRef/ListID") == company["customer"]
    assert txt(ret, "ARAccountRef/FullName") == "Accounts Receivable"
    assert txt(ret, "TermsRef/FullName") == "Net 30"  # from the customer
    assert txt(ret, "DueDate") == "2026-03-31"
    assert txt(ret, "RefNumber") == "1"
    assert txt(ret, "BillAddress/City") == "Reno"  # from the customer
    lines = ret.findall("InvoiceLineRet")
    assert [(txt(line, "Desc"), txt(line, "Rate"), txt(line, "Amount")) for line in lines] == [
        ("Consulting hours", "150.00", "300.00"), ("Training hours", "80.00", "240.00"),
        ("Training hours", None, "10.00")]
    assert len({txt(line, "TxnLineID") for line in lines}) == 3
    assert (txt(ret, "Subtotal"), txt(ret, "BalanceRemaining"), txt(ret, "IsPaid")) == ("550.00", "550.00", "false")
    assert txt(ret, "AppliedAmount") == "0.00"
    (customer,) = qb.one("<CustomerQueryRq><FullName>Acme</FullName></CustomerQueryRq>")
    assert txt(customer, "Balance") == "550.00"


def test_invoice_with_explicit_terms_due_date_and_ref_number(qb, txt, company):
    ret = qb.ok(invoice_add(LINE.format(item="Consulting", rest=""), header=(
        "<CustomerRef><ListID>{}</ListID></CustomerRef><TxnDate>2026-03-10</TxnDate><RefNumber>INV-77</RefNumber>"
        "<TermsRef><FullName>Net 15</FullName></TermsRef>").format(company["customer"])))
    assert (txt(ret, "RefNumber"), txt(ret, "DueDate")) == ("INV-77", "2026-03-25")
    given = qb.ok(invoice_add(LINE.format(item="Consulting", rest=""), header=(
        "<CustomerRef><FullName>Acme</FullName></CustomerRef><TxnDate>2026-03-10</TxnDate>"
        "<DueDate>2026-04-01</DueDate>")))
    assert txt(given, "DueDate") == "2026-04-01"


def test_invoice_references_are_checked(qb, company):
    unknown_customer = qb.one(invoice_add(LINE.format(item="Consulting", rest=""),
                                          header="<CustomerRef><FullName>Nobody</FullName></CustomerRef>"))
    assert unknown_customer.get("statusCode") == "3140"
    assert 'QuickBooks Customer "Nobody"' in unknown_customer.get("statusMessage")
    unknown_item = qb.one(invoice_add(LINE.format(item="Nothing", rest="")))
    assert unknown_item.get("statusCode") == "3140"
    assert 'QuickBooks Item "Nothing" in the Invoice line' in unknown_item.get("statusMessage")


def test_invoice_mod_replaces_lines_by_txn_line_id(qb, sim, txt, company):
    ret = qb.ok(invoice_add(LINE.format(item="Consulting", rest="<Quantity>1</Quantity>")
                            + LINE.format(item="Training", rest="<Quantity>1</Quantity>")
                            + LINE.format(item="Training", rest="<Quantity>5</Quantity>")))
    first, second, third = (txt(line, "TxnLineID") for line in ret.findall("InvoiceLineRet"))
    sim.advance(10)
    modded = qb.ok(
        f"<InvoiceModRq><InvoiceMod><TxnID>{txt(ret, 'TxnID')}</TxnID><EditSequence>{txt(ret, 'EditSequence')}"
        "</EditSequence><Memo>changed</Memo>"
        f"<InvoiceLineMod><TxnLineID>{third}</TxnLineID><Quantity>2</Quantity></InvoiceLineMod>"
        f"<InvoiceLineMod><TxnLineID>{first}</TxnLineID></InvoiceLineMod>"
        "<InvoiceLineMod><TxnLineID>-1</TxnLineID><ItemRef><FullName>Consulting</FullName></ItemRef>"
        "<Quantity>4</Quantity></InvoiceLineMod></InvoiceMod></InvoiceModRq>")
    lines = modded.findall("InvoiceLineRet")
    assert [txt(line, "TxnLineID") for line in lines][:2] == [third, first]  # kept lines keep their ids
    assert second not in [txt(line, "TxnLineID") for line in lines]  # a line left out is deleted
    new_id = txt(lines[2], "TxnLineID")
    assert new_id not in (first, second, third, "-1")
    assert [txt(line, "Amount") for line in lines] == ["199.98", "150.00", "600.00"]
    assert txt(modded, "Subtotal") == "949.98"
    assert txt(modded, "Memo") == "changed"
    assert txt(modded, "TimeModified") == "2026-03-02T09:00:10-08:00"
    # a Mod without InvoiceLineMod leaves the lines alone
    again = qb.ok(f"<InvoiceModRq><InvoiceMod><TxnID>{txt(ret, 'TxnID')}</TxnID><EditSequence>"
                  f"{txt(modded, 'EditSequence')}</EditSequence><PONumber>PO-1</PONumber></InvoiceMod></InvoiceModRq>")
    assert [txt(line, "TxnLineID") for line in again.findall("InvoiceLineRet")] == [third, first, new_id]
    stale = qb.one(f"<InvoiceModRq><InvoiceMod><TxnID>{txt(ret, 'TxnID')}</TxnID><EditSequence>"
                   f"{txt(modded, 'EditSequence')}</EditSequence><Memo>x</Memo></InvoiceMod></InvoiceModRq>")
    assert stale.get("statusCode") == "3200"
    unknown_line = qb.one(f"<InvoiceModRq><InvoiceMod><TxnID>{txt(ret, 'TxnID')}</TxnID><EditSequence>"
                          f"{txt(again, 'EditSequence')}</EditSequence><InvoiceLineMod><TxnLineID>FFFF-1</TxnLineID>"
                          "</InvoiceLineMod></InvoiceMod></InvoiceModRq>")
    assert unknown_line.get("statusCode") == "3120"
    missing = qb.one("<InvoiceModRq><InvoiceMod><TxnID>999-1</TxnID><EditSequence>1</EditSequence></InvoiceMod>"
                     "</InvoiceModRq>")
    assert missing.get("statusCode") == "3120"


def test_payment_applied_to_an_invoice_marks_it_paid(qb, sim, txt, company):
    invoice = qb.ok(invoice_add(LINE.format(item="Consulting", rest="<Quantity>2</Quantity>")))
    sim.advance(3600)
    partial = qb.ok("<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>"
                    "<RefNumber>CHK-1</RefNumber><TotalAmount>100.00</TotalAmount><PaymentMethodRef><FullName>Check"
                    "</FullName></PaymentMethodRef><AppliedToTxnAdd><TxnID>" + txt(invoice, "TxnID") + "</TxnID>"
                    "<PaymentAmount>100.00</PaymentAmount></AppliedToTxnAdd></ReceivePaymentAdd>"
                    "</ReceivePaymentAddRq>")
    assert txt(partial, "DepositToAccountRef/FullName") == "Undeposited Funds"
    assert (txt(partial, "AppliedToTxnRet/TxnID"), txt(partial, "AppliedToTxnRet/Amount"),
            txt(partial, "AppliedToTxnRet/BalanceRemaining")) == (txt(invoice, "TxnID"), "100.00", "200.00")
    (after,) = qb.one(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID>"
                      "<IncludeLinkedTxns>true</IncludeLinkedTxns></InvoiceQueryRq>")
    assert (txt(after, "BalanceRemaining"), txt(after, "AppliedAmount"), txt(after, "IsPaid")) == (
        "200.00", "-100.00", "false")
    assert txt(after, "TimeModified") == "2026-03-02T10:00:00-08:00"  # a payment modifies the invoice
    assert txt(after, "EditSequence") != txt(invoice, "EditSequence")
    assert (txt(after, "LinkedTxn/TxnType"), txt(after, "LinkedTxn/Amount")) == ("ReceivePayment", "-100.00")
    qb.ok("<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>"
          "<TotalAmount>200.00</TotalAmount><AppliedToTxnAdd><TxnID>" + txt(invoice, "TxnID") + "</TxnID>"
          "<PaymentAmount>200.00</PaymentAmount></AppliedToTxnAdd></ReceivePaymentAdd></ReceivePaymentAddRq>")
    (paid,) = qb.one(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID></InvoiceQueryRq>")
    assert (txt(paid, "BalanceRemaining"), txt(paid, "IsPaid")) == ("0.00", "true")
    assert paid.find("LinkedTxn") is None  # only with IncludeLinkedTxns
    (customer,) = qb.one("<CustomerQueryRq><FullName>Acme</FullName></CustomerQueryRq>")
    assert txt(customer, "Balance") == "0.00"


def test_payment_auto_applies_oldest_invoices_first(qb, txt, company):
    old = qb.ok(invoice_add(LINE.format(item="Consulting", rest=""), header="<CustomerRef><FullName>Acme</FullName>"
                            "</CustomerRef><TxnDate>2026-01-01</TxnDate>"))
    new = qb.ok(invoice_add(LINE.format(item="Consulting", rest=""), header="<CustomerRef><FullName>Acme</FullName>"
                            "</CustomerRef><TxnDate>2026-02-01</TxnDate>"))
    payment = qb.ok("<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>"
                    "<TotalAmount>200.00</TotalAmount><IsAutoApply>true</IsAutoApply></ReceivePaymentAdd>"
                    "</ReceivePaymentAddRq>")
    applied = [(txt(a, "TxnID"), txt(a, "Amount")) for a in payment.findall("AppliedToTxnRet")]
    assert applied == [(txt(old, "TxnID"), "150.00"), (txt(new, "TxnID"), "50.00")]
    assert txt(payment, "UnusedPayment") == "0.00"
    paid_only = qb.one("<InvoiceQueryRq><PaidStatus>PaidOnly</PaidStatus></InvoiceQueryRq>")
    assert [txt(r, "TxnID") for r in paid_only] == [txt(old, "TxnID")]
    open_only = qb.one("<InvoiceQueryRq><PaidStatus>NotPaidOnly</PaidStatus></InvoiceQueryRq>")
    assert [txt(r, "BalanceRemaining") for r in open_only] == ["100.00"]


def test_overpaying_an_invoice_is_refused(qb, txt, company):
    invoice = qb.ok(invoice_add(LINE.format(item="Consulting", rest="")))
    refused = qb.one("<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>"
                     "<TotalAmount>500.00</TotalAmount><AppliedToTxnAdd><TxnID>" + txt(invoice, "TxnID") +
                     "</TxnID><PaymentAmount>500.00</PaymentAmount></AppliedToTxnAdd></ReceivePaymentAdd>"
                     "</ReceivePaymentAddRq>")
    assert refused.get("statusCode") == "3210"
    (still,) = qb.one(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID></InvoiceQueryRq>")
    assert txt(still, "BalanceRemaining") == "150.00"  # the refused request changed nothing


def test_invoice_queries_filter_by_entity_date_ref_and_include_lines(qb, sim, txt, company):
    qb.ok("<CustomerAddRq><CustomerAdd><Name>Job</Name><ParentRef><FullName>Acme</FullName></ParentRef>"
          "</CustomerAdd></CustomerAddRq>")
    qb.ok("<CustomerAddRq><CustomerAdd><Name>Other</Name></CustomerAdd></CustomerAddRq>")
    first = qb.ok(invoice_add(LINE.format(item="Consulting", rest=""), header="<CustomerRef><FullName>Acme"
                              "</FullName></CustomerRef><RefNumber>A-1</RefNumber>"))
    sim.advance(7200)
    job = qb.ok(invoice_add(LINE.format(item="Training", rest=""), header="<CustomerRef><FullName>Acme:Job"
                            "</FullName></CustomerRef><RefNumber>A-2</RefNumber>"))
    other = qb.ok(invoice_add(LINE.format(item="Training", rest=""), header="<CustomerRef><FullName>Other"
                              "</FullName></CustomerRef><RefNumber>B-1</RefNumber>"))

    def ids(body: str) -> list[str]:
        return [txt(r, "TxnID") for r in qb.one(f"<InvoiceQueryRq>{body}</InvoiceQueryRq>")]

    assert ids("") == [txt(first, "TxnID"), txt(job, "TxnID"), txt(other, "TxnID")]
    assert ids("<EntityFilter><FullName>Acme</FullName></EntityFilter>") == [txt(first, "TxnID")]
    assert ids("<EntityFilter><FullNameWithChildren>Acme</FullNameWithChildren></EntityFilter>") == [
        txt(first, "TxnID"), txt(job, "TxnID")]
    assert ids(f"<EntityFilter><ListID>{company['customer']}</ListID></EntityFilter>") == [txt(first, "TxnID")]
    assert ids("<ModifiedDateRangeFilter><FromModifiedDate>2026-03-02T10:00:00-08:00</FromModifiedDate>"
               "</ModifiedDateRangeFilter>") == [txt(job, "TxnID"), txt(other, "TxnID")]
    assert ids("<RefNumberFilter><MatchCriterion>StartsWith</MatchCriterion><RefNumber>A-</RefNumber>"
               "</RefNumberFilter>") == [txt(first, "TxnID"), txt(job, "TxnID")]
    assert ids("<RefNumber>B-1</RefNumber>") == [txt(other, "TxnID")]
    assert ids("<TxnDateRangeFilter><FromTxnDate>2026-03-02</FromTxnDate><ToTxnDate>2026-03-02</ToTxnDate>"
               "</TxnDateRangeFilter>") == ids("")
    without_lines = qb.one("<InvoiceQueryRq><MaxReturned>1</MaxReturned></InvoiceQueryRq>")
    assert without_lines[0].find("InvoiceLineRet") is None
    with_lines = qb.one("<InvoiceQueryRq><MaxReturned>1</MaxReturned><IncludeLineItems>true</IncludeLineItems>"
                        "</InvoiceQueryRq>")
    assert txt(with_lines[0], "InvoiceLineRet/ItemRef/FullName") == "Consulting"
    missing = qb.one("<InvoiceQueryRq><TxnID>ABC-1</TxnID></InvoiceQueryRq>")
    assert (missing.get("statusCode"), missing.get("statusSeverity"), len(missing)) == ("500", "Warn", 0)
    none = qb.one("<InvoiceQueryRq><RefNumberFilter><MatchCriterion>Contains</MatchCriterion><RefNumber>ZZ"
                  "</RefNumber></RefNumberFilter></InvoiceQueryRq>")
    assert none.get("statusCode") == "1"


def test_renamed_customer_shows_its_new_name_on_invoices(qb, txt, company):
    invoice = qb.ok(invoice_add(LINE.format(item="Consulting", rest="")))
    (customer,) = qb.one("<CustomerQueryRq><FullName>Acme</FullName></CustomerQueryRq>")
    qb.ok(f"<CustomerModRq><CustomerMod><ListID>{txt(customer, 'ListID')}</ListID><EditSequence>"
          f"{txt(customer, 'EditSequence')}</EditSequence><Name>Acme Ltd</Name></CustomerMod></CustomerModRq>")
    (after,) = qb.one(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID></InvoiceQueryRq>")
    assert txt(after, "CustomerRef/FullName") == "Acme Ltd"


def test_payment_query_and_deleting_a_payment_reopens_the_invoice(qb, txt, company):
    invoice = qb.ok(invoice_add(LINE.format(item="Consulting", rest="")))
    payment = qb.ok("<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>"
                    "<TotalAmount>150.00</TotalAmount><AppliedToTxnAdd><TxnID>" + txt(invoice, "TxnID") +
                    "</TxnID><PaymentAmount>150.00</PaymentAmount></AppliedToTxnAdd></ReceivePaymentAdd>"
                    "</ReceivePaymentAddRq>")
    (found,) = qb.one("<ReceivePaymentQueryRq/>")
    assert txt(found, "TotalAmount") == "150.00"
    qb.ok(f"<TxnDelRq><TxnDelType>ReceivePayment</TxnDelType><TxnID>{txt(payment, 'TxnID')}</TxnID></TxnDelRq>")
    (reopened,) = qb.one(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID></InvoiceQueryRq>")
    assert (txt(reopened, "BalanceRemaining"), txt(reopened, "IsPaid")) == ("150.00", "false")


def test_invoicing_an_inventory_item_lowers_its_quantity_on_hand(sim):
    sim.add("Customer", {"Name": "Stock Buyer"})
    widget = sim.add("ItemInventory", {"Name": "Widget", "SalesPrice": "5.00",
                                       "IncomeAccountRef": {"FullName": "Sales"},
                                       "COGSAccountRef": {"FullName": "Cost of Goods Sold"},
                                       "AssetAccountRef": {"FullName": "Inventory Asset"}, "QuantityOnHand": "20"})
    invoice = sim.add("Invoice", {"CustomerRef": {"FullName": "Stock Buyer"}, "InvoiceLineAdd": [
        {"ItemRef": {"FullName": "Widget"}, "Quantity": "3"}, {"ItemRef": {"FullName": "Widget"}, "Quantity": "2.5"}]})
    assert invoice["Subtotal"] == "27.50"
    assert sim.get(widget["ListID"])["QuantityOnHand"] == "14.5"
    assert sim.get(widget["ListID"])["TimeModified"] == widget["TimeModified"]
    line = invoice["InvoiceLineRet"][0]["TxnLineID"]
    sim.modify(invoice["TxnID"], {"InvoiceLineMod": [{"TxnLineID": line, "Quantity": "10"}]})
    assert sim.get(widget["ListID"])["QuantityOnHand"] == "10"
    sim.delete(invoice["TxnID"])
    assert sim.get(widget["ListID"])["QuantityOnHand"] == "20"


def test_a_description_only_line_has_no_amount(sim):
    sim.add("Customer", {"Name": "Notes Inc"})
    invoice = sim.add("Invoice", {"CustomerRef": {"FullName": "Notes Inc"}, "InvoiceLineAdd": [
        {"Desc": "Thank you for your business"}, {"Desc": "Labour", "Quantity": "2", "Rate": "40"}]})
    note, labour = invoice["InvoiceLineRet"]
    assert "Amount" not in note and labour["Amount"] == "80.00"
    assert invoice["Subtotal"] == "80.00"


def test_an_unused_payment_is_a_credit_on_the_customer_balance(sim):
    sim.add("Customer", {"Name": "Prepaid"})
    invoice = sim.add("Invoice", {"CustomerRef": {"FullName": "Prepaid"},
                                  "InvoiceLineAdd": [{"Desc": "Work", "Quantity": "1", "Rate": "60.00"}]})
    sim.add("ReceivePayment", {"CustomerRef": {"FullName": "Prepaid"}, "TotalAmount": "100.00",
                               "IsAutoApply": "true"})
    (customer,) = sim.customers()
    assert (customer["Balance"], customer["TotalBalance"]) == ("-40.00", "-40.00")
    sim.delete(invoice["TxnID"])
    assert sim.customers()[0]["Balance"] == "-100.00"


def test_automatic_ref_numbers_continue_the_last_number_used(qb, txt, company):
    def add(ref: str = "") -> str | None:
        header = "<CustomerRef><FullName>Acme</FullName></CustomerRef>" + (f"<RefNumber>{ref}</RefNumber>" if ref
                                                                           else "")
        return txt(qb.ok(invoice_add(LINE.format(item="Consulting", rest=""), header=header)), "RefNumber")

    assert add() == "1" and add() == "2"
    assert add("1041") == "1041"  # a number typed by a user (or a migration) …
    assert add() == "1042", "… is where QuickBooks goes on, not its own counter"
    assert add("INV-0099") == "INV-0099" and add() == "INV-0100", "prefix and zero padding kept"
    # A refused invoice uses no number.
    refused = qb.one(invoice_add(LINE.format(item="Nothing", rest="")))
    assert refused.get("statusCode") == "3140"
    assert add() == "INV-0101"
