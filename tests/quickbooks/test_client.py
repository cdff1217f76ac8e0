"""QuickBooksClient round trips through the simulator; every message is schema-checked by qb_transport."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from qbsf.errors import AfterDependency, ConfigError, NeedsUser, Retriable, Skippable
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.bodies import external_guid
from qbsf.quickbooks.client import Change, DefaultAccounts, QuickBooksClient
from qbsf.quickbooks.errors import (
    InvalidReference,
    InvalidSetupReference,
    MissingAccountError,
    NameInUse,
    ObjectNotFound,
    RecordBusy,
)


def test_customer_add_query_mod_round_trip(qb_client, qb_sim):
    added = qb_client.add(rec.customer_from_flat({
        "Name": "Acme Corp", "CompanyName": "Acme Corporation", "BillAddr1": "1 Main St", "BillAddr2": "Suite 4",
        "BillAddress.City": "Springfield", "BillAddress.State": "IL", "BillAddress.PostalCode": "62701",
        "Phone": "555-0100", "Email": "ap@acme.example", "TermsRef": "Net 30", "IsActive": "true",
    }), salesforce_id="001000000000001")
    assert added.ListID and added.EditSequence and added.FullName == "Acme Corp"
    assert added.TermsRef.FullName == "Net 30" and added.TermsRef.ListID
    assert added.ExternalGUID == external_guid("001000000000001")
    stored = qb_sim.get(added.ListID)
    assert stored["BillAddress"]["Addr2"] == "Suite 4"

    [read] = list(qb_client.query_customers(list_ids=[added.ListID]))
    assert rec.to_flat(read)["BillAddress.City"] == "Springfield"
    changed = qb_client.mod(read, {"Phone": "555-0199", "BillAddress.City": "Shelbyville", "BillAddr2": None})
    assert changed.Phone == "555-0199"
    assert changed.BillAddress.City == "Shelbyville" and changed.BillAddress.Addr1 == "1 Main St"
    assert changed.BillAddress.Addr2 is None
    assert changed.EditSequence != read.EditSequence
    # Re-pointing a reference by name drops the old ListID, so QuickBooks follows the new name.
    net15 = qb_client.mod(changed, {"TermsRef.FullName": "Net 15"})
    assert net15.TermsRef.FullName == "Net 15" and net15.TermsRef.ListID != added.TermsRef.ListID


def test_sub_customer_has_full_name_and_sublevel(qb_client):
    parent = qb_client.add(rec.Customer(Name="Globex"))
    child = qb_client.add(rec.customer_from_flat({"Name": "Hank Scorpio", "ParentRef.ListID": parent.ListID}))
    assert child.FullName == "Globex:Hank Scorpio"
    assert child.Sublevel == 1 and child.ParentRef.ListID == parent.ListID
    [by_name] = list(qb_client.query_customers(names=["Globex:Hank Scorpio"]))
    assert by_name.ListID == child.ListID


def test_items_use_default_accounts(qb_client):
    service, non_inventory, inventory = (r.ret for r in qb_client.add_many([
        rec.item_service_from_flat({"Name": "Consulting", "SalesDesc": "Hourly", "SalesPrice": "150"}),
        rec.item_non_inventory_from_flat({"Name": "Widget NI", "SalesPrice": "9.99", "PurchaseCost": "4.5"}),
        rec.item_inventory_from_flat({"Name": "Widget", "SalesPrice": "19.95", "PurchaseCost": "7.25"}),
    ]))
    assert service.IncomeAccountRef.FullName == "Sales" and service.SalesPrice == Decimal("150")
    assert non_inventory.ExpenseAccountRef.FullName == "Office Supplies"
    assert non_inventory.PurchaseCost == Decimal("4.5")
    assert inventory.COGSAccountRef.FullName == "Cost of Goods Sold"
    assert inventory.AssetAccountRef.FullName == "Inventory Asset"
    kinds = {type(item).__name__ for item in qb_client.query_items()}
    assert kinds == {"ItemService", "ItemNonInventory", "ItemInventory"}
    repriced = qb_client.mod(service, {"SalesPrice": "175.5", "SalesDesc": "Senior hourly"})
    assert repriced.SalesPrice == Decimal("175.5") and repriced.SalesDesc == "Senior hourly"


def test_missing_asset_account_is_the_manuals_error(qb_transport):
    client = QuickBooksClient(qb_transport, default_accounts=DefaultAccounts(income="Sales", cogs="Cost of Goods Sold"))
    [result] = client.add_many([rec.ItemInventory(Name="Gadget")])
    assert isinstance(result.error, MissingAccountError) and isinstance(result.error, NeedsUser)
    assert "asset account required" in str(result.error)
    assert "Set Inventory Asset Account in QB Accounts settings".lower() in str(result.error).lower()
    misspelt = QuickBooksClient(qb_transport, default_accounts=DefaultAccounts(income="Salez"))
    [wrong] = misspelt.add_many([rec.ItemService(Name="Misspelt")])
    assert isinstance(wrong.error, InvalidSetupReference) and isinstance(wrong.error, NeedsUser)
    assert wrong.error.code == 3140 and "Chart of Accounts" in wrong.error.hint
    no_income = QuickBooksClient(qb_transport)
    with pytest.raises(MissingAccountError, match="income account required"):
        no_income.add(rec.ItemService(Name="Support"))


def test_invoice_add_query_and_line_replacement(qb_client, qb_sim):
    customer = qb_client.add(rec.Customer(Name="Initech"))
    a, b, c = (qb_client.add(rec.ItemService(Name=name, SalesPrice=Decimal(price)))
               for name, price in (("TPS", "10"), ("Stapler", "5"), ("Printer", "300")))
    invoice = qb_client.add(rec.invoice_from_flat(
        {"CustomerRef.ListID": customer.ListID, "RefNumber": "INV-1", "Memo": "first", "TermsRef": "Net 30"},
        lines=[{"ItemRef.ListID": a.ListID, "Quantity": 2, "Rate": "10"},
               {"ItemRef.ListID": b.ListID, "Quantity": 1, "Desc": "red"}]), salesforce_id="006000000000001AAA")
    assert invoice.TxnID and len(invoice.lines) == 2 and invoice.Subtotal == Decimal("25.00")
    assert invoice.BalanceRemaining == Decimal("25.00") and invoice.IsPaid is False
    assert invoice.DueDate == invoice.TxnDate + timedelta(days=30)
    first, second = invoice.lines

    kept = rec.InvoiceLine(TxnLineID=first.TxnLineID, ItemRef=first.ItemRef, Quantity=Decimal(3), Rate=Decimal(10))
    new = rec.InvoiceLine(ItemRef=rec.Ref(ListID=c.ListID), Quantity=Decimal(1))
    replaced = qb_client.mod(invoice, {"Memo": "second"}, lines=[kept, new])
    assert replaced.Memo == "second"
    assert [line.ItemRef.FullName for line in replaced.lines] == ["TPS", "Printer"]
    assert replaced.lines[0].TxnLineID == first.TxnLineID
    assert second.TxnLineID not in {line.TxnLineID for line in replaced.lines}
    assert replaced.Subtotal == Decimal("330.00")
    [again] = list(qb_client.query_invoices(txn_ids=[invoice.TxnID]))
    assert len(again.lines) == 2 and qb_sim.get(invoice.TxnID)["Subtotal"] == "330.00"


def test_invoice_query_by_modified_date(qb_client, qb_sim):
    customer = qb_client.add(rec.Customer(Name="Umbrella"))
    item = qb_client.add(rec.ItemService(Name="Vaccine", SalesPrice=Decimal(1)))
    old = qb_client.add(rec.Invoice(CustomerRef=rec.Ref(ListID=customer.ListID),
                                    lines=[rec.InvoiceLine(ItemRef=rec.Ref(ListID=item.ListID), Quantity=Decimal(1))]))
    qb_sim.advance(120)
    watermark = qb_sim.now()
    qb_sim.advance(60)
    new = qb_client.add(rec.Invoice(CustomerRef=rec.Ref(ListID=customer.ListID),
                                    lines=[rec.InvoiceLine(ItemRef=rec.Ref(ListID=item.ListID), Quantity=Decimal(2))]))
    since = [inv.TxnID for inv in qb_client.query_invoices(modified_since=watermark)]
    assert since == [new.TxnID]
    everything = {inv.TxnID for inv in qb_client.query_invoices(include_lines=False)}
    assert everything == {old.TxnID, new.TxnID}
    qb_sim.advance(60)
    fresh = {c.ListID for c in qb_client.query_customers(modified_since=watermark)}
    assert customer.ListID not in fresh


def test_account_and_terms(qb_client):
    accounts = {a.FullName: a for a in qb_client.query_accounts()}
    assert accounts["Sales"].AccountType == "Income"
    created = qb_client.add(rec.Account(Name="Consulting Income", AccountType="Income", Desc="fees"))
    renamed = qb_client.mod(created, {"Desc": "consulting fees"})
    assert renamed.Desc == "consulting fees"
    assert [a.Name for a in qb_client.query_accounts(names=["Consulting Income"])] == ["Consulting Income"]
    terms = qb_client.add(rec.terms_from_flat({"Name": "Net 45", "StdDueDays": "45"}))
    monthly = qb_client.add(rec.terms_from_flat({"Name": "10th of month", "DayOfMonthDue": 10}, "DateDrivenTerms"))
    listed = {t.Name: t for t in qb_client.query_terms()}
    assert listed["Net 45"].StdDueDays == 45 and terms.kind == "StandardTerms"
    assert listed["10th of month"].kind == "DateDrivenTerms" and monthly.DayOfMonthDue == 10


def test_host_company_and_deleted(qb_client, qb_sim):
    assert qb_client.qbxml_version == "16.0"
    assert "16.0" in qb_client.host().SupportedQBXMLVersion
    assert qb_client.company().CompanyName
    gone = qb_client.add(rec.Customer(Name="Soon Gone"))
    start = qb_sim.now() - timedelta(minutes=1)
    qb_sim.delete(gone.ListID)
    deleted = qb_client.query_deleted(list_types=["Customer"], txn_types=["Invoice"], since=start)
    assert [(d.kind, d.id, d.FullName) for d in deleted] == [("Customer", gone.ListID, "Soon Gone")]


class Recorder:
    """Keeps every request document that passes through."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.requests: list[str] = []

    def send(self, request_xml: str) -> str:
        self.requests.append(request_xml)
        return self.inner.send(request_xml)

    def close(self) -> None:
        self.inner.close()


