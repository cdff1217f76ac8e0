"""The real QuickBooks client, unchanged, syncing through the Web Connector: zeep plays QBWC, the simulator answers."""

from __future__ import annotations

import threading

from qbsf.errors import Retriable
from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.records import Customer
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport


class ClientThread:
    """An engine-side thread running ``work(client)`` with a QuickBooksClient over the Web Connector."""

    def __init__(self, transport, work) -> None:
        self.result = None
        self.error: Exception | None = None

        def run() -> None:
            try:
                with QuickBooksClient(transport, page_size=3, batch_size=4) as client:
                    self.result = work(client)
            except Exception as exc:  # what the engine would catch and classify
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        transport.want_session()  # as the runtime does before a cycle
        self.thread.start()

    def join(self) -> ClientThread:
        self.thread.join(20)
        assert not self.thread.is_alive()
        return self


def test_client_adds_and_pages_through_one_session(service, zeep_connector, quickbooks, checked_quickbooks,
                                                   validating) -> None:
    transport = validating(WebConnectorTransport(service.bridge("acme"), session_wait=10, response_timeout=10))

    def work(client: QuickBooksClient):
        added = client.add_many([Customer(Name=f"Customer {i:02d}") for i in range(10)])
        return added, [c.Name for c in client.query_customers()]

    engine = ClientThread(transport, work)
    log = zeep_connector().run_session("acme-qbwc", "acme-password-1", checked_quickbooks.send)
    engine.join()
    assert engine.error is None, engine.error
    added, listed = engine.result
    assert all(result.ok for result in added) and len(added) == 10
    assert {f"Customer {i:02d}" for i in range(10)} <= set(listed)
    assert any('iterator="Continue"' in r for r in log["requests"]), "paged with an iterator inside the session"
    assert log["percents"][-1] == 100 and log["errors"] == []
    assert len(quickbooks.customers()) == 10


def test_an_iterator_cut_off_with_its_session_restarts_in_the_next(service, zeep_connector, quickbooks,
                                                                   checked_quickbooks) -> None:
    for i in range(7):
        quickbooks.add("Customer", {"Name": f"Existing {i}"})
    transport = WebConnectorTransport(service.bridge("acme"), session_wait=10, response_timeout=10)
    first = ClientThread(transport, lambda client: [c.Name for c in client.query_customers()])
    wc = zeep_connector()
    # HostQuery (negotiation), iterator Start, then the Continue is taken and the session is cut off.
    cut = wc.run_session("acme-qbwc", "acme-password-1", checked_quickbooks.send, cut_off_after=3)
    first.join()
    assert 'iterator="Continue"' in cut["requests"][-1]
    assert isinstance(first.error, Retriable)
    second = ClientThread(transport, lambda client: [c.Name for c in client.query_customers()])
    log = wc.run_session("acme-qbwc", "acme-password-1", checked_quickbooks.send)
    second.join()
    assert second.error is None and sorted(second.result) == [f"Existing {i}" for i in range(7)]
    assert 'iterator="Start"' in next(r for r in log["requests"] if "CustomerQueryRq" in r)
