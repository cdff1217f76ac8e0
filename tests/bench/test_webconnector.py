"""`qbsf bench webconnector` runs a real session and reports consistent figures."""

from __future__ import annotations

from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.bench.webconnector import run_webconnector_bench


def test_bench_counts_every_message_of_the_session() -> None:
    result = run_webconnector_bench(24, batch=5)
    # HostQuery to negotiate the version, then 24 adds in messages of 5 (the client's own batching).
    assert result.messages == 1 + 5
    assert result.seconds > 0 and result.direct_seconds > 0
    assert result.customers_per_second == result.customers / result.seconds


def test_bench_command_prints_its_figures() -> None:
    out = CliRunner().invoke(app, ["bench", "webconnector", "--customers", "6", "--batch", "3", "--soap12"])
    assert out.exit_code == 0, out.output
    assert "web connector (SOAP 1.2): 6 customers in 3 messages" in out.output and "ms/message" in out.output
