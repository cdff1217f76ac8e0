"""Order/OrderItem and Quote/QuoteLineItem in the emulated org: required fields, price book rules, roll-ups."""

from __future__ import annotations

import pytest

from qbsf.sim.salesforce.values import ApiError

V = "/services/data/v62.0"


@pytest.fixture
def books(sf_state):
    """An account, a product priced in the standard book (100) and in a custom book (90), and an opportunity."""
    state = sf_state
    product = state.insert("Product2", {"Name": "Widget"})
    other = state.insert("Product2", {"Name": "Gadget"})
    standard = state.standard_pricebook_id
    custom = state.insert("Pricebook2", {"Name": "Partners", "IsActive": True})
    entries = {
        "standard": state.insert("PricebookEntry", {"Pricebook2Id": standard, "Product2Id": product,
                                                    "UnitPrice": 100, "IsActive": True}),
        "custom": state.insert("PricebookEntry", {"Pricebook2Id": custom, "Product2Id": product, "UnitPrice": 90,
                                                  "IsActive": True}),
        "gadget": state.insert("PricebookEntry", {"Pricebook2Id": standard, "Product2Id": other, "UnitPrice": 5,
                                                  "IsActive": True}),
    }
    account = state.insert("Account", {"Name": "Acme"})
    opportunity = state.insert("Opportunity", {"Name": "Big deal", "StageName": "Prospecting",
                                               "CloseDate": "2026-04-01", "AccountId": account,
                                               "Pricebook2Id": standard})
    return {"state": state, "standard_book": standard, "custom_book": custom, "account": account,
            "opportunity": opportunity, "product": product, **entries}


def refused(action) -> ApiError:
    with pytest.raises(ApiError) as caught:
        action()
    return caught.value


def test_order_required_fields_status_category_and_number(books):
    state = books["state"]
    missing = refused(lambda: state.insert("Order", {"AccountId": books["account"], "Status": "Draft"}))
    assert missing.error_code == "REQUIRED_FIELD_MISSING" and "EffectiveDate" in missing.fields
    no_account = refused(lambda: state.insert("Order", {"EffectiveDate": "2026-03-01", "Status": "Draft"}))
    assert no_account.error_code == "REQUIRED_FIELD_MISSING" and "AccountId" in no_account.fields
    order_id = state.insert("Order", {"AccountId": books["account"], "EffectiveDate": "2026-03-01",
                                      "Status": "Draft"})
    order = state.get("Order", order_id)
    assert (order["StatusCode"], order["OrderNumber"]) == ("Draft", "00000001")
    state.update("Order", order_id, {"Status": "Activated"})
    assert state.get("Order", order_id)["StatusCode"] == "Activated"


def test_order_products_follow_the_orders_price_book_and_roll_up(books):
    state = books["state"]
    order_id = state.insert("Order", {"AccountId": books["account"], "EffectiveDate": "2026-03-01",
                                      "Status": "Draft"})
    no_book = refused(lambda: state.insert("OrderItem", {"OrderId": order_id, "PricebookEntryId": books["standard"],
                                                         "Quantity": 1, "UnitPrice": 100}))
    assert (no_book.error_code, no_book.message) == ("FIELD_INTEGRITY_EXCEPTION", "Price Book Not Set on Order")
    state.update("Order", order_id, {"Pricebook2Id": books["custom_book"]})
    wrong_book = refused(lambda: state.insert("OrderItem", {
        "OrderId": order_id, "PricebookEntryId": books["standard"], "Quantity": 1, "UnitPrice": 100}))
    assert wrong_book.error_code == "FIELD_INTEGRITY_EXCEPTION" and wrong_book.fields == ["PricebookEntryId"]
    no_entry = refused(lambda: state.insert("OrderItem", {"OrderId": order_id, "Quantity": 1, "UnitPrice": 1}))
    assert no_entry.error_code == "REQUIRED_FIELD_MISSING" and "PricebookEntryId" in no_entry.fields
    first = state.insert("OrderItem", {"OrderId": order_id, "PricebookEntryId": books["custom"], "Quantity": 3,
                                       "UnitPrice": 85})
    second = state.insert("OrderItem", {"OrderId": order_id, "PricebookEntryId": books["custom"], "Quantity": 1,
                                        "UnitPrice": 90})
    item = state.get("OrderItem", first)
    assert (item["Product2Id"], item["ListPrice"], item["TotalPrice"]) == (books["product"], 90, 255)
    assert state.get("Order", order_id)["TotalAmount"] == 345
    state.update("OrderItem", second, {"Quantity": 2})
    assert state.get("Order", order_id)["TotalAmount"] == 435
    state.delete("OrderItem", first)  # a line removed in Salesforce
    assert state.get("Order", order_id)["TotalAmount"] == 180


