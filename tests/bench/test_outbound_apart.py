"""`qbsf bench outbound` with the engine in its own process: a quick smoke run (the big runs are in
docs/benchmarks.md)."""

from __future__ import annotations

from qbsf.bench.outbound import run_outbound_bench


def test_the_engine_apart_syncs_every_record_and_reports_its_own_peak_memory() -> None:
    result = run_outbound_bench(accounts=30, products=4, opportunities=6, lines=2, orders=5, latency=False,
                                batch_size=10, apart=True)
    assert result.error is None and result.failed == 0
    assert result.created == 45 and result.records == 45
    assert result.by_entity == {"Account": 30, "Contact": 0, "Product2": 4, "Opportunity": 6, "Order": 5, "Quote": 0}
    assert result.qb_messages > 0 and result.sf_calls > 0
    assert result.peak_rss_mb is not None and 20 < result.peak_rss_mb < 2_000
    assert "engine's peak RSS" in result.line()
