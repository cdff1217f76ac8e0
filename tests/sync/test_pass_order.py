"""Pass order must not duplicate: QB → SF before SF → QB links same-named records instead of creating twins."""

from __future__ import annotations


def _both_sides(world) -> dict[str, str]:
    """An Account, a Product2 and a Closed Won Opportunity in Salesforce; the same customer and item in QuickBooks."""
    sf = world.sf_state
    account = sf.insert("Account", {"Name": "Acme Inc", "Phone": "555-0100"})
    product = sf.insert("Product2", {"Name": "Consulting", "IsActive": True, "QB_Sales_Price__c": 150})
    entry = sf.insert("PricebookEntry", {"Pricebook2Id": sf.standard_pricebook_id, "Product2Id": product,
                                         "UnitPrice": 150, "IsActive": True})
    opportunity = sf.insert("Opportunity", {"Name": "Acme deal", "StageName": "Closed Won", "CloseDate": "2026-05-01",
                                            "AccountId": account, "Pricebook2Id": sf.standard_pricebook_id})
    sf.insert("OpportunityLineItem", {"OpportunityId": opportunity, "PricebookEntryId": entry, "Quantity": 2,
                                      "UnitPrice": 150})
    customer = world.qb_sim.add("Customer", {"Name": "Acme Inc", "Phone": "555-0100"})
    item = world.qb_sim.add("ItemService", {"Name": "Consulting", "SalesOrPurchase": {
        "Desc": "Hourly", "Price": "150.00", "AccountRef": {"FullName": "Sales"}}})
    return {"account": account, "product": product, "opportunity": opportunity, "customer": customer["ListID"],
            "item": item["ListID"]}


def test_qb_to_sf_first_links_the_same_named_customer_and_item_and_the_opportunity_is_invoiced(world) -> None:
    ids = _both_sides(world)
    engine = world.engine()
    inbound = engine.sync_qb_to_sf()
    assert inbound.ok, inbound.failures
    assert len(world.sf_state.records("Account")) == 1 and len(world.sf_state.records("Product2")) == 1
    assert world.sf_state.get("Account", ids["account"])["QB_Customer_ID__c"] == ids["customer"]
    assert world.sf_state.get("Product2", ids["product"])["QB_Item_ID__c"] == ids["item"]
    outbound = engine.run_cycle()
    assert outbound.ok, outbound.failures
    assert len(world.customers()) == 1 and len(world.qb_sim.items()) == 1
    (invoice,) = world.qb_sim.invoices()
    assert world.sf_state.get("Opportunity", ids["opportunity"])["QB_Invoice_ID__c"] == invoice["TxnID"]
    assert invoice["CustomerRef"]["ListID"] == ids["customer"]
    # Later rounds in either order change nothing and fail nothing.
    for _ in range(2):
        assert engine.sync_qb_to_sf().ok and engine.run_cycle().ok
    assert len(world.sf_state.records("Account")) == 1 and len(world.sf_state.records("Product2")) == 1
    assert len(world.customers()) == 1 and len(world.qb_sim.items()) == 1 and len(world.qb_sim.invoices()) == 1
    assert not world.state.failures()


def test_on_existing_name_report_fails_the_quickbooks_record_and_says_how_to_link(world) -> None:
    ids = _both_sides(world)
    report = world.engine(on_existing_name="report").sync_qb_to_sf(["Customer", "Item"])
    messages = {name: message for _entity, _id, name, message in report.failures}
    assert set(messages) == {"Acme Inc", "Consulting"}
    assert "Salesforce already has an Account of that name" in messages["Acme Inc"]
    assert "qbsf link --entity Account" in messages["Acme Inc"]
    assert len(world.sf_state.records("Account")) == 1 and len(world.sf_state.records("Product2")) == 1
    assert not world.sf_state.get("Account", ids["account"]).get("QB_Customer_ID__c")


def test_two_salesforce_records_of_the_name_are_never_guessed(world) -> None:
    world.sf_state.insert("Account", {"Name": "Twin Co"})
    world.sf_state.insert("Account", {"Name": "Twin Co"})
    world.qb_sim.add("Customer", {"Name": "Twin Co"})
    world.qb_sim.add("Customer", {"Name": "Only In QuickBooks"})
    report = world.engine().sync_qb_to_sf(["Customer"])
    ((_entity, _id, name, message),) = report.failures
    assert name == "Twin Co" and "Salesforce has 2 Account records of that name" in message
    assert sorted(a["Name"] for a in world.sf_state.records("Account")) == ["Only In QuickBooks", "Twin Co",
                                                                           "Twin Co"]


def test_a_name_quickbooks_holds_cut_at_its_limit_still_finds_its_salesforce_record(world) -> None:
    long_account = "Northwind Traders International Holdings Group"  # 46 characters; QuickBooks keeps 41
    long_product = "Professional Services_Consulting 100%"  # 37 characters; QuickBooks keeps 31
    account = world.sf_state.insert("Account", {"Name": long_account})
    world.sf_state.insert("Account", {"Name": long_account[:41] + " Other"})  # the same 41, a different name…
    product = world.sf_state.insert("Product2", {"Name": long_product, "IsActive": True})
    customer = world.qb_sim.add("Customer", {"Name": long_account[:41]})
    item = world.qb_sim.add("ItemService", {"Name": long_product[:31], "SalesOrPurchase": {
        "Price": "10.00", "AccountRef": {"FullName": "Sales"}}})
    report = world.engine().sync_qb_to_sf(["Customer", "Item"])
    # …so the customer is ambiguous and never guessed; the item has one match and is linked.
    ((_entity, _id, name, message),) = report.failures
    assert name == long_account[:41] and "Salesforce has 2 Account records of that name" in message
    assert world.sf_state.get("Product2", product)["QB_Item_ID__c"] == item["ListID"]
    assert len(world.sf_state.records("Product2")) == 1 and len(world.sf_state.records("Account")) == 2
    # Once the other Account is gone and the person retries the parked customer (a "needs you" failure is parked
    # at once: qbsf.sync.policy), it finds its one Account.
    world.sf_state.delete("Account", next(a["Id"] for a in world.sf_state.records("Account") if a["Id"] != account))
    assert [f.parked for f in world.state.failures(entity="Account")] == [True]
    world.state.retry(entity="Account")
    again = world.engine().sync_qb_to_sf(["Customer"])
    assert again.ok, again.failures
    assert world.sf_state.get("Account", account)["QB_Customer_ID__c"] == customer["ListID"]
    assert world.sf_state.get("Account", account)["Name"] == long_account, "the longer Salesforce name stays"