def test_version_negotiation_with_a_13_host(validating):
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator(qbxml_versions=("13.0",))
    recorder = Recorder(SimulatorTransport(sim))
    transport = validating(recorder)
    client = QuickBooksClient(transport, default_accounts=DefaultAccounts(income="Sales"))
    assert client.qbxml_version == "13.0"
    added = client.add(rec.Customer(Name="Old QuickBooks Co"))
    assert added.ListID
    assert transport.messages_sent == 2
    item = client.add(rec.ItemService(Name="Old Service", SalesPrice=Decimal(5)))
    invoice = client.add(rec.Invoice(CustomerRef=rec.Ref(ListID=added.ListID), lines=[
        rec.InvoiceLine(ItemRef=rec.Ref(ListID=item.ListID), Quantity=Decimal(3))]))
    [again] = list(client.query_invoices(modified_since=invoice.TimeModified))
    assert again.Subtotal == Decimal("15.00")
    assert all('<?qbxml version="13.0"?>' in xml for xml in recorder.requests) and len(recorder.requests) == 5
    sim.close()


@pytest.mark.parametrize(("code", "error", "category"), [
    (3170, RecordBusy, Retriable), (3175, RecordBusy, Retriable), (3180, RecordBusy, Retriable),
])
def test_busy_statuses_are_retriable(qb_client, qb_sim, code, error, category):
    qb_sim.fail_next(status_code=code, request_type="CustomerAdd")
    first, second = qb_client.add_many([rec.Customer(Name="A"), rec.Customer(Name="B")])
    assert isinstance(first.error, error) and isinstance(first.error, category)
    assert first.error.code == code and first.error.hint
    assert second.ok


