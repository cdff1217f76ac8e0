"""`qbsf bench hosted` in small: real worker processes of `qbsf serve`, real SOAP over loopback, a worker
SIGKILLed during the run — and afterwards no record twice, none lost, none in another company."""

from __future__ import annotations

import json

from qbsf.bench import hosted as bench


def test_two_workers_one_killed_nothing_twice_nothing_lost(postgres_schema_url) -> None:
    result = bench.run_hosted_bench(3, workers=2, kill_every=4.0, database=postgres_schema_url, accounts=2,
                                    timeout=240, steady=3)
    assert result.kills >= 1, "a worker was killed during the run"
    assert result.in_sync == 3, result.note
    assert (result.duplicates, result.lost, result.cross_tenant) == (0, 0, 0), result.note
    assert result.records == 6 and result.sessions >= 3 and result.p50_ms > 0
    assert result.moves <= 3 * result.kills, "a company moves only when the worker running it was killed"
    assert 0 < result.salesforce_calls < 3 * 15_000, "the org counted the companies' Salesforce calls"
    line = json.loads(result.to_json())
    for key in ("companies", "workers", "sessions_per_s", "p50_ms", "p99_ms", "records", "duplicates", "lost",
                "cross_tenant"):
        assert key in line


def test_without_postgresql_the_bench_says_it_used_sqlite(monkeypatch) -> None:
    monkeypatch.setattr(bench, "_pg_bindir", lambda: None)
    result = bench.run_hosted_bench(2, workers=3, accounts=1, timeout=180, steady=0)
    assert result.workers == 1 and result.database.startswith("sqlite (embedded fallback")
    assert "no PostgreSQL" in result.note
    assert result.in_sync == 2 and (result.duplicates, result.lost, result.cross_tenant) == (0, 0, 0)
    assert result.moves == 0, "one worker: no company ever moves"


def test_the_bench_says_what_failed_calls_and_the_workers_log_said() -> None:
    from qbsf.sim.webconnector import WebConnectorFault

    fault = WebConnectorFault("sendRequestXML", 500, "qbsf could not complete sendRequestXML; see the qbsf log")
    assert bench._failed_call(fault) == ("WebConnectorFault on sendRequestXML (HTTP 500: qbsf could not complete "
                                         "sendRequestXML; see the qbsf log)")
    assert bench._failed_call(TimeoutError("read")) == "TimeoutError"
    log = ("12:00:01 ✗ Web Connector operation sendRequestXML failed company=co007\nTraceback (most recent call "
           "last):\n  File \"x.py\", line 1, in f\nsqlalchemy.exc.TimeoutError: QueuePool limit reached for co007\n"
           "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n"
           "sqlalchemy.exc.TimeoutError: QueuePool limit reached for co019\n")
    assert bench._worker_errors(log) == ("workers' log: sqlalchemy.exc.TimeoutError: QueuePool limit reached for "
                                         "coN × 2")
    assert bench._worker_errors("12:00:01 ⚠ a warning, no traceback\n") == ""
