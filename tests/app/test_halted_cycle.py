"""A bad mapping is refused, and a halted sync is red: a pass that stops as a whole turns the status red with its
reason (the dashboard, /api/status, the heartbeat and `qbsf status`), while the entities it could read still sync."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sim.quickbooks import QuickBooksSimulator


def _wait(predicate, timeout: float = 60.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        done.wait(0.05)
    raise AssertionError("condition not reached")


def test_a_pass_stopped_by_a_bad_mapping_is_red_everywhere_and_other_entities_still_sync(
        sf_emulator, config_file: Path, tmp_path: Path, memory_secrets) -> None:
    from qbsf.app.context import AppContext
    from qbsf.app.dashboard.app import create_app
    from qbsf.app.logging import reset_logging
    from qbsf.app.settings import update_settings
    from qbsf.app.wiring import open_connector_app

    seed_org(sf_emulator.state, accounts=2, contacts=0, products=2, opportunities=0)
    mappings = tmp_path / "mappings"
    shutil.copytree(EXAMPLE_MAPPINGS, mappings)
    # a mapping file put in place by hand (or a field deleted in the org since): every Account query fails
    with (mappings / "Acct_to_Customer.csv").open("a", encoding="utf-8") as handle:
        handle.write("Region__c,JobDesc,N,Trim,,a field this org does not have\n")
    update_settings({"salesforce.instance_url": sf_emulator.url, "salesforce.client_id": sf_emulator.client_id,
                     "salesforce.client_secret": sf_emulator.client_secret, "mappings_dir": str(mappings),
                     "state_url": f"sqlite:///{tmp_path / 'state.db'}", "log_dir": str(tmp_path / "logs"),
                     "quickbooks.transport": "simulator", "quickbooks.default_accounts.income": "Sales",
                     "sync.salesforce_heartbeat": "false"}, secrets=memory_secrets)
    sim = QuickBooksSimulator()
    bundle = open_connector_app(AppContext(secrets=memory_secrets), console=False,
                                transport_factory=lambda: SimulatorTransport(sim))
    try:
        bundle.dashboard.allowed_hosts = ("testserver",)
        bundle.connector.start()
        _wait(lambda: bundle.connector.status().last_cycle is not None)
        last = bundle.connector.status().last_cycle
        assert last.error and "Account not read" in last.error and "Region__c" in last.error, last.error
        assert len([i for i in sim.items() if i["Name"].startswith("Product")]) == 2, "Product2 still synced"
        client = TestClient(create_app(bundle.dashboard))
        status = client.get("/api/status", headers={"Authorization": f"Bearer {bundle.dashboard.token}"}).json()
        assert "Region__c" in status["last_cycle"]["error"] and status["halted"]
        page = client.get(f"/?token={bundle.dashboard.token}").text
        assert 'class="off" id="light-connector"' in page and "Not syncing" in page
        beat = json.loads(bundle.heartbeat.path.read_text())
        assert "Region__c" in beat["error"]
        shown = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "status", "--config", str(config_file)],
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 1, shown.stdout + shown.stderr
        assert "✗ Connector — Online but not syncing" in shown.stdout and "Region__c" in shown.stdout
    finally:
        bundle.close()
        reset_logging()
