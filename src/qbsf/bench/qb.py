"""`qbsf bench qb`: customers through the QuickBooks client into the simulator, with the latency model on."""

from __future__ import annotations

import time
from dataclasses import dataclass

from qbsf.quickbooks import records as rec
from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.transports.simulator import LatencyModel, SimulatorTransport


@dataclass(frozen=True, slots=True)
class QbBenchResult:
    """What one run measured."""

    customers: int
    added: int
    seconds: float
    cpu_seconds: float
    messages: int
    requests: int
    latency_seconds: float
    read_back: int
    read_seconds: float
    read_messages: int

    @property
    def records_per_second(self) -> float:
        """Customers added per wall-clock second (latency included)."""
        return self.added / self.seconds if self.seconds else 0.0


def _customer(number: int) -> rec.Customer:
    return rec.Customer(
        Name=f"Bench Customer {number:06d}", CompanyName=f"Bench Customer {number:06d} Inc",
        FirstName="Pat", LastName=f"Lee{number}", Phone="555-0100", Email=f"ap{number}@example.com",
        BillAddress=rec.Address(Addr1=f"{number} Main Street", City="Springfield", State="IL", PostalCode="62701"),
        TermsRef=rec.Ref(FullName="Net 30"),
    )


def run_qb_bench(customers: int = 10_000, *, batch_size: int = 200, page_size: int = 1000,
                 latency: LatencyModel | None = None) -> QbBenchResult:
    """Add ``customers`` through QuickBooksClient (batched), then read them back with an iterator query."""
    from qbsf.sim.quickbooks import QuickBooksSimulator

    latency = latency if latency is not None else LatencyModel()
    with QuickBooksSimulator() as sim:
        transport = SimulatorTransport(sim, latency)
        client = QuickBooksClient(transport, qbxml_version="16.0", batch_size=batch_size, page_size=page_size)
        records = [_customer(n) for n in range(customers)]
        started, cpu_started = time.perf_counter(), time.process_time()
        results = client.add_many(records, salesforce_ids=[f"001{n:012d}" for n in range(customers)])
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        messages, requests, waited = transport.messages, transport.requests, transport.latency_seconds
        started = time.perf_counter()
        read_back = sum(1 for _ in client.query("Customer"))
        read_seconds = time.perf_counter() - started
        return QbBenchResult(customers=customers, added=sum(r.ok for r in results), seconds=seconds,
                             cpu_seconds=cpu_seconds,
                             messages=messages, requests=requests, latency_seconds=waited, read_back=read_back,
                             read_seconds=read_seconds, read_messages=transport.messages - messages)


def format_result(result: QbBenchResult, latency: LatencyModel) -> str:
    """The line `qbsf bench qb` prints (and docs/benchmarks.md records)."""
    return (f"QuickBooks client: {result.added:,}/{result.customers:,} customers added in {result.seconds:.2f} s = "
            f"{result.records_per_second:,.0f} records/s over {result.messages} messages ({result.requests} "
            f"requests; latency model {latency.per_message * 1000:.0f} ms/message + "
            f"{latency.per_request * 1000:.1f} ms/request = {result.latency_seconds:.2f} s of it; "
            f"{result.cpu_seconds:.2f} CPU s in client + simulator); "
            f"read back {result.read_back:,} with an iterator in {result.read_seconds:.2f} s "
            f"({result.read_messages} messages)")


def qb_command(customers: int, batch_size: int, per_message_ms: float, per_request_ms: float) -> None:
    """Run the benchmark and print its line."""
    import typer

    latency = LatencyModel(per_message=per_message_ms / 1000, per_request=per_request_ms / 1000)
    result = run_qb_bench(customers, batch_size=batch_size, latency=latency)
    typer.echo(format_result(result, latency))
    if result.added != customers or result.read_back != customers:
        raise typer.Exit(1)
