"""Fault tolerance: with 10% of Salesforce calls and QuickBooks writes failing, 2,000 records all arrive, once."""

from __future__ import annotations

from datetime import timedelta

from qbsf.bench.outbound import seed_org
from qbsf.quickbooks.bodies import external_guid
from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sync.engine import SyncConfig, SyncEngine


def test_two_thousand_records_arrive_once_through_ten_percent_faults(sf_state, sf_client, qb_sim,
                                                                    example_mappings, tmp_path) -> None:
    from qbsf.sync.state import StateStore

    seeded = seed_org(sf_state, accounts=1_100, contacts=300, products=200, opportunities=400, lines=2)
    assert seeded.total == 2_000
    # Transient faults only: lock contention and unavailability (a daily API limit is not a fault to retry).
    sf_state.inject_faults(0.10, kinds=("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"), seed=11)
    qb_sim.set_fault_rate(0.10, seed=5)
    # Not schema-validated: the other sync tests validate every message; here the volume is the point.
    qb = QuickBooksClient(SimulatorTransport(qb_sim), default_accounts=DefaultAccounts(income="Sales"))
    state = StateStore(tmp_path / "state.db")
    config = SyncConfig(income_account="Sales", retry_base=timedelta(0), retry_cap=timedelta(0), max_attempts=50,
                        poll_overlap=timedelta(seconds=1))
    engine = SyncEngine(config, sf_client, qb, state, example_mappings)
    cycles = 0
    while cycles < 12:
        cycles += 1
        report = engine.run_cycle()
        if report.ok and not state.failures() and all(
                link.written_back for name in ("Account", "Contact", "Product2", "Opportunity")
                for link in state.links(name)) and state.count_links() == {
                "Account": 1_100, "Contact": 300, "Product2": 200, "Opportunity": 400}:
            break
    assert sf_state.faults.injected > 0, "Salesforce faults were injected"
    assert any(a.outcome == "failed" for a in state.recent(5_000, failed_only=True)), "QuickBooks faults hit"
    assert cycles < 12, f"not settled after {cycles} cycles: {state.failures()[:3]}"

    by_guid: dict[str, int] = {}
    for record in [*qb_sim.customers(), *qb_sim.items(), *qb_sim.invoices()]:
        by_guid[record.get("ExternalGUID")] = by_guid.get(record.get("ExternalGUID"), 0) + 1
    for sf_id in [*seeded.accounts, *seeded.contacts, *seeded.products, *seeded.opportunities]:
        assert by_guid.get(external_guid(sf_id)) == 1, f"{sf_id} is in QuickBooks {by_guid.get(external_guid(sf_id))}×"
    assert len(qb_sim.customers()) == 1_400 and len(qb_sim.items()) == 200 and len(qb_sim.invoices()) == 400
    fields = {"Account": "QB_Customer_ID__c", "Contact": "QB_Customer_ID__c", "Product2": "QB_Item_ID__c",
              "Opportunity": "QB_Invoice_ID__c"}
    for sobject, field in fields.items():
        assert all(record.get(field) for record in sf_state.records(sobject)), f"{sobject} ids written back"
    state.close()
