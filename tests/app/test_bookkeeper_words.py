"""Words a bookkeeper understands: entity names as the manual says them, record names before raw ids, no Python
class names, `qbsf sync status` without two columns named "Linked", `--config` accepted after the subcommand."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.sync.state import Activity, Direction, FailureInput, Outcome, StateStore


def _seed(path: Path) -> None:
    state = StateStore(path)
    try:
        state.log_many([Activity("QB_Invoice__c", Direction.QB_TO_SF, "upsert", Outcome.CREATED, sf_id="a01X",
                                 qb_id="1-2", message="Invoice 1001"),
                        Activity("Account", Direction.SF_TO_QB, "add", Outcome.LINKED, sf_id="001X", qb_id="80-1",
                                 message="Acme Corporation")])
        state.fail_many("Opportunity", Direction.SF_TO_QB, [FailureInput(
            "006X", "AfterDependency", "Link: No Account found in QuickBooks for Opportunity 'Big deal' → sync the "
                                       "Account first, then retry the Opportunity")])
    finally:
        state.close()


def test_dashboard_says_invoice_names_first_and_no_class_names(config_file: Path, tmp_path: Path,
                                                              memory_secrets) -> None:
    from qbsf.app.context import AppContext
    from qbsf.app.dashboard.app import Dashboard, create_app
    from qbsf.app.logging import LogBuffer

    _seed(tmp_path / "state.db")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[quickbooks]\ntransport = "com"\n')
    state = StateStore(tmp_path / "state.db")
    try:
        board = Dashboard(app_context=AppContext(secrets=memory_secrets), log_buffer=LogBuffer(), state=state,
                          allowed_hosts=("testserver",))
        page = TestClient(create_app(board)).get(f"/?token={board.token}").text
    finally:
        state.close()
    activity = page.split('id="activity-table"', 1)[1].split("</table>", 1)[0]
    assert "QB_Invoice__c" not in activity and "<td>Invoice</td>" in activity
    assert activity.index("Invoice 1001") < activity.index("a01X"), "the record's name comes before its ids"
    failures = page.split('id="failures-table"', 1)[1].split("</table>", 1)[0]
    assert "AfterDependency" not in failures and "Link: No Account found" in failures
    assert failures.index("Link: No Account found") < failures.index("006X")


def test_sync_status_has_one_linked_column_and_config_after_the_subcommand(tmp_path: Path, config_file: Path) -> None:
    _seed(tmp_path / "state.db")
    settings = tmp_path / "other.toml"
    settings.write_text(f'state_url = "sqlite:///{tmp_path / "state.db"}"\n')
    runner = CliRunner()
    shown = runner.invoke(app, ["sync", "status", "--config", str(settings)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    header = next(line for line in shown.stdout.splitlines() if "Entity" in line)
    assert header.count("Linked") == 1 and "In both systems" in header, header
    as_json = runner.invoke(app, ["sync", "status", "--json", f"--config={settings}"])
    assert json.loads(as_json.stdout)["failures"][0]["id"] == "006X"
    assert runner.invoke(app, ["config", "path", "--config", str(settings)]).stdout.strip() == str(settings)
    assert runner.invoke(app, ["license", "show", "--config", str(settings)]).exit_code == 0
