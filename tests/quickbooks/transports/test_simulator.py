"""SimulatorTransport: counts messages and requests, applies the latency model."""

from __future__ import annotations

import time

from qbsf.quickbooks import records as rec
from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.transports.base import Transport
from qbsf.quickbooks.transports.simulator import LatencyModel, SimulatorTransport


def test_counts_and_latency(qb_sim):
    transport = SimulatorTransport(qb_sim, LatencyModel(per_message=0.01, per_request=0.001))
    assert isinstance(transport, Transport)
    client = QuickBooksClient(transport, qbxml_version="16.0", batch_size=20)
    started = time.perf_counter()
    client.add_many([rec.Customer(Name=f"Lat {n}") for n in range(40)])
    elapsed = time.perf_counter() - started
    assert transport.stats["messages"] == 2 and transport.stats["requests"] == 40
    assert abs(transport.latency_seconds - (2 * 0.01 + 40 * 0.001)) < 1e-9
    assert elapsed >= transport.latency_seconds
    assert qb_sim.stats.messages == 2
    client.close()
    assert transport.closed


def test_accounted_latency_without_sleeping(qb_sim):
    transport = SimulatorTransport(qb_sim, LatencyModel(per_message=5.0, per_request=1.0, sleep=False))
    started = time.perf_counter()
    QuickBooksClient(transport, qbxml_version="16.0").add_many([rec.Customer(Name="Quick")])
    assert time.perf_counter() - started < 2.0 and transport.latency_seconds == 6.0
