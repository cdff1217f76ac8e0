"""LocalWebConnector (the demo's path): an engine cycling through a polling stand-in; progress and status."""

from __future__ import annotations

import time

from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.records import Customer
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.quickbooks.webconnector.bridge import CompanyBridge
from qbsf.sim.webconnector import LocalWebConnector


def test_engine_cycles_run_through_scheduled_web_connector_sessions(quickbooks) -> None:
    def sessions_at_least(local: LocalWebConnector, count: int) -> None:
        deadline = time.monotonic() + 5
        while len(local.transcripts) < count and time.monotonic() < deadline:
            time.sleep(0.02)

    with LocalWebConnector(quickbooks, company="demo", every=0.05, poll_wait=0.2) as local:
        for cycle in range(2):
            local.transport.want_session()  # the runtime announces each cycle
            with QuickBooksClient(local.transport) as client:
                results = client.add_many([Customer(Name=f"Cycle {cycle} Customer {i}") for i in range(3)])
            assert all(r.ok for r in results)
            sessions_at_least(local, cycle + 1)
        statuses = local.service.statuses()
    assert len(quickbooks.customers()) == 6
    assert len(local.transcripts) >= 2 and all(t.completed for t in local.transcripts[:2])
    assert [s.company for s in statuses] == ["demo"]
    assert statuses[0].last_session.outcome == "completed" and not statuses[0].active


def test_entity_progress_becomes_the_percentage_the_web_connector_shows() -> None:
    bridge = CompanyBridge("acme")
    transport = WebConnectorTransport(bridge)
    progress = transport.entity_progress(["Account", "Product2", "Opportunity", "Contact"])
    bridge.open_session("s1")
    progress("Account", 0, 10)
    assert bridge.percent_done() == 1
    progress("Product2", 5, 10)
    assert bridge.percent_done() == 37
    progress("Unmapped", 1, 1)
    assert bridge.percent_done() == 37, "an entity the engine did not announce changes nothing"
    progress("Contact", 0, 0)
    assert bridge.percent_done() == 99, "only the engine's finish says 100"


def test_a_plain_engine_that_never_announces_or_finishes_still_gets_whole_sessions(quickbooks) -> None:
    # As `qbsf run`'s EngineServices drives a transport: company() at connect, then cycles, no finish between.
    with LocalWebConnector(quickbooks, every=0.05, poll_wait=0.1, quiet_timeout=0.5) as local:
        client = QuickBooksClient(local.transport)
        assert client.company().CompanyName == "Acme Supplies"
        assert all(r.ok for r in client.add_many([Customer(Name="Plain Engine Customer")]))
        deadline = time.monotonic() + 10
        while not local.transcripts and time.monotonic() < deadline:
            time.sleep(0.02)
        assert local.transcripts and local.transcripts[0].completed
        assert local.service.statuses()[0].last_session.outcome == "completed"
    assert [c["Name"] for c in quickbooks.customers()] == ["Plain Engine Customer"]
