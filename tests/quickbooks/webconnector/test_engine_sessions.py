"""The real sync engine, unchanged, syncing Salesforce to QuickBooks through Web Connector sessions.

Salesforce is the emulator; zeep, built from Intuit's WSDL, plays the Web Connector; the QuickBooks simulator
answers behind a schema check. A session cut off mid-cycle leaves nothing half-done: the journal resumes the
work in the next session and nothing is created twice.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from qbsf.bench.outbound import seed_org
from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.sync.engine import SyncConfig, SyncEngine, load_mappings
from qbsf.sync.state import StateStore

ENTITIES = ["Account", "Contact", "Product2", "Opportunity"]


@pytest.fixture
def sync_setup(sf_emulator, sf_state, service, tmp_path):
    """A Salesforce client on the emulator, a state store, and the QuickBooks client over the Web Connector."""
    from qbsf.bench.outbound import EXAMPLE_MAPPINGS
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient

    sf = SalesforceClient(sf_emulator.url, ClientCredentialsAuth(sf_emulator.url, sf_emulator.client_id,
                                                                 sf_emulator.client_secret),
                          backoff=0.001, backoff_max=0.01)
    transport = WebConnectorTransport(service.bridge("acme"), session_wait=20, response_timeout=20)
    state = StateStore(Path(tmp_path) / "state.db")
    config = SyncConfig(retry_base=timedelta(0), retry_cap=timedelta(0), income_account="Sales",
                        cogs_account="Cost of Goods Sold", asset_account="Inventory Asset")
    setup = {"sf": sf, "transport": transport, "state": state, "config": config,
             "mappings": load_mappings(EXAMPLE_MAPPINGS)}
    yield setup
    state.close()
    sf.close()


def _cycle(setup) -> tuple[threading.Thread, dict]:
    """One engine cycle on its own thread, as the connector runs it: announce work, sync, end the session."""
    out: dict = {}
    transport = setup["transport"]

    def run() -> None:
        qb = QuickBooksClient(transport)
        engine = SyncEngine(setup["config"], setup["sf"], qb, setup["state"], setup["mappings"])
        try:
            out["report"] = engine.sync_sf_to_qb(progress=transport.entity_progress(ENTITIES))
        finally:
            qb.close()  # the transport's close: the Web Connector session ends with 100 %

    transport.want_session()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_the_engine_syncs_a_whole_org_through_one_session(sync_setup, sf_state, zeep_connector, qb_sim,
                                                          qb_transport) -> None:
    seeded = seed_org(sf_state, accounts=4, contacts=2, products=2, opportunities=2, lines=2)
    thread, out = _cycle(sync_setup)
    log = zeep_connector().run_session("acme-qbwc", "acme-password-1", qb_transport.send)
    thread.join(30)
    report = out["report"]
    assert report.ok, (report.error, report.failures)
    assert {name: r.created for name, r in report.entities.items()} == {
        "Account": 4, "Contact": 2, "Product2": 2, "Opportunity": 2, "Order": 0, "Quote": 0}
    assert log["percents"][-1] == 100 and log["errors"] == []
    assert log["percents"] == sorted(log["percents"]), "the percentage only goes up"
    account = sf_state.get("Account", seeded.accounts[0])
    assert account["QB_Customer_ID__c"] in {c["ListID"] for c in qb_sim.customers()}
    assert len(qb_sim.invoices()) == 2


def test_a_cut_off_cycle_resumes_in_the_next_session_without_duplicates(sync_setup, sf_state, zeep_connector,
                                                                        qb_sim, qb_transport) -> None:
    seed_org(sf_state, accounts=6, contacts=3, products=3, opportunities=3, lines=2)
    wc = zeep_connector()
    thread, out = _cycle(sync_setup)
    cut = wc.run_session("acme-qbwc", "acme-password-1", qb_transport.send, cut_off_after=4)
    thread.join(30)
    assert cut["connectionError"] == "done"
    assert out["report"].error and "cut off" in out["report"].error
    created_before = len(qb_sim.customers())
    thread, out = _cycle(sync_setup)
    log = wc.run_session("acme-qbwc", "acme-password-1", qb_transport.send)
    thread.join(30)
    report = out["report"]
    assert report.ok, (report.error, report.failures)
    assert log["percents"][-1] == 100
    names = [c["FullName"] for c in qb_sim.customers()]
    assert len(names) == len(set(names)) == 6 + 3, "every Account and Contact exactly once"
    assert len(qb_sim.items()) >= 3 and len(qb_sim.invoices()) == 3
    assert created_before < len(names)
