"""Batching: many requests per QBXMLMsgsRq, results matched by requestID (never position), iterator paging."""

from __future__ import annotations

import re

from qbsf.quickbooks import records as rec
from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.errors import RecordBusy, TransportError
from qbsf.xmlsafe import parse_xml


class ShufflingTransport:
    """Answers in reverse order (QuickBooks may not, but nothing in the protocol promises position)."""

    def __init__(self, inner, drop_request_id: str | None = None) -> None:
        self.inner = inner
        self.drop_request_id = drop_request_id

    def send(self, request_xml: str) -> str:
        response = self.inner.send(request_xml)
        root = parse_xml(response)
        msgs = root.find("QBXMLMsgsRs")
        answers = list(msgs)
        for answer in answers:
            msgs.remove(answer)
        for answer in reversed(answers):
            if answer.get("requestID") != self.drop_request_id:
                msgs.append(answer)
        from lxml import etree

        head = response[:response.index("<QBXML")]
        return head + etree.tostring(root, encoding="unicode")

    def close(self) -> None:
        self.inner.close()


def test_a_thousand_customers_are_a_handful_of_messages(qb_client, qb_transport, qb_sim):
    before = qb_transport.messages_sent
    results = qb_client.add_many([rec.Customer(Name=f"Batch Customer {n:04d}") for n in range(1000)])
    assert all(r.ok for r in results)
    sent = qb_transport.messages_sent - before
    assert sent <= 6, f"{sent} messages for 1,000 customers"
    assert qb_sim.count("Customer") == 1000
    assert [r.ret.Name for r in results[:3]] == ["Batch Customer 0000", "Batch Customer 0001", "Batch Customer 0002"]


def test_results_are_matched_by_request_id_not_position(qb_sim, validating):
    from qbsf.quickbooks.transports.simulator import SimulatorTransport

    client = QuickBooksClient(ShufflingTransport(validating(SimulatorTransport(qb_sim))), qbxml_version="16.0")
    qb_sim.fail_next(status_code=3180, request_type="CustomerAdd")
    names = [f"Shuffled {n}" for n in range(5)]
    results = client.add_many([rec.Customer(Name=name) for name in names])
    assert isinstance(results[0].error, RecordBusy)
    assert [r.ret.Name for r in results[1:]] == names[1:]
    assert [r.index for r in results] == list(range(5))


def test_a_missing_response_is_a_retriable_error(qb_sim, validating):
    from qbsf.quickbooks.transports.simulator import SimulatorTransport

    client = QuickBooksClient(ShufflingTransport(SimulatorTransport(qb_sim), drop_request_id="1"),
                              qbxml_version="16.0")
    first, second = client.add_many([rec.Customer(Name="Kept"), rec.Customer(Name="Lost answer")])
    assert first.ok and isinstance(second.error, TransportError)
    assert "no response" in str(second.error)


def test_batch_message_shape(qb_sim):
    seen: list[str] = []

    class Recording:
        def send(self, xml: str) -> str:
            seen.append(xml)
            return qb_sim.process(xml)

        def close(self) -> None:
            seen.append("closed")

    client = QuickBooksClient(Recording(), qbxml_version="16.0", batch_size=3)
    client.add_many([rec.Customer(Name=f"Shape {n}") for n in range(7)])
    assert len(seen) == 3
    assert seen[0].startswith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="16.0"?>\n<QBXML>')
    assert '<QBXMLMsgsRq onError="continueOnError">' in seen[0]
    assert re.findall(r'requestID="([^"]+)"', seen[1]) == ["3", "4", "5"]


def test_iterator_pages_over_2500_customers(qb_client, qb_transport, qb_sim):
    qb_client.add_many([rec.Customer(Name=f"Paged {n:05d}") for n in range(2500)])
    qb_client.page_size = 500
    before = qb_transport.messages_sent
    names = [c.Name for c in qb_client.query_customers()]
    assert len(names) == 2500 and len(set(names)) == 2500
    assert qb_transport.messages_sent - before == 5
    inactive = qb_client.mod(next(qb_client.query_customers(names=["Paged 00007"])), {"IsActive": False})
    assert inactive.IsActive is False
    active = sum(1 for _ in qb_client.query_customers())
    everyone = sum(1 for _ in qb_client.query_customers(include_inactive=True))
    assert (active, everyone) == (2499, 2500)


class DyingTransport:
    """Delivers ``alive`` messages, then the session is gone (QuickBooks closed, Web Connector cut off)."""

    def __init__(self, inner, alive: int) -> None:
        self.inner = inner
        self.alive = alive
        self.attempts = 0

    def send(self, request_xml: str) -> str:
        self.attempts += 1
        if self.attempts > self.alive:
            raise TransportError("QuickBooks did not process the request: session ended", hint="retry")
        return self.inner.send(request_xml)

    def close(self) -> None:
        self.inner.close()


def test_a_transport_failure_keeps_what_was_answered(qb_sim, validating):
    from qbsf.quickbooks.transports.simulator import SimulatorTransport

    transport = DyingTransport(validating(SimulatorTransport(qb_sim)), alive=1)
    client = QuickBooksClient(transport, qbxml_version="16.0", batch_size=2)
    results = client.add_many([rec.Customer(Name=f"Dying {n}") for n in range(5)])
    assert [r.ok for r in results] == [True, True, False, False, False]
    assert all(isinstance(r.error, TransportError) for r in results[2:])
    assert transport.attempts == 2  # nothing more is sent once the session is gone
    assert qb_sim.count("Customer") == 2
