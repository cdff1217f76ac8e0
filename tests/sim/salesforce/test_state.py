"""The org's Python API: audit fields, business rules, the package's queue trigger, rollback and SQLite."""

from datetime import UTC, datetime, timedelta

import pytest

from qbsf.sim.salesforce import ApiError, SalesforceState


def test_audit_fields_are_maintained(sf_state):
    now = {"t": datetime(2026, 11, 24, 18, 0, tzinfo=UTC)}
    sf_state.clock = lambda: now["t"]
    record_id = sf_state.insert("Account", {"Name": "Acme"})
    now["t"] = datetime(2026, 11, 24, 18, 5, 1, 250000, tzinfo=UTC)
    sf_state.update("Account", record_id[:15], {"Phone": "555"})
    record = sf_state.get("Account", record_id)
    assert record["CreatedDate"] == "2026-11-24T18:00:00.000+0000"
    assert record["SystemModstamp"] == record["LastModifiedDate"] == "2026-11-24T18:05:01.250+0000"
    assert record["LastModifiedById"] == sf_state.user_id and record["IsDeleted"] is False


def test_queue_trigger_follows_the_package_handler(sf_state):
    account = sf_state.insert("Account", {"Name": "Acme"})
    sf_state.update("Account", account, {"QB_Customer_ID__c": "80000001-1"})  # qbsf's write-back: no echo
    sf_state.update("Account", account, {"Name": "Acme Corp"})  # the Insert row is still pending: no second row
    sf_state.update("QBSync_Queue__c", sf_state.records("QBSync_Queue__c")[0]["Id"], {"Status__c": "Done"})
    sf_state.update("Account", account, {"Name": "Acme Corp"})  # a no-op save is still queued, as the handler does
    sf_state.update("Account", account, {"Phone": "555"})  # ... once
    contact = sf_state.insert("Contact", {"LastName": "Smith", "AccountId": account})
    sf_state.delete("Account", account)  # a Delete is queued beside the pending Update; the cascade fires nothing
    rows = sf_state.records("QBSync_Queue__c")
    assert [(r["Object__c"], r["Operation__c"], r["Record_Id__c"], r["Status__c"]) for r in rows] == [
        ("Account", "Insert", account, "Done"), ("Account", "Update", account, "Pending"),
        ("Contact", "Insert", contact, "Pending"), ("Account", "Delete", account, "Pending")]
    assert {r["Attempts__c"] for r in rows} == {0} and "Payload__c" not in rows[1]  # no copy of the record
    assert sf_state.get("Contact", contact) is None  # cascade delete


def test_line_item_changes_queue_their_opportunity(sf_state):
    """QBSyncOpportunityLineItemTrigger: a line edit that leaves the Opportunity unchanged still queues it."""
    account = sf_state.insert("Account", {"Name": "Acme"})
    product = sf_state.insert("Product2", {"Name": "Widget", "IsActive": True})
    pricebook = sf_state.find("Pricebook2", "IsStandard", True)[0]
    entry = sf_state.insert("PricebookEntry", {"Pricebook2Id": pricebook, "Product2Id": product, "UnitPrice": 5,
                                               "IsActive": True})
    deal = sf_state.insert("Opportunity", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-01",
                                           "AccountId": account})
    line = sf_state.insert("OpportunityLineItem", {"OpportunityId": deal, "PricebookEntryId": entry, "Quantity": 1,
                                                   "UnitPrice": 5})
    for row in sf_state.records("QBSync_Queue__c"):
        sf_state.update("QBSync_Queue__c", row["Id"], {"Status__c": "Done"})
    sf_state.update("OpportunityLineItem", line, {"Description": "a note"})
    pending = [(r["Object__c"], r["Operation__c"], r["Record_Id__c"]) for r in sf_state.records("QBSync_Queue__c")
               if r["Status__c"] == "Pending"]
    assert pending == [("Opportunity", "Update", deal)]


def test_no_queue_rows_when_the_package_is_not_installed(sf_schema):
    state = SalesforceState(sf_schema, package_installed=False)
    state.insert("Account", {"Name": "Acme"})
    assert state.records("QBSync_Queue__c") == []


def test_pricebooks_and_line_items_behave_as_salesforce(sf_state):
    product = sf_state.insert("Product2", {"Name": "Widget", "ProductCode": "W-1", "IsActive": True})
    custom_book = sf_state.insert("Pricebook2", {"Name": "Wholesale", "IsActive": True})
    with pytest.raises(ApiError) as caught:
        sf_state.insert("PricebookEntry", {"Pricebook2Id": custom_book, "Product2Id": product, "UnitPrice": 8})
    assert caught.value.error_code == "STANDARD_PRICE_NOT_DEFINED"
    entry = sf_state.insert("PricebookEntry", {"Pricebook2Id": sf_state.standard_pricebook_id, "Product2Id": product,
                                               "UnitPrice": 10, "IsActive": True})
    assert sf_state.get("PricebookEntry", entry)["Name"] == "Widget"
    opportunity = sf_state.insert("Opportunity", {"Name": "Deal", "StageName": "Prospecting",
                                                  "CloseDate": "2026-12-01"})
    with pytest.raises(ApiError) as caught:
        sf_state.insert("OpportunityLineItem", {"OpportunityId": opportunity, "Quantity": 1, "UnitPrice": 5})
    assert caught.value.error_code == "REQUIRED_FIELD_MISSING" and caught.value.fields == ["PricebookEntryId"]
    line = sf_state.insert("OpportunityLineItem", {"OpportunityId": opportunity, "Product2Id": product,
                                                   "Quantity": 3, "UnitPrice": 9.5})
    stored = sf_state.get("OpportunityLineItem", line)
    assert (stored["PricebookEntryId"], stored["ListPrice"], stored["TotalPrice"]) == (entry, 10.0, 28.5)
    deal = sf_state.get("Opportunity", opportunity)
    assert deal["Amount"] == 28.5 and deal["HasOpportunityLineItem"] is True
    assert deal["Pricebook2Id"] == sf_state.standard_pricebook_id
    with pytest.raises(ApiError) as caught:
        sf_state.delete("Opportunity", "006Q0000000000zIAA")
    assert caught.value.status == 404


