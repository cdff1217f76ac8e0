"""Both directions through 30 % faults on both sides, pass order alternating: everything ends up exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from qbsf.bench.outbound import seed_org

ROUNDS = 10
SHARED = 3  # customers and items that exist on both sides under the same name, not linked


def _seed_quickbooks(world) -> dict[str, list[dict]]:
    sim = world.qb_sim
    customers = [sim.add("Customer", {"Name": f"QB Customer {n:02d}", "Phone": f"555-01{n:02d}",
                                      "BillAddress": {"Addr1": f"{n + 1} Harbor Road", "City": "Salem"}})
                 for n in range(12)]
    items = [sim.add("ItemService", {"Name": f"QB Item {n:02d}", "SalesOrPurchase": {
        "Desc": "Hourly", "Price": f"{100 + n}.00", "AccountRef": {"FullName": "Sales"}}}) for n in range(4)]
    shared_customers = [sim.add("Customer", {"Name": f"Shared Customer {n}"}) for n in range(SHARED)]
    shared_items = [sim.add("ItemService", {"Name": f"Shared Item {n}", "SalesOrPurchase": {
        "Price": "50.00", "AccountRef": {"FullName": "Sales"}}}) for n in range(SHARED)]
    invoices = [sim.add("Invoice", {"CustomerRef": {"ListID": customers[n % len(customers)]["ListID"]},
                                    "RefNumber": f"Q{n + 1}", "InvoiceLineAdd": [
                                        {"ItemRef": {"ListID": items[n % len(items)]["ListID"]}, "Quantity": "2"}]})
                for n in range(10)]
    return {"customers": customers, "items": items, "shared_customers": shared_customers,
            "shared_items": shared_items, "invoices": invoices}


def _seed_shared_salesforce(world) -> dict[str, list[str]]:
    sf = world.sf_state
    accounts = [sf.insert("Account", {"Name": f"Shared Customer {n}"}) for n in range(SHARED)]
    products, opportunities = [], []
    for n in range(SHARED):
        product = sf.insert("Product2", {"Name": f"Shared Item {n}", "IsActive": True, "QB_Sales_Price__c": 50})
        entry = sf.insert("PricebookEntry", {"Pricebook2Id": sf.standard_pricebook_id, "Product2Id": product,
                                             "UnitPrice": 50, "IsActive": True})
        opportunity = sf.insert("Opportunity", {"Name": f"Shared deal {n}", "StageName": "Closed Won",
                                                "CloseDate": "2026-04-30", "AccountId": accounts[n],
                                                "Pricebook2Id": sf.standard_pricebook_id})
        sf.insert("OpportunityLineItem", {"OpportunityId": opportunity, "PricebookEntryId": entry, "Quantity": 1,
                                          "UnitPrice": 50})
        products.append(product)
        opportunities.append(opportunity)
    return {"accounts": accounts, "products": products, "opportunities": opportunities}


def test_everything_ends_in_both_systems_exactly_once_through_thirty_percent_faults(world) -> None:
    sf = world.sf_state
    seeded = seed_org(sf, accounts=24, contacts=8, products=8, opportunities=16, lines=2)
    shared = _seed_shared_salesforce(world)
    qb = _seed_quickbooks(world)
    # Transient faults only (lock contention, unavailability): a daily API limit is not a fault to retry.
    sf.inject_faults(0.30, kinds=("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"), seed=23)
    world.qb_sim.set_fault_rate(0.30, seed=29)
    engine = world.engine(max_attempts=50, retry_base=timedelta(0), retry_cap=timedelta(0),
                          poll_overlap=timedelta(seconds=1))
    for number in range(ROUNDS):
        passes = [engine.run_cycle, engine.sync_qb_to_sf]
        for run in passes if number % 2 else reversed(passes):
            run()
    assert sf.faults.injected > 10, "Salesforce faults were injected"
    assert any(a.outcome == "failed" for a in world.state.recent(5_000, failed_only=True)), "faults hit records"
    sf.inject_faults(0)
    world.qb_sim.set_fault_rate(0)

    # Salesforce → QuickBooks: every Account, Contact, Product2 and Opportunity is in QuickBooks once, linked.
    accounts = {a["Id"]: a for a in sf.records("Account")}
    products = {p["Id"]: p for p in sf.records("Product2")}
    customers = {c["ListID"]: c for c in world.customers()}
    items = {i["ListID"]: i for i in world.qb_sim.items()}
    invoices = {i["TxnID"]: i for i in world.qb_sim.invoices()}
    names = Counter(c["FullName"] for c in customers.values())
    assert [n for n, count in names.items() if count > 1] == [], "no customer twice"
    assert [n for n, count in Counter(i["FullName"] for i in items.values()).items() if count > 1] == []
    unsynced = [(sobject, record["Id"], record.get("Name")) for sobject, field in (
        ("Account", "QB_Customer_ID__c"), ("Contact", "QB_Customer_ID__c"), ("Product2", "QB_Item_ID__c"),
        ("Opportunity", "QB_Invoice_ID__c")) for record in sf.records(sobject) if not record.get(field)]
    assert unsynced == [], f"{len(unsynced)} Salesforce records never reached QuickBooks: {unsynced[:5]}"
    for account in accounts.values():
        assert customers[account["QB_Customer_ID__c"]]["Name"] == account["Name"][:41]
    for product in products.values():
        assert items[product["QB_Item_ID__c"]]["Name"] == product["Name"][:31]
    for opportunity in [*seeded.opportunities, *shared["opportunities"]]:
        assert sf.get("Opportunity", opportunity)["QB_Invoice_ID__c"] in invoices

    # QuickBooks → Salesforce: every top-level customer, item and invoice is in Salesforce once.
    by_customer = Counter(a.get("QB_Customer_ID__c") for a in accounts.values())
    top_level = [c for c in customers.values() if not c.get("ParentRef")]
    assert [c["FullName"] for c in top_level if by_customer[c["ListID"]] != 1] == []
    assert len(accounts) == len(top_level) == 24 + SHARED + 12
    by_item = Counter(p.get("QB_Item_ID__c") for p in products.values())
    assert [i["FullName"] for i in items.values() if by_item[i["ListID"]] != 1] == []
    assert len(products) == len(items) == 8 + SHARED + 4
    by_invoice = Counter(r.get("QB_Invoice_ID__c") for r in sf.records("QB_Invoice__c"))
    assert [i.get("RefNumber") for i in invoices.values() if by_invoice[i["TxnID"]] != 1] == []
    assert len(invoices) == 16 + SHARED + 10
    for shared_customer in qb["shared_customers"]:
        assert by_customer[shared_customer["ListID"]] == 1
    assert sorted(accounts[a]["QB_Customer_ID__c"] for a in shared["accounts"]) == \
        sorted(c["ListID"] for c in qb["shared_customers"])
    assert sorted(products[p]["QB_Item_ID__c"] for p in shared["products"]) == \
        sorted(i["ListID"] for i in qb["shared_items"])


def test_the_demo_company_through_thirty_percent_faults_has_no_second_shipping_product(world, tmp_path) -> None:
    """The demo's two sides share item names (Shipping): before inbound linked by name, QB → SF first made a
    second Shipping Product2, and the Opportunities using the first one were never invoiced."""
    from qbsf.app.demo.seed import seed_once

    seed_once(tmp_path, world.sf_state, world.qb_sim)
    sf = world.sf_state
    shared = {p["Name"] for p in sf.records("Product2")} & {i["FullName"] for i in world.qb_sim.items()}
    assert shared, "the demo has items on both sides under the same name"
    sf.inject_faults(0.30, kinds=("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"), seed=11)
    world.qb_sim.set_fault_rate(0.30, seed=5)
    engine = world.engine(max_attempts=50, retry_base=timedelta(0), retry_cap=timedelta(0),
                          poll_overlap=timedelta(seconds=1))
    for number in range(ROUNDS):
        passes = [engine.run_cycle, engine.sync_qb_to_sf]
        for run in passes if number % 2 else reversed(passes):
            run()
    sf.inject_faults(0)
    world.qb_sim.set_fault_rate(0)
    assert [n for n, c in Counter(p["Name"] for p in sf.records("Product2")).items() if c > 1] == []
    assert [n for n, c in Counter(a["Name"] for a in sf.records("Account")).items() if c > 1] == []
    unsynced = [(sobject, record.get("Name")) for sobject, field in (
        ("Account", "QB_Customer_ID__c"), ("Contact", "QB_Customer_ID__c"), ("Product2", "QB_Item_ID__c"),
        ("Opportunity", "QB_Invoice_ID__c")) for record in sf.records(sobject) if not record.get(field)]
    assert unsynced == [], f"never reached QuickBooks: {unsynced}"
    by_customer = Counter(a.get("QB_Customer_ID__c") for a in sf.records("Account"))
    assert [c["FullName"] for c in world.customers() if not c.get("ParentRef") and
            by_customer[c["ListID"]] != 1] == []
    by_item = Counter(p.get("QB_Item_ID__c") for p in sf.records("Product2"))
    assert [i["FullName"] for i in world.qb_sim.items() if by_item[i["ListID"]] != 1] == []
    by_invoice = Counter(r.get("QB_Invoice_ID__c") for r in sf.records("QB_Invoice__c"))
    assert [i.get("RefNumber") for i in world.qb_sim.invoices() if by_invoice[i["TxnID"]] != 1] == []
    assert not world.state.failures()
