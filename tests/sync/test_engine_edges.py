"""Edge cases of the outbound engine: item types and accounts, empty invoices, ineligible parents, progress."""

from __future__ import annotations

from decimal import Decimal

from qbsf.bench.outbound import seed_org
from qbsf.quickbooks.client import DefaultAccounts


def test_inventory_item_gets_income_cogs_and_asset_accounts(world) -> None:
    product = world.sf_state.insert("Product2", {"Name": "Gadget", "IsActive": True, "QB_Item_Type__c": "Inventory",
                                                 "QB_Sales_Price__c": 12.5, "Description": "A gadget"})
    report = world.engine().run_cycle()
    assert report.ok, report.failures
    item = world.qb_sim.get(world.sf_state.get("Product2", product)["QB_Item_ID__c"])
    assert item["kind"] == "ItemInventory"
    assert item["IncomeAccountRef"]["FullName"] == "Sales"
    assert item["COGSAccountRef"]["FullName"] == "Cost of Goods Sold"
    assert item["AssetAccountRef"]["FullName"] == "Inventory Asset"
    assert Decimal(item["SalesPrice"]) == Decimal("12.5") and item["SalesDesc"] == "A gadget"


def test_inventory_item_without_asset_account_fails_with_the_manuals_message(world) -> None:
    world.sf_state.insert("Product2", {"Name": "Gadget", "IsActive": True, "QB_Item_Type__c": "Inventory"})
    service = world.sf_state.insert("Product2", {"Name": "Consulting", "IsActive": True})
    world.qb.default_accounts = DefaultAccounts(income="Sales")
    report = world.engine(income_account="", asset_account="", cogs_account="").run_cycle()
    ((_entity, _id, name, message),) = report.failures
    assert name == "Gadget" and "account required" in message and "QB Accounts settings" in message
    assert world.sf_state.get("Product2", service)["QB_Item_ID__c"], "the service item synced"


def test_item_type_from_the_mapping_and_unknown_types_explained(world) -> None:
    from qbsf.mapping import load_mapping_bytes
    from qbsf.sync.entities import CATALOGUE

    csv = (b"SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\n"
           b"Name,Name,Y,Trim|Left:31,,\nProductCode,Type,N,Simple,,item type from the product code\n")
    world.mappings["Product_to_Item"] = load_mapping_bytes(csv, "Product_to_Item.csv",
                                                       CATALOGUE.kind_by_sheet("Product_to_Item"))
    kept = world.sf_state.insert("Product2", {"Name": "Bolt", "IsActive": True, "ProductCode": "NonInventory"})
    world.sf_state.insert("Product2", {"Name": "Odd", "IsActive": True, "ProductCode": "Discount"})
    report = world.engine().run_cycle()
    assert world.qb_sim.get(world.sf_state.get("Product2", kept)["QB_Item_ID__c"])["kind"] == "ItemNonInventory"
    ((_entity, _id, _name, message),) = report.failures
    assert "item type 'Discount' is not one qbsf creates" in message
    assert "Service, NonInventory or Inventory" in message


def test_an_opportunity_without_lines_is_not_an_invoice(world) -> None:
    account = world.sf_state.insert("Account", {"Name": "Acme"})
    world.sf_state.insert("Opportunity", {"Name": "Empty", "StageName": "Closed Won", "CloseDate": "2026-05-01",
                                          "AccountId": account})
    report = world.engine().run_cycle()
    ((entity, _id, _name, message),) = report.failures
    assert entity == "Opportunity" and "has no line items" in message and "add products" in message
    assert world.qb_sim.invoices() == []


def test_a_child_of_an_ineligible_parent_fails_with_why(world) -> None:
    seeded = seed_org(world.sf_state, accounts=2, contacts=2)
    world.sf_state.update("Account", seeded.accounts[1], {"Type": "Prospect"})
    world.sf_state.update("Account", seeded.accounts[0], {"Type": "Customer"})
    report = world.engine(eligibility={"Account": "Type = 'Customer'"}).run_cycle()
    assert report.entities["Account"].created == 1 and report.entities["Contact"].created == 1
    ((entity, sf_id, _name, message),) = report.failures
    assert (entity, sf_id) == ("Contact", seeded.contacts[1])
    assert message.startswith("Link: No Account found") and "not eligible to sync" in message


def test_progress_is_reported_per_entity(world) -> None:
    seed_org(world.sf_state, accounts=3, products=2)
    calls: list[tuple[str, int, int]] = []
    world.engine().sync_sf_to_qb(progress=lambda name, done, total: calls.append((name, done, total)))
    assert ("Account", 0, 3) in calls and ("Account", 3, 3) in calls
    assert ("Product2", 2, 2) in calls
    assert ("Contact", 0, 0) in calls, "an entity with nothing to do still reports"
