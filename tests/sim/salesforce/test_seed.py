"""Demo data: a consistent org the demo and benchmarks can start from."""

from qbsf.sim.salesforce.seed import seed_demo
from qbsf.sim.salesforce.soql import Engine, parse


def test_seed_demo_builds_linked_records(sf_state):
    made = seed_demo(sf_state, accounts=4)
    assert len(made.accounts) == 4 and len(made.contacts) == 8 and len(made.opportunities) == 4
    rows = Engine(sf_state, "62.0").run(parse(
        "SELECT Name, Amount, Account.Name, (SELECT Quantity, UnitPrice, TotalPrice, Product2.QB_Item_ID__c, "
        "Product2.Name FROM OpportunityLineItems) FROM Opportunity WHERE StageName = 'Closed Won'"))["records"]
    assert len(rows) == 4
    for row in rows:
        lines = row["OpportunityLineItems"]["records"]
        assert lines and row["Amount"] == round(sum(x["TotalPrice"] for x in lines), 2)
        assert row["Account"]["Name"] and all(x["Product2"]["Name"] for x in lines)
    products = sf_state.records("Product2")
    assert {p["QB_Item_Type__c"] for p in products} == {"Service", "Inventory", "NonInventory"}


def test_seed_demo_is_deterministic(sf_schema):
    from qbsf.sim.salesforce import SalesforceState

    def snapshot() -> list[tuple]:
        state = SalesforceState(sf_schema)
        seed_demo(state, accounts=3, seed=5)
        return [(a["Name"], a["BillingCity"], a["Phone"]) for a in state.records("Account")]

    assert snapshot() == snapshot()


def test_seed_demo_adds_activated_orders_and_quotes_with_lines(sf_state):
    made = seed_demo(sf_state, accounts=8)
    assert len(made.orders) == 3 and len(made.quotes) == 2
    for order_id in made.orders:
        order = sf_state.get("Order", order_id)
        items = [i for i in sf_state.table("OrderItem").values() if i["OrderId"] == order_id]
        assert order["StatusCode"] == "Activated" and len(items) == 2
        assert order["TotalAmount"] == sum(i["Quantity"] * i["UnitPrice"] for i in items)
    for quote_id in made.quotes:
        quote = sf_state.get("Quote", quote_id)
        lines = [x for x in sf_state.table("QuoteLineItem").values() if x["QuoteId"] == quote_id]
        assert quote["AccountId"] in made.accounts and quote["LineItemCount"] == len(lines) == 2
