"""Errors reach the user: each failed record's reason is written to the Live Log, the console and qbsf.jsonl with
the manual's ✗ / ⚠; a line's mark matches its outcome; "synced" counts no unchanged records; an idle cycle writes
one line."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from qbsf.app.runtime import record_line
from qbsf.bench.outbound import EXAMPLE_MAPPINGS
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sim.quickbooks import QuickBooksSimulator


def _wait(predicate, timeout: float = 60.0) -> None:
    pause = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        pause.wait(0.05)
    raise AssertionError("condition not reached")


def test_the_manuals_marks_for_a_record() -> None:
    assert record_line("Opportunity", "Big deal", "Link: No Account found in QuickBooks for Opportunity 'Big deal' "
                                                  "→ sync the Account first")[1] == "warn"
    text, mark = record_line("Product2", "Widget", "asset account required → set Inventory Asset Account in QB "
                                                   "Accounts settings")
    assert (text, mark) == ("Product2 Widget: asset account required → set Inventory Asset Account in QB Accounts "
                            "settings", "fail")
    said = record_line("QB_Invoice__c", "Invoice 77", "Invoice 77: QB Invoice error")[0]
    assert said == "Invoice 77: QB Invoice error"


def test_a_failed_records_reason_reaches_every_log_and_an_idle_cycle_is_one_line(
        sf_emulator, config_file: Path, tmp_path: Path, memory_secrets, capsys) -> None:
    from qbsf.app.context import AppContext
    from qbsf.app.logging import reset_logging
    from qbsf.app.settings import update_settings
    from qbsf.app.wiring import open_connector_app

    sf_emulator.state.insert("Product2", {"Name": "Gizmo", "IsActive": True, "QB_Item_Type__c": "Inventory"})
    mappings = tmp_path / "mappings"
    shutil.copytree(EXAMPLE_MAPPINGS, mappings)
    update_settings({"salesforce.instance_url": sf_emulator.url, "salesforce.client_id": sf_emulator.client_id,
                     "salesforce.client_secret": sf_emulator.client_secret, "mappings_dir": str(mappings),
                     "state_url": f"sqlite:///{tmp_path / 'state.db'}", "log_dir": str(tmp_path / "logs"),
                     "quickbooks.transport": "simulator", "quickbooks.default_accounts.income": "Sales",
                     "quickbooks.default_accounts.cogs": "Cost of Goods Sold", "sync.salesforce_heartbeat": "false",
                     "sync.polling_interval": "0.3"}, secrets=memory_secrets)
    sim = QuickBooksSimulator()
    bundle = open_connector_app(AppContext(secrets=memory_secrets), console=True,
                                transport_factory=lambda: SimulatorTransport(sim))
    try:
        bundle.connector.start()
        _wait(lambda: any(e.as_dict()["event"].startswith("Cycle 3:")
                          for e in bundle.log_buffer.since(0, limit=2000)))
        entries = [e.as_dict() for e in bundle.log_buffer.since(0, limit=2000)]
        entries = entries[:next(i for i, e in enumerate(entries) if e["event"].startswith("Cycle 3:")) + 1]
    finally:
        bundle.close()
        reset_logging()
    reason = "asset account required → set Inventory Asset Account in QB Accounts settings"
    live = [e for e in entries if reason in e["event"]]
    assert live and live[0]["mark"] == "✗", entries[-20:]
    assert "Gizmo" in live[0]["event"]
    summary = [e for e in entries if "SF → QB:" in e["event"]]
    assert summary and summary[0]["event"].startswith("✗ SF → QB"), "the pass had a failure: its line is ✗"
    console = capsys.readouterr()
    assert reason in console.out + console.err
    jsonl = [json.loads(line) for line in (tmp_path / "logs" / "qbsf.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(reason in line.get("event", "") and line.get("mark") == "✗" for line in jsonl)
    # the second and later cycles change nothing: one line each
    idle = [e for e in entries if e["event"].startswith(("Cycle 2:", "Cycle 3:"))]
    assert [e["event"] for e in idle] == ["Cycle 2: no changes on either side", "Cycle 3: no changes on either side"]
    first_idle = entries.index(idle[0])
    before = max(i for i, e in enumerate(entries[:first_idle]) if "synced" in e["event"] or "Cycle 1" in e["event"])
    assert first_idle - before == 1, [e["event"] for e in entries[before:first_idle + 1]]
