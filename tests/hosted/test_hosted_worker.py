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
    """Engines that only record where they run: {company: [(holder, epoch), …]} of the running ones; a company in
    ``busy`` is in the middle of a sync cycle."""

    def __init__(self) -> None:
        self.running: dict[str, list[tuple[str, int]]] = {}
        self.busy: set[str] = set()
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

            def busy(self) -> bool:
                return self.company in engines.busy

            def stop(self, wait: float) -> None:
                with engines.lock:
                    engines.running[self.company].remove((holder, self.epoch))

        return Engine

    def placement(self) -> dict[str, list[tuple[str, int]]]:
        with self.lock:
            return {company: list(where) for company, where in self.running.items() if where}


def _registry(tmp_path: Path, companies: list[str] = COMPANIES) -> Path:
    registry = WebConnectorRegistry.load(tmp_path / "webconnector.json")
    for company in companies:
        registry.register(company, username=f"{company}-qbwc", password=f"{company}-password")
    registry.save()
    return registry.path


def _config(hosted_url: str, tmp_path: Path, companies: list[str] = COMPANIES, **options) -> HostedConfig:
    return HostedConfig(database=hosted_url, registry=str(_registry(tmp_path, companies)),
                        companies=dict.fromkeys(companies), **options)


def _until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _round(workers, now: list[float], step: float) -> None:
    """One lease round of each worker, in order, ``step`` seconds after the last; the engines they start or stop
    (in their thread pools) are started or stopped before the next round."""
    now[0] += step
    for worker in workers:
        worker.tick()
        _until(lambda w=worker: not w.handing_back and not w.starting)


def _moves(worker) -> int:
    """How many times a company's sync moved from one worker to another (each placement after the first)."""
    return sum(max(lease.epoch - 1, 0) for lease in worker.leases.all("company:"))


def _shares(worker) -> dict[str, int]:
    held: dict[str, int] = {}
    for lease in worker.leases.all("company:"):
        held[lease.holder] = held.get(lease.holder, 0) + 1
    return held


def test_companies_are_shared_out_and_a_dead_workers_move_to_the_living(postgres_schema_url, tmp_path) -> None:
    now = [1000.0]
    engines = FakeEngines()
    config = _config(postgres_schema_url, tmp_path, lease_ttl=10.0)
    one = HostedWorker(config, holder="one", engine_factory=engines.factory("one"), clock=lambda: now[0])
    two = HostedWorker(config, holder="two", engine_factory=engines.factory("two"), clock=lambda: now[0])
    try:
        one.tick()
        assert one.ready and not one.engines, "a worker that just joined waits a moment for the others"
        _round([one], now, 5)
        assert {where[0][0] for where in engines.placement().values()} == {"one"} and len(engines.placement()) == 4
        _round([two], now, 0)
        assert two.ready and not two.engines, "every company is held: the new worker waits for its share"
        for _ in range(10):  # `one` holds 4 of 4 with two workers alive: once it has seen `two` a while, it gives 2
            _round([one, two], now, 5)
        placement = engines.placement()
        assert sorted(where[0][0] for where in placement.values()) == ["one", "one", "two", "two"]
        assert all(len(where) == 1 for where in placement.values()), "one engine per company, never two"
        assert _moves(one) == 2, "two companies moved, once each"

        now[0] += 21  # `one` stops renewing (dead, or paused): its leases run out, and their grace after them
        two.tick()
        _until(lambda: not two.starting)
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


def test_a_worker_joining_a_running_deployment_takes_the_free_companies_in_its_first_round(postgres_schema_url,
                                                                                           tmp_path) -> None:
    now = [1000.0]
    engines = FakeEngines()
    config = _config(postgres_schema_url, tmp_path, lease_ttl=10.0)
    one = HostedWorker(config, holder="one", engine_factory=engines.factory("one"), clock=lambda: now[0])
    two = HostedWorker(config, holder="two", engine_factory=engines.factory("two"), clock=lambda: now[0])
    three = HostedWorker(config, holder="three", engine_factory=engines.factory("three"), clock=lambda: now[0])
    try:
        _round([one, two], now, 0)
        assert not engines.placement(), "workers starting together wait to see each other"
        _round([one, two], now, 5)
        assert sorted(w[0][0] for w in engines.placement().values()) == ["one", "one", "two", "two"]
        two.stop(5)  # its companies are free at once
        _round([three], now, 1)
        placement = engines.placement()
        assert sorted(w[0][0] for w in placement.values()) == ["one", "one", "three", "three"], \
            "the new worker took the free companies in its first round"
        assert all(len(where) == 1 for where in placement.values())
    finally:
        three.stop(5)
        one.stop(5)


