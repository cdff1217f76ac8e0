"""`qbsf bench inbound`: QuickBooks → Salesforce at scale, against both emulators.

Seeds the QuickBooks simulator (10,000 customers and 20,000 invoices by default, one item), turns both latency
models on, runs the first (full) inbound pass into an empty Salesforce org, then changes ``delta`` records in
QuickBooks (half customer edits, half invoice payments) and runs the next pass. Reports records/s, Salesforce
API calls and QuickBooks messages for both runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from qbsf.bench.outbound import EXAMPLE_MAPPINGS


@dataclass
class InboundRun:
    """One measured pass."""

    records: int
    seconds: float
    sf_calls: int
    qb_messages: int
    created: int
    updated: int
    failed: int
    reread: int = 0
    error: str | None = None

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        """One result line."""
        return (f"{label}: {self.records:,} records ({self.created:,} created, {self.updated:,} updated, "
                f"{self.failed} failed) in {self.seconds:.1f} s = {self.records_per_second:,.0f} records/s; "
                f"{self.sf_calls} Salesforce calls, {self.qb_messages} QuickBooks messages"
                + (f"; {self.reread:,} unchanged records read again by the overlap" if self.reread else "")
                + (f"\n✗ the pass stopped: {self.error}" if self.error else ""))


@dataclass
class InboundBench:
    """What `qbsf bench inbound` measured: the first full pass and the delta pass."""

    customers: int
    invoices: int
    delta: int
    full: InboundRun
    changed: InboundRun
    seed_seconds: float
    latency: bool
    overlap: float = 10.0

    @property
    def failed(self) -> int:
        return self.full.failed + self.changed.failed

    def lines(self) -> list[str]:
        """What the command prints."""
        return [f"inbound: {self.customers:,} customers + {self.invoices:,} invoices seeded in QuickBooks in "
                f"{self.seed_seconds:.1f} s; latency models {'on' if self.latency else 'off'}; overlap "
                f"{self.overlap:g} s",
                self.full.line("first run (full)"),
                self.changed.line(f"delta of {self.delta}")]


def _run(sync: Any, **options: Any) -> InboundRun:
    started = time.perf_counter()
    report = sync.run(**options)
    seconds = time.perf_counter() - started
    return InboundRun(records=report.total("queried"), seconds=seconds, sf_calls=report.sf_calls,
                      qb_messages=report.qb_messages, created=report.total("created"),
                      updated=report.total("updated"), failed=report.total("failed"), reread=report.total("reread"),
                      error=report.error)


def seed_company(sim: Any, *, customers: int, invoices: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Customers (with phone and billing address) and two-line invoices over them, through the direct API."""
    added = [sim.add("Customer", {"Name": f"Customer {n:05d}", "Phone": f"(415) 555-{n % 10_000:04d}",
                                  "BillAddress": {"Addr1": f"{n % 999 + 1} Market Street", "City": "San Francisco",
                                                  "State": "CA", "PostalCode": "94105"}})
             for n in range(customers)]
    item = sim.add("ItemService", {"Name": "Consulting", "SalesOrPurchase": {
        "Desc": "Hourly", "Price": "150.00", "AccountRef": {"FullName": "Sales"}}})
    made = []
    for n in range(invoices):
        customer = added[n % len(added)]
        made.append(sim.add("Invoice", {
            "CustomerRef": {"ListID": customer["ListID"]}, "RefNumber": f"{n + 1}", "TermsRef": {"FullName": "Net 30"},
            "InvoiceLineAdd": [{"ItemRef": {"ListID": item["ListID"]}, "Quantity": str(n % 4 + 1)},
                               {"ItemRef": {"ListID": item["ListID"]}, "Desc": "Expenses", "Amount": "25.00"}]}))
    return added, made


def run_inbound_bench(*, customers: int = 10_000, invoices: int = 20_000, delta: int = 100, latency: bool = True,
                      sf_latency: float = 0.05, overlap: float = 10.0, progress: Any = None) -> InboundBench:
    """Seed QuickBooks, run the first QuickBooks → Salesforce pass, change ``delta`` records, run again."""
    from qbsf.quickbooks.client import QuickBooksClient
    from qbsf.quickbooks.transports.simulator import LatencyModel, SimulatorTransport
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient
    from qbsf.sim.quickbooks import QuickBooksSimulator
    from qbsf.sim.salesforce import SalesforceState, start_emulator
    from qbsf.sync.engine import load_mappings
    from qbsf.sync.inbound import InboundConfig, InboundSync
    from qbsf.sync.state import StateStore

    sim = QuickBooksSimulator()
    seed_started = time.perf_counter()
    added, made = seed_company(sim, customers=max(1, customers), invoices=invoices)
    seed_seconds = time.perf_counter() - seed_started
    org = SalesforceState()
    qb = QuickBooksClient(SimulatorTransport(sim, LatencyModel() if latency else None))
    with start_emulator(org) as emulator:
        org.latency = sf_latency if latency else 0.0
        sf = SalesforceClient(emulator.url, ClientCredentialsAuth(emulator.url, emulator.client_id,
                                                                  emulator.client_secret), timeout=300.0)
        state = StateStore(":memory:")
        config = InboundConfig(overlap=timedelta(seconds=overlap))
        sync = InboundSync(config, sf, qb, state, load_mappings(EXAMPLE_MAPPINGS), clock=sim.now)
        full = _run(sync, progress=progress)
        sim.advance(120)
        edits = delta - delta // 2 if made else delta
        for n in range(min(edits, len(added))):
            sim.modify(added[n]["ListID"], {"Phone": f"(510) 555-{n:04d}"})
        for n in range(min(delta - edits, len(made))):
            invoice = made[n]
            sim.add("ReceivePayment", {"CustomerRef": invoice["CustomerRef"], "TotalAmount": "10.00",
                                       "AppliedToTxnAdd": {"TxnID": invoice["TxnID"], "PaymentAmount": "10.00"}})
        changed = _run(sync)
        state.close()
        sf.close()
    qb.close()
    sim.close()
    return InboundBench(customers=len(added), invoices=len(made), delta=delta, full=full, changed=changed,
                        seed_seconds=seed_seconds, latency=latency, overlap=overlap)
