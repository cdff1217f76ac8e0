"""In-process transport to the QuickBooks Desktop simulator, with an optional latency model for benchmarks."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

# Counts request elements (…Rq) inside a message without parsing it; QBXMLMsgsRq itself is excluded.
_REQUEST_TAG = re.compile(r"<(?!QBXMLMsgsRq)[A-Za-z]+Rq[\s>/]")


class _Processor(Protocol):
    def process(self, request_xml: str) -> str: ...


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """Time a real QuickBooks would take: a fixed cost per message plus a cost per request inside it.

    The defaults approximate QuickBooks Desktop over the local COM request processor (tens of milliseconds
    per round trip, a few milliseconds per list Add); ``sleep=False`` only accounts the time.
    """

    per_message: float = 0.040
    per_request: float = 0.002
    sleep: bool = True

    def cost(self, requests: int) -> float:
        """Seconds one message carrying ``requests`` requests takes."""
        return self.per_message + self.per_request * requests


class SimulatorTransport:
    """Hands each message to ``sim.process`` in process; counts messages and requests, applies ``latency``."""

    def __init__(self, sim: _Processor, latency: LatencyModel | None = None) -> None:
        self.sim = sim
        self.latency = latency
        self.messages = 0
        self.requests = 0
        self.latency_seconds = 0.0
        self.closed = False

    def send(self, request_xml: str) -> str:
        """Process one message in the simulator (after the modelled latency, if any)."""
        count = len(_REQUEST_TAG.findall(request_xml))
        self.messages += 1
        self.requests += count
        if self.latency is not None:
            delay = self.latency.cost(count)
            self.latency_seconds += delay
            if self.latency.sleep:
                time.sleep(delay)
        return self.sim.process(request_xml)

    def close(self) -> None:
        """Nothing to release in process; recorded so tests can see the client closed its session."""
        self.closed = True

    @property
    def stats(self) -> dict[str, Any]:
        """Messages and requests sent, and seconds spent in modelled latency."""
        return {"messages": self.messages, "requests": self.requests, "latency_seconds": self.latency_seconds}
