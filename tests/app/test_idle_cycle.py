"""An idle cycle of the real run loop costs ONE Salesforce API call where the org's package has the cycle resource
(``POST /services/apexrest/qbsf/cycle``), and the fewest the composite limits allow where the package is older: its
reads then ride in composite calls of at most 5 queries each (the emulator refuses more, as Salesforce does); a
change still syncs either way (issue 8, issue 17)."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.app.support import emulated_settings

from qbsf.app.logging import configure_logging, reset_logging
from qbsf.app.runtime import Connector
from qbsf.app.wiring import EngineServices
from qbsf.bench.outbound import seed_org
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.salesforce import start_emulator
from qbsf.sync.state import StateStore


@pytest.fixture(autouse=True)
def quiet_logs():
    configure_logging(console=False)
    yield
    reset_logging()


def _wait(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "the connector did not finish a cycle in time"
        threading.Event().wait(0.01)


def _cycles(connector: Connector) -> int:
    last = connector.status().last_cycle
    return 0 if last is None else last.number


@contextlib.contextmanager
def _running(settings, sim: QuickBooksSimulator, tmp_path: Path) -> Iterator[tuple[Connector, EngineServices]]:
    """A connector over the simulator, once its first cycle (which syncs the seed) has run; stopped afterwards."""
    state = StateStore(tmp_path / "state.db")
    services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
    connector = Connector(services, settings)
    try:
        connector.start()
        _wait(lambda: _cycles(connector) >= 1)
        yield connector, services
    finally:
        connector.stop(wait=60)
        services.close()
        state.close()


@pytest.mark.parametrize("package", ["current", "older"])
@pytest.mark.parametrize(("heartbeat", "change_source"),
                         [(True, "poll"), (False, "poll"), (True, "queue"), (False, "queue")])
def test_an_idle_cycle_costs_one_call_with_the_package_the_composite_minimum_without_and_a_change_still_syncs(
        sf_state, tmp_path: Path, heartbeat: bool, change_source: str, package: str) -> None:
    seeded = seed_org(sf_state, accounts=3)
    if package == "older":
        sf_state.apex_resources.clear()  # a package from before the cycle resource
    sim = QuickBooksSimulator()
    with start_emulator(sf_state) as emulator:
        settings = emulated_settings(emulator, polling_interval=86400, salesforce_heartbeat=heartbeat,
                                     change_source=change_source)
        with _running(settings, sim, tmp_path) as (connector, _services):
            assert sim.count("Customer") == 3  # the first cycle synced the seed
            costs = set()
            for number in (2, 3, 4):
                before, heavy = sf_state.api_calls, sf_state.composite_heavy
                connector.run_now()
                _wait(lambda n=number: _cycles(connector) >= n)
                assert connector.status().last_cycle.error is None
                calls = sf_state.api_calls - before
                if package == "current":
                    assert calls == 1 and sf_state.composite_heavy == heavy, f"idle cycle {number}: {calls}"
                else:
                    assert calls == math.ceil((sf_state.composite_heavy - heavy) / 5), f"idle cycle {number}: {calls}"
                costs.add(calls)
            assert len(costs) == 1 and costs <= ({1} if package == "current" else {1, 2, 3}), costs

            sf_state.update("Account", seeded.accounts[0], {"Name": "Renamed Customer"})
            connector.run_now()
            _wait(lambda: _cycles(connector) >= 5)
            assert "Renamed Customer" in {c["Name"] for c in sim.customers()}

            before = sf_state.api_calls
            connector.run_now()
            _wait(lambda: _cycles(connector) >= 6)
            assert {sf_state.api_calls - before} == costs  # idle again once the change was handled


def test_an_idle_cycle_is_one_call_with_every_object_synced_the_org_app_on_and_the_life_cycle_check_due(
        sf_state, tmp_path: Path) -> None:
    from qbsf.sync.entities import dependency_order

    seed_org(sf_state, accounts=3, contacts=3, products=3, opportunities=3, orders=3, lines=2)
    sim = QuickBooksSimulator()
    with start_emulator(sf_state) as emulator:
        settings = emulated_settings(emulator, polling_interval=86400, salesforce_heartbeat=True,
                                     lifecycle_check_minutes=0)
        with _running(settings, sim, tmp_path) as (connector, services):
            synced = {spec.sf_object for spec in services.engine.entities()}
            assert synced == {spec.sf_object for spec in dependency_order()}, "every outbound object of the registry"
            assert services.org_app is not None and services.presence.enabled
            for number in (2, 3):
                before, reads, heavy = sf_state.api_calls, sf_state.apex_reads, sf_state.composite_heavy
                connector.run_now()
                _wait(lambda n=number: _cycles(connector) >= n)
                assert connector.status().last_cycle.error is None
                assert services.org_app.present, "the in-org app's reads were answered"
                # the polls, the sync requests, the app's six reads and the life-cycle check's reads: far more than
                # the 5 a composite call may carry, all in the one call to the package's cycle resource
                assert sf_state.apex_reads - reads > 5 + 8
                assert sf_state.api_calls - before == 1 and sf_state.composite_heavy == heavy, number
