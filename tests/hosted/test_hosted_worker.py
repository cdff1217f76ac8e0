"""Hosted workers: each takes its share of the companies, a dead worker's companies move to the living, health,
readiness and metrics endpoints, and `qbsf serve` refuses what cannot work."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from qbsf.app.workers import HostedConfig, HostedWorker, create_worker_app
from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry

COMPANIES = ["acme", "globex", "initech", "umbrella"]


class FakeEngines:
    """Engines that only record where they run: {company: [(holder, epoch), …]} of the running ones."""

    def __init__(self) -> None:
        self.running: dict[str, list[tuple[str, int]]] = {}
        self.lock = threading.Lock()

    def factory(self, holder: str):
        engines = self

        class Engine:
            def __init__(self, company: str, bridge, epoch: int) -> None:
                self.company, self.epoch = company, epoch
                assert bridge.epoch == epoch

            def start(self) -> None:
                with engines.lock:
                    engines.running.setdefault(self.company, []).append((holder, self.epoch))

            def stop(self, wait: float) -> None:
                with engines.lock:
                    engines.running[self.company].remove((holder, self.epoch))

        return Engine

    def placement(self) -> dict[str, list[tuple[str, int]]]:
        with self.lock:
            return {company: list(where) for company, where in self.running.items() if where}


def _registry(tmp_path: Path) -> Path:
    registry = WebConnectorRegistry.load(tmp_path / "webconnector.json")
    for company in COMPANIES:
        registry.register(company, username=f"{company}-qbwc", password=f"{company}-password")
    registry.save()
    return registry.path


def _config(hosted_url: str, tmp_path: Path, **options) -> HostedConfig:
    return HostedConfig(database=hosted_url, registry=str(_registry(tmp_path)),
                        companies=dict.fromkeys(COMPANIES), **options)


def _until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_companies_are_shared_out_and_a_dead_workers_move_to_the_living(postgres_schema_url, tmp_path) -> None:
    now = [1000.0]
    engines = FakeEngines()
    config = _config(postgres_schema_url, tmp_path, lease_ttl=10.0)
    one = HostedWorker(config, holder="one", engine_factory=engines.factory("one"), clock=lambda: now[0])
    two = HostedWorker(config, holder="two", engine_factory=engines.factory("two"), clock=lambda: now[0])
    try:
        one.tick()
        _until(lambda: len(engines.placement()) == 4)
        assert {where[0][0] for where in engines.placement().values()} == {"one"}, "alone, it takes them all"
        two.tick()
        assert two.ready and not two.engines, "every company is held: the new worker waits for its share"
        one.tick()  # two workers alive: `one` holds 4 > 2 + 1 and hands one back
        _until(lambda: sum(1 for w in engines.placement().values() if w[0][0] == "one") == 3)
        two.tick()
        _until(lambda: sum(1 for w in engines.placement().values() if w[0][0] == "two") == 1)
        placement = engines.placement()
        assert all(len(where) == 1 for where in placement.values()), "one engine per company, never two"

        now[0] += 11  # `one` stops renewing (dead, or paused): its leases run out
        two.tick()
        _until(lambda: all(any(h == "two" for h, _e in w) for w in engines.placement().values()))
        moved = [company for company, where in placement.items() if where[0][0] == "one"]
        after = engines.placement()
        assert all(("two", placement[company][0][1] + 1) in after[company] for company in moved), "a new epoch"
        one.tick()  # `one` was only paused: it learns it lost them and stops its engines
        _until(lambda: all(len(w) == 1 for w in engines.placement().values()))
        assert not one.engines and {w[0][0] for w in engines.placement().values()} == {"two"}
    finally:
        two.stop(5)
        one.stop(5)


def test_health_readiness_and_metrics(hosted_url, tmp_path) -> None:
    from fastapi.testclient import TestClient  # as the dashboard's tests use it
    engines = FakeEngines()
    worker = HostedWorker(_config(hosted_url, tmp_path, lease_ttl=2.0), holder="solo",
                          engine_factory=engines.factory("solo"))
    app = create_worker_app(worker=worker)
    with TestClient(app) as client:
        assert client.get("/healthz").text == "ok\n"
        _until(lambda: client.get("/readyz").status_code == 200)
        _until(lambda: len(engines.placement()) == 4)
        epoch = engines.placement()["acme"][0][1]
        worker.shared.record_cycle("acme", epoch, synced=7, failed=1)
        worker.shared.record_cycle("acme", epoch - 1, synced=100, failed=100)  # a superseded engine counts nothing
        body = client.get("/metrics").text
        assert "qbsf_workers 1" in body
        assert 'qbsf_records_synced_total{company="acme"} 7' in body
        assert 'qbsf_records_failed_total{company="acme"} 1' in body
        assert 'qbsf_sync_cycles_total{company="acme"} 1' in body
        assert 'qbsf_sync_lag_seconds{company="globex"} NaN' in body
        assert 'qbsf_webconnector_session_active{company="acme"} 0' in body
        assert 'qbsf_worker_companies{worker="solo"} 4' in body
        wsdl = client.get("/qbwc?wsdl")
        assert wsdl.status_code == 200 and "authenticate" in wsdl.text
    assert not engines.placement(), "stopping the app stops every engine"


def test_a_worker_is_not_ready_before_it_joins(hosted_url, tmp_path) -> None:
    worker = HostedWorker(_config(hosted_url, tmp_path), holder="late", engine_factory=FakeEngines().factory("x"))
    try:
        assert worker.check_ready() == "not yet joined the workers"
        worker.tick()
        assert worker.check_ready() is None
    finally:
        worker.stop(5)


def test_without_named_companies_every_registered_company_is_served_even_one_added_later(hosted_url,
                                                                                        tmp_path) -> None:
    from qbsf.sync.tenants import TenantRegistry

    engines = FakeEngines()
    registry = _registry(tmp_path)
    with TenantRegistry(hosted_url) as tenants:
        tenants.add("acme")
        tenants.add("globex")
        tenants.add("stranger")  # no Web Connector user: nothing could reach its QuickBooks
    worker = HostedWorker(HostedConfig(database=hosted_url, registry=str(registry)), holder="solo",
                          engine_factory=engines.factory("solo"))
    try:
        worker.tick()
        _until(lambda: set(engines.placement()) == {"acme", "globex"})
        with TenantRegistry(hosted_url) as tenants:
            tenants.add("initech")
        worker.tick()
        _until(lambda: set(engines.placement()) == {"acme", "globex", "initech"})
        with TenantRegistry(hosted_url) as tenants:
            tenants.remove("globex")
        worker.tick()
        _until(lambda: set(engines.placement()) == {"acme", "initech"})
    finally:
        worker.stop(5)


def test_the_workers_keep_no_schema_of_their_own_per_company(postgres_schema_url, tmp_path) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    worker = HostedWorker(_config(postgres_schema_url, tmp_path), holder="solo",
                          engine_factory=FakeEngines().factory("solo"))
    try:
        worker.tick()
        assert {t.id for t in worker.tenants.list()} >= set(COMPANIES), "named companies are registered tenants"
        opened = worker.tenants.open("acme")
        assert opened.engine is worker.engine and opened.tenant == "acme", "one pool, scoped per company"
    finally:
        worker.stop(5)
    engine = create_engine(postgres_schema_url, poolclass=NullPool)
    with engine.connect() as connection:
        own = postgres_schema_url.rsplit("search_path%3D", 1)[-1]  # the test's own schema; per company would add
        schemas = connection.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :own AND "
                                          "nspname <> :schema"), {"own": f"{own}%", "schema": own}).scalars().all()
    engine.dispose()
    assert schemas == []


def test_serve_refuses_what_cannot_work(tmp_path, capsys) -> None:
    from qbsf.app.cli import main

    registry = _registry(tmp_path)
    cases = [
        (["serve", "--workers", "2", "--database", f"sqlite:///{tmp_path / 'h.db'}", "--registry", str(registry)],
         "SQLite serves one process"),
        (["serve", "--database", "not a url", "--registry", str(registry)], "is not a database URL"),
        (["serve", "--database", f"sqlite:///{tmp_path / 'h.db'}", "--registry", str(registry), "--companies",
          str(tmp_path)], "no NAME.toml settings file"),
    ]
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "stranger.toml").write_text("", encoding="utf-8")
    cases.append((["serve", "--database", f"sqlite:///{tmp_path / 'h.db'}", "--registry", str(registry),
                   "--companies", str(tmp_path / "extra")], "'stranger' is not registered"))
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
