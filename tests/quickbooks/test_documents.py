"""Every sales and purchase document through the client: built from records, answered by the simulator, read back
into records — each message checked against Intuit's 13.0 and 16.0 schemas by the validating transport.

Lines are data: the same line replacement (kept TxnLineIDs, new lines, removed lines, item groups kept) serves
invoices, sales orders, estimates, credit memos and sales receipts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qbsf.quickbooks import entities
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.bodies import add_body, mod_body
from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
from qbsf.quickbooks.messages import build_message, parse_record, parse_response, request

VERSIONS = ("13.0", "16.0")
# The sales documents the simulator keeps with Add and Mod, each with its line record.
SALES = [("Invoice", rec.Invoice, rec.InvoiceLine), ("SalesOrder", rec.SalesOrder, rec.SalesOrderLine),
         ("Estimate", rec.Estimate, rec.EstimateLine), ("CreditMemo", rec.CreditMemo, rec.CreditMemoLine)]


@pytest.fixture(params=VERSIONS)
def client(request, qb_transport):
    """A client speaking each qbXML version, with a customer, two items and a vendor in the company."""
    qb = QuickBooksClient(qb_transport, qbxml_version=request.param, default_accounts=DefaultAccounts(
        income="Sales", cogs="Cost of Goods Sold", asset="Inventory Asset", expense="Office Supplies"))
    qb.add(rec.Customer(Name="Acme", TermsRef=rec.Ref(FullName="Net 30")))
    qb.add(rec.ItemService(Name="Consulting", SalesPrice=Decimal(150)))
    qb.add(rec.ItemService(Name="Setup", SalesPrice=Decimal(40)))
    qb.add(rec.Vendor(Name="Paper Co", VendorAddress=rec.Address(City="Elko"), TermsRef=rec.Ref(FullName="Net 15")))
    yield qb
    qb.close()


def _line(cls: type, item: str, quantity: int, **more):
    return cls(ItemRef=rec.Ref(FullName=item), Quantity=Decimal(quantity), **more)


@pytest.mark.parametrize(("name", "cls", "line_cls"), SALES, ids=[s[0] for s in SALES])
def test_lines_are_replaced_alike_on_every_sales_document(client, name, cls, line_cls):
    added = client.add(cls(CustomerRef=rec.Ref(FullName="Acme"), TxnDate=date(2026, 3, 1), RefNumber="D-1",
                           lines=[_line(line_cls, "Consulting", 2), _line(line_cls, "Setup", 1)]))
    assert type(added) is cls and added.TxnID and added.Subtotal == Decimal("340.00")
    consulting, setup = added.lines
    assert type(consulting) is line_cls and consulting.Amount == Decimal("300.00")
    # keep Consulting (changed), drop Setup, add a second Setup line: one Mod, TxnLineIDs kept
    kept = line_cls(TxnLineID=consulting.TxnLineID, ItemRef=consulting.ItemRef, Quantity=Decimal(3))
    changed = client.mod(added, {"Memo": "three hours"}, lines=[kept, _line(line_cls, "Setup", 2)])
    assert changed.Memo == "three hours"
    assert changed.lines[0].TxnLineID == consulting.TxnLineID
    assert setup.TxnLineID not in {line.TxnLineID for line in changed.lines}
    assert [(line.ItemRef.FullName, line.Quantity, line.Amount) for line in changed.lines] == [
        ("Consulting", Decimal(3), Decimal("450.00")), ("Setup", Decimal(2), Decimal("80.00"))]
    # the one generic query: by id with lines, by RefNumber, modified since
    [again] = client.query(name, ids=[added.TxnID], include_lines=True)
    assert [line.TxnLineID for line in again.lines] == [line.TxnLineID for line in changed.lines]
    [by_ref] = client.query(name, names=["D-1"])
    assert by_ref.TxnID == added.TxnID and by_ref.lines == []
    assert [r.TxnID for r in client.query(name, modified_since=changed.TimeModified)] == [added.TxnID]
    with pytest.raises(Exception, match="needs at least one line"):
        client.mod(changed, {}, lines=[])


def test_a_line_a_document_cannot_carry_fails_that_record_alone(client):
    order = client.add(rec.SalesOrder(CustomerRef=rec.Ref(FullName="Acme"),
                                      lines=[_line(rec.SalesOrderLine, "Consulting", 1)]))
    [wrong, right] = client.mod_many([
        _change(order, [_line(rec.InvoiceLine, "Setup", 1)]),
        _change(order, [rec.SalesOrderLine(TxnLineID=order.lines[0].TxnLineID, IsManuallyClosed=True)]),
    ])
    assert wrong.error is not None and "has no InvoiceLine lines" in str(wrong.error)
    assert right.ok and right.ret.lines[0].IsManuallyClosed is True


def _change(base, lines):
    from qbsf.quickbooks.client import Change

    return Change(base, {}, lines)


def test_sales_order_status_comes_back(client):
    order = client.add(rec.SalesOrder(CustomerRef=rec.Ref(FullName="Acme"),
                                      lines=[_line(rec.SalesOrderLine, "Consulting", 2)]))
    assert (order.IsManuallyClosed, order.IsFullyInvoiced, order.lines[0].Invoiced) == (False, False, Decimal(0))
    closed = client.mod(order, {"IsManuallyClosed": True})
    assert closed.IsManuallyClosed is True and closed.lines[0].IsManuallyClosed is True


def test_estimate_is_active_until_declined(client):
    estimate = client.add(rec.Estimate(CustomerRef=rec.Ref(FullName="Acme"),
                                       lines=[_line(rec.EstimateLine, "Setup", 1)]))
    assert estimate.IsActive is True
    assert client.mod(estimate, {"IsActive": False}).IsActive is False


def test_credit_memo_remaining_credit(client):
    memo = client.add(rec.CreditMemo(CustomerRef=rec.Ref(FullName="Acme"),
                                     lines=[_line(rec.CreditMemoLine, "Setup", 1)]))
    assert (memo.TotalAmount, memo.CreditRemaining) == (Decimal("40.00"), Decimal("40.00"))
    [customer] = client.query("Customer", names=["Acme"])
    assert customer.Balance == Decimal("-40.00")


def test_sales_receipt_add_and_read(client):
    receipt = client.add(rec.SalesReceipt(CustomerRef=rec.Ref(FullName="Acme"), RefNumber="SR-1",
                                          lines=[_line(rec.SalesReceiptLine, "Consulting", 1)]))
    assert receipt.TotalAmount == Decimal("150.00") and receipt.lines[0].TxnLineID
    [read] = client.query("SalesReceipt", ids=[receipt.TxnID], include_lines=True)
    assert read.lines[0].ItemRef.FullName == "Consulting"


def test_partial_payments_across_two_invoices(client):
    first, second = (client.add(rec.Invoice(CustomerRef=rec.Ref(FullName="Acme"), lines=[
        _line(rec.InvoiceLine, "Consulting", 1)])) for _ in range(2))
    payment = client.add(rec.ReceivePayment(
        CustomerRef=rec.Ref(FullName="Acme"), TotalAmount=Decimal(200), RefNumber="CHK-7",
        lines=[rec.AppliedToTxn(TxnID=first.TxnID, Amount=Decimal(150)),
               rec.AppliedToTxn(TxnID=second.TxnID, Amount=Decimal(50))]))
    assert [(a.TxnID, a.Amount, a.TxnType) for a in payment.lines] == [
        (first.TxnID, Decimal("150.00"), "Invoice"), (second.TxnID, Decimal("50.00"), "Invoice")]
    balances = {i.TxnID: i.BalanceRemaining for i in client.query("Invoice", ids=[first.TxnID, second.TxnID])}
    assert balances == {first.TxnID: Decimal("0.00"), second.TxnID: Decimal("100.00")}
    # the payment moves: 100 to the first invoice, 100 to the second (lines keyed by the invoice's TxnID)
    moved = client.mod(payment, {}, lines=[rec.AppliedToTxn(TxnID=first.TxnID, Amount=Decimal(100)),
                                           rec.AppliedToTxn(TxnID=second.TxnID, Amount=Decimal(100))])
    assert [a.Amount for a in moved.lines] == [Decimal("100.00"), Decimal("100.00")]
    balances = {i.TxnID: i.BalanceRemaining for i in client.query("Invoice", ids=[first.TxnID, second.TxnID])}
    assert balances == {first.TxnID: Decimal("50.00"), second.TxnID: Decimal("50.00")}
    [read] = client.query("ReceivePayment", names=["CHK-7"], include_lines=True)
    assert read.TxnID == payment.TxnID and len(read.lines) == 2


def test_vendor_and_bill_with_expense_and_item_lines(client):
    [vendor] = client.query("Vendor", names=["Paper Co"])
    assert vendor.VendorAddress.City == "Elko" and vendor.TermsRef.FullName == "Net 15"
    renamed = client.mod(vendor, {"CompanyName": "Paper Company", "VendorAddr1": "1 Mill Rd"})
    assert (renamed.CompanyName, renamed.VendorAddress.Addr1) == ("Paper Company", "1 Mill Rd")
    bill = client.add(rec.Bill(VendorRef=rec.Ref(FullName="Paper Co"), TxnDate=date(2026, 3, 1), RefNumber="B-1",
                               expense_lines=[rec.ExpenseLine(AccountRef=rec.Ref(FullName="Office Supplies"),
                                                              Amount=Decimal("25.50"), Memo="paper")],
                               item_lines=[rec.ItemLine(ItemRef=rec.Ref(FullName="Setup"), Quantity=Decimal(2),
                                                        Cost=Decimal(10))]))
    assert (bill.AmountDue, bill.OpenAmount, bill.IsPaid, bill.DueDate) == (
        Decimal("45.50"), Decimal("45.50"), False, date(2026, 3, 16))
    assert [line.Amount for line in bill.expense_lines] == [Decimal("25.50")]
    assert [line.Amount for line in bill.item_lines] == [Decimal("20.00")]
    # item lines replaced, expense lines left as they are
    item = bill.item_lines[0]
    changed = client.mod(bill, {"Memo": "March"}, lines=[rec.ItemLine(TxnLineID=item.TxnLineID,
                                                                      ItemRef=item.ItemRef, Quantity=Decimal(3))])
    assert [line.Amount for line in changed.item_lines] == [Decimal("30.00")]
    assert [line.TxnLineID for line in changed.expense_lines] == [bill.expense_lines[0].TxnLineID]
    [vendor] = client.query("Vendor", ids=[vendor.ListID])
    assert vendor.Balance == Decimal("55.50")
    [open_bill] = client.query("Bill", modified_since=changed.TimeModified, include_lines=True)
    assert open_bill.TxnID == bill.TxnID and len(open_bill.item_lines) == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_what_the_simulator_does_not_keep_still_builds_valid_qbxml(require_qbxml_schemas, version):
    """SalesReceiptMod and the bill payment (BillPaymentCheckAdd/Mod) are built as the schemas require."""
    receipt = rec.SalesReceipt(TxnID="1-1", EditSequence="7", CustomerRef=rec.Ref(FullName="Acme"),
                               lines=[rec.SalesReceiptLine(TxnLineID="2-1", ItemRef=rec.Ref(FullName="Setup"))])
    new_lines = [rec.SalesReceiptLine(TxnLineID="2-1", Quantity=Decimal(2)),
                 rec.SalesReceiptLine(ItemRef=rec.Ref(FullName="Consulting"), Rate=Decimal("99.5"))]
    payment = rec.BillPaymentCheck(PayeeEntityRef=rec.Ref(FullName="Paper Co"),
                                   BankAccountRef=rec.Ref(FullName="Checking"), RefNumber="1001",
                                   lines=[rec.AppliedToTxn(TxnID="9-1", Amount=Decimal("45.5"))])
    paid = rec.BillPaymentCheck(TxnID="3-1", EditSequence="1", lines=list(payment.lines))
    rqs = []
    for number, (base, updated, paths, lines) in enumerate([
            (receipt, rec.apply_flat(receipt, {"Memo": "x"}), ["Memo"], new_lines),
            (paid, rec.apply_flat(paid, {"Memo": "paid"}), ["Memo"],
             [rec.AppliedToTxn(TxnID="9-1", Amount=Decimal(40))])]):
        tag, body = mod_body(base, updated, paths, entities.for_record(base), lines)
        rqs.append(request(f"{tag}Rq", f"m{number}", body, wrap=tag))
    tag, body = add_body(payment, entities.for_record(payment))
    assert body["AppliedToTxnAdd"] == [{"TxnID": "9-1", "PaymentAmount": Decimal("45.5")}]
    rqs.append(request(f"{tag}Rq", "a", body, wrap=tag))
    message = build_message(rqs, version=version)
    require_qbxml_schemas.validate(message, "request")
    assert "<TxnLineID>-1</TxnLineID>" in message and "<PaymentAmount>45.50</PaymentAmount>" in message


@pytest.mark.parametrize("version", VERSIONS)
def test_a_bill_payment_answer_parses(require_qbxml_schemas, version):
    answer = (f'<?xml version="1.0"?><?qbxml version="{version}"?><QBXML><QBXMLMsgsRs>'
              '<BillPaymentCheckAddRs requestID="a" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
              "<BillPaymentCheckRet><TxnID>3-1</TxnID><TimeCreated>2026-03-02T10:00:00-08:00</TimeCreated>"
              "<TimeModified>2026-03-02T10:00:00-08:00</TimeModified><EditSequence>1</EditSequence>"
              "<TxnNumber>4</TxnNumber><PayeeEntityRef><ListID>80-1</ListID><FullName>Paper Co</FullName>"
              "</PayeeEntityRef><APAccountRef><FullName>Accounts Payable</FullName></APAccountRef>"
              "<TxnDate>2026-03-02</TxnDate><BankAccountRef><FullName>Checking</FullName></BankAccountRef>"
              "<Amount>45.50</Amount><RefNumber>1001</RefNumber><IsToBePrinted>false</IsToBePrinted>"
              "<AppliedToTxnRet><TxnID>9-1</TxnID><TxnType>Bill</TxnType><TxnDate>2026-03-01</TxnDate>"
              "<RefNumber>B-1</RefNumber><BalanceRemaining>0.00</BalanceRemaining><Amount>45.50</Amount>"
              "</AppliedToTxnRet></BillPaymentCheckRet></BillPaymentCheckAddRs></QBXMLMsgsRs></QBXML>")
    require_qbxml_schemas.validate(answer, "response")
    [response] = parse_response(answer)
    paid = parse_record(rec.BillPaymentCheck, response.rets[0])
    assert (paid.PayeeEntityRef.FullName, paid.Amount, paid.RefNumber) == ("Paper Co", Decimal("45.50"), "1001")
    assert [(a.TxnID, a.TxnType, a.BalanceRemaining, a.Amount) for a in paid.lines] == [
        ("9-1", "Bill", Decimal("0.00"), Decimal("45.50"))]
    assert paid.extra == {}


GROUPED = ["SalesOrder", "Estimate", "CreditMemo", "SalesReceipt"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", GROUPED)
def test_an_item_group_on_any_sales_document_is_read_and_kept_by_a_line_replacement(require_qbxml_schemas, name,
                                                                                    version):
    """The simulator groups items on invoices only; the same answer shape for the other sales documents is written
    here (checked against the schema), read, and a line replacement sends the group back where it stood."""
    line = f"{name}Line"
    answer = (f'<?xml version="1.0"?><?qbxml version="{version}"?><QBXML><QBXMLMsgsRs>'
              f'<{name}QueryRs requestID="q" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
              f"<{name}Ret><TxnID>5-1</TxnID><TimeCreated>2026-03-02T10:00:00</TimeCreated>"
              "<TimeModified>2026-03-02T10:00:00</TimeModified><EditSequence>4</EditSequence>"
              "<CustomerRef><FullName>Acme</FullName></CustomerRef><TxnDate>2026-03-02</TxnDate>"
              f"<{line}Ret><TxnLineID>L-1</TxnLineID><ItemRef><FullName>Setup</FullName></ItemRef>"
              f"<Quantity>1</Quantity></{line}Ret>"
              f"<{line}GroupRet><TxnLineID>G-1</TxnLineID><ItemGroupRef><FullName>Kit</FullName></ItemGroupRef>"
              "<Quantity>1</Quantity><IsPrintItemsInGroup>false</IsPrintItemsInGroup><TotalAmount>90.00</TotalAmount>"
              f"<{line}Ret><TxnLineID>G-2</TxnLineID><ItemRef><FullName>Consulting</FullName></ItemRef>"
              f"<Amount>90.00</Amount></{line}Ret></{line}GroupRet>"
              f"<{line}Ret><TxnLineID>L-3</TxnLineID><ItemRef><FullName>Setup</FullName></ItemRef>"
              f"<Quantity>2</Quantity></{line}Ret>"
              f"</{name}Ret></{name}QueryRs></QBXMLMsgsRs></QBXML>")
    require_qbxml_schemas.validate(answer, "response")
    [response] = parse_response(answer)
    declared = entities.entity(name)
    base = parse_record(declared.record, response.rets[0])
    assert [line.TxnLineID for line in base.lines] == ["L-1", "L-3"] and base.extra == {}
    [group] = base.groups
    assert (group.TxnLineID, group.ItemGroupRef.FullName, group.position, group.TotalAmount) == (
        "G-1", "Kit", 1, Decimal("90.00"))
    assert [(type(x), x.TxnLineID) for x in group.lines] == [(declared.primary_lines.record, "G-2")]
    # L-1 changes, L-3 goes, one new line: the group is sent back by its TxnLineID after the first line
    lines = [declared.primary_lines.record(TxnLineID="L-1", Quantity=Decimal(4)),
             declared.primary_lines.record(ItemRef=rec.Ref(FullName="Consulting"))]
    tag, body = mod_body(base, base, [], declared, lines)
    assert [item[1]["TxnLineID"] if isinstance(item, tuple) else item["TxnLineID"] for item in body[f"{line}Mod"]] \
        == ["L-1", "G-1", "-1"]
    message = build_message([request(f"{tag}Rq", "m", body, wrap=tag)], version=version)
    require_qbxml_schemas.validate(message, "request")
    assert f"<{line}GroupMod><TxnLineID>G-1</TxnLineID></{line}GroupMod>" in message


def test_deleted_records_by_entity(client, qb_sim):
    order = client.add(rec.SalesOrder(CustomerRef=rec.Ref(FullName="Acme"),
                                      lines=[_line(rec.SalesOrderLine, "Setup", 1)]))
    bill = client.add(rec.Bill(VendorRef=rec.Ref(FullName="Paper Co"), expense_lines=[
        rec.ExpenseLine(AccountRef=rec.Ref(FullName="Office Supplies"), Amount=Decimal(5))]))
    [setup] = client.query("Item", names=["Setup"])
    before = order.TimeModified
    for record_id in (order.TxnID, bill.TxnID, setup.ListID):
        qb_sim.delete(record_id)
    gone = client.deleted_since(["SalesOrder", "Bill", "Item", "Vendor"], since=before)
    assert {(d.kind, d.id) for d in gone} == {("SalesOrder", order.TxnID), ("Bill", bill.TxnID),
                                              ("ItemService", setup.ListID)}
    with pytest.raises(entities.UnknownEntityError):
        client.deleted_since(["PurchaseOrder"])


def test_qb_parse_shows_each_kind_of_line(client):
    """``qbsf qb parse`` (response_objects) lists a document's lines under the name its record gives them."""
    from qbsf.quickbooks.inspect import response_objects

    answers: list[str] = []
    inner = client.transport.send
    client.transport.send = lambda xml: answers.append(inner(xml)) or answers[-1]
    client.add(rec.Bill(VendorRef=rec.Ref(FullName="Paper Co"), RefNumber="B-9", expense_lines=[
        rec.ExpenseLine(AccountRef=rec.Ref(FullName="Office Supplies"), Amount=Decimal(5))], item_lines=[
        rec.ItemLine(ItemRef=rec.Ref(FullName="Setup"), Quantity=Decimal(1), Cost=Decimal(3))]))
    [_, bill] = response_objects(answers[-1])
    assert bill["ret"] == "BillRet" and bill["fields"]["RefNumber"] == "B-9"
    assert [line["Amount"] for line in bill["expense_lines"]] == ["5.00"]
    assert [(line["ItemRef.FullName"], line["Amount"]) for line in bill["item_lines"]] == [("Setup", "3.00")]


