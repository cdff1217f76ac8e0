"""Demo data for the emulated org: accounts with contacts, products with prices, won opportunities with lines, and
activated orders and quotes with their lines (the documents the sales order and estimate add-ons send)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from qbsf.sim.salesforce.state import SalesforceState

_COMPANIES = ["Acme Corporation", "Globex Industries", "Initech", "Umbrella Supplies", "Stark Fabrication",
              "Wayne Logistics", "Hooli Cloud", "Vandelay Imports", "Soylent Foods", "Tyrell Robotics",
              "Cyberdyne Systems", "Wonka Confections", "Oceanic Freight", "Gringotts Trust", "Monarch Solar"]
_CITIES = [("San Francisco", "CA", "94105"), ("Austin", "TX", "73301"), ("Chicago", "IL", "60601"),
           ("Denver", "CO", "80202"), ("Boston", "MA", "02108"), ("Seattle", "WA", "98101")]
_PEOPLE = [("Ann", "Smith"), ("Bob", "O'Brien"), ("Chloé", "Durand"), ("Dev", "Patel"), ("Eve", "Nakamura"),
           ("Frank", "Müller"), ("Grace", "Hopper"), ("Hal", "Jordan")]
_PRODUCTS = [("Installation Service", "Service", 125.0, "On-site installation, per hour"),
             ("Widget", "Inventory", 12.5, "Standard widget"),
             ("Gadget Pro", "Inventory", 249.0, "Gadget, professional edition"),
             ("Annual Support", "Service", 1200.0, "12 months of support"),
             ("Shipping", "NonInventory", 35.0, "Freight, flat rate"),
             ("Cable Kit", "NonInventory", 19.99, "Assorted cables")]


@dataclass
class DemoData:
    """Ids of what :func:`seed_demo` created."""

    accounts: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    opportunities: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


def seed_demo(state: SalesforceState, *, accounts: int = 8, seed: int = 1) -> DemoData:
    """Fill ``state`` with a small, realistic org (same ``seed`` → same data); returns the new ids."""
    rng = random.Random(seed)
    made = DemoData()
    with state.batch():
        for name, kind, price, description in _PRODUCTS:
            product = state.insert("Product2", {"Name": name, "ProductCode": name[:3].upper() + "-1",
                                                "Description": description, "IsActive": True,
                                                **_if_field(state, "Product2", QB_Sales_Price__c=price,
                                                            QB_Item_Type__c=kind)})
            state.insert("PricebookEntry", {"Pricebook2Id": state.standard_pricebook_id, "Product2Id": product,
                                            "UnitPrice": price, "IsActive": True})
            made.products.append(product)
        today = state.clock().date()
        for index in range(accounts):
            company = _COMPANIES[index % len(_COMPANIES)] + (f" {index // len(_COMPANIES) + 1}"
                                                             if index >= len(_COMPANIES) else "")
            city, region, postal = rng.choice(_CITIES)
            account = state.insert("Account", {
                "Name": company, "Phone": f"({rng.randint(200, 989)}) 555-{rng.randint(100, 9999):04d}",
                "BillingStreet": f"{rng.randint(1, 999)} Market Street", "BillingCity": city,
                "BillingState": region, "BillingPostalCode": postal, "BillingCountry": "USA",
                "AccountNumber": f"CD{rng.randint(100000, 999999)}", "Industry": "Manufacturing"})
            made.accounts.append(account)
            for first, last in rng.sample(_PEOPLE, 2):
                made.contacts.append(state.insert("Contact", {
                    "FirstName": first, "LastName": last, "AccountId": account,
                    "Email": f"{first.lower()}.{last.lower().replace(chr(39), '')}@example.com"}))
            opportunity = state.insert("Opportunity", {
                "Name": f"{company} - order {index + 1}", "AccountId": account, "StageName": "Closed Won",
                "CloseDate": (today - timedelta(days=rng.randint(0, 20))).isoformat()})
            for product in rng.sample(made.products, rng.randint(1, 3)):
                state.insert("OpportunityLineItem", {"OpportunityId": opportunity, "Product2Id": product,
                                                     "Quantity": rng.randint(1, 10),
                                                     "UnitPrice": _price(state, product)})
            made.opportunities.append(opportunity)
        _orders_and_quotes(state, made, random.Random(seed + 7919))
    return made


def _orders_and_quotes(state: SalesforceState, made: DemoData, rng: random.Random) -> None:
    """An activated order for every third account and a synced quote for every fourth opportunity, two lines each,
    priced from the standard price book. Their own random stream, so the accounts and opportunities stay the ones
    earlier versions seeded. An order is activated after its products are added, as Salesforce requires."""
    book = state.standard_pricebook_id
    entries = {e["Product2Id"]: e["Id"] for e in state.table("PricebookEntry").values()
               if e.get("Pricebook2Id") == book}
    today = state.clock().date()
    for index, account in enumerate(made.accounts):
        if index % 3:
            continue
        order = state.insert("Order", {"AccountId": account, "Pricebook2Id": book, "Status": "Draft",
                                       "EffectiveDate": (today - timedelta(days=rng.randint(0, 10))).isoformat(),
                                       "Description": "Demo order"})
        for product in rng.sample(made.products, 2):
            state.insert("OrderItem", {"OrderId": order, "PricebookEntryId": entries[product],
                                       "Quantity": rng.randint(1, 5), "UnitPrice": _price(state, product)})
        state.update("Order", order, {"Status": "Activated"})
        made.orders.append(order)
    for index, opportunity in enumerate(made.opportunities):
        if index % 4 != 1:
            continue
        quote = state.insert("Quote", {"Name": f"Quote {index + 1}", "OpportunityId": opportunity,
                                       "Pricebook2Id": book})
        for product in rng.sample(made.products, 2):
            state.insert("QuoteLineItem", {"QuoteId": quote, "PricebookEntryId": entries[product],
                                           "Quantity": rng.randint(1, 5), "UnitPrice": _price(state, product)})
        # the opportunity syncs with its quote: the offer qbsf sends to QuickBooks as an estimate
        state.update("Opportunity", opportunity, {"SyncedQuoteId": quote})
        made.quotes.append(quote)


def _price(state: SalesforceState, product_id: str) -> float:
    entry = next(e for e in state.table("PricebookEntry").values() if e.get("Product2Id") == product_id)
    return float(entry["UnitPrice"])


def _if_field(state: SalesforceState, sobject: str, **values: object) -> dict[str, object]:
    """Only the values whose fields exist (custom fields come from the metadata package, which may be absent)."""
    obj = state.schema.get(sobject)
    return {name: value for name, value in values.items() if obj is not None and obj.field(name) is not None}
