"""The simulator benchmark runs end to end on a small company."""

from __future__ import annotations

import pytest

from qbsf.bench.qbsim import run_simulator_bench


def test_simulator_bench_counts_what_it_added(tmp_path):
    result = run_simulator_bench(customers=60, invoices=90, batch=25, page=40, path=tmp_path / "bench.qbsim")
    assert (result.customers, result.invoices, result.query_records) == (60, 90, 40)
    assert result.messages == 3 + 4 + 1
    assert result.customers_per_second > 0 and result.invoices_per_second > 0


def test_simulator_bench_refuses_nonsense_sizes():
    with pytest.raises(ValueError):
        run_simulator_bench(customers=0)


def test_qbsf_bench_qbsim_prints_throughput():
    from typer.testing import CliRunner

    from qbsf.app.cli import app

    result = CliRunner().invoke(app, ["bench", "qbsim", "--customers", "30", "--invoices", "20", "--batch", "10"])
    assert result.exit_code == 0, result.output
    assert "30 customers" in result.output and "20 invoices" in result.output and "/s" in result.output
