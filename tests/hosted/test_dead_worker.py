"""A worker whose process has ended loses its companies at once; one that is only slow keeps them until its leases
expire. On PostgreSQL each worker holds an advisory lock for its life (qbsf.sync.leases.WorkerLock): the lock goes
with the killed process's database session, the lease does not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, inspect, select, text

from qbsf.app.workers import CONFIG_ENV, HostedConfig, HostedWorker
from qbsf.sync import migrations
from qbsf.sync.leases import WORKER_LOCK_SPACE, Leases, work_lease
from qbsf.sync.state import StateStore

from .test_hosted_worker import COMPANIES, FakeEngines, _config, _until

TTL = 60.0

# A worker in a process of its own, on a clock the test sets: it joins, takes every company, says which leases it
# holds, and then runs no more lease rounds (stalled) until it is killed or its standard input closes.
_WORKER_PROCESS = """
import json, sys
from qbsf.app.workers import HostedConfig, HostedWorker

class Idle:
    def __init__(self, company, bridge, epoch): pass
    def start(self): pass
    def stop(self, wait): pass

now = [float(sys.argv[2])]
worker = HostedWorker(HostedConfig.from_env(), holder=sys.argv[1], engine_factory=Idle, clock=lambda: now[0])
worker.tick()
now[0] += worker.join_wait
worker.tick()
print(json.dumps(sorted(worker.held)), flush=True)
sys.stdin.read()
"""


def _worker_process(config: HostedConfig, holder: str, now: float) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen([sys.executable, "-c", _WORKER_PROCESS, holder, repr(now)],
                               env={**os.environ, CONFIG_ENV: config.to_env()}, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"the worker process ended early (exit {process.wait(10)})"
    return process, json.loads(line)


def _rounds_until(worker: HostedWorker, condition, timeout: float = 15.0) -> None:
    """Lease rounds of ``worker`` (its clock unchanged) until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        worker.tick()
        _until(lambda: not worker.starting)
        if condition():
            return
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _held_by(worker: HostedWorker) -> dict[str, tuple[str, int]]:
    return {lease.name: (lease.holder, lease.epoch) for lease in worker.leases.all("company:")}


def test_a_killed_workers_companies_move_before_its_leases_expire(postgres_schema_url, tmp_path) -> None:
    now = [1000.0]
    config = _config(postgres_schema_url, tmp_path, lease_ttl=TTL)
    process, held = _worker_process(config, "doomed", now[0])
    engines = FakeEngines()
    two = HostedWorker(config, holder="two", engine_factory=engines.factory("two"), clock=lambda: now[0])
    try:
        assert held == sorted([f"company:{c}" for c in COMPANIES] + ["worker:doomed"])
        before = two.leases.all("company:")
        assert {lease.holder for lease in before} == {"doomed"} and all(lease.lock_key is not None for lease in before)
        two.tick()
        now[0] += two.join_wait
        _rounds_until(two, lambda: True)
        assert not engines.placement(), "a live worker keeps its companies, however many workers there are"

        process.kill()
        process.wait(10)
        _rounds_until(two, lambda: len(engines.placement()) == len(COMPANIES))
        assert now[0] < min(lease.expires_at for lease in before), "taken while the dead worker's leases still ran"
        assert _held_by(two) == {f"company:{c}": ("two", 2) for c in COMPANIES}, "each taken once, by one worker"
        assert all(where == [("two", 2)] for where in engines.placement().values()), "one engine per company"
        assert two.leases.live_workers() == 1
    finally:
        process.kill()
        process.wait(10)
        two.stop(5)


