"""`qbsf sync qb-to-sf` from the command line, against the Salesforce emulator and a simulator company file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.errors import ConfigError
from qbsf.sim.quickbooks import QuickBooksSimulator


@pytest.fixture
def cli_env(cli_env: dict[str, Path]) -> dict[str, Path]:
    """The command line's settings (tests/sync/conftest.py) with 13 customers in the simulator company file."""
    sim = QuickBooksSimulator(cli_env["company"])
    for number in range(13):
        sim.add("Customer", {"Name": f"Customer {number:02d}", "Phone": f"555-01{number:02d}"})
    sim.close()
    return cli_env


def test_qb_to_sf_prints_the_manuals_lines_and_reset_resyncs(cli_env, sf_emulator) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["sync", "qb-to-sf", "--entity", "Customer"])
    assert first.exit_code == 0, first.output
    assert "✓ Queried 13 QB Customers" in first.output and "✓ 13 synced, ✗ 0 failed" in first.output
    assert len(sf_emulator.state.records("Account")) == 13

    again = runner.invoke(app, ["sync", "qb-to-sf", "-e", "Account", "--no-progress"])
    assert again.exit_code == 0 and "✓ Queried 0 QB Customers" in again.output
    assert "(0 Salesforce calls" in again.output

    reset = runner.invoke(app, ["sync", "qb-to-sf", "-e", "Customer", "--reset", "--no-progress"])
    assert reset.exit_code == 0 and "✓ Queried 13 QB Customers" in reset.output
    assert "13 updated" in reset.output
    assert len(sf_emulator.state.records("Account")) == 13, "re-synced without duplicates"


def test_unknown_entity_is_a_config_error_with_the_fix(cli_env) -> None:
    result = CliRunner().invoke(app, ["sync", "qb-to-sf", "--entity", "Deposit"])
    # qbsf's main() prints a QbsfError as one red line and exits 2.
    assert isinstance(result.exception, ConfigError)
    assert "'Deposit' is not an entity the QuickBooks → Salesforce sync knows" in str(result.exception)
    assert "Customer (Account), Item (Product2), Invoice (QB_Invoice__c), SalesOrder (Order), Estimate (Quote), " \
        "ReceivePayment (QB_Payment__c)" in (
        result.exception.hint or "")