def test_name_in_use_across_lists_needs_user(qb_client, qb_sim):
    qb_sim.add("Vendor", {"Name": "Dual Role Inc"})
    [result] = qb_client.add_many([rec.Customer(Name="Dual Role Inc")])
    assert isinstance(result.error, NameInUse) and isinstance(result.error, NeedsUser)
    assert result.error.code == 3100 and "vendors" in result.error.hint


def test_invalid_reference_waits_for_dependency(qb_client):
    customer = qb_client.add(rec.Customer(Name="Wayne Enterprises"))
    [result] = qb_client.add_many([rec.Invoice(CustomerRef=rec.Ref(ListID=customer.ListID), lines=[
        rec.InvoiceLine(ItemRef=rec.Ref(FullName="Not Synced Yet"), Quantity=Decimal(1))])])
    assert isinstance(result.error, InvalidReference) and isinstance(result.error, AfterDependency)
    assert result.error.code == 3140 and "Sync Product2 to QB before syncing Opportunity" in result.error.hint


def test_missing_records_are_skippable_and_warnings_are_logged(qb_client, qb_sim, caplog):
    customer = qb_client.add(rec.Customer(Name="Ephemeral"))
    kept = qb_client.add(rec.Customer(Name="Kept"))
    qb_sim.delete(customer.ListID)
    [result] = qb_client.mod_many([Change(customer, {"Phone": "1"})])
    assert isinstance(result.error, ObjectNotFound) and isinstance(result.error, Skippable)
    assert result.error.code == 3120
    caplog.set_level(logging.WARNING)
    found = list(qb_client.query_customers(list_ids=[customer.ListID, kept.ListID]))
    assert [c.Name for c in found] == ["Kept"]
    assert "warning 500" in caplog.text and customer.ListID in caplog.text


