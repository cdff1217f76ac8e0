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
                                   "--no-latency", "--payments", "0", "--credit-memos", "0", "--sales-receipts", "0",
                                   "--vendors", "0", "--bills", "0"])
    assert out.exit_code == 0, out.output
    assert "first run (full): 51 records" in out.output and "delta of 10: 15 records" in out.output
    with_documents = CliRunner().invoke(app, ["bench", "inbound", "--customers", "20", "--invoices", "30", "--delta",
                                              "8", "--no-latency", "--payments", "5", "--credit-memos", "4",
                                              "--sales-receipts", "3", "--vendors", "2", "--bills", "6"])
    assert with_documents.exit_code == 0, with_documents.output
    assert "30 invoices + 5 payments + 4 credit memos + 3 sales receipts + 2 vendors + 6 bills seeded" in \
        with_documents.output
    assert "first run (full): 71 records" in with_documents.output
    assert "Salesforce calls per 1,000 records: Customer" in with_documents.output


def test_the_documents_cost_what_invoices_cost_per_thousand_records() -> None:
    result = run_inbound_bench(customers=50, invoices=400, delta=40, latency=False, payments=400, credit_memos=400,
                               sales_receipts=400, vendors=10, bills=400)
    assert result.failed == 0 and result.full.error is None and result.changed.error is None
    per_thousand = {item.entity: item.per_thousand for item in result.by_entity}
    # One upsert per 200 records (5 per 1,000), as for invoices; a payment adds one upsert per 200 of its lines.
    assert per_thousand["Invoice"] == per_thousand["Credit Memo"] == per_thousand["Sales Receipt"] == \
        per_thousand["Bill"] == 5.0
    assert per_thousand["Payment"] == 10.0
    # (sales orders and estimates come back only to what Salesforce sent: none here)
    assert {item.entity: item.records for item in result.by_entity if item.records} == {
        "Customer": 50, "Item": 1, "Invoice": 400, "Payment": 400, "Credit Memo": 400, "Sales Receipt": 400,
        "Vendor": 10, "Bill": 400}
    # The delta also applied 10 credits (each memo, its invoice and the payment carrying the credit change) and
    # paid 10 bills by check (each bill changes).
    assert result.changed.failed == 0 and result.changed.records >= 40 + 10 * 3 + 10
    assert "Salesforce calls per 1,000 records: Customer" in result.lines()[-1]
