"""Sales tax (company preference, tax codes, the tax item, invoices and sales receipts) and item groups on
invoice lines (InvoiceLineGroupAdd/Ret/Mod), with hand-written qbXML validated against Intuit's schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qbsf.sim.quickbooks import QuickBooksSimulator

START = datetime(2026, 3, 2, 17, 0, 0, tzinfo=UTC)
CUSTOMER = "<CustomerRef><FullName>{name}</FullName></CustomerRef>"
LINE = "<{tag}><ItemRef><FullName>{item}</FullName></ItemRef><Quantity>{qty}</Quantity>{rest}</{tag}>"


@pytest.fixture
def sim(request):
    """A company that collects sales tax (``sales_tax=False`` through indirect parametrisation)."""
    simulator = QuickBooksSimulator(clock=lambda: START, sales_tax=getattr(request, "param", True))
    yield simulator
    simulator.close()


@pytest.fixture
def shop(qb, txt):
    """A taxable part, a non-taxable service and two customers (one exempt), added through qbXML."""
    qb.ok("<ItemNonInventoryAddRq><ItemNonInventoryAdd><Name>Widget</Name><SalesOrPurchase><Price>100.00</Price>"
          "<AccountRef><FullName>Sales</FullName></AccountRef></SalesOrPurchase></ItemNonInventoryAdd>"
          "</ItemNonInventoryAddRq>")
    qb.ok("<ItemServiceAddRq><ItemServiceAdd><Name>Setup</Name><SalesOrPurchase><Price>50.00</Price>"
          "<AccountRef><FullName>Services</FullName></AccountRef></SalesOrPurchase></ItemServiceAdd>"
          "</ItemServiceAddRq>")
    acme = qb.ok("<CustomerAddRq><CustomerAdd><Name>Acme</Name></CustomerAdd></CustomerAddRq>")
    school = qb.ok("<CustomerAddRq><CustomerAdd><Name>School</Name><SalesTaxCodeRef><FullName>Non</FullName>"
                   "</SalesTaxCodeRef></CustomerAdd></CustomerAddRq>")
    return {"acme": acme, "school": school}


def test_sales_tax_preferences_and_new_customer_defaults(qb, txt, shop):
    (preferences,) = qb.call("<PreferencesQueryRq/>")[0]
    assert txt(preferences, "SalesTaxPreferences/DefaultItemSalesTaxRef/FullName") == "State Tax"
    assert txt(preferences, "SalesTaxPreferences/DefaultTaxableSalesTaxCodeRef/FullName") == "Tax"
    acme = shop["acme"]
    assert txt(acme, "SalesTaxCodeRef/FullName") == "Tax" and txt(acme, "ItemSalesTaxRef/FullName") == "State Tax"
    assert txt(shop["school"], "SalesTaxCodeRef/FullName") == "Non"
    (items,) = qb.call("<ItemQueryRq><NameFilter><MatchCriterion>Contains</MatchCriterion><Name>tax</Name>"
                       "</NameFilter></ItemQueryRq>")
    assert [(r.tag, txt(r, "TaxRate")) for r in items] == [("ItemSalesTaxRet", "7.25")]
    (widget,) = qb.call("<ItemQueryRq><FullName>Widget</FullName></ItemQueryRq>")[0]
    assert txt(widget, "SalesTaxCodeRef/FullName") == "Tax"


def test_taxed_invoice_balance_includes_tax(qb, txt, shop):
    lines = (LINE.format(tag="InvoiceLineAdd", item="Widget", qty="3", rest="")
             + LINE.format(tag="InvoiceLineAdd", item="Setup", qty="2", rest=""))
    invoice = qb.ok(f"<InvoiceAddRq><InvoiceAdd>{CUSTOMER.format(name='Acme')}{lines}</InvoiceAdd></InvoiceAddRq>")
    assert [txt(line, "SalesTaxCodeRef/FullName") for line in invoice.findall("InvoiceLineRet")] == ["Tax", "Non"]
    assert (txt(invoice, "Subtotal"), txt(invoice, "SalesTaxPercentage"), txt(invoice, "SalesTaxTotal"),
            txt(invoice, "BalanceRemaining")) == ("400.00", "7.25", "21.75", "421.75")
    assert txt(invoice, "ItemSalesTaxRef/FullName") == "State Tax"
    assert txt(invoice, "CustomerSalesTaxCodeRef/FullName") == "Tax"
    exempt = qb.ok(f"<InvoiceAddRq><InvoiceAdd>{CUSTOMER.format(name='School')}{lines}</InvoiceAdd>"
                   "</InvoiceAddRq>")
    assert (txt(exempt, "SalesTaxTotal"), txt(exempt, "BalanceRemaining")) == ("0.00", "400.00")
    # A line marked Non by the request is not taxed; paying the whole balance pays the tax too.
    marked = qb.ok(f"<InvoiceAddRq><InvoiceAdd>{CUSTOMER.format(name='Acme')}" + LINE.format(
        tag="InvoiceLineAdd", item="Widget", qty="1", rest="<SalesTaxCodeRef><FullName>Non</FullName>"
        "</SalesTaxCodeRef>") + "</InvoiceAdd></InvoiceAddRq>")
    assert txt(marked, "SalesTaxTotal") == "0.00"
    payment = qb.ok(f"<ReceivePaymentAddRq><ReceivePaymentAdd>{CUSTOMER.format(name='Acme')}<TotalAmount>421.75"
                    f"</TotalAmount><AppliedToTxnAdd><TxnID>{txt(invoice, 'TxnID')}</TxnID><PaymentAmount>421.75"
                    "</PaymentAmount></AppliedToTxnAdd></ReceivePaymentAdd></ReceivePaymentAddRq>")
    assert txt(payment, "UnusedPayment") == "0.00"
    (paid,) = qb.call(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID></InvoiceQueryRq>")[0]
    assert (txt(paid, "BalanceRemaining"), txt(paid, "IsPaid")) == ("0.00", "true")


def test_sales_receipt_with_tax_and_its_own_numbers(qb, txt, shop):
    lines = (LINE.format(tag="SalesReceiptLineAdd", item="Widget", qty="2", rest="")
             + LINE.format(tag="SalesReceiptLineAdd", item="Setup", qty="1", rest=""))
    receipt = qb.ok(f"<SalesReceiptAddRq><SalesReceiptAdd>{CUSTOMER.format(name='Acme')}<RefNumber>SR-0007"
                    f"</RefNumber><PaymentMethodRef><FullName>Cash</FullName></PaymentMethodRef>{lines}"
                    "</SalesReceiptAdd></SalesReceiptAddRq>")
    assert (txt(receipt, "Subtotal"), txt(receipt, "SalesTaxTotal"), txt(receipt, "TotalAmount")) == (
        "250.00", "14.50", "264.50")
    assert txt(receipt, "DepositToAccountRef/FullName") == "Undeposited Funds"
    walk_in = qb.ok("<SalesReceiptAddRq><SalesReceiptAdd>" + LINE.format(tag="SalesReceiptLineAdd", item="Widget",
                                                                         qty="1", rest="")
                    + "</SalesReceiptAdd></SalesReceiptAddRq>")
    assert txt(walk_in, "RefNumber") == "SR-0008" and txt(walk_in, "TotalAmount") == "107.25"
    (found,) = qb.call("<SalesReceiptQueryRq><RefNumber>SR-0007</RefNumber><IncludeLineItems>true"
                       "</IncludeLineItems></SalesReceiptQueryRq>")
    assert len(found[0].findall("SalesReceiptLineRet")) == 2


@pytest.mark.parametrize("sim", [False], indirect=True)
def test_a_company_without_sales_tax_charges_none(qb, txt, shop):
    assert txt(shop["acme"], "SalesTaxCodeRef/FullName") is None
    (preferences,) = qb.call("<PreferencesQueryRq/>")[0]
    assert preferences.find("SalesTaxPreferences") is None
    invoice = qb.ok(f"<InvoiceAddRq><InvoiceAdd>{CUSTOMER.format(name='Acme')}"
                    + LINE.format(tag="InvoiceLineAdd", item="Widget", qty="1", rest="")
                    + "</InvoiceAdd></InvoiceAddRq>")
    assert (txt(invoice, "SalesTaxTotal"), txt(invoice, "BalanceRemaining")) == ("0.00", "100.00")


@pytest.fixture
def kit(qb, shop):
    qb.ok("<ItemGroupAddRq><ItemGroupAdd><Name>Starter Kit</Name><ItemDesc>Widgets with setup</ItemDesc>"
          "<IsPrintItemsInGroup>true</IsPrintItemsInGroup>"
          "<ItemGroupLine><ItemRef><FullName>Widget</FullName></ItemRef><Quantity>2</Quantity></ItemGroupLine>"
          "<ItemGroupLine><ItemRef><FullName>Setup</FullName></ItemRef><Quantity>1</Quantity></ItemGroupLine>"
          "</ItemGroupAdd></ItemGroupAddRq>")


def test_item_group_lines_expand_in_place_and_are_taxed(qb, txt, kit):
    body = (CUSTOMER.format(name="Acme") + LINE.format(tag="InvoiceLineAdd", item="Setup", qty="1", rest="")
            + "<InvoiceLineGroupAdd><ItemGroupRef><FullName>Starter Kit</FullName></ItemGroupRef><Quantity>2"
              "</Quantity></InvoiceLineGroupAdd>"
            + LINE.format(tag="InvoiceLineAdd", item="Widget", qty="1", rest=""))
    invoice = qb.ok(f"<InvoiceAddRq><InvoiceAdd>{body}</InvoiceAdd></InvoiceAddRq>")
    assert [child.tag for child in invoice if "Line" in child.tag] == [
        "InvoiceLineRet", "InvoiceLineGroupRet", "InvoiceLineRet"], "the group stays where it was put"
    group = invoice.find("InvoiceLineGroupRet")
    assert (txt(group, "ItemGroupRef/FullName"), txt(group, "Desc"), txt(group, "TotalAmount")) == (
        "Starter Kit", "Widgets with setup", "500.00")
    assert [(txt(line, "ItemRef/FullName"), txt(line, "Quantity"), txt(line, "Amount"))
            for line in group.findall("InvoiceLineRet")] == [("Widget", "4", "400.00"), ("Setup", "2", "100.00")]
    # 50 + 500 + 100 = 650; taxed: the widgets, 400 + 100 = 500 at 7.25 %.
    assert (txt(invoice, "Subtotal"), txt(invoice, "SalesTaxTotal"), txt(invoice, "BalanceRemaining")) == (
        "650.00", "36.25", "686.25")


def test_invoice_mod_keeps_a_group_named_by_its_id_and_deletes_one_left_out(qb, txt, kit):
    body = (CUSTOMER.format(name="Acme") + LINE.format(tag="InvoiceLineAdd", item="Setup", qty="1", rest="")
            + "<InvoiceLineGroupAdd><ItemGroupRef><FullName>Starter Kit</FullName></ItemGroupRef>"
              "</InvoiceLineGroupAdd>")
    invoice = qb.ok(f"<InvoiceAddRq><InvoiceAdd>{body}</InvoiceAdd></InvoiceAddRq>")
    line_id = txt(invoice.find("InvoiceLineRet"), "TxnLineID")
    group_id = txt(invoice.find("InvoiceLineGroupRet"), "TxnLineID")
    kept = qb.ok(f"<InvoiceModRq><InvoiceMod><TxnID>{txt(invoice, 'TxnID')}</TxnID><EditSequence>"
                 f"{txt(invoice, 'EditSequence')}</EditSequence><InvoiceLineMod><TxnLineID>{line_id}</TxnLineID>"
                 f"<Quantity>3</Quantity></InvoiceLineMod><InvoiceLineGroupMod><TxnLineID>{group_id}</TxnLineID>"
                 "</InvoiceLineGroupMod></InvoiceMod></InvoiceModRq>")
    assert txt(kept.find("InvoiceLineGroupRet"), "TxnLineID") == group_id
    assert txt(kept, "Subtotal") == "400.00"  # 150 + the kit's 250
    dropped = qb.ok(f"<InvoiceModRq><InvoiceMod><TxnID>{txt(invoice, 'TxnID')}</TxnID><EditSequence>"
                    f"{txt(kept, 'EditSequence')}</EditSequence><InvoiceLineMod><TxnLineID>{line_id}</TxnLineID>"
                    "</InvoiceLineMod></InvoiceMod></InvoiceModRq>")
    assert dropped.find("InvoiceLineGroupRet") is None, "QuickBooks deletes a group the Mod leaves out"
    assert txt(dropped, "Subtotal") == "150.00"


def test_a_sales_receipt_is_modified_like_an_invoice(qb, txt, shop):
    """SalesReceiptMod (qbXML 5.0 and later): header elements replace; the lines sent are the receipt's lines."""
    receipt = qb.ok(f"<SalesReceiptAddRq><SalesReceiptAdd>{CUSTOMER.format(name='Acme')}"
                    + LINE.format(tag="SalesReceiptLineAdd", item="Widget", qty="2", rest="")
                    + LINE.format(tag="SalesReceiptLineAdd", item="Setup", qty="1", rest="")
                    + "</SalesReceiptAdd></SalesReceiptAddRq>")
    txn_id, widget = txt(receipt, "TxnID"), txt(receipt.find("SalesReceiptLineRet"), "TxnLineID")
    changed = qb.ok(f"<SalesReceiptModRq><SalesReceiptMod><TxnID>{txn_id}</TxnID><EditSequence>"
                    f"{txt(receipt, 'EditSequence')}</EditSequence><Memo>Paid at the counter</Memo>"
                    "<DepositToAccountRef><FullName>Checking</FullName></DepositToAccountRef>"
                    f"<SalesReceiptLineMod><TxnLineID>{widget}"
                    "</TxnLineID><Quantity>3</Quantity></SalesReceiptLineMod></SalesReceiptMod></SalesReceiptModRq>")
    assert (txt(changed, "Memo"), txt(changed, "DepositToAccountRef/FullName"), txt(changed, "Subtotal"),
            txt(changed, "SalesTaxTotal"), txt(changed, "TotalAmount")) == (
        "Paid at the counter", "Checking", "300.00", "21.75", "321.75")
    assert [txt(line, "TxnLineID") for line in changed.findall("SalesReceiptLineRet")] == [widget]
    stale = qb.one(f"<SalesReceiptModRq><SalesReceiptMod><TxnID>{txn_id}</TxnID><EditSequence>"
                   f"{txt(receipt, 'EditSequence')}</EditSequence><Memo>Again</Memo></SalesReceiptMod>"
                   "</SalesReceiptModRq>")
    assert stale.get("statusCode") == "3200"


@pytest.mark.parametrize("kind", ["CreditMemo", "SalesReceipt"])
def test_show_lists_credit_memos_and_sales_receipts(tmp_path, kind):
    import json

    from typer.testing import CliRunner

    from qbsf.sim.quickbooks import QuickBooksSimulator
    from qbsf.sim.quickbooks.cli import app

    path = tmp_path / "company.qbsim"
    with QuickBooksSimulator(path) as sim:
        sim.add("Customer", {"Name": "Acme"})
        sim.add("ItemService", {"Name": "Widget", "SalesOrPurchase": {"Price": "10.00",
                                                                      "AccountRef": {"FullName": "Sales"}}})
        made = sim.add(kind, {"CustomerRef": {"FullName": "Acme"}, "RefNumber": "R-1",
                              f"{kind}LineAdd": [{"ItemRef": {"FullName": "Widget"}, "Quantity": "2"}]})
    result = CliRunner().invoke(app, ["show", str(path), "--kind", kind])
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in result.output.splitlines()]
    assert (record["TxnID"], record["RefNumber"], record["TotalAmount"]) == (made["TxnID"], "R-1", "20.00")
