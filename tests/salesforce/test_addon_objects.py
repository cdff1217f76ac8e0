"""The add-on objects (payments and their lines, credit memos, sales receipts, vendors, bills): the emulated org learns
them from the package and serves them over the REST API: upsert by their QuickBooks id, query by it, lookups
followed, restricted picklists enforced."""

from __future__ import annotations

import pytest

V = "/services/data/v62.0"


@pytest.fixture
def api(sf_emulator):
    with sf_emulator.client() as client:
        yield client


def upsert(api, sobject: str, field: str, value: str, record: dict) -> str:
    answer = api.patch(f"{V}/sobjects/{sobject}/{field}/{value}", json=record)
    assert answer.status_code in (200, 201), answer.text
    return api.get(f"{V}/sobjects/{sobject}/{field}/{value}").json()["Id"]


def query(api, soql: str) -> list[dict]:
    answer = api.get(f"{V}/query", params={"q": soql})
    assert answer.status_code == 200, answer.text
    return answer.json()["records"]


def test_payment_with_lines_across_two_invoices(api, sf_emulator):
    account = sf_emulator.state.insert("Account", {"Name": "Acme"})
    invoices = [upsert(api, "QB_Invoice__c", "QB_Invoice_ID__c", f"{n}-1", {"Name": str(n), "Amount__c": 100})
                for n in (1, 2)]
    payment = upsert(api, "QB_Payment__c", "QB_Payment_ID__c", "9-1", {
        "Name": "CHK-9", "Linked_Account__c": account, "Amount__c": 150.0, "Unused_Amount__c": 0,
        "Payment_Date__c": "2026-03-02", "Payment_Method__c": "Check", "Reference_Number__c": "CHK-9"})
    for invoice, n, applied in ((invoices[0], 1, 100.0), (invoices[1], 2, 50.0)):
        upsert(api, "QB_Payment_Line__c", "QB_Payment_Line_ID__c", f"9-1:{n}-1", {
            "Name": f"CHK-9 / {n}", "Payment__c": payment, "Invoice__c": invoice, "Amount_Applied__c": applied,
            "Invoice_Balance__c": 100.0 - applied})
    (found,) = query(api, "SELECT Id, Amount__c, Linked_Account__r.Name, Deleted_In_QuickBooks__c FROM QB_Payment__c "
                          "WHERE QB_Payment_ID__c = '9-1'")
    assert (found["Id"], found["Amount__c"], found["Linked_Account__r"]["Name"]) == (payment, 150.0, "Acme")
    assert found["Deleted_In_QuickBooks__c"] is False
    lines = query(api, "SELECT Invoice__r.Name, Amount_Applied__c, Invoice_Balance__c FROM QB_Payment_Line__c "
                       f"WHERE Payment__c = '{payment}' ORDER BY Invoice__r.Name")
    assert [(x["Invoice__r"]["Name"], x["Amount_Applied__c"], x["Invoice_Balance__c"]) for x in lines] == [
        ("1", 100.0, 0.0), ("2", 50.0, 50.0)]
    # The same TxnID again updates the record rather than adding a second one.
    upsert(api, "QB_Payment__c", "QB_Payment_ID__c", "9-1", {"Deleted_In_QuickBooks__c": True})
    assert len(query(api, "SELECT Id FROM QB_Payment__c")) == 1


def test_vendor_and_bill_with_derived_status(api):
    vendor = upsert(api, "QB_Vendor__c", "QB_Vendor_ID__c", "80000040-1", {
        "Name": "Paper Co", "Company_Name__c": "Paper Company", "City__c": "Elko", "Balance__c": 65.5,
        "Email__c": "ap@paper.example", "Phone__c": "775-555-0100"})
    upsert(api, "QB_Bill__c", "QB_Bill_ID__c", "12-1", {
        "Name": "PC-1001", "Vendor__c": vendor, "Bill_Date__c": "2026-03-01", "Due_Date__c": "2026-03-16",
        "Reference_Number__c": "PC-1001", "Amount__c": 65.5, "Open_Balance__c": 65.5, "Status__c": "Open"})
    (bill,) = query(api, "SELECT Vendor__r.Name, Vendor__r.Active__c, Open_Balance__c, Status__c FROM QB_Bill__c "
                         "WHERE QB_Bill_ID__c = '12-1'")
    assert (bill["Vendor__r"]["Name"], bill["Vendor__r"]["Active__c"], bill["Status__c"]) == ("Paper Co", True, "Open")
    refused = api.patch(f"{V}/sobjects/QB_Bill__c/QB_Bill_ID__c/12-1", json={"Status__c": "Settled"})
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    (vendor_row,) = query(api, "SELECT (SELECT Name FROM QB_Bills__r) FROM QB_Vendor__c")
    assert [r["Name"] for r in vendor_row["QB_Bills__r"]["records"]] == ["PC-1001"]