def test_the_payments_linked_to_an_invoice(client):
    invoice = client.add(rec.Invoice(CustomerRef=rec.Ref(FullName="Acme"), lines=[_line(rec.InvoiceLine, "Setup", 2)]))
    payment = client.add(rec.ReceivePayment(CustomerRef=rec.Ref(FullName="Acme"), TotalAmount=Decimal(30),
                                            lines=[rec.AppliedToTxn(TxnID=invoice.TxnID, Amount=Decimal(30))]))
    [plain] = client.query("Invoice", ids=[invoice.TxnID])
    assert plain.linked == []
    [read] = client.query("Invoice", ids=[invoice.TxnID], include_linked=True)
    assert [(link.TxnID, link.TxnType, link.Amount) for link in read.linked] == [
        (payment.TxnID, "ReceivePayment", Decimal("-30.00"))]
    assert read.BalanceRemaining == Decimal("50.00")
    with pytest.raises(entities.UnknownEntityError, match="ReceivePayment"):
        client.query("ReceivePayment", include_linked=True)
    from qbsf.quickbooks.inspect import response_objects

    answers: list[str] = []
    inner = client.transport.send
    client.transport.send = lambda xml: answers.append(inner(xml)) or answers[-1]
    list(client.query("Invoice", ids=[invoice.TxnID], include_linked=True))
    [_, shown] = response_objects(answers[-1])
    assert [link["TxnType"] for link in shown["linked"]] == ["ReceivePayment"]


