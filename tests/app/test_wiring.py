"""EngineServices over both emulators: what the run loop's cycle request reaches in the engine."""

from __future__ import annotations

from pathlib import Path

from tests.app.support import emulated_settings

from qbsf.app.runtime import CycleRequest
from qbsf.app.wiring import EngineServices
from qbsf.bench.outbound import seed_org
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.salesforce import start_emulator
from qbsf.sync.state import StateStore


def test_a_stop_during_a_cycle_reaches_the_sf_to_qb_pass_between_batches(sf_state, tmp_path: Path) -> None:
    seed_org(sf_state, accounts=5)
    sim = QuickBooksSimulator()
    with start_emulator(sf_state) as emulator:
        settings = emulated_settings(emulator, salesforce_heartbeat=False)
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


def test_a_cycle_lets_the_conflict_policy_decide_before_salesforce_changes_go_out(sf_state, tmp_path: Path) -> None:
    seed_org(sf_state, accounts=1, contacts=0, products=0, opportunities=0)
    sim = QuickBooksSimulator()
    with start_emulator(sf_state) as emulator:
        settings = emulated_settings(emulator, salesforce_heartbeat=False, conflict_policy="quickbooks")
        state = StateStore(tmp_path / "state.db")
        services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
        try:
            services.connect_salesforce()
            services.connect_quickbooks()
            services.run_cycle(CycleRequest(number=1))
            (account,) = sf_state.records("Account")
            list_id = account["QB_Customer_ID__c"]
            assert list_id, "the first cycle linked the Account to a QuickBooks customer"
            # the same field changed on both sides since the last sync: the policy (quickbooks) decides
            sf_state.update("Account", account["Id"], {"Phone": "(415) 555-0101"})
            sim.modify(list_id, {"Phone": "(415) 555-0202"})
            services.run_cycle(CycleRequest(number=2))
            assert sf_state.get("Account", account["Id"])["Phone"] == "(415) 555-0202"
            assert sim.get(list_id)["Phone"] == "(415) 555-0202"
        finally:
            services.close()
            state.close()


def _phone_conflict_cycle(sf_state, tmp_path: Path, policy: str,
                          also: dict[str, str] | None = None) -> tuple[str, str, list[str]]:
    """Two cycles with Phone changed on both sides in between; returns both Phones and the conflict log lines."""
    seed_org(sf_state, accounts=1, contacts=0, products=0, opportunities=0)
    sim = QuickBooksSimulator()
    with start_emulator(sf_state) as emulator:
        settings = emulated_settings(emulator, salesforce_heartbeat=False, conflict_policy=policy)
        state = StateStore(tmp_path / "state.db")
        services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
        try:
            services.connect_salesforce()
            services.connect_quickbooks()
            services.run_cycle(CycleRequest(number=1))
            (account,) = sf_state.records("Account")
            list_id = account["QB_Customer_ID__c"]
            sf_state.update("Account", account["Id"], {"Phone": "(415) 555-0101", **(also or {})})
            sim.modify(list_id, {"Phone": "(415) 555-0202"})
            services.run_cycle(CycleRequest(number=2))
            for name, value in (also or {}).items():
                assert sim.get(list_id)[name] == value, f"Salesforce's own change of {name} still reaches QuickBooks"
            conflicts = [a.message or "" for a in state.recent(200) if a.operation == "conflict"]
            return sf_state.get("Account", account["Id"])["Phone"], sim.get(list_id)["Phone"], conflicts
        finally:
            services.close()
            state.close()


def test_a_cycle_under_policy_salesforce_carries_salesforce_s_value_to_quickbooks(sf_state, tmp_path: Path) -> None:
    sf_phone, qb_phone, conflicts = _phone_conflict_cycle(sf_state, tmp_path, "salesforce")
    assert (sf_phone, qb_phone) == ("(415) 555-0101", "(415) 555-0101")
    assert len(conflicts) == 1, conflicts
    assert "Phone" in conflicts[0] and "salesforce wins" in conflicts[0]


def test_a_conflict_quickbooks_wins_is_logged_once(sf_state, tmp_path: Path) -> None:
    sf_phone, qb_phone, conflicts = _phone_conflict_cycle(sf_state, tmp_path, "quickbooks")
    assert (sf_phone, qb_phone) == ("(415) 555-0202", "(415) 555-0202")
    assert len(conflicts) == 1, conflicts
    assert "Phone" in conflicts[0] and "quickbooks wins" in conflicts[0]


def test_quickbooks_wins_one_field_while_salesforce_s_other_change_goes_out(sf_state, tmp_path: Path) -> None:
    sf_phone, qb_phone, conflicts = _phone_conflict_cycle(sf_state, tmp_path, "quickbooks",
                                                          also={"Fax": "(415) 555-0909"})
    assert (sf_phone, qb_phone) == ("(415) 555-0202", "(415) 555-0202")
    assert len(conflicts) == 1, conflicts