def test_credit_memo_and_sales_receipt(api, sf_emulator):
    account = sf_emulator.state.insert("Account", {"Name": "Acme"})
    invoice = upsert(api, "QB_Invoice__c", "QB_Invoice_ID__c", "1-1", {"Name": "1"})
    upsert(api, "QB_Credit_Memo__c", "QB_Credit_Memo_ID__c", "20-1", {
        "Name": "CM-1", "Linked_Account__c": account, "Invoice__c": invoice, "Amount__c": 70.0,
        "Credit_Remaining__c": 70.0, "Credit_Date__c": "2026-03-03", "Credit_Number__c": "CM-1",
        "Lines_Summary__c": "Widget × 2: 20.00\nConsulting: 50.00"})
    upsert(api, "QB_Sales_Receipt__c", "QB_Sales_Receipt_ID__c", "21-1", {
        "Name": "SR-1", "Linked_Account__c": account, "Amount__c": 12.5, "Receipt_Date__c": "2026-03-03",
        "Payment_Method__c": "Cash"})
    (memo,) = query(api, "SELECT Status__c, Credit_Remaining__c, Invoice__r.Name FROM QB_Credit_Memo__c "
                         "WHERE QB_Credit_Memo_ID__c = '20-1'")
    assert (memo["Status__c"], memo["Credit_Remaining__c"], memo["Invoice__r"]["Name"]) == ("Open", 70.0, "1")
    (receipt,) = query(api, "SELECT Amount__c, Linked_Account__r.Name FROM QB_Sales_Receipt__c "
                            "WHERE QB_Sales_Receipt_ID__c = '21-1'")
    assert (receipt["Amount__c"], receipt["Linked_Account__r"]["Name"]) == (12.5, "Acme")
    (acme,) = query(api, "SELECT (SELECT Name FROM QB_Credit_Memos__r), (SELECT Name FROM QB_Sales_Receipts__r) "
                         "FROM Account")
    assert acme["QB_Credit_Memos__r"]["records"][0]["Name"] == "CM-1"
    assert acme["QB_Sales_Receipts__r"]["records"][0]["Name"] == "SR-1"


@pytest.mark.parametrize(("sobject", "id_field"), [
    ("QB_Payment__c", "QB_Payment_ID__c"), ("QB_Payment_Line__c", "QB_Payment_Line_ID__c"),
    ("QB_Credit_Memo__c", "QB_Credit_Memo_ID__c"), ("QB_Sales_Receipt__c", "QB_Sales_Receipt_ID__c"),
    ("QB_Vendor__c", "QB_Vendor_ID__c"), ("QB_Bill__c", "QB_Bill_ID__c"),
])
def test_each_object_is_described_with_its_external_id(api, sobject, id_field):
    described = api.get(f"{V}/sobjects/{sobject}/describe").json()
    fields = {f["name"]: f for f in described["fields"]}
    assert described["custom"] is True
    assert (fields[id_field]["externalId"], fields[id_field]["unique"], fields[id_field]["length"]) == (True, True, 50)