def test_quote_takes_the_opportunitys_account_and_book_and_totals_its_lines(books):
    state = books["state"]
    missing = refused(lambda: state.insert("Quote", {"Name": "Q"}))
    assert missing.error_code == "REQUIRED_FIELD_MISSING" and "OpportunityId" in missing.fields
    quote_id = state.insert("Quote", {"Name": "Big deal quote", "OpportunityId": books["opportunity"]})
    quote = state.get("Quote", quote_id)
    assert (quote["AccountId"], quote["Pricebook2Id"], quote["Status"], quote["IsSyncing"]) == (
        books["account"], books["standard_book"], "Draft", False)
    wrong_book = refused(lambda: state.insert("QuoteLineItem", {
        "QuoteId": quote_id, "PricebookEntryId": books["custom"], "Quantity": 1, "UnitPrice": 90}))
    assert wrong_book.error_code == "FIELD_INTEGRITY_EXCEPTION"
    state.insert("QuoteLineItem", {"QuoteId": quote_id, "PricebookEntryId": books["standard"], "Quantity": 2,
                                   "UnitPrice": 100, "Discount": 10})
    line = state.insert("QuoteLineItem", {"QuoteId": quote_id, "PricebookEntryId": books["gadget"], "Quantity": 4,
                                          "UnitPrice": 5})
    assert (state.get("QuoteLineItem", line)["Subtotal"], state.get("QuoteLineItem", line)["LineNumber"]) == (
        20, "00002")
    quote = state.get("Quote", quote_id)
    assert (quote["Subtotal"], quote["TotalPrice"], quote["GrandTotal"], quote["LineItemCount"]) == (220, 200, 200, 2)


def test_orders_and_quotes_over_rest_with_their_children(books, sf_emulator):
    state = sf_emulator.state
    assert state is books["state"]
    with sf_emulator.client() as api:
        created = api.post(f"{V}/sobjects/Order", json={"AccountId": books["account"], "EffectiveDate": "2026-03-01",
                                                         "Status": "Draft", "Pricebook2Id": books["standard_book"]})
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        line = api.post(f"{V}/sobjects/OrderItem", json={"OrderId": order_id, "PricebookEntryId": books["standard"],
                                                          "Quantity": 2, "UnitPrice": 100})
        assert line.status_code == 201, line.text
        rows = api.get(f"{V}/query", params={"q": "SELECT OrderNumber, TotalAmount, Account.Name, (SELECT Quantity, "
                                                  "Product2.Name FROM OrderItems) FROM Order"}).json()["records"]
        assert rows[0]["TotalAmount"] == 200 and rows[0]["Account"]["Name"] == "Acme"
        assert rows[0]["OrderItems"]["records"][0]["Product2"]["Name"] == "Widget"
        for sobject in ("Order", "OrderItem", "Quote", "QuoteLineItem"):
            described = api.get(f"{V}/sobjects/{sobject}/describe").json()
            assert described["name"] == sobject and described["custom"] is False


def test_the_opportunitys_synced_quote_is_the_one_quote_syncing(books):
    state = books["state"]
    first = state.insert("Quote", {"Name": "First", "OpportunityId": books["opportunity"]})
    second = state.insert("Quote", {"Name": "Second", "OpportunityId": books["opportunity"]})
    assert (state.get("Quote", first)["IsSyncing"], state.get("Quote", second)["IsSyncing"]) == (False, False)
    before = state.get("Quote", first)["SystemModstamp"]
    state.update("Opportunity", books["opportunity"], {"SyncedQuoteId": first})
    assert state.get("Quote", first)["IsSyncing"] is True
    assert state.get("Quote", first)["SystemModstamp"] >= before
    state.update("Opportunity", books["opportunity"], {"SyncedQuoteId": second})
    assert (state.get("Quote", first)["IsSyncing"], state.get("Quote", second)["IsSyncing"]) == (False, True)
    other = state.insert("Opportunity", {"Name": "Other deal", "StageName": "Prospecting", "CloseDate": "2026-04-01",
                                         "AccountId": books["account"]})
    foreign = refused(lambda: state.update("Opportunity", other, {"SyncedQuoteId": second}))
    assert foreign.error_code == "FIELD_INTEGRITY_EXCEPTION" and "SyncedQuoteId" in foreign.fields
    readonly = refused(lambda: state.update("Quote", first, {"IsSyncing": True}))
    assert (readonly.error_code, readonly.fields) == ("INVALID_FIELD_FOR_INSERT_UPDATE", ["IsSyncing"])
    state.delete("Quote", second)
    assert state.get("Opportunity", books["opportunity"])["SyncedQuoteId"] is None


def test_syncing_quotes_are_found_by_soql(books):
    state = books["state"]
    quote = state.insert("Quote", {"Name": "Synced", "OpportunityId": books["opportunity"]})
    state.insert("Quote", {"Name": "Not synced", "OpportunityId": books["opportunity"]})
    state.update("Opportunity", books["opportunity"], {"SyncedQuoteId": quote})
    from qbsf.sim.salesforce.soql import Engine, parse

    rows = Engine(state, "62.0").run(parse("SELECT Id, Name FROM Quote WHERE IsSyncing = true"))["records"]
    assert [row["Name"] for row in rows] == ["Synced"]
    (opportunity,) = Engine(state, "62.0").run(parse(
        f"SELECT SyncedQuote.Name FROM Opportunity WHERE Id = '{books['opportunity']}'"))["records"]
    assert opportunity["SyncedQuote"]["Name"] == "Synced"


def test_an_activated_orders_products_are_edited_not_deleted(books):
    state = books["state"]
    order = state.insert("Order", {"AccountId": books["account"], "EffectiveDate": "2026-03-01", "Status": "Draft",
                                   "Pricebook2Id": books["standard_book"]})
    line = state.insert("OrderItem", {"OrderId": order, "PricebookEntryId": books["standard"], "Quantity": 1,
                                      "UnitPrice": 100})
    state.update("Order", order, {"Status": "Activated"})
    state.update("OrderItem", line, {"Quantity": 3})
    assert refused(lambda: state.delete("OrderItem", line)).error_code == "DELETE_FAILED"
    state.update("Order", order, {"Status": "Draft"})
    state.delete("OrderItem", line)
    assert state.get("Order", order)["TotalAmount"] == 0
