"""Two companies on one state database and one Salesforce emulator, with identical orgs, ids and names: full sync
cycles both ways, and nothing of one company reaches the other — on SQLite and on PostgreSQL.

Both orgs are served by the same emulator instance (one server, each org under its own instance path) and both
have the same org id, record ids and names; both QuickBooks companies have the same ListIDs. Any state keyed
without the company would mix them: a record one company synced would look synced (or linked, or unchanged) to
the other, and one company's edit would travel to the other's systems.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Mount

from qbsf.sync.engine import SyncConfig, SyncEngine
from qbsf.sync.state import StateStore
from qbsf.sync.tenants import TenantRegistry, scoped_tables

COMPANIES = ("acme", "beta")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 60) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    return request.getfixturevalue("postgres_state_url")


def _seed_org(org: Any) -> dict[str, str]:
    account = org.insert("Account", {"Name": "Acme Inc", "Phone": "555-0100"})
    product = org.insert("Product2", {"Name": "Consulting", "IsActive": True, "QB_Sales_Price__c": 150})
    entry = org.insert("PricebookEntry", {"Pricebook2Id": org.standard_pricebook_id, "Product2Id": product,
                                          "UnitPrice": 150, "IsActive": True})
    opportunity = org.insert("Opportunity", {"Name": "Acme deal", "StageName": "Closed Won",
                                             "CloseDate": "2026-11-01", "AccountId": account,
                                             "Pricebook2Id": org.standard_pricebook_id})
    org.insert("OpportunityLineItem", {"OpportunityId": opportunity, "PricebookEntryId": entry, "Quantity": 2,
                                       "UnitPrice": 150})
    return {"account": account, "product": product, "opportunity": opportunity}


@pytest.fixture
def companies(sf_schema, shared_url, example_mappings, validating):
    """Per company: its org (same emulator server), its QuickBooks company, its engine over the shared database."""
    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient
    from qbsf.sim.quickbooks import QuickBooksSimulator
    from qbsf.sim.salesforce import SalesforceState
    from qbsf.sim.salesforce.app import create_app
    from qbsf.sim.salesforce.server import serve_in_thread
    from qbsf.sim.salesforce.settings import EmulatorSettings

    # A clock per company, moved alike: both companies stamp the same ids at the same step.
    clocks = {name: Clock() for name in COMPANIES}
    orgs = {name: SalesforceState(sf_schema, clock=clocks[name]) for name in COMPANIES}
    settings = {name: EmulatorSettings() for name in COMPANIES}
    server = serve_in_thread(Starlette(routes=[Mount(f"/{name}", create_app(orgs[name], settings[name]))
                                               for name in COMPANIES]))
    built: dict[str, dict[str, Any]] = {}
    with TenantRegistry(shared_url) as registry:
        for name in COMPANIES:
            registry.add(name)
    try:
        for name in COMPANIES:
            instance = f"{server.url}/{name}"
            settings[name].instance_url = instance
            clock = clocks[name]
            sim = QuickBooksSimulator(clock=clock)
            qb = QuickBooksClient(validating(SimulatorTransport(sim)), default_accounts=DefaultAccounts(
                income="Sales", cogs="Cost of Goods Sold", asset="Inventory Asset", expense="Office Supplies"))
            sf = SalesforceClient(instance, ClientCredentialsAuth(instance, settings[name].client_id,
                                                                  settings[name].client_secret),
                                  backoff=0.001, backoff_max=0.01)
            state = StateStore(shared_url, tenant=name, clock=clock)
            config = SyncConfig(retry_base=timedelta(0), retry_cap=timedelta(0), income_account="Sales",
                                cogs_account="Cost of Goods Sold", asset_account="Inventory Asset")
            built[name] = {"org": orgs[name], "sim": sim, "qb": qb, "sf": sf, "state": state, "clock": clock,
                           "engine": SyncEngine(config, sf, qb, state, dict(example_mappings))}
        yield built
    finally:
        for parts in built.values():
            parts["sf"].close()
            parts["qb"].close()
            parts["sim"].close()
            parts["state"].close()
        server.stop()


def _cycle(company: dict[str, Any]) -> None:
    company["clock"].advance(60)
    outbound = company["engine"].run_cycle()
    assert outbound.ok, outbound.failures
    company["clock"].advance(60)
    inbound = company["engine"].sync_qb_to_sf()
    assert inbound.ok, inbound.failures


def _customers(company: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {customer["Name"]: customer for customer in company["sim"].customers()}


def _accounts(company: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {account["Name"]: account for account in company["org"].records("Account")}


def test_two_identical_companies_sync_both_ways_and_nothing_crosses(companies, shared_url) -> None:
    acme, beta = companies["acme"], companies["beta"]
    ids = {name: _seed_org(company["org"]) for name, company in companies.items()}
    northwind = {name: company["sim"].add("Customer", {"Name": "Northwind", "Phone": "555-0200"})["ListID"]
                 for name, company in companies.items()}
    assert ids["acme"] == ids["beta"] and northwind["acme"] == northwind["beta"], "identical ids in both companies"

    # acme syncs first, twice: were beta's state shared, beta would find everything synced already.
    _cycle(acme)
    _cycle(acme)
    assert set(_customers(acme)) == {"Acme Inc", "Northwind"} and len(acme["sim"].invoices()) == 1
    assert set(_customers(beta)) == {"Northwind"} and beta["sim"].invoices() == [], "nothing reached beta yet"
    assert set(_accounts(beta)) == {"Acme Inc"}
    _cycle(beta)
    for company in (acme, beta):
        assert set(_customers(company)) == {"Acme Inc", "Northwind"}
        assert len(company["sim"].invoices()) == 1 and set(_accounts(company)) == {"Acme Inc", "Northwind"}
    assert (acme["sim"].invoices()[0]["TxnID"] == beta["sim"].invoices()[0]["TxnID"]), "identical TxnIDs too"
    beta_created = [a for a in beta["state"].recent(500) if a.outcome == "created"]
    assert {a.entity for a in beta_created} >= {"Account", "Opportunity"}, "beta created its own records"

    # Different edits in each company: each reaches its own other side only.
    acme["org"].update("Account", ids["acme"]["account"], {"Phone": "555-0111"})
    beta["sim"].modify(northwind["beta"], {"Phone": "555-0222"})
    for _ in range(2):
        _cycle(beta)
        _cycle(acme)
    assert _customers(acme)["Acme Inc"]["Phone"] == "555-0111"
    assert _customers(beta)["Acme Inc"]["Phone"] == "555-0100", "acme's Salesforce edit stayed in acme"
    assert _accounts(beta)["Northwind"]["Phone"] == "555-0222"
    assert _accounts(acme)["Northwind"]["Phone"] == "555-0200", "beta's QuickBooks edit stayed in beta"
    for company in (acme, beta):
        assert len(company["sim"].customers()) == 2 and len(company["sim"].invoices()) == 1
        assert len(company["org"].records("Account")) == 2
        assert not company["state"].failures()

    # In the database: both companies hold their own rows, and nothing is anyone else's.
    with TenantRegistry(shared_url) as registry:
        with registry.state.engine.connect() as connection:
            owners = {table.name: set(connection.execute(select(table.c.tenant).distinct()).scalars())
                      for table in scoped_tables()}
        assert owners["crosswalk"] == owners["activity"] == owners["payload_hash"] == set(COMPANIES)
        assert all(found <= set(COMPANIES) for found in owners.values()), owners
        assert registry.rows("acme")["crosswalk"] == registry.rows("beta")["crosswalk"]