MANY = [f"co{i:02d}" for i in range(24)]


@pytest.mark.parametrize("count", [2, 3, 4])
def test_lease_rounds_move_no_company_more_than_the_balance_needs(hosted_url, tmp_path, count) -> None:
    now = [1000.0]
    engines = FakeEngines()
    config = _config(hosted_url, tmp_path, MANY, lease_ttl=10.0)
    workers = [HostedWorker(config, holder=f"w{i}", engine_factory=engines.factory(f"w{i}"), clock=lambda: now[0])
               for i in range(count)]
    share = len(MANY) // count
    try:
        # Started together: each joins, waits a moment, then takes its share; nothing moves.
        for _ in range(4):
            _round(workers, now, 2.5)
        assert _shares(workers[0]) == {w.holder: share for w in workers} and _moves(workers[0]) == 0

        # A slow round: the last worker's leases run out, but it is back within their grace — nothing moves.
        for _ in range(5):
            _round(workers[:-1], now, 2.5)
        assert now[0] > max(lease.expires_at for lease in workers[0].leases.all("company:")
                            if lease.holder == workers[-1].holder), "its leases had expired"
        for _ in range(20):
            _round(workers, now, 2.5)
        assert _shares(workers[0]) == {w.holder: share for w in workers} and _moves(workers[0]) == 0
        assert all(len(where) == 1 for where in engines.placement().values())

        # The last worker dies: its companies move once each to the living, and then stay.
        dead = workers.pop()
        for _ in range(30):
            _round(workers, now, 2.5)
        shares = _shares(workers[0])
        assert sum(shares.values()) == len(MANY) and dead.holder not in shares
        assert max(shares.values()) - min(shares.values()) <= 1
        assert _moves(workers[0]) == share, "each of the dead worker's companies moved once"
        dead.stop(5)

        # It comes back under a new name (the process manager restarts it): the living give it companies only
        # as far as its share is short, never busy ones, and then the moves stop.
        engines.busy.update(MANY[::2])
        reborn = HostedWorker(config, holder="reborn", engine_factory=engines.factory("reborn"),
                              clock=lambda: now[0])
        workers.append(reborn)
        before = {lease.name: lease.epoch for lease in workers[0].leases.all("company:")}
        for _ in range(40):
            _round(workers, now, 2.5)
        shares = _shares(workers[0])
        assert shares["reborn"] >= share - max(1, share // 10), shares
        moved = [name for name, epoch in ((lease.name, lease.epoch) for lease in workers[0].leases.all("company:"))
                 if epoch != before[name]]
        assert len(moved) == shares["reborn"] <= share, "only what the new worker's share needed moved"
        assert not {name.removeprefix("company:") for name in moved} & engines.busy, "a busy company stays"
        settled = _moves(workers[0])
        for _ in range(20):
            _round(workers, now, 2.5)
        assert _moves(workers[0]) == settled, "once balanced, nothing moves"
        assert all(len(where) == 1 for where in engines.placement().values()), "one engine per company"
    finally:
        for worker in workers:
            worker.stop(5)


def test_a_lease_round_does_not_wait_for_the_busy_companies_connections(postgres_schema_url, tmp_path) -> None:
    now = [1000.0]
    config = _config(postgres_schema_url, tmp_path, lease_ttl=10.0, pool_size=1, max_overflow=0)
    worker = HostedWorker(config, holder="solo", engine_factory=FakeEngines().factory("solo"), clock=lambda: now[0])
    try:
        worker.tick()
        busy = worker.engine.connect()  # every connection of the companies' pool is taken (by cycles, calls)
        try:
            def rounds() -> None:
                for _ in range(3):
                    now[0] += 5
                    worker.tick()

            thread = threading.Thread(target=rounds, daemon=True)
            thread.start()
            thread.join(10)
            assert not thread.is_alive(), "the lease rounds waited for the companies' pool"
            assert len(worker.held) == 1 + len(COMPANIES), "joined, then took every company, renewing as it went"
            assert {lease.expires_at for lease in worker.leases.all()} == {now[0] + 10}, "all renewed"
        finally:
            busy.close()
    finally:
        worker.stop(5)


def test_a_web_connector_call_does_not_wait_for_the_busy_companies_connections(postgres_schema_url,
                                                                               tmp_path) -> None:
    now = [1000.0]
    config = _config(postgres_schema_url, tmp_path, lease_ttl=10.0, pool_size=1, max_overflow=0)
    worker = HostedWorker(config, holder="solo", engine_factory=FakeEngines().factory("solo"), clock=lambda: now[0])
    try:
        worker.tick()
        busy = worker.engine.connect()  # the companies' cycles hold every connection of their pool
        try:
            answer: list[object] = []

            def log_in() -> None:
                answer.append(worker.service.authenticate("acme-qbwc", "acme-password", client="10.0.0.7"))

            thread = threading.Thread(target=log_in, daemon=True)
            thread.start()
            thread.join(10)
            assert not thread.is_alive(), "the Web Connector's login waited for the companies' pool"
            assert answer[0][1] == "none", "the password was checked and the company's queue read: no work yet"
        finally:
            busy.close()
    finally:
        worker.stop(5)


class SlowCycle:
    """A company's services whose sync cycle lasts until ``finish`` is set; like the Salesforce client, they refuse
    to work once closed."""

    def __init__(self) -> None:
        self.in_cycle, self.finish = threading.Event(), threading.Event()
        self.closed_at_cycle_end: bool | None = None
        self.closed = False

    def connect_salesforce(self) -> str:
        return "ann@example.com"

    def connect_quickbooks(self) -> str:
        return "Acme"

    def close_quickbooks(self) -> None:
        pass

    def run_cycle(self, request):
        self.in_cycle.set()
        self.finish.wait(20)
        self.closed_at_cycle_end = self.closed
        if self.closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        return None

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_a_company_moved_mid_cycle_keeps_its_clients_until_the_cycle_ends(postgres_schema_url, tmp_path) -> None:
    import io

    from qbsf.app.logging import configure_logging, reset_logging
    from qbsf.app.runtime import Connector
    from qbsf.app.settings import Settings
    from qbsf.app.workers import ConnectorEngine

    stream = io.StringIO()
    configure_logging(console=stream)
    now = [1000.0]
    services: dict[str, SlowCycle] = {}

    def factory(company, bridge, epoch):
        services[company] = SlowCycle()
        settings = Settings.model_validate({"sync": {"polling_interval": 3600}})
        return ConnectorEngine(services[company], Connector(services[company], settings))

    config = _config(postgres_schema_url, tmp_path, ["acme"], lease_ttl=10.0, engine_stop_wait=0.2)
    one = HostedWorker(config, holder="one", engine_factory=factory, clock=lambda: now[0])
    two = HostedWorker(config, holder="two", engine_factory=FakeEngines().factory("two"), clock=lambda: now[0])
    try:
        one.tick()
        _round([one], now, 5)
        acme = services["acme"]
        assert acme.in_cycle.wait(10)
        now[0] += 21  # `one` paused mid-cycle: `two` takes the company over
        two.tick()
        _round([two], now, 5)
        one.tick()  # `one` learns it lost acme: its engine stops, waiting 0.2 s, while the cycle goes on
        _until(lambda: "acme" not in one.engines)
        time.sleep(0.5)
        assert not acme.closed, "the clients stay open while the cycle runs"
        acme.finish.set()
        _until(lambda: acme.closed)
        assert acme.closed_at_cycle_end is False, "the cycle finished with its clients, then they were closed"
        text = stream.getvalue()
        assert "crashed" not in text and "Traceback" not in text and "has been closed" not in text, text
    finally:
        services.get("acme", SlowCycle()).finish.set()
        two.stop(5)
        one.stop(5)
        reset_logging()


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
    now = [1000.0]
    worker = HostedWorker(HostedConfig(database=hosted_url, registry=str(registry)), holder="solo",
                          engine_factory=engines.factory("solo"), clock=lambda: now[0])
    try:
        worker.tick()
        _round([worker], now, 10)
        _until(lambda: set(engines.placement()) == {"acme", "globex"})
        with TenantRegistry(hosted_url) as tenants:
            tenants.add("initech")
        _round([worker], now, 3)
        _until(lambda: set(engines.placement()) == {"acme", "globex", "initech"})
        with TenantRegistry(hosted_url) as tenants:
            tenants.remove("globex")
        _round([worker], now, 3)
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
