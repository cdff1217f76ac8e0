"""`qbsf bench outbound`: an initial Salesforce → QuickBooks sync at scale, against both emulators.

Seeds the Salesforce emulator (10,000 Accounts, 1,000 Products, 2,000 Closed Won Opportunities × 5 lines by
default, and ``orders`` Activated Orders × 5 products), turns the emulators' latency models on, runs one engine
pass, and reports records/s, Salesforce API calls and QuickBooks messages per 1,000 records. :func:`seed_org` is
also what the sync tests seed with.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qbsf.resources import example_mappings_dir

EXAMPLE_MAPPINGS = example_mappings_dir()
_STREETS = ("Market Street", "Mission Street", "Main Street", "Harbor Way", "Elm Avenue", "Spear Tower, Suite 3600")
_CITIES = (("San Francisco", "CA", "94105"), ("Austin", "TX", "73301"), ("Boston", "MA", "02108"),
           ("Seattle", "WA", "98101"))


@dataclass
class SeededOrg:
    """Ids of the records :func:`seed_org` created, by object."""

    accounts: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    opportunities: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Records that become QuickBooks records (lines are part of their invoice or sales order)."""
        return len(self.accounts) + len(self.contacts) + len(self.products) + len(self.opportunities) \
            + len(self.orders)


def seed_org(state: Any, *, accounts: int = 0, contacts: int = 0, products: int = 0, opportunities: int = 0,
             lines: int = 5, seed: int = 7, prefix: str = "", orders: int = 0) -> SeededOrg:
    """Create realistic records in a ``SalesforceState`` through its Python API (no API calls are counted).

    Contacts, Opportunities and Orders are spread over the Accounts; each Opportunity is Closed Won and each Order
    Activated, with ``lines`` line items over the Products (standard price book entries are created for every
    Product).
    """
    rng = random.Random(seed)
    seeded = SeededOrg()
    with state.batch():
        for number in range(accounts):
            city, region, postal = _CITIES[number % len(_CITIES)]
            seeded.accounts.append(state.insert("Account", {
                "Name": f"{prefix}Customer {number:05d}", "Phone": f"(415) 555-{number % 10_000:04d}",
                "BillingStreet": f"{rng.randint(1, 999)} {rng.choice(_STREETS)}", "BillingCity": city,
                "BillingState": region, "BillingPostalCode": postal, "BillingCountry": "USA",
                "Description": f"Seeded account {number}"}))
        for number in range(contacts):
            seeded.contacts.append(state.insert("Contact", {
                "FirstName": rng.choice(("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald")),
                "LastName": f"{prefix}Person{number:05d}", "Email": f"person{number}@example.com",
                "AccountId": seeded.accounts[number % len(seeded.accounts)]}))
        entries: list[str] = []
        for number in range(products):
            product = state.insert("Product2", {"Name": f"{prefix}Product {number:04d}", "ProductCode": f"P-{number}",
                                                "IsActive": True, "Description": f"Seeded product {number}",
                                                "QB_Sales_Price__c": round(5 + number % 200 * 1.25, 2)})
            seeded.products.append(product)
            entries.append(state.insert("PricebookEntry", {"Pricebook2Id": state.standard_pricebook_id,
                                                           "Product2Id": product, "UnitPrice": 10 + number % 90,
                                                           "IsActive": True}))
        for number in range(opportunities):
            opportunity = state.insert("Opportunity", {
                "Name": f"{prefix}Deal {number:05d}", "StageName": "Closed Won", "CloseDate": "2026-03-31",
                "AccountId": seeded.accounts[number % len(seeded.accounts)],
                "Pricebook2Id": state.standard_pricebook_id})
            seeded.opportunities.append(opportunity)
            for line in range(lines):
                entry = entries[(number * lines + line) % len(entries)]
                seeded.lines.append(state.insert("OpportunityLineItem", {
                    "OpportunityId": opportunity, "PricebookEntryId": entry, "Quantity": 1 + line,
                    "UnitPrice": 10 + (number + line) % 50}))
        for number in range(orders):
            # Salesforce adds an order's products while it is Draft, then activates it.
            order = state.insert("Order", {
                "AccountId": seeded.accounts[number % len(seeded.accounts)], "EffectiveDate": "2026-03-31",
                "Status": "Draft", "Pricebook2Id": state.standard_pricebook_id, "PoNumber": f"PO-{number:05d}"})
            for line in range(lines):
                entry = entries[(number * lines + line) % len(entries)]
                seeded.lines.append(state.insert("OrderItem", {
                    "OrderId": order, "PricebookEntryId": entry, "Quantity": 1 + line,
                    "UnitPrice": 10 + (number + line) % 50}))
            state.update("Order", order, {"Status": "Activated"})
            seeded.orders.append(order)
    return seeded


