"""`qbsf bench inbound`: QuickBooks → Salesforce at scale, against both emulators.

Seeds the QuickBooks simulator (10,000 customers and 20,000 invoices by default, one item; and, when asked, the
documents QuickBooks → Salesforce also brings: payments, credit memos, sales receipts, vendors and bills), turns
both latency models on, runs the first (full) inbound pass into an empty Salesforce org, then changes ``delta``
records in QuickBooks (half customer edits, half invoice payments; with documents seeded, also credits applied to
invoices and bills paid by check) and runs the next pass. Reports records/s, Salesforce API calls and QuickBooks
messages for both runs, and the first run's Salesforce calls per 1,000 records of each entity.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
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
class EntityCalls:
    """One entity's share of a pass: records read and the Salesforce calls made while syncing them."""

    entity: str
    records: int
    sf_calls: int

    @property
    def per_thousand(self) -> float:
        return self.sf_calls * 1000 / self.records if self.records else 0.0


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
    documents: dict[str, int] = field(default_factory=dict)  # QuickBooks documents seeded beside the invoices
    by_entity: list[EntityCalls] = field(default_factory=list)  # the first run's calls, per entity

    @property
    def failed(self) -> int:
        return self.full.failed + self.changed.failed

    def lines(self) -> list[str]:
        """What the command prints."""
        seeded = "".join(f" + {n:,} {kind}" for kind, n in self.documents.items() if n)
        lines = [f"inbound: {self.customers:,} customers + {self.invoices:,} invoices{seeded} seeded in QuickBooks "
                 f"in {self.seed_seconds:.1f} s; latency models {'on' if self.latency else 'off'}; overlap "
                 f"{self.overlap:g} s",
                 self.full.line("first run (full)"),
                 self.changed.line(f"delta of {self.delta}")]
        if self.by_entity:
            lines.append("first run, Salesforce calls per 1,000 records: " + ", ".join(
                f"{item.entity} {item.per_thousand:.1f} ({item.sf_calls} for {item.records:,})"
                for item in self.by_entity if item.records))
        return lines


class _CallsByEntity:
    """A progress callback that charges the Salesforce calls made between one entity's first report and the next
    entity's to that entity (the pass syncs entities one after another, in REGISTRY order)."""

    def __init__(self, sf: Any, progress: Any = None) -> None:
        self.sf = sf
        self.progress = progress
        self.current: str | None = None
        self.mark = 0
        self.calls: dict[str, int] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        if name != self.current:
            self._close()
            self.current, self.mark = name, self.sf.calls
        if self.progress is not None:
            self.progress(name, done, total)

    def _close(self) -> None:
        if self.current is not None:
            self.calls[self.current] = self.calls.get(self.current, 0) + self.sf.calls - self.mark

    def finish(self, report: Any) -> list[EntityCalls]:
        """Each entity's calls and records (its word, as a bookkeeper says it)."""
        from qbsf.sync.entities import inbound_spec

        self._close()
        self.current = None
        return [EntityCalls(inbound_spec(name).declared.qb_word, counts.queried, self.calls.get(name, 0))
                for name, counts in report.entities.items()]


def _run(sync: Any, **options: Any) -> tuple[InboundRun, Any]:
    started = time.perf_counter()
    report = sync.run(**options)
    seconds = time.perf_counter() - started
    return InboundRun(records=report.total("queried"), seconds=seconds, sf_calls=report.sf_calls,
                      qb_messages=report.qb_messages, created=report.total("created"),
                      updated=report.total("updated"), failed=report.total("failed"), reread=report.total("reread"),
                      error=report.error), report


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