def test_a_bill_paid_by_check_turns_paid(client):
    bill = client.add(rec.Bill(VendorRef=rec.Ref(FullName="Paper Co"), RefNumber="B-2", expense_lines=[
        rec.ExpenseLine(AccountRef=rec.Ref(FullName="Office Supplies"), Amount=Decimal("60.00"))]))
    assert (bill.IsPaid, bill.OpenAmount) == (False, Decimal("60.00"))
    part = client.add(rec.BillPaymentCheck(
        PayeeEntityRef=rec.Ref(FullName="Paper Co"), BankAccountRef=rec.Ref(FullName="Checking"), RefNumber="1001",
        lines=[rec.AppliedToTxn(TxnID=bill.TxnID, Amount=Decimal("20.00"))]))
    assert (part.Amount, [(a.TxnID, a.Amount) for a in part.lines]) == (Decimal("20.00"),
                                                                        [(bill.TxnID, Decimal("20.00"))])
    [half] = client.query("Bill", ids=[bill.TxnID])
    assert (half.IsPaid, half.OpenAmount) == (False, Decimal("40.00"))
    rest = client.add(rec.BillPaymentCheck(
        PayeeEntityRef=rec.Ref(FullName="Paper Co"), BankAccountRef=rec.Ref(FullName="Checking"), RefNumber="1002",
        lines=[rec.AppliedToTxn(TxnID=bill.TxnID, Amount=Decimal("40.00"))]))
    [paid] = client.query("Bill", modified_since=rest.TimeModified, include_linked=True)
    assert (paid.TxnID, paid.IsPaid, paid.OpenAmount) == (bill.TxnID, True, Decimal("0.00"))
    assert {link.TxnID for link in paid.linked} == {part.TxnID, rest.TxnID}
    assert {link.TxnType for link in paid.linked} == {"BillPaymentCheck"}
    [check] = client.query("BillPaymentCheck", names=["1002"], include_lines=True)
    assert check.TxnID == rest.TxnID and check.PayeeEntityRef.FullName == "Paper Co"


