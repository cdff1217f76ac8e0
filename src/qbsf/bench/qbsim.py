"""How fast the simulator itself answers qbXML, so benchmarks of the client can show it is not the bottleneck."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from qbsf.sim.quickbooks.simulator import QuickBooksSimulator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulatorBenchResult:
    """Throughput of raw qbXML through the simulator (no client, no transport latency)."""

    customers: int
    invoices: int
    messages: int
    customer_seconds: float
    invoice_seconds: float
    query_seconds: float
    query_records: int
    cpu_seconds: float

    @property
    def customers_per_second(self) -> float:
        return self.customers / self.customer_seconds if self.customer_seconds else 0.0

    @property
    def invoices_per_second(self) -> float:
        return self.invoices / self.invoice_seconds if self.invoice_seconds else 0.0


def _message(requests: list[str]) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="16.0"?>\n'
            f'<QBXML><QBXMLMsgsRq onError="continueOnError">{"".join(requests)}</QBXMLMsgsRq></QBXML>')


def run_simulator_bench(customers: int = 10_000, invoices: int = 20_000, *, batch: int = 500,
                        path: Path | None = None, page: int = 2_500) -> SimulatorBenchResult:
    """Add ``customers`` customers and ``invoices`` two-line invoices in batches, then page through the invoices."""
    if customers < 1 or invoices < 0 or batch < 1:
        raise ValueError("customers and batch must be at least 1, invoices at least 0")
    cpu_started = time.process_time()  # CPU time too: wall time on a shared machine measures the neighbours
    with QuickBooksSimulator(path) as sim:
        started = time.perf_counter()
        for first in range(0, customers, batch):
            sim.process(_message([
                f'<CustomerAddRq requestID="{n}"><CustomerAdd><Name>Bench Customer {n:06d}</Name><BillAddress>'
                f"<Addr1>{n} Main St</Addr1><City>Reno</City><State>NV</State></BillAddress></CustomerAdd>"
                "</CustomerAddRq>" for n in range(first, min(first + batch, customers))]))
        customer_seconds = time.perf_counter() - started
        sim.add("ItemService", {"Name": "Bench Hour",
                                "SalesOrPurchase": {"Price": "95.00", "AccountRef": {"FullName": "Services"}}})
        started = time.perf_counter()
        for first in range(0, invoices, batch):
            sim.process(_message([
                f'<InvoiceAddRq requestID="{n}"><InvoiceAdd><CustomerRef><FullName>Bench Customer '
                f"{n % customers:06d}</FullName></CustomerRef><InvoiceLineAdd><ItemRef><FullName>Bench Hour"
                "</FullName></ItemRef><Quantity>2</Quantity></InvoiceLineAdd><InvoiceLineAdd><Desc>Travel</Desc>"
                "<Amount>40.00</Amount></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>"
                for n in range(first, min(first + batch, invoices))]))
        invoice_seconds = time.perf_counter() - started
        started = time.perf_counter()
        response = sim.process(_message([f'<InvoiceQueryRq iterator="Start"><MaxReturned>{page}</MaxReturned>'
                                         "<IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq>"]))
        query_seconds = time.perf_counter() - started
        return SimulatorBenchResult(
            customers=sim.count("Customer"), invoices=sim.count("Invoice"), messages=sim.stats.messages,
            customer_seconds=customer_seconds, invoice_seconds=invoice_seconds, query_seconds=query_seconds,
            query_records=response.count("<InvoiceRet>"), cpu_seconds=time.process_time() - cpu_started)