def test_order_and_quote_carry_the_quickbooks_ids_and_states(api, sf_emulator):
    state = sf_emulator.state
    account = state.insert("Account", {"Name": "Acme"})
    order = state.insert("Order", {"AccountId": account, "EffectiveDate": "2026-03-01", "Status": "Draft"})
    answer = api.patch(f"{V}/sobjects/Order/{order}", json={
        "QB_Sales_Order_ID__c": "31-1", "QB_Fully_Invoiced__c": True, "QB_Manually_Closed__c": False})
    assert answer.status_code == 204, answer.text
    (found,) = query(api, "SELECT Id, QB_Fully_Invoiced__c, QB_Manually_Closed__c FROM Order "
                          "WHERE QB_Sales_Order_ID__c = '31-1'")
    assert (found["Id"], found["QB_Fully_Invoiced__c"], found["QB_Manually_Closed__c"]) == (order, True, False)
    opportunity = state.insert("Opportunity", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-04-01",
                                               "AccountId": account})
    quote = state.insert("Quote", {"Name": "Q-1", "OpportunityId": opportunity})
    assert state.get("Quote", quote)["QB_Estimate_Active__c"] is True  # the estimate starts active in QuickBooks
    api.patch(f"{V}/sobjects/Quote/{quote}", json={"QB_Estimate_ID__c": "32-1", "QB_Estimate_Active__c": False})
    (estimate,) = query(api, "SELECT QB_Estimate_Active__c FROM Quote WHERE QB_Estimate_ID__c = '32-1'")
    assert estimate["QB_Estimate_Active__c"] is False
    second = state.insert("Order", {"AccountId": account, "EffectiveDate": "2026-03-02", "Status": "Draft"})
    clash = api.patch(f"{V}/sobjects/Order/{second}", json={"QB_Sales_Order_ID__c": "31-1"})
    assert clash.status_code == 400 and clash.json()[0]["errorCode"] == "DUPLICATE_VALUE"


def _permissions(name: str) -> tuple[dict[str, tuple[str, str]], dict[str, dict[str, str]]]:
    from pathlib import Path

    from qbsf.xmlsafe import parse_xml

    ns = "{http://soap.sforce.com/2006/04/metadata}"
    path = Path(__file__).resolve().parents[2] / "salesforce/force-app/main/default/permissionsets" / name
    document = parse_xml(path.read_bytes())
    fields = {p.findtext(f"{ns}field"): (p.findtext(f"{ns}readable"), p.findtext(f"{ns}editable"))
              for p in document.iter(f"{ns}fieldPermissions")}
    objects = {p.findtext(f"{ns}object"): {c.tag.removeprefix(ns): c.text for c in p}
               for p in document.iter(f"{ns}objectPermissions")}
    return fields, objects


ADDON_OBJECTS = ("QB_Payment__c", "QB_Payment_Line__c", "QB_Credit_Memo__c", "QB_Sales_Receipt__c", "QB_Vendor__c",
                 "QB_Bill__c")


def test_qbsf_users_read_every_add_on_object_and_field_and_change_none():
    from pathlib import Path

    default = Path(__file__).resolve().parents[2] / "salesforce/force-app/main/default"
    fields, objects = _permissions("QBSF_User.permissionset-meta.xml")
    wanted = {f"{obj}.{p.name.removesuffix('.field-meta.xml')}" for obj in (*ADDON_OBJECTS, "Order", "Quote")
              for p in (default / "objects" / obj / "fields").glob("*.field-meta.xml")}
    assert len(wanted) > 50
    assert {field: fields.get(field) for field in wanted} == dict.fromkeys(wanted, ("true", "false"))
    for obj in ADDON_OBJECTS:
        assert (objects[obj]["allowRead"], objects[obj]["allowEdit"], objects[obj]["allowCreate"],
                objects[obj]["allowDelete"]) == ("true", "false", "false", "false"), obj


def test_the_connector_writes_orders_quotes_and_their_lines():
    fields, objects = _permissions("QBSF_Connector.permissionset-meta.xml")
    for obj in ("Order", "OrderItem", "Quote", "QuoteLineItem"):
        assert objects[obj]["allowRead"] == objects[obj]["allowEdit"] == "true", obj
    for field in ("Order.QB_Sales_Order_ID__c", "Order.QB_Fully_Invoiced__c", "Quote.QB_Estimate_ID__c"):
        assert fields[field] == ("true", "true")
