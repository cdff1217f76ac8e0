"""Fixtures for the three-way merge: both systems on one clock the test moves, and the two passes of a cycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from qbsf.sync.conflicts import ConflictPolicy
from qbsf.sync.inbound import InboundConfig, InboundSync


class Clock:
    """One wall clock for QuickBooks and Salesforce: an edit made after ``advance`` is the newer one."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 60) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def qb_sim(clock):
    """The QuickBooks simulator on the shared clock."""
    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator(clock=clock)
    yield sim
    sim.close()


@pytest.fixture
def passes(world, clock) -> Callable[..., dict[str, Callable[[], Any]]]:
    """``passes(policy, **engine settings)`` → the cycle's two passes by name, each asserting it went well."""
    world.sf_state.clock = clock

    def make(policy: str = "newest", **settings: Any) -> dict[str, Callable[[], Any]]:
        def sf_to_qb() -> Any:
            clock.advance(1)
            report = world.engine(conflict_policy=policy, **settings).sync_sf_to_qb()
            assert report.ok, report.failures
            return report

        def qb_to_sf() -> Any:
            clock.advance(1)
            report = InboundSync(InboundConfig(conflict_policy=ConflictPolicy.parse(policy)), world.sf, world.qb,
                                 world.state, world.mappings, clock=clock).run()
            assert report.ok, report.failures
            return report

        return {"sf_to_qb": sf_to_qb, "qb_to_sf": qb_to_sf}

    return make
