"""`qbsf bench inbound` at a small size: the Salesforce call budget of a full pass and of a delta."""

from __future__ import annotations

from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.bench.inbound import run_inbound_bench


def test_full_pass_and_delta_spend_one_call_per_200_written_records() -> None:
    result = run_inbound_bench(customers=250, invoices=450, delta=40, latency=False)
    assert result.failed == 0 and result.full.error is None
    assert result.full.records == 250 + 1 + 450 and result.full.created == 701
    # 2 Account + 1 Product2 + 3 QB_Invoice__c upserts, and one look-up per 200 names never synced (2 + 1): a
    # customer or item Salesforce already has is linked, not doubled. Every Link came from the crosswalk.
    assert result.full.sf_calls == 9
    # 20 customers edited, 20 payments received: the 20 invoices they pay change too, and the payments come in
    # from their own change (created, with their lines).
    assert result.changed.records == 60 and result.changed.updated == 40 and result.changed.created == 20
    # Customers and invoices: one query for Salesforce's current values (conflicts) and one update each; payments:
    # one upsert, and one for their lines (a new payment has no old lines to look for).
    assert result.changed.sf_calls == 6
    assert "first run (full): 701 records" in result.lines()[1]


def test_bench_command_prints_both_runs() -> None:
    out = CliRunner().invoke(app, ["bench", "inbound", "--customers", "20", "--invoices", "30", "--delta", "10",
                                   "--no-latency"])
    assert out.exit_code == 0, out.output
    assert "first run (full): 51 records" in out.output and "delta of 10: 15 records" in out.output
