"""`qbsf sync …` and `qbsf link` from the command line, against the Salesforce emulator and a simulator file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.bench.outbound import seed_org
from qbsf.sim.quickbooks import QuickBooksSimulator


def _qb_customers(path: Path) -> list[dict]:
    sim = QuickBooksSimulator(path)
    try:
        return sim.customers()
    finally:
        sim.close()


def test_dry_run_then_sync_then_status(cli_env, sf_emulator) -> None:
    seed_org(sf_emulator.state, accounts=3, products=1, opportunities=1, lines=1)
    runner = CliRunner()
    dry = runner.invoke(app, ["sync", "sf-to-qb", "--dry-run", "--no-progress"])
    assert dry.exit_code == 0, dry.output
    assert "SF → QB dry run (nothing written)" in dry.output
    assert "would create Account 'Customer 00000'" in dry.output
    assert _qb_customers(cli_env["company"]) == []

    real = runner.invoke(app, ["sync", "sf-to-qb"])
    assert real.exit_code == 0, real.output
    assert "SF → QB sync" in real.output and "QuickBooks messages" in real.output
    assert len(_qb_customers(cli_env["company"])) == 3

    status = runner.invoke(app, ["sync", "status", "--json"])
    assert status.exit_code == 0, status.output
    data = json.loads(status.output)
    assert data["links"] == {"Account": 3, "Product2": 1, "Opportunity": 1}
    assert data["totals"]["Account"] == {"created": 3}
    assert "sf:Account" in data["watermarks"]


def test_failures_exit_1_and_retry_unparks(cli_env, sf_emulator) -> None:
    seed_org(sf_emulator.state, accounts=2)
    sim = QuickBooksSimulator(cli_env["company"])
    sim.add("Vendor", {"Name": "Customer 00001"})
    sim.close()
    runner = CliRunner()
    failed = runner.invoke(app, ["sync", "sf-to-qb", "--entity", "account", "--no-progress"])
    assert failed.exit_code == 1
    assert "✗ Account Customer 00001" in failed.output
    table = runner.invoke(app, ["sync", "status"])
    assert "1 attempt(s)" in table.output
    retried = runner.invoke(app, ["sync", "retry", "--entity", "Account"])
    assert retried.exit_code == 0 and "1 failed record(s) will be retried" in retried.output


def test_link_proposes_and_accepts(cli_env, sf_emulator) -> None:
    acme = sf_emulator.state.insert("Account", {"Name": "Acme, Inc."})
    sim = QuickBooksSimulator(cli_env["company"])
    listid = sim.add("Customer", {"Name": "ACME INC"})["ListID"]
    sim.close()
    runner = CliRunner()
    declined = runner.invoke(app, ["link", "--entity", "Account"], input="n\n")
    assert declined.exit_code == 0, declined.output
    assert "1 proposed link(s)" in declined.output and "nothing linked" in declined.output
    accepted = runner.invoke(app, ["link", "--entity", "Account", "--yes"])
    assert accepted.exit_code == 0, accepted.output
    assert "✓ 1 Account record(s) linked" in accepted.output
    assert sf_emulator.state.get("Account", acme)["QB_Customer_ID__c"] == listid
    unlinked = runner.invoke(app, ["link", "--entity", "Account", "--unlink", acme])
    assert unlinked.exit_code == 0 and "unlinked" in unlinked.output


def test_unknown_entity_is_a_clear_error(cli_env) -> None:
    result = CliRunner().invoke(app, ["sync", "sf-to-qb", "--entity", "Lead"])
    assert result.exit_code != 0
    assert "no synced entity is called 'Lead'" in str(result.exception)
