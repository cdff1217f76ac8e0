"""Sales orders, estimates, credit memos, vendors, bills, payment changes and their deletions, in hand-written
qbXML checked against Intuit's schema both ways (the ``qb`` fixture validates every request and answer)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qbsf.sim.quickbooks import SimulatorError
from qbsf.sim.quickbooks.cli import app

ACME = "<CustomerRef><FullName>Acme</FullName></CustomerRef>"


@pytest.fixture
def company(qb, txt):
    """Acme on Net 30, a service, an inventory part (10 on hand, bought at 4.00), a vendor on Net 15."""
    qb.ok("<CustomerAddRq><CustomerAdd><Name>Acme</Name><BillAddress><City>Reno</City></BillAddress>"
          "<TermsRef><FullName>Net 30</FullName></TermsRef></CustomerAdd></CustomerAddRq>")
    qb.ok("<ItemServiceAddRq><ItemServiceAdd><Name>Consulting</Name><SalesOrPurchase><Desc>Consulting hours</Desc>"
          "<Price>150.00</Price><AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase>"
          "</ItemServiceAdd></ItemServiceAddRq>")
    qb.ok("<ItemInventoryAddRq><ItemInventoryAdd><Name>Widget</Name><SalesPrice>10.00</SalesPrice>"
          "<IncomeAccountRef><FullName>Sales</FullName></IncomeAccountRef><PurchaseCost>4.00</PurchaseCost>"
          "<COGSAccountRef><FullName>Cost of Goods Sold</FullName></COGSAccountRef>"
          "<AssetAccountRef><FullName>Inventory Asset</FullName></AssetAccountRef><QuantityOnHand>10</QuantityOnHand>"
          "</ItemInventoryAdd></ItemInventoryAddRq>")
    vendor = qb.ok("<VendorAddRq><VendorAdd><Name>Paper Co</Name><VendorAddress><City>Elko</City></VendorAddress>"
                   "<TermsRef><FullName>Net 15</FullName></TermsRef></VendorAdd></VendorAddRq>")
    return {"vendor": txt(vendor, "ListID")}


def on_hand(qb, txt) -> str | None:
    (item,) = qb.one("<ItemInventoryQueryRq><FullName>Widget</FullName></ItemInventoryQueryRq>")
    return txt(item, "QuantityOnHand")


def balance(qb, txt, kind: str, name: str) -> str | None:
    (record,) = qb.one(f"<{kind}QueryRq><FullName>{name}</FullName></{kind}QueryRq>")
    return txt(record, "Balance")


def line(kind: str, item: str, rest: str = "") -> str:
    return f"<{kind}LineAdd><ItemRef><FullName>{item}</FullName></ItemRef>{rest}</{kind}LineAdd>"


def sales_order(qb) -> object:
    return qb.ok("<SalesOrderAddRq><SalesOrderAdd>" + ACME + "<TxnDate>2026-03-01</TxnDate>"
                 + line("SalesOrder", "Consulting", "<Quantity>2</Quantity>")
                 + line("SalesOrder", "Widget", "<Quantity>3</Quantity>")
                 + "</SalesOrderAdd></SalesOrderAddRq>")


# --- sales orders ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["13.0", "16.0"])
def test_sales_order_add_prices_lines_and_leaves_balance_and_stock_alone(qb, txt, company, version):
    ret = qb.ok("<SalesOrderAddRq><SalesOrderAdd>" + ACME + "<TxnDate>2026-03-01</TxnDate>"
                + line("SalesOrder", "Consulting", "<Quantity>2</Quantity>")
                + line("SalesOrder", "Widget", "<Quantity>3</Quantity>")
                + "</SalesOrderAdd></SalesOrderAddRq>", version)
    assert (txt(ret, "RefNumber"), txt(ret, "TermsRef/FullName"), txt(ret, "DueDate")) == ("1", "Net 30",
                                                                                           "2026-03-31")
    assert txt(ret, "BillAddress/City") == "Reno"
    assert (txt(ret, "Subtotal"), txt(ret, "TotalAmount")) == ("330.00", "330.00")
    assert (txt(ret, "IsManuallyClosed"), txt(ret, "IsFullyInvoiced")) == ("false", "false")
    lines = ret.findall("SalesOrderLineRet")
    assert [(txt(x, "Desc"), txt(x, "Amount"), txt(x, "Invoiced"), txt(x, "IsManuallyClosed")) for x in lines] == [
        ("Consulting hours", "300.00", "0", "false"), (None, "30.00", "0", "false")]
    # A sales order is non-posting: no balance, no stock taken.
    assert balance(qb, txt, "Customer", "Acme") == "0.00"
    assert on_hand(qb, txt) == "10"


def test_sales_order_mod_replaces_lines_keeps_line_ids_and_closes(qb, txt, company):
    ret = sales_order(qb)
    consulting, widget = (txt(x, "TxnLineID") for x in ret.findall("SalesOrderLineRet"))
    changed = qb.ok(f"<SalesOrderModRq><SalesOrderMod><TxnID>{txt(ret, 'TxnID')}</TxnID>"
                    f"<EditSequence>{txt(ret, 'EditSequence')}</EditSequence>"
                    f"<SalesOrderLineMod><TxnLineID>{consulting}</TxnLineID><Quantity>4</Quantity>"
                    "</SalesOrderLineMod><SalesOrderLineMod><TxnLineID>-1</TxnLineID><ItemRef><FullName>Widget"
                    "</FullName></ItemRef><Quantity>1</Quantity></SalesOrderLineMod></SalesOrderMod>"
                    "</SalesOrderModRq>")
    lines = changed.findall("SalesOrderLineRet")
    assert txt(lines[0], "TxnLineID") == consulting and txt(lines[0], "Amount") == "600.00"
    assert widget not in {txt(x, "TxnLineID") for x in lines}  # the line left out is deleted
    assert len(lines) == 2 and txt(changed, "TotalAmount") == "610.00"
    closed = qb.ok(f"<SalesOrderModRq><SalesOrderMod><TxnID>{txt(ret, 'TxnID')}</TxnID>"
                   f"<EditSequence>{txt(changed, 'EditSequence')}</EditSequence>"
                   "<IsManuallyClosed>true</IsManuallyClosed></SalesOrderMod></SalesOrderModRq>")
    assert txt(closed, "IsManuallyClosed") == "true"
    assert {txt(x, "IsManuallyClosed") for x in closed.findall("SalesOrderLineRet")} == {"true"}
    first_line = txt(closed, "SalesOrderLineRet/TxnLineID")
    kept = [txt(x, "TxnLineID") for x in closed.findall("SalesOrderLineRet")]
    reopened = qb.ok(f"<SalesOrderModRq><SalesOrderMod><TxnID>{txt(ret, 'TxnID')}</TxnID>"
                     f"<EditSequence>{txt(closed, 'EditSequence')}</EditSequence>"
                     + "".join(f"<SalesOrderLineMod><TxnLineID>{line_id}</TxnLineID>"
                               + ("<IsManuallyClosed>false</IsManuallyClosed>" if line_id == first_line else "")
                               + "</SalesOrderLineMod>" for line_id in kept)
                     + "</SalesOrderMod></SalesOrderModRq>")
    assert txt(reopened, "IsManuallyClosed") == "false"  # one line open again: the order is open
    closed = reopened
    stale = qb.one(f"<SalesOrderModRq><SalesOrderMod><TxnID>{txt(ret, 'TxnID')}</TxnID>"
                   f"<EditSequence>{txt(ret, 'EditSequence')}</EditSequence><Memo>x</Memo></SalesOrderMod>"
                   "</SalesOrderModRq>")
    assert stale.get("statusCode") == "3200"
    unknown = qb.one(f"<SalesOrderModRq><SalesOrderMod><TxnID>{txt(ret, 'TxnID')}</TxnID>"
                     f"<EditSequence>{txt(closed, 'EditSequence')}</EditSequence><SalesOrderLineMod>"
                     "<TxnLineID>99-1</TxnLineID></SalesOrderLineMod></SalesOrderMod></SalesOrderModRq>")
    assert unknown.get("statusCode") == "3120"


def test_sales_order_fully_invoiced_when_every_item_line_is_invoiced(sim, company):
    # The quantity invoiced is set here as QuickBooks sets it when a user invoices the order from its form.
    order = sim.add("SalesOrder", {
        "CustomerRef": {"FullName": "Acme"},
        "SalesOrderLineAdd": [{"ItemRef": {"FullName": "Widget"}, "Quantity": "3"}]})
    line_id = order["SalesOrderLineRet"][0]["TxnLineID"]
    partly = sim.modify(order["TxnID"], {"SalesOrderLineMod": [{"TxnLineID": line_id, "Invoiced": "2"}]})
    assert partly["IsFullyInvoiced"] == "false"
    fully = sim.modify(order["TxnID"], {"SalesOrderLineMod": [{"TxnLineID": line_id, "Invoiced": "3"}]})
    assert fully["IsFullyInvoiced"] == "true"


def test_sales_order_query_lines_on_request_and_by_customer(qb, txt, company):
    sales_order(qb)
    (bare,) = qb.one("<SalesOrderQueryRq><EntityFilter><FullName>Acme</FullName></EntityFilter></SalesOrderQueryRq>")
    assert bare.find("SalesOrderLineRet") is None and txt(bare, "TotalAmount") == "330.00"
    (full,) = qb.one("<SalesOrderQueryRq><IncludeLineItems>true</IncludeLineItems></SalesOrderQueryRq>")
    assert len(full.findall("SalesOrderLineRet")) == 2


# --- estimates ---------------------------------------------------------------------------------------------------
def test_estimate_add_is_active_and_mod_marks_it_inactive(qb, txt, company):
    ret = qb.ok("<EstimateAddRq><EstimateAdd>" + ACME + line("Estimate", "Consulting", "<Quantity>1.5</Quantity>")
                + "</EstimateAdd></EstimateAddRq>", "13.0")
    assert (txt(ret, "IsActive"), txt(ret, "TotalAmount")) == ("true", "225.00")
    assert txt(ret, "EstimateLineRet/Amount") == "225.00"
    changed = qb.ok(f"<EstimateModRq><EstimateMod><TxnID>{txt(ret, 'TxnID')}</TxnID>"
                    f"<EditSequence>{txt(ret, 'EditSequence')}</EditSequence><IsActive>false</IsActive>"
                    "</EstimateMod></EstimateModRq>")
    assert txt(changed, "IsActive") == "false"
    (found,) = qb.one(f"<EstimateQueryRq><TxnID>{txt(ret, 'TxnID')}</TxnID></EstimateQueryRq>")
    assert txt(found, "IsActive") == "false"
    assert balance(qb, txt, "Customer", "Acme") == "0.00"


# --- credit memos ------------------------------------------------------------------------------------------------
def test_credit_memo_lowers_the_balance_and_returns_stock(qb, txt, company):
    ret = qb.ok("<CreditMemoAddRq><CreditMemoAdd>" + ACME + line("CreditMemo", "Widget", "<Quantity>2</Quantity>")
                + line("CreditMemo", "Consulting", "<Amount>50.00</Amount>") + "</CreditMemoAdd></CreditMemoAddRq>")
    assert (txt(ret, "TotalAmount"), txt(ret, "CreditRemaining")) == ("70.00", "70.00")
    assert txt(ret, "ARAccountRef/FullName") == "Accounts Receivable"
    assert len(ret.findall("CreditMemoLineRet")) == 2
    assert balance(qb, txt, "Customer", "Acme") == "-70.00"
    assert on_hand(qb, txt) == "12"
    deleted = qb.ok(f"<TxnDelRq><TxnDelType>CreditMemo</TxnDelType><TxnID>{txt(ret, 'TxnID')}</TxnID></TxnDelRq>")
    assert deleted.tag == "TxnDelType"
    assert balance(qb, txt, "Customer", "Acme") == "0.00"
    assert on_hand(qb, txt) == "10"


def test_document_without_customer_is_refused(sim, company):
    with pytest.raises(SimulatorError) as refused:
        sim.add("CreditMemo", {"Memo": "no customer"})
    assert refused.value.status_code == 3150 and "CustomerRef" in str(refused.value)


# --- vendors and bills -------------------------------------------------------------------------------------------
def test_vendor_shares_the_name_space_and_is_queried(qb, txt, company):
    clash = qb.one("<VendorAddRq><VendorAdd><Name>acme</Name></VendorAdd></VendorAddRq>")
    assert clash.get("statusCode") == "3100"
    (vendor,) = qb.one("<VendorQueryRq><NameFilter><MatchCriterion>StartsWith</MatchCriterion><Name>Paper</Name>"
                       "</NameFilter></VendorQueryRq>")
    assert (txt(vendor, "ListID"), txt(vendor, "VendorAddress/City")) == (company["vendor"], "Elko")


def bill_add(body: str) -> str:
    return ("<BillAddRq><BillAdd><VendorRef><FullName>Paper Co</FullName></VendorRef><TxnDate>2026-03-01</TxnDate>"
            f"<RefNumber>PC-1001</RefNumber>{body}</BillAdd></BillAddRq>")


@pytest.mark.parametrize("version", ["13.0", "16.0"])
def test_bill_with_expense_and_item_lines(qb, txt, company, version):
    ret = qb.ok(bill_add("<ExpenseLineAdd><AccountRef><FullName>Office Supplies</FullName></AccountRef>"
                         "<Amount>45.50</Amount><Memo>Paper</Memo></ExpenseLineAdd>"
                         "<ItemLineAdd><ItemRef><FullName>Widget</FullName></ItemRef><Quantity>5</Quantity>"
                         "</ItemLineAdd>"), version)
    assert (txt(ret, "APAccountRef/FullName"), txt(ret, "TermsRef/FullName"), txt(ret, "DueDate")) == (
        "Accounts Payable", "Net 15", "2026-03-16")
    assert txt(ret, "VendorAddress/City") == "Elko"
    assert (txt(ret, "ExpenseLineRet/Amount"), txt(ret, "ItemLineRet/Cost"), txt(ret, "ItemLineRet/Amount")) == (
        "45.50", "4.00", "20.00")
    assert (txt(ret, "AmountDue"), txt(ret, "OpenAmount"), txt(ret, "IsPaid")) == ("65.50", "65.50", "false")
    assert on_hand(qb, txt) == "15"  # bought
    assert balance(qb, txt, "Vendor", "Paper Co") == "65.50"
    (open_bill,) = qb.one("<BillQueryRq><EntityFilter><FullName>Paper Co</FullName></EntityFilter>"
                          "<PaidStatus>NotPaidOnly</PaidStatus><IncludeLineItems>true</IncludeLineItems>"
                          "</BillQueryRq>", version)
    assert txt(open_bill, "TxnID") == txt(ret, "TxnID") and open_bill.find("ItemLineRet") is not None
    paid = qb.one("<BillQueryRq><PaidStatus>PaidOnly</PaidStatus></BillQueryRq>", version)
    assert paid.get("statusCode") == "1"
    changed = qb.ok(f"<BillModRq><BillMod><TxnID>{txt(ret, 'TxnID')}</TxnID>"
                    f"<EditSequence>{txt(ret, 'EditSequence')}</EditSequence><ExpenseLineMod>"
                    f"<TxnLineID>{txt(ret, 'ExpenseLineRet/TxnLineID')}</TxnLineID><Amount>50.00</Amount>"
                    "</ExpenseLineMod></BillMod></BillModRq>", version)
    assert (txt(changed, "AmountDue"), txt(changed, "OpenAmount")) == ("70.00", "70.00")
    assert balance(qb, txt, "Vendor", "Paper Co") == "70.00"


def test_expense_line_needs_an_account(qb, company):
    refused = qb.one(bill_add("<ExpenseLineAdd><Amount>5.00</Amount></ExpenseLineAdd>"))
    assert refused.get("statusCode") == "3150" and "AccountRef" in refused.get("statusMessage")


# --- payments: Query / Mod / Del across two invoices ------------------------------------------------------------
def invoices(qb, txt) -> list[str]:
    ids = []
    for quantity in ("1", "2"):
        ret = qb.ok("<InvoiceAddRq><InvoiceAdd>" + ACME + line("Invoice", "Consulting", f"<Quantity>{quantity}"
                                                               "</Quantity>") + "</InvoiceAdd></InvoiceAddRq>")
        ids.append(txt(ret, "TxnID"))
    return ids


def invoice_balances(qb, txt, ids) -> list[str | None]:
    return [txt(qb.one(f"<InvoiceQueryRq><TxnID>{i}</TxnID></InvoiceQueryRq>")[0], "BalanceRemaining") for i in ids]


def test_partial_payment_across_two_invoices_then_changed_and_deleted(qb, txt, company):
    first, second = invoices(qb, txt)  # 150.00 and 300.00
    payment = qb.ok("<ReceivePaymentAddRq><ReceivePaymentAdd>" + ACME + "<RefNumber>CHK-9</RefNumber>"
                    "<TotalAmount>250.00</TotalAmount>"
                    f"<AppliedToTxnAdd><TxnID>{first}</TxnID><PaymentAmount>150.00</PaymentAmount></AppliedToTxnAdd>"
                    f"<AppliedToTxnAdd><TxnID>{second}</TxnID><PaymentAmount>100.00</PaymentAmount></AppliedToTxnAdd>"
                    "</ReceivePaymentAdd></ReceivePaymentAddRq>")
    assert invoice_balances(qb, txt, (first, second)) == ["0.00", "200.00"]
    # Re-applied: 50 on the first invoice, 200 on the second.
    changed = qb.ok(f"<ReceivePaymentModRq><ReceivePaymentMod><TxnID>{txt(payment, 'TxnID')}</TxnID>"
                    f"<EditSequence>{txt(payment, 'EditSequence')}</EditSequence>"
                    f"<AppliedToTxnMod><TxnID>{first}</TxnID><PaymentAmount>50.00</PaymentAmount></AppliedToTxnMod>"
                    f"<AppliedToTxnMod><TxnID>{second}</TxnID><PaymentAmount>200.00</PaymentAmount>"
                    "</AppliedToTxnMod></ReceivePaymentMod></ReceivePaymentModRq>")
    assert [(txt(a, "Amount"), txt(a, "BalanceRemaining")) for a in changed.findall("AppliedToTxnRet")] == [
        ("50.00", "100.00"), ("200.00", "100.00")]
    assert invoice_balances(qb, txt, (first, second)) == ["100.00", "100.00"]
    assert balance(qb, txt, "Customer", "Acme") == "200.00"
    # A larger total, applied to the first invoice only: the second reopens, the rest is unused.
    again = qb.ok(f"<ReceivePaymentModRq><ReceivePaymentMod><TxnID>{txt(payment, 'TxnID')}</TxnID>"
                  f"<EditSequence>{txt(changed, 'EditSequence')}</EditSequence><TotalAmount>300.00</TotalAmount>"
                  f"<AppliedToTxnMod><TxnID>{first}</TxnID><PaymentAmount>150.00</PaymentAmount></AppliedToTxnMod>"
                  "</ReceivePaymentMod></ReceivePaymentModRq>")
    assert (txt(again, "TotalAmount"), txt(again, "UnusedPayment")) == ("300.00", "150.00")
    assert invoice_balances(qb, txt, (first, second)) == ["0.00", "300.00"]
    (queried,) = qb.one(f"<ReceivePaymentQueryRq><TxnID>{txt(payment, 'TxnID')}</TxnID></ReceivePaymentQueryRq>")
    assert [txt(a, "TxnID") for a in queried.findall("AppliedToTxnRet")] == [first]
    too_much = qb.one(f"<ReceivePaymentModRq><ReceivePaymentMod><TxnID>{txt(payment, 'TxnID')}</TxnID>"
                      f"<EditSequence>{txt(again, 'EditSequence')}</EditSequence><AppliedToTxnMod>"
                      f"<TxnID>{second}</TxnID><PaymentAmount>400.00</PaymentAmount></AppliedToTxnMod>"
                      "</ReceivePaymentMod></ReceivePaymentModRq>")
    assert too_much.get("statusCode") == "3210"
    assert invoice_balances(qb, txt, (first, second)) == ["0.00", "300.00"]  # the refused change left no trace
    ar_only = qb.one(f"<ReceivePaymentModRq><ReceivePaymentMod><TxnID>{txt(payment, 'TxnID')}</TxnID>"
                     f"<EditSequence>{txt(again, 'EditSequence')}</EditSequence><ARAccountRef><FullName>"
                     "Accounts Receivable</FullName></ARAccountRef></ReceivePaymentMod></ReceivePaymentModRq>")
    assert ar_only.get("statusCode") == "3210"
    qb.ok(f"<TxnDelRq><TxnDelType>ReceivePayment</TxnDelType><TxnID>{txt(payment, 'TxnID')}</TxnID></TxnDelRq>")
    assert invoice_balances(qb, txt, (first, second)) == ["150.00", "300.00"]


# --- deletions ---------------------------------------------------------------------------------------------------
def test_each_document_deleted_is_listed_by_txn_deleted_query(sim, qb, txt, company):
    made = {
        "SalesOrder": txt(sales_order(qb), "TxnID"),
        "Estimate": txt(qb.ok("<EstimateAddRq><EstimateAdd>" + ACME + line("Estimate", "Consulting")
                              + "</EstimateAdd></EstimateAddRq>"), "TxnID"),
        "CreditMemo": txt(qb.ok("<CreditMemoAddRq><CreditMemoAdd>" + ACME + line("CreditMemo", "Consulting")
                                + "</CreditMemoAdd></CreditMemoAddRq>"), "TxnID"),
        "Bill": txt(qb.ok(bill_add("<ExpenseLineAdd><AccountRef><FullName>Office Supplies</FullName></AccountRef>"
                                   "<Amount>9.00</Amount></ExpenseLineAdd>")), "TxnID"),
    }
    for kind, txn_id in made.items():
        qb.ok(f"<TxnDelRq><TxnDelType>{kind}</TxnDelType><TxnID>{txn_id}</TxnID></TxnDelRq>")
    types = "".join(f"<TxnDelType>{kind}</TxnDelType>" for kind in made)
    rets = qb.call(f"<TxnDeletedQueryRq>{types}</TxnDeletedQueryRq>")[0]
    assert {(txt(r, "TxnDelType"), txt(r, "TxnID")) for r in rets} == set(made.items())
    assert txt(next(r for r in rets if txt(r, "TxnDelType") == "Bill"), "RefNumber") == "PC-1001"
    assert balance(qb, txt, "Vendor", "Paper Co") == "0.00"
    assert sim.count("SalesOrder") == sim.count("Bill") == 0
    gone = qb.one(f"<TxnDelRq><TxnDelType>Bill</TxnDelType><TxnID>{made['Bill']}</TxnID></TxnDelRq>")
    assert gone.get("statusCode") == "3120"


# --- qbsf sim quickbooks show --kind ---------------------------------------------------------------------------
def test_show_lists_the_new_documents(tmp_path):
    from qbsf.sim.quickbooks import QuickBooksSimulator

    path = tmp_path / "c.qbsim"
    with QuickBooksSimulator(path) as sim:
        sim.add("Customer", {"Name": "Acme"})
        sim.add("Vendor", {"Name": "Paper Co"})
        sim.add("ItemService", {"Name": "Consulting", "SalesOrPurchase": {
            "Price": "10.00", "AccountRef": {"FullName": "Services"}}})
        for kind in ("SalesOrder", "Estimate", "CreditMemo"):
            sim.add(kind, {"CustomerRef": {"FullName": "Acme"},
                           f"{kind}LineAdd": {"ItemRef": {"FullName": "Consulting"}}})
        sim.add("Bill", {"VendorRef": {"FullName": "Paper Co"}, "ExpenseLineAdd": {
            "AccountRef": {"FullName": "Office Supplies"}, "Amount": "3.00"}})
    runner = CliRunner()
    for kind, total_field, total in (("SalesOrder", "TotalAmount", "10.00"), ("Estimate", "TotalAmount", "10.00"),
                                     ("CreditMemo", "CreditRemaining", "10.00"), ("Bill", "AmountDue", "3.00")):
        shown = runner.invoke(app, ["show", str(path), "--kind", kind])
        assert shown.exit_code == 0, shown.output
        (record,) = [json.loads(row) for row in shown.output.splitlines()]
        assert (record["kind"], record[total_field]) == (kind, total)


# --- the demo company ------------------------------------------------------------------------------------------
def test_demo_company_keeps_every_kind_of_document_once(sim):
    from qbsf.sim.quickbooks.demo import seed_demo_company

    added = seed_demo_company(sim, customers=13, invoices_per_customer=2, seed=4)
    counts = {kind: sim.count(kind) for kind in ("SalesOrder", "Estimate", "CreditMemo", "Vendor", "Bill")}
    assert counts == {"SalesOrder": added["sales_orders"], "Estimate": added["estimates"],
                      "CreditMemo": added["credit_memos"], "Vendor": 3, "Bill": 3}
    assert all(counts.values())
    assert {e["IsActive"] for e in sim.estimates()} == {"true", "false"}
    assert {b["IsPaid"] for b in sim.bills()} == {"true", "false"}  # one paid by check, one part-paid, one open
    assert sim.count("BillPaymentCheck") == added["bill_payments"] == 2
    assert sim.count("SalesReceipt") == added["sales_receipts"] > 0
    applied = [m for m in sim.credit_memos() if m["CreditRemaining"] == "0.00"]
    assert len(applied) == added["credits_applied"] > 0
    assert sum(float(v["Balance"]) for v in sim.vendors()) == sum(float(b["OpenAmount"]) for b in sim.bills())
    again = seed_demo_company(sim, customers=13, seed=4)
    assert not any(again.values())  # nothing twice
