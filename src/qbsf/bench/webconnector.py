"""`qbsf bench webconnector`: what the Web Connector path costs per qbXML message.

The QuickBooks client adds customers in batches through ``WebConnectorTransport``;
the Web Connector stand-in carries every message over real HTTP (SOAP 1.1 on
127.0.0.1) and answers with the QuickBooks simulator. The same adds straight into
a second simulator give the baseline, so the difference is the Web Connector
path: SOAP, HTTP, the bridge's hand-over between threads.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from qbsf.errors import QbsfError
from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.records import Customer
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.quickbooks.webconnector.endpoint import create_app
from qbsf.quickbooks.webconnector.server import BackgroundServer
from qbsf.quickbooks.webconnector.service import WebConnectorService
from qbsf.quickbooks.webconnector.users import UserDirectory


@dataclass(frozen=True)
class WebConnectorBenchResult:
    """One run: messages and records through the Web Connector, and the same work done directly."""

    customers: int
    batch: int
    messages: int
    seconds: float
    direct_seconds: float
    soap_version: str

    @property
    def customers_per_second(self) -> float:
        """Customers added per second through the Web Connector."""
        return self.customers / self.seconds if self.seconds else 0.0

    @property
    def messages_per_second(self) -> float:
        """qbXML round trips per second through the Web Connector."""
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def overhead_ms_per_message(self) -> float:
        """Extra milliseconds per message compared with calling the simulator directly."""
        return 1000 * (self.seconds - self.direct_seconds) / self.messages if self.messages else 0.0


def _customers(count: int) -> list[Customer]:
    return [Customer(Name=f"Bench Customer {i:06d}", CompanyName="Bench Ltd") for i in range(count)]


def run_webconnector_bench(customers: int = 2000, *, batch: int = 50,
                           soap_version: str = "1.1") -> WebConnectorBenchResult:
    """Add ``customers`` in messages of ``batch`` through a full Web Connector session, and directly."""
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.sim.quickbooks import QuickBooksSimulator
    from qbsf.sim.webconnector import WebConnectorStandIn

    direct_sim = QuickBooksSimulator(company_name="Bench direct")
    started = time.perf_counter()
    with QuickBooksClient(SimulatorTransport(direct_sim), batch_size=batch) as client:
        client.add_many(_customers(customers))
    direct_seconds = time.perf_counter() - started

    sim = QuickBooksSimulator(company_name="Bench")
    users = UserDirectory()
    users.add("bench-qbwc", "bench-password", "bench")
    service = WebConnectorService(users, poll_wait=5.0)
    transport = WebConnectorTransport(service.add_company("bench"), session_wait=60, response_timeout=60)
    failures: list[BaseException] = []

    def engine() -> None:
        try:
            with QuickBooksClient(transport, batch_size=batch) as client:
                results = client.add_many(_customers(customers))
            failures.extend(r.error for r in results if r.error is not None)
        except Exception as exc:  # reported below; the bench must say why it has no figure
            failures.append(exc)

    with BackgroundServer(create_app(service)) as server, WebConnectorStandIn(
            server.url, "bench-qbwc", "bench-password", sim, soap_version=soap_version) as connector:
        thread = threading.Thread(target=engine, daemon=True)
        transport.want_session()  # as the runtime does before a cycle, so the first poll opens a session
        started = time.perf_counter()
        thread.start()
        transcript = connector.run_session()
        thread.join(60)
        seconds = time.perf_counter() - started
    if failures or not transcript.completed:
        raise QbsfError(f"the benchmark's Web Connector session failed: {failures[:1] or transcript.last_errors}")
    return WebConnectorBenchResult(customers=customers, batch=batch, messages=len(transcript.requests),
                                   seconds=seconds, direct_seconds=direct_seconds, soap_version=soap_version)