def seed_documents(sim: Any, customers: list[dict[str, Any]], invoices: list[dict[str, Any]], *, payments: int = 0,
                   credit_memos: int = 0, sales_receipts: int = 0, vendors: int = 0, bills: int = 0
                   ) -> dict[str, list[dict[str, Any]]]:
    """The documents QuickBooks → Salesforce brings beside customers and invoices, through the direct API:
    payments of 10.00 on the first invoices, one-line credit memos and cash sales over the customers, vendors with
    one open bill each (one expense line) and more bills over them."""
    item = next(i for i in sim.items() if i["Name"] == "Consulting")
    made: dict[str, list[dict[str, Any]]] = {"payments": [], "credit memos": [], "sales receipts": [],
                                             "vendors": [], "bills": []}
    for n in range(min(payments, len(invoices))):
        invoice = invoices[n]
        made["payments"].append(sim.add("ReceivePayment", {
            "CustomerRef": invoice["CustomerRef"], "RefNumber": f"P{n + 1}", "TotalAmount": "10.00",
            "PaymentMethodRef": {"FullName": "Check"},
            "AppliedToTxnAdd": {"TxnID": invoice["TxnID"], "PaymentAmount": "10.00"}}))
    for n in range(credit_memos):
        made["credit memos"].append(sim.add("CreditMemo", {
            "CustomerRef": {"ListID": customers[n % len(customers)]["ListID"]}, "RefNumber": f"CM{n + 1}",
            "CreditMemoLineAdd": [{"ItemRef": {"ListID": item["ListID"]}, "Desc": "Refund", "Amount": "15.00"}]}))
    for n in range(sales_receipts):
        made["sales receipts"].append(sim.add("SalesReceipt", {
            "CustomerRef": {"ListID": customers[n % len(customers)]["ListID"]}, "RefNumber": f"SR{n + 1}",
            "PaymentMethodRef": {"FullName": "Cash"},
            "SalesReceiptLineAdd": [{"ItemRef": {"ListID": item["ListID"]}, "Quantity": str(n % 3 + 1)}]}))
    for n in range(vendors if vendors or not bills else 1):
        made["vendors"].append(sim.add("Vendor", {"Name": f"Vendor {n:05d}", "Phone": f"(775) 555-{n % 10_000:04d}",
                                                  "VendorAddress": {"City": "Reno", "State": "NV"}}))
    for n in range(bills):
        made["bills"].append(sim.add("Bill", {
            "VendorRef": {"ListID": made["vendors"][n % len(made["vendors"])]["ListID"]}, "RefNumber": f"B{n + 1}",
            "TermsRef": {"FullName": "Net 30"},
            "ExpenseLineAdd": [{"AccountRef": {"FullName": "Office Supplies"}, "Amount": f"{n % 90 + 10}.00"}]}))
    return made


def run_inbound_bench(*, customers: int = 10_000, invoices: int = 20_000, delta: int = 100, latency: bool = True,
                      sf_latency: float = 0.05, overlap: float = 10.0, progress: Any = None, payments: int = 0,
                      credit_memos: int = 0, sales_receipts: int = 0, vendors: int = 0,
                      bills: int = 0) -> InboundBench:
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
    documents = seed_documents(sim, added, made, payments=payments, credit_memos=credit_memos,
                               sales_receipts=sales_receipts, vendors=vendors, bills=bills)
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
        charged = _CallsByEntity(sf, progress)
        full, report = _run(sync, progress=charged)
        by_entity = charged.finish(report)
        sim.advance(120)
        edits = delta - delta // 2 if made else delta
        for n in range(min(edits, len(added))):
            sim.modify(added[n]["ListID"], {"Phone": f"(510) 555-{n:04d}"})
        for n in range(min(delta - edits, len(made))):
            invoice = made[n]
            sim.add("ReceivePayment", {"CustomerRef": invoice["CustomerRef"], "TotalAmount": "10.00",
                                       "AppliedToTxnAdd": {"TxnID": invoice["TxnID"], "PaymentAmount": "10.00"}})
        _change_documents(sim, documents, made, delta)
        changed, _ = _run(sync)
        state.close()
        sf.close()
    qb.close()
    sim.close()
    return InboundBench(customers=len(added), invoices=len(made), delta=delta, full=full, changed=changed,
                        seed_seconds=seed_seconds, latency=latency, overlap=overlap,
                        documents={kind: len(records) for kind, records in documents.items()}, by_entity=by_entity)


def _change_documents(sim: Any, documents: dict[str, list[dict[str, Any]]], invoices: list[dict[str, Any]],
                      delta: int) -> None:
    """With documents seeded, the delta also applies credits (each credit memo's whole credit, to an invoice of its
    customer: the memo and the invoice change, and a payment carries the credit) and pays bills by check."""
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for invoice in reversed(invoices):  # the last invoices: the delta's payments went to the first ones
        by_customer.setdefault(invoice["CustomerRef"]["ListID"], []).append(invoice)
    for memo in documents["credit memos"][:delta // 4]:
        customer = memo["CustomerRef"]["ListID"]
        target = next(iter(by_customer.get(customer, [])), None)
        if target is not None:
            sim.add("ReceivePayment", {"CustomerRef": {"ListID": customer}, "TotalAmount": "0.00",
                                       "AppliedToTxnAdd": [{"TxnID": target["TxnID"], "SetCredit": [{
                                           "CreditTxnID": memo["TxnID"], "AppliedAmount": memo["TotalAmount"]}]}]})
    for bill in documents["bills"][:delta // 4]:
        sim.add("BillPaymentCheck", {"PayeeEntityRef": bill["VendorRef"], "BankAccountRef": {"FullName": "Checking"},
                                     "RefNumber": f"C{bill['RefNumber']}",
                                     "AppliedToTxnAdd": {"TxnID": bill["TxnID"], "PaymentAmount": bill["AmountDue"]}})