def test_fields_quickbooks_takes_one_at_a_time_fail_that_record_alone(client):
    invoice = client.add(rec.Invoice(CustomerRef=rec.Ref(FullName="Acme"), lines=[_line(rec.InvoiceLine, "Setup", 1)]))
    both = rec.ReceivePayment(CustomerRef=rec.Ref(FullName="Acme"), TotalAmount=Decimal(10), IsAutoApply=True,
                              lines=[rec.AppliedToTxn(TxnID=invoice.TxnID, Amount=Decimal(10))])
    neither = rec.ReceivePayment(CustomerRef=rec.Ref(FullName="Acme"), TotalAmount=Decimal(10))
    auto = rec.ReceivePayment(CustomerRef=rec.Ref(FullName="Acme"), TotalAmount=Decimal(10), IsAutoApply=True)
    sent = client.messages_sent
    results = client.add_many([both, neither, auto])
    assert client.messages_sent == sent + 1
    assert "IsAutoApply and AppliedToTxn are both given" in str(results[0].error)
    assert "IsAutoApply or AppliedToTxn is missing" in str(results[1].error)
    assert "set IsAutoApply" in results[1].error.hint
    assert results[2].ok and [a.TxnID for a in results[2].ret.lines] == [invoice.TxnID]
    check = rec.BillPaymentCheck(PayeeEntityRef=rec.Ref(FullName="Paper Co"), BankAccountRef=rec.Ref(
        FullName="Checking"), RefNumber="77", IsToBePrinted=True, lines=[rec.AppliedToTxn(TxnID="1-1")])
    [refused] = client.add_many([check])
    assert "IsToBePrinted and RefNumber are both given" in str(refused.error)