class OldHost:
    """QuickBooks 2012: answers HostQuery with versions up to 11.0 (as its HostRet would)."""

    def send(self, request_xml: str) -> str:
        assert "<HostQueryRq" in request_xml and '<?qbxml version="13.0"?>' in request_xml
        versions = "".join(f"<SupportedQBXMLVersion>{v}</SupportedQBXMLVersion>" for v in ("10.0", "11.0"))
        return ('<?xml version="1.0"?><QBXML><QBXMLMsgsRs><HostQueryRs requestID="host" statusCode="0" '
                'statusSeverity="Info"><HostRet><ProductName>QuickBooks Pro 2012</ProductName>'
                f"<MajorVersion>22</MajorVersion><MinorVersion>0</MinorVersion>{versions}</HostRet>"
                "</HostQueryRs></QBXMLMsgsRs></QBXML>")

    def close(self) -> None:
        self.closed = True


def test_a_host_without_a_known_version_is_a_clear_error():
    client = QuickBooksClient(OldHost())
    with pytest.raises(NeedsUser, match=r"supports qbXML 10\.0, 11\.0; qbsf needs 16\.0 or 13\.0") as caught:
        _ = client.qbxml_version
    assert "2019 or later" in caught.value.hint
    with pytest.raises(ConfigError, match="not supported"):
        QuickBooksClient(OldHost(), qbxml_version="12.0")


def test_lookups_by_ref_number_names_and_deleted_transactions(qb_client, qb_sim):
    customer = qb_client.add(rec.Customer(Name="Lookup Co"))
    gadget = qb_client.add(rec.ItemNonInventory(Name="Gadget", SalesPrice=Decimal("2.50")))
    qb_client.add(rec.ItemService(Name="Setup", SalesPrice=Decimal(40)))
    invoice = qb_client.add(rec.Invoice(CustomerRef=rec.Ref(ListID=customer.ListID), RefNumber="R-77", lines=[
        rec.InvoiceLine(ItemRef=rec.Ref(FullName="Gadget"), Quantity=Decimal(4))]))
    [by_ref] = list(qb_client.query_invoices(ref_numbers=["R-77"], include_lines=False))
    assert by_ref.TxnID == invoice.TxnID and by_ref.lines == [] and by_ref.Subtotal == Decimal("10.00")
    assert {i.Name for i in qb_client.query_items(names=["Gadget", "Setup"])} == {"Gadget", "Setup"}
    assert [type(i).__name__ for i in qb_client.query_items(list_ids=[gadget.ListID])] == ["ItemNonInventory"]
    qb_sim.delete(invoice.TxnID)
    [gone] = qb_client.query_deleted(txn_types=["Invoice"])
    assert (gone.kind, gone.id, gone.RefNumber) == ("Invoice", invoice.TxnID, "R-77")
    assert gone.TimeDeleted is not None


def test_empty_values_from_a_mapping_are_left_out_of_adds(qb_client):
    added = qb_client.add(rec.customer_from_flat({"Name": "Blanks", "Phone": "", "TermsRef": "", "BillAddr1": "",
                                                  "ShipAddress.City": "Dover", "ShipAddr2": ""}))
    assert added.Phone is None and added.TermsRef is None and added.BillAddress is None
    assert added.ShipAddress == rec.Address(City="Dover")
    cleared = qb_client.mod(added, {"ShipAddress.City": "", "ShipAddr1": "Pier 9"})
    assert cleared.ShipAddress == rec.Address(Addr1="Pier 9")
