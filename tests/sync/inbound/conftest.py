"""Fixtures for the QuickBooks → Salesforce sync: an InboundSync over both emulators, on QuickBooks' clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from qbsf.sync.inbound import InboundConfig, InboundSync


@pytest.fixture
def qb_sim():
    """The QuickBooks simulator on a clock that stands still unless a test moves it (advance / set_clock)."""
    from qbsf.sim.quickbooks import QuickBooksSimulator

    start = datetime.now(UTC).replace(microsecond=0)
    sim = QuickBooksSimulator(clock=lambda: start)
    yield sim
    sim.close()


@pytest.fixture
def inbound(world):
    """A factory: ``inbound(**config)`` → a fresh InboundSync (as after a restart) over the world's systems.

    Its clock is the QuickBooks simulator's, so moving the simulator's clock moves "today" for invoice status.
    """

    def make(**changes: Any) -> InboundSync:
        config = InboundConfig(**changes)
        return InboundSync(config, world.sf, world.qb, world.state, world.mappings, clock=world.qb_sim.now)

    return make