@dataclass
class OutboundBench:
    """What `qbsf bench outbound` measured."""

    records: int
    seconds: float
    sf_calls: int
    qb_messages: int
    failed: int
    created: int
    qb_latency_seconds: float
    sf_latency: float
    cpu_seconds: float = 0.0
    seed_seconds: float = 0.0
    error: str | None = None
    by_entity: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: float | None = None  # the engine's own process (run apart from the emulators)
    qb_model: str = ""

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def modelled_seconds(self) -> float:
        """The latency models' time alone: QuickBooks' messages and requests plus every Salesforce call."""
        return self.qb_latency_seconds + self.sf_calls * self.sf_latency

    def per_thousand(self, value: int) -> float:
        """``value`` per 1,000 synced records."""
        return value * 1000 / self.records if self.records else 0.0

    def line(self) -> str:
        """The one-line result `qbsf bench outbound` prints."""
        return (f"outbound: {self.records:,} records ({self.created:,} created, {self.failed} failed) in "
                f"{self.seconds:.1f} s = {self.records_per_second:,.0f} records/s; {self.sf_calls} Salesforce calls "
                f"({self.per_thousand(self.sf_calls):.1f} per 1,000 records), {self.qb_messages} QuickBooks messages "
                f"({self.per_thousand(self.qb_messages):.1f} per 1,000); latency models: QuickBooks "
                f"{self.qb_latency_seconds:.1f} s modelled{self.qb_model}, Salesforce {self.sf_latency * 1000:.0f} ms "
                f"per call ({self.modelled_seconds:.1f} s modelled in all"
                + (f", {self.modelled_seconds - self.seconds:.1f} s more than the pass took: Salesforce worked beside "
                   f"QuickBooks" if self.seconds < self.modelled_seconds else "") + ")"
                + f"; {self.cpu_seconds:.1f} s of CPU"
                + (" (the engine's process)" if self.peak_rss_mb is not None else "")
                + (f"; engine's peak RSS {self.peak_rss_mb:,.0f} MB" if self.peak_rss_mb is not None else "")
                + f"; seeding took {self.seed_seconds:.1f} s"
                + (f"; created per entity: {self.by_entity}" if self.by_entity else "")
                + (f"\n✗ the pass stopped: {self.error}" if self.error else ""))


def run_outbound_bench(*, accounts: int = 10_000, products: int = 1_000, opportunities: int = 2_000,
                       lines: int = 5, contacts: int = 0, orders: int = 0, latency: bool = True,
                       sf_latency: float = 0.05,
                       qb_per_message: float = 0.040, qb_per_request: float = 0.002, batch_size: int = 1_000,
                       apart: bool = False, sf_timeout: float = 300.0, progress: Any = None) -> OutboundBench:
    """Seed the emulators, run one full Salesforce → QuickBooks pass, and measure it.

    ``apart`` runs the engine in a process of its own (:mod:`qbsf.bench.engine_process`) and reports that
    process's peak RSS: the engine's memory, without the emulators' records.
    """
    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
    from qbsf.quickbooks.transports.simulator import LatencyModel, SimulatorTransport
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient
    from qbsf.sim.quickbooks import QuickBooksSimulator
    from qbsf.sim.salesforce import SalesforceState, start_emulator
    from qbsf.sync.engine import SyncConfig, SyncEngine, load_mappings
    from qbsf.sync.state import StateStore

    org = SalesforceState()
    seed_started = time.perf_counter()
    seeded = seed_org(org, accounts=accounts, contacts=contacts, products=products, opportunities=opportunities,
                      lines=lines, orders=orders)
    seed_seconds = time.perf_counter() - seed_started
    sim = QuickBooksSimulator()
    model = LatencyModel(per_message=qb_per_message, per_request=qb_per_request) if latency else None
    transport = SimulatorTransport(sim, model)
    described = f" ({qb_per_message * 1000:g} ms per message + {qb_per_request * 1000:g} ms per request)" \
        if latency else ""
    with start_emulator(org) as emulator, tempfile.TemporaryDirectory() as folder:
        org.latency = sf_latency if latency else 0.0
        if apart:
            from qbsf.bench.engine_process import EngineJob, run_engine_apart

            run = run_engine_apart(EngineJob(emulator.url, emulator.client_id, emulator.client_secret,
                                             str(EXAMPLE_MAPPINGS), folder, batch_size=batch_size), transport)
            sim.close()
            return OutboundBench(records=seeded.total, seconds=run.seconds, sf_calls=run.sf_calls,
                                 qb_messages=run.qb_messages, failed=run.failed, created=run.created,
                                 qb_latency_seconds=transport.latency_seconds, sf_latency=org.latency,
                                 cpu_seconds=run.cpu_seconds, seed_seconds=seed_seconds, error=run.error,
                                 by_entity=run.by_entity, peak_rss_mb=run.peak_rss_mb, qb_model=described)
        qb = QuickBooksClient(transport, default_accounts=DefaultAccounts(
            income="Sales", cogs="Cost of Goods Sold", asset="Inventory Asset"))
        # The emulator joins child subqueries by scanning (2,000 Opportunities × 10,000 lines takes tens of
        # seconds on a busy machine), so reads get more than the default 30 s here.
        sf = SalesforceClient(emulator.url, ClientCredentialsAuth(emulator.url, emulator.client_id,
                                                                  emulator.client_secret), timeout=sf_timeout)
        state = StateStore(Path(folder) / "state.db")
        engine = SyncEngine(SyncConfig(income_account="Sales", batch_size=batch_size), sf, qb, state,
                            load_mappings(EXAMPLE_MAPPINGS))
        started, cpu_started = time.perf_counter(), time.process_time()
        report = engine.sync_sf_to_qb(full=True, progress=progress)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        state.close()
        sf.close()
    qb.close()
    sim.close()
    return OutboundBench(records=seeded.total, seconds=seconds, sf_calls=report.sf_calls,
                         qb_messages=report.qb_messages, failed=report.total("failed"),
                         created=report.total("created"), qb_latency_seconds=transport.latency_seconds,
                         sf_latency=org.latency, cpu_seconds=cpu_seconds, seed_seconds=seed_seconds,
                         error=report.error, by_entity={name: r.created for name, r in report.entities.items()},
                         qb_model=described)
