"""`qbsf bench sf` (small): the call budget holds and nothing is lost, also with injected faults."""

from __future__ import annotations

from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.bench.sf import TARGET_RECORDS_PER_CALL, format_result, run_sf_bench
from qbsf.errors import QbsfError


def test_bench_meets_the_call_budget() -> None:
    result = run_sf_bench(1000)
    assert (result.upsert_calls, result.read_calls, result.failures) == (5, 1, 0)
    assert result.org_api_usage == result.api_calls, "the org's own counter agrees with the client's"
    assert result.records_per_call >= TARGET_RECORDS_PER_CALL and result.meets_target
    assert "PASS" in format_result(result, latency=0, fault_rate=0)


def test_bench_with_faults_still_loses_nothing() -> None:
    result = run_sf_bench(400, fault_rate=0.3, seed=3)
    assert result.failures == 0 and result.retried > 0
    assert result.api_calls == 2 + 1 + result.retried


def test_cli_prints_calls_and_rate() -> None:
    outcome = CliRunner().invoke(app, ["bench", "sf", "--records", "600"])
    assert outcome.exit_code == 0, outcome.output
    assert "upsert:  3 API calls" in outcome.output and "records/s" in outcome.output and "PASS" in outcome.output
    bad = CliRunner().invoke(app, ["bench", "sf", "--records", "0"])
    assert bad.exit_code != 0 and isinstance(bad.exception, QbsfError) and "at least 1" in str(bad.exception)
