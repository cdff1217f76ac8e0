"""EngineServices over both emulators: what the run loop's cycle request reaches in the engine."""

from __future__ import annotations

from pathlib import Path

from qbsf.app.runtime import CycleRequest
from qbsf.app.settings import Settings
from qbsf.app.wiring import EngineServices
from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.salesforce import start_emulator
from qbsf.sync.state import StateStore


def test_a_stop_during_a_cycle_reaches_the_sf_to_qb_pass_between_batches(sf_state, tmp_path: Path) -> None:
    seed_org(sf_state, accounts=5)
    sim = QuickBooksSimulator()
    with start_emulator(sf_state) as emulator:
        settings = Settings.model_validate({
            "salesforce": {"instance_url": emulator.url, "client_id": emulator.client_id,
                           "client_secret": emulator.client_secret},
            "quickbooks": {"default_accounts": {"income": "Sales"}},
            "sync": {"salesforce_heartbeat": False}, "mappings_dir": str(EXAMPLE_MAPPINGS)})
        state = StateStore(tmp_path / "state.db")
        services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
        try:
            services.connect_salesforce()
            services.connect_quickbooks()
            services.engine.config.batch_size = 2
            asked: list[bool] = []

            def should_stop() -> bool:
                asked.append(True)
                return len(asked) > 1  # Stop pressed once the cycle has begun

            reports = services.run_cycle(CycleRequest(number=1, should_stop=should_stop))
            assert reports["sf_to_qb"].stopped
            assert reports["sf_to_qb"].entities["Account"].created == 2
            assert "qb_to_sf" not in reports, "a stopped cycle does not start QB → SF"
            assert sim.count("Customer") == 2
        finally:
            services.close()
            state.close()