def test_a_stalled_but_living_worker_keeps_its_companies_until_its_leases_expire(postgres_schema_url,
                                                                                 tmp_path) -> None:
    now = [1000.0]
    config = _config(postgres_schema_url, tmp_path, lease_ttl=TTL)
    process, _held = _worker_process(config, "stalled", now[0])
    engines = FakeEngines()
    two = HostedWorker(config, holder="two", engine_factory=engines.factory("two"), clock=lambda: now[0])
    try:
        before = two.leases.all("company:")
        expiry = max(lease.expires_at for lease in before)
        two.tick()
        now[0] += two.join_wait
        for moment in (now[0], expiry + 1, expiry + TTL - 1):  # its rounds stall; the leases run out, then the grace
            now[0] = moment
            _rounds_until(two, lambda: True)
            _rounds_until(two, lambda: True)
            assert not engines.placement(), f"{moment - expiry:+.0f} s from expiry: the living worker keeps them"
            assert {holder for holder, _epoch in _held_by(two).values()} == {"stalled"}
        now[0] = expiry + TTL + 1
        _rounds_until(two, lambda: len(engines.placement()) == len(COMPANIES))
        assert _held_by(two) == {f"company:{c}": ("two", 2) for c in COMPANIES}
        assert all(where == [("two", 2)] for where in engines.placement().values())
    finally:
        process.kill()
        process.wait(10)
        two.stop(5)


def test_a_worker_whose_lock_connection_was_cut_takes_its_lock_again(postgres_schema_url, tmp_path) -> None:
    now = [1000.0]
    config = _config(postgres_schema_url, tmp_path, lease_ttl=TTL)
    worker = HostedWorker(config, holder="solo", engine_factory=FakeEngines().factory("solo"), clock=lambda: now[0])
    admin = create_engine(postgres_schema_url)
    try:
        worker.tick()
        key = worker.leases.lock_key
        assert key is not None and worker.leases.gone_keys(worker.leases.all()) == frozenset()
        with admin.begin() as connection:  # the server ends the session holding the lock (a restart, a DBA)
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
                "AND classid::bigint = :space AND objid::bigint = :key"), {"space": WORKER_LOCK_SPACE, "key": key})
        _until(lambda: worker.leases.gone_keys(worker.leases.all()) == frozenset({key}))
        now[0] += 1
        worker.tick()
        assert worker.leases.lock_key == key
        assert worker.leases.gone_keys(worker.leases.all()) == frozenset(), "held again, by the same worker"
    finally:
        worker.stop(5)
        admin.dispose()


def test_on_sqlite_leases_carry_no_lock_and_only_expire(tmp_path: Path) -> None:
    config = _config(f"sqlite:///{tmp_path / 'hosted.db'}", tmp_path, lease_ttl=TTL)
    worker = HostedWorker(config, holder="solo", engine_factory=FakeEngines().factory("solo"))
    try:
        worker.tick()
        assert worker.worker_lock is None
        leases = worker.leases.all()
        assert leases and all(lease.lock_key is None for lease in leases)
        assert worker.leases.gone_keys(leases) == frozenset()
    finally:
        worker.stop(5)


def test_a_0_8_database_gets_the_lease_lock_key_its_leases_kept(tmp_path: Path) -> None:
    """Revision 0009 adds work_lease.lock_key to a database at 0008; its leases are kept, with no key (the expiry
    rule), and a worker's next round writes its key."""
    path = tmp_path / "state.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        migrations.upgrade(connection, "0008_login_throttle")
        assert "lock_key" not in {c["name"] for c in inspect(connection).get_columns("work_lease")}
        connection.execute(text("INSERT INTO work_lease (name, holder, epoch, expires_at) "
                                "VALUES ('company:acme', 'old-worker', 3, 2000.0)"))
    engine.dispose()
    with StateStore(path) as store:
        with store.engine.connect() as connection:
            assert migrations.current_revision(connection) == migrations.head()
            assert connection.execute(select(work_lease)).all() == [("company:acme", "old-worker", 3, 2000.0, None)]
        leases = Leases(store.engine, "new-worker", clock=lambda: 2100.0)
        leases.lock_key = 7
        assert leases.claim(["company:acme"], 1) == {"company:acme": 4}
        with store.engine.begin() as connection:
            connection.execute(insert(work_lease), [{"name": "company:globex", "holder": "", "epoch": 0,
                                                     "expires_at": 0.0}])
        assert [(lease.name, lease.lock_key) for lease in leases.all()] == [("company:acme", 7),
                                                                            ("company:globex", None)]