def test_failed_write_leaves_no_trace(sf_state):
    before = len(sf_state.records("QBSync_Queue__c"))
    with pytest.raises(ApiError):
        sf_state.insert("Account", {"Name": "x" * 256})
    assert sf_state.records("Account") == [] and len(sf_state.records("QBSync_Queue__c")) == before


def test_batch_rolls_back_on_error(sf_state):
    with pytest.raises(RuntimeError), sf_state.batch():
        sf_state.insert("Account", {"Name": "In batch"})
        raise RuntimeError("boom")
    assert sf_state.records("Account") == []


def test_sqlite_state_survives_a_restart(sf_schema, tmp_path):
    path = tmp_path / "org.sqlite"
    first = SalesforceState(sf_schema, path=path)
    kept = first.insert("Account", {"Name": "Kept", "QB_Customer_ID__c": "K1"})
    gone = first.insert("Account", {"Name": "Gone"})
    first.delete("Account", gone)
    first.close()
    second = SalesforceState(sf_schema, path=path)
    assert second.get("Account", kept)["Name"] == "Kept"
    assert second.get("Account", gone) is None and second.get("Account", gone, include_deleted=True)["IsDeleted"]
    assert second.find("Account", "QB_Customer_ID__c", "k1") == [kept]
    assert second.user_id == first.user_id
    newer = second.insert("Account", {"Name": "New"})
    assert newer not in (kept, gone)
    second.close()


def test_custom_object_names_default_to_id_or_auto_number(sf_state):
    invoice = sf_state.insert("QB_Invoice__c", {"QB_Invoice_ID__c": "T-1", "Amount__c": 10})
    assert sf_state.get("QB_Invoice__c", invoice)["Name"] == invoice
    assert sf_state.get("QB_Invoice__c", invoice)["Status__c"] in (None, "Open")
    with pytest.raises(ApiError) as caught:
        sf_state.insert("QB_Invoice__c", {"Status__c": "Lost"})
    assert caught.value.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    queue_names = [r["Name"] for r in sf_state.records("QBSync_Queue__c")]
    assert all(name for name in queue_names)


def test_lookup_to_a_deleted_record_is_entity_is_deleted(sf_state):
    account = sf_state.insert("Account", {"Name": "A"})
    sf_state.delete("Account", account)
    with pytest.raises(ApiError) as caught:
        sf_state.insert("Contact", {"LastName": "x", "AccountId": account})
    assert caught.value.error_code == "ENTITY_IS_DELETED"
    sf_state.clock = lambda: datetime.now(UTC) + timedelta(days=1)
    assert sf_state.deleted_at(account) is not None


def test_deletes_cascade_or_are_refused_as_in_salesforce(sf_state):
    from qbsf.sim.salesforce.seed import seed_demo

    made = seed_demo(sf_state, accounts=1)
    opportunity = made.opportunities[0]
    used = sf_state.records("OpportunityLineItem")[0]["Product2Id"]
    with pytest.raises(ApiError) as caught:
        sf_state.delete("Product2", used)
    assert caught.value.error_code == "DELETE_FAILED"
    assert sf_state.get("Product2", used) is not None and sf_state.records("PricebookEntry")  # nothing half-deleted
    invoice = sf_state.insert("QB_Invoice__c", {"QB_Invoice_ID__c": "T-9", "Opportunity__c": opportunity})
    sf_state.delete("Opportunity", opportunity)
    assert sf_state.records("OpportunityLineItem") == []  # master-detail style cascade
    assert sf_state.get("QB_Invoice__c", invoice)["Opportunity__c"] is None  # SetNull lookup
    sf_state.delete("Product2", used)
    assert all(e["Product2Id"] != used for e in sf_state.records("PricebookEntry"))


def test_seeding_may_fix_ids_but_only_free_ones_of_the_right_type(sf_state):
    from qbsf.sim.salesforce.ids import to18

    fixed = "001Q0000000Demo"
    record_id = sf_state.insert("Account", {"Id": fixed, "Name": "Fixed"}, system=True)
    assert record_id == to18(fixed)
    assert sf_state.get("Account", fixed)["Name"] == "Fixed"
    for bad in (fixed, "003Q0000000Demo"):
        with pytest.raises(ApiError) as caught:
            sf_state.insert("Account", {"Id": bad, "Name": "Again"}, system=True)
        assert caught.value.error_code == "INVALID_ID_FIELD"
    with pytest.raises(ApiError) as caught:
        sf_state.insert("Account", {"Id": fixed, "Name": "Not a seed"})
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