def test_a_credit_memo_applied_by_a_payment_line(client):
    """SetCredit as data: a payment line applies a credit memo to the invoice it pays; the answer's line lists the
    credit memo it drew on (LinkedTxn), and the memo's CreditRemaining and the invoice's balance fall."""
    invoice = client.add(rec.Invoice(CustomerRef=rec.Ref(FullName="Acme"), lines=[
        _line(rec.InvoiceLine, "Consulting", 1)]))
    memo = client.add(rec.CreditMemo(CustomerRef=rec.Ref(FullName="Acme"),
                                     lines=[_line(rec.CreditMemoLine, "Setup", 1)]))
    payment = client.add(rec.ReceivePayment(CustomerRef=rec.Ref(FullName="Acme"), TotalAmount=Decimal(100),
                                            lines=[rec.AppliedToTxn(TxnID=invoice.TxnID, Amount=Decimal(100),
                                                                    SetCredit=[rec.SetCredit(
                                                                        CreditTxnID=memo.TxnID,
                                                                        AppliedAmount=Decimal("30"))])]))
    (line,) = payment.lines
    assert [(link.TxnID, link.TxnType, link.Amount) for link in line.linked] == [
        (memo.TxnID, "CreditMemo", Decimal("-30.00"))]
    assert line.BalanceRemaining == Decimal("20.00")
    [memo_now] = client.query("CreditMemo", ids=[memo.TxnID], include_linked=True)
    assert memo_now.CreditRemaining == Decimal("10.00")
    assert [(link.TxnID, link.TxnType) for link in memo_now.linked] == [(invoice.TxnID, "Invoice")]
    _, body = add_body(rec.ReceivePayment(CustomerRef=rec.Ref(FullName="Acme"), lines=[rec.AppliedToTxn(
        TxnID="1-1", Amount=Decimal(0), SetCredit=[rec.SetCredit(CreditTxnID="2-1", AppliedAmount=Decimal("5"))])]),
        entities.entity("ReceivePayment"))
    assert body["AppliedToTxnAdd"] == [{"TxnID": "1-1", "PaymentAmount": Decimal(0), "SetCredit": [
        {"CreditTxnID": "2-1", "AppliedAmount": Decimal("5")}]}]


