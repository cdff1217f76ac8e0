"""Fixtures of the contract test: both emulators and the state store on one clock, with counters at the clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.sync.contract.support import COMPANY_ZONE, Clock, ContractWorld, QuickBooksTally, SalesforceTally


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def qb_sim(clock):
    """The QuickBooks simulator on the shared clock, in the company's zone (the one ``quickbooks.time_zone`` names)."""
    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator(clock=clock, utc_offset_hours=COMPANY_ZONE)
    yield sim
    sim.close()


@pytest.fixture
def cw(sf_state, sf_client, qb_sim, validating, example_mappings, clock, tmp_path: Path) -> ContractWorld:
    """A :class:`ContractWorld`: real clients on both emulators, counted at the clients, one file state store."""
    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.sync.state import StateStore

    sf_state.clock = clock
    sf_tally = SalesforceTally(sf_client.http)
    sf_client.http = sf_tally
    qb_tally = QuickBooksTally(validating(SimulatorTransport(qb_sim)))
    qb = QuickBooksClient(qb_tally, default_accounts=DefaultAccounts(
        income="Sales", cogs="Cost of Goods Sold", asset="Inventory Asset", expense="Office Supplies"))
    state = StateStore(tmp_path / "state.db", clock=clock)
    yield ContractWorld(sf_state, sf_client, qb_sim, qb, state, dict(example_mappings), clock=clock,
                        sf_tally=sf_tally, qb_tally=qb_tally)
    state.close()
    qb.close()
