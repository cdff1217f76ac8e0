"""The dashboard's forms: a refused Save / Upload is a banner at the top with the field focused, number fields take
the minimum the settings rule takes, eligibility defaults are shown, and Preview works for inbound mappings."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.app.support import emulated_settings

from qbsf.bench.outbound import EXAMPLE_MAPPINGS


def _board(config_file: Path, tmp_path: Path, memory_secrets, dashboard_client, **extra):
    from qbsf.app.context import AppContext
    from qbsf.app.dashboard.app import Dashboard
    from qbsf.app.logging import LogBuffer

    mappings = tmp_path / "mappings"
    if not mappings.exists():
        shutil.copytree(EXAMPLE_MAPPINGS, mappings)
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'mappings_dir = "{mappings}"\n[quickbooks]\ntransport = "com"\n')
    board = Dashboard(app_context=AppContext(secrets=memory_secrets), log_buffer=LogBuffer(),
                      allowed_hosts=("testserver",), **extra)
    return board, dashboard_client(board)


def _top(page: str) -> str:
    return page.split("<main>", 1)[0]


def test_a_refused_save_is_a_banner_at_the_top_and_focuses_the_field(config_file: Path, tmp_path: Path,
                                                                     memory_secrets, dashboard_client) -> None:
    _, client = _board(config_file, tmp_path, memory_secrets, dashboard_client)
    refused = client.post("/settings", data={"sync.inbound_every": "0"})
    assert refused.status_code == 400
    assert 'id="form-error"' in _top(refused.text) and "Settings not saved" in _top(refused.text)
    assert 'data-focus="f-sync.inbound_every"' in refused.text
    upload = client.post("/mappings/upload", files={"file": ("Acct_to_Customer.csv", b"nonsense\n", "text/csv")})
    assert "Mapping not installed: Acct_to_Customer.csv:1:" in _top(upload.text)
    assert 'data-focus="upload-file"' in upload.text and 'id="upload-file"' in upload.text


def test_number_minimums_follow_the_rule_and_eligibility_defaults_are_shown(config_file: Path, tmp_path: Path,
                                                                           memory_secrets, dashboard_client) -> None:
    from qbsf.app.settings import Settings

    _, client = _board(config_file, tmp_path, memory_secrets, dashboard_client)
    page = client.get("/").text
    polling = page.split('id="f-sync.polling_interval"', 1)[1].split(">", 1)[0]
    assert 'min="0.1"' in polling and 'max="86400"' in polling and 'min="0"' not in polling
    every = page.split('id="f-sync.inbound_every"', 1)[1].split(">", 1)[0]
    assert 'min="1"' in every
    opportunity = page.split('id="f-sync.eligibility.Opportunity"', 1)[1].split(">", 1)[0]
    assert 'value="StageName = &#39;Closed Won&#39;"' in opportunity
    assert client.post("/settings", data={"sync.eligibility.Opportunity": "StageName = 'Closed Won'"},
                       follow_redirects=False).headers["location"].startswith("/?notice=No+changes")
    assert Settings.model_fields["sync"].annotation.model_fields["polling_interval"].metadata, "the rule exists"


def test_preview_of_an_inbound_mapping_fetches_the_quickbooks_record(config_file: Path, tmp_path: Path,
                                                                     memory_secrets, dashboard_client) -> None:
    asked: list[tuple[str, str]] = []

    def fetch_qb(entity: str, qb_id: str):
        asked.append((entity, qb_id))
        return {"ListID": qb_id, "Name": "Alder Creek Dental", "Phone": "555-0101"}

    def fetch_sf(sobject: str, record_id: str):
        raise AssertionError(f"an inbound preview must not ask Salesforce for {sobject} {record_id}")

    _, client = _board(config_file, tmp_path, memory_secrets, dashboard_client, fetch_record=fetch_sf,
                       fetch_qb_record=fetch_qb)
    shown = client.post("/mappings/Customer_to_Acct.csv/preview", data={"record_id": "80000001-1700000001"})
    assert shown.status_code == 200, shown.text[-500:]
    assert asked == [("Customer", "80000001-1700000001")]
    result = shown.text.split('id="preview-result"', 1)[1]
    assert "&#34;QB_Customer_ID__c&#34;: &#34;80000001-1700000001&#34;" in result
    assert "ListID / TxnID" in shown.text


def test_the_connector_fetches_a_quickbooks_record_for_the_preview(sf_state, tmp_path: Path) -> None:
    from qbsf.app.wiring import EngineServices
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.sim.quickbooks import QuickBooksSimulator
    from qbsf.sim.salesforce import start_emulator
    from qbsf.sync.state import StateStore

    sim = QuickBooksSimulator()
    customer = sim.add("Customer", {"Name": "Alder Creek Dental", "Phone": "555-0101"})
    with start_emulator(sf_state) as emulator:
        settings = emulated_settings(emulator, salesforce_heartbeat=False)
        state = StateStore(tmp_path / "state.db")
        services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
        try:
            services.connect_salesforce()
            services.connect_quickbooks()
            flat = services.fetch_qb_record("Customer", customer["ListID"])
            assert flat is not None and flat["Name"] == "Alder Creek Dental" and flat["ListID"] == customer["ListID"]
            assert services.fetch_qb_record("Customer", "80009999-1700009999") is None
        finally:
            services.close()
            state.close()