def test_an_invoice_made_from_a_sales_order_whole_or_by_line(client):
    """LinkToTxnID (the whole order) and a line's LinkToTxn (one line of it) as data: the order counts what was
    invoiced and is fully invoiced once every line is."""
    order = client.add(rec.SalesOrder(CustomerRef=rec.Ref(FullName="Acme"), lines=[
        _line(rec.SalesOrderLine, "Consulting", 4), _line(rec.SalesOrderLine, "Setup", 1)]))
    consulting = order.lines[0].TxnLineID
    part = client.add(rec.Invoice(CustomerRef=rec.Ref(FullName="Acme"), lines=[rec.InvoiceLine(
        Quantity=Decimal(3), LinkToTxn=rec.LinkToTxn(TxnID=order.TxnID, TxnLineID=consulting))]))
    assert [(line.ItemRef.FullName, line.Quantity) for line in part.lines] == [("Consulting", Decimal(3))]
    [order_now] = client.query("SalesOrder", ids=[order.TxnID], include_lines=True)
    assert [line.Invoiced for line in order_now.lines] == [Decimal(3), Decimal(0)]
    assert order_now.IsFullyInvoiced is False
    rest = client.add(rec.Invoice(CustomerRef=rec.Ref(FullName="Acme"), LinkToTxnID=[order.TxnID]))
    assert [(line.ItemRef.FullName, line.Quantity) for line in rest.lines] == [
        ("Consulting", Decimal(1)), ("Setup", Decimal(1))]
    [order_now] = client.query("SalesOrder", ids=[order.TxnID])
    assert order_now.IsFullyInvoiced is True
    # Neither is a flat field a mapping could name: they are the lines' and the Add's own aggregates.
    assert "LinkToTxn" not in rec.flat_fields(rec.InvoiceLine) and "LinkToTxnID" not in rec.flat_fields(rec.Invoice)
