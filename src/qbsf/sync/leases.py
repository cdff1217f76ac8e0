"""Leases: which worker process runs a company's sync, so it runs in one place at a time.

A lease is a row (``work_lease``) naming its holder and an expiry. A worker takes the leases that are free or
expired with ``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never wait on, or both take, the same row), renews
what it holds every few seconds, and lets go when it stops. A worker that dies stops renewing: its leases expire
after ``ttl`` seconds and another worker takes them over. Each take-over raises the lease's *epoch*; the epoch
fences the previous holder off wherever it could still act (the Web Connector's shared requests accept only the
current epoch's, see :mod:`qbsf.quickbooks.webconnector.shared`).

Workers also hold a lease named ``worker:<id>`` for themselves, so each knows how many workers are alive and takes
only its share of the companies.

A lease that has only just expired is not taken from its holder: a worker whose renewal round came late (a loaded
machine, a long pause of its process) keeps its companies if it is back within ``grace`` seconds, and nothing
moves. Only a lease expired for longer than that — its holder is gone — or one let go (:meth:`Leases.release`) is
taken by another worker.

On PostgreSQL each worker also holds a session-level advisory lock for its whole life, on one connection of its
own (:class:`WorkerLock`), and writes the lock's key with every lease it takes or renews. A process that ends — even
SIGKILLed, with no chance to let go — closes that connection, and PostgreSQL drops the lock with the session at
once; the other workers, seeing the key of a lease no longer locked, take its companies without waiting for the
lease to expire. A worker that is slow but alive keeps its session, so its lock, and keeps its companies until its
leases expire (and their grace), as before. SQLite (one machine, no advisory locks) keeps the expiry rule alone, and
so does a lease written without a key.

Expiry times are wall-clock seconds from each worker's clock: hosts sharing a database keep their clocks in step
(NTP), which the lease length (``ttl``, 15 s by default) leaves ample room for.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Column, Engine, Float, Integer, String, Table, create_engine, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from qbsf.quickbooks.webconnector import shared as wc_shared
from qbsf.sync import state

work_lease = Table(
    "work_lease", state.metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(200), nullable=False, default=""),
    Column("epoch", Integer, nullable=False, default=0),
    Column("expires_at", Float, nullable=False, default=0.0),
    # The advisory-lock key its holder held when it last took or renewed it (None: SQLite, or no lock).
    Column("lock_key", Integer, nullable=True),
)

log = logging.getLogger(__name__)

# The Web Connector's shared tables are created and migrated with the rest of the state database.
for _table in wc_shared.metadata.sorted_tables:
    if _table.name not in state.metadata.tables:
        _table.to_metadata(state.metadata)

#: Tables of the deployment, not of one tenant: which worker runs which company, and the Web Connector sessions,
#: each row naming its company (the tenant) itself.
DEPLOYMENT_TABLES = frozenset({"work_lease", *wc_shared.metadata.tables})

WORKER_PREFIX = "worker:"
COMPANY_PREFIX = "company:"

#: The first key of every worker's advisory lock ("qbsw"); the second is the worker's own (:func:`lock_key_for`).
#: The two-key form keeps them apart from the single-key lock the state database's upgrade takes.
WORKER_LOCK_SPACE = 0x71627377


def lock_key_for(holder: str, attempt: int = 0) -> int:
    """The second key of ``holder``'s advisory lock: 31 bits of a hash of its id (another ``attempt`` gives another
    key, should that one be taken)."""
    digest = hashlib.blake2b(f"{holder}#{attempt}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


# Which worker locks are held now, in this database. Advisory locks taken with two int4 keys show in pg_locks with
# the first key as classid, the second as objid and objsubid 2; pg_locks lists every database's, hence the filter.
# https://www.postgresql.org/docs/current/view-pg-locks.html
_GRANTED_KEYS = text(
    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND classid::bigint = :space AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


class WorkerLock:
    """A worker process's session-level advisory lock on PostgreSQL, held on a connection of its own for the
    worker's life.

    PostgreSQL keeps a session-level advisory lock until it is released or the session ends, and the session ends
    when its client's connection closes — for a killed process, at once (the kernel closes its sockets). See
    https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS and
    https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
    (``pg_try_advisory_lock(key1 int, key2 int)`` takes it without waiting and says whether it did).

    A host that disappears without closing its connections (power lost, network cut) keeps its session until the
    server notices the dead connection (TCP keepalives): its leases then expire as before.
    """

    def __init__(self, url: str, holder: str) -> None:
        self.holder = holder
        # Its own engine and connection, outside every pool: nothing else ever uses it, and it never sits in a
        # transaction (autocommit), so it holds no snapshot or row lock for the worker's life.
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._connection: Connection | None = None
        self.key: int | None = None

    def hold(self) -> int | None:
        """The key of the lock this worker holds, taking it (again, after its connection was lost) when needed;
        None when it cannot be had (every key tried is held by another session: the expiry rule then applies)."""
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return self.key
            except SQLAlchemyError:
                log.warning("worker %s lost the database connection holding its lock (its companies may have moved "
                            "to other workers meanwhile): taking it again", self.holder)
                self._drop()
        connection = self._engine.connect()
        try:
            for attempt in range(4):
                key = lock_key_for(self.holder, attempt)
                if connection.execute(text("SELECT pg_try_advisory_lock(:space, :key)"),
                                      {"space": WORKER_LOCK_SPACE, "key": key}).scalar():
                    self._connection, self.key = connection, key
                    return key
        except BaseException:
            connection.close()
            raise
        connection.close()
        log.warning("worker %s found its lock keys held by other sessions: a crash of this worker will be noticed "
                    "when its leases expire", self.holder)
        return None

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.close()
        self._connection, self.key = None, None

    def close(self) -> None:
        """Let go of the lock (the session ends with its connection)."""
        self._drop()
        self._engine.dispose()


@dataclass(frozen=True)
class Lease:
    """One lease as stored: name, holder, epoch, expiry (wall-clock seconds) and its holder's lock key."""

    name: str
    holder: str
    epoch: int
    expires_at: float
    lock_key: int | None = None


def _insert_missing(connection: Connection, names: Iterable[str]) -> None:
    rows = [{"name": name, "holder": "", "epoch": 0, "expires_at": 0.0, "lock_key": None} for name in names]
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    connection.execute(insert(work_lease).on_conflict_do_nothing(index_elements=["name"]), rows)


class Leases:
    """The leases of one holder (a worker process) on the state database ``engine``."""

    def __init__(self, engine: Engine, holder: str, *, ttl: float = 15.0, grace: float = 0.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.holder = holder
        self.ttl = ttl
        self.grace = grace
        self.clock = clock
        #: The key of this holder's advisory lock (:class:`WorkerLock`), written with every lease it takes or renews.
        self.lock_key: int | None = None
        self._known: set[str] = set()  # names whose rows exist (inserted once per process, not every round)

    def abandoned(self, lease: Lease, now: float, gone: frozenset[int] = frozenset()) -> bool:
        """Whether ``lease`` may be taken at ``now``: let go, never held, expired for longer than the grace, or
        held by a worker whose lock is ``gone`` (:meth:`gone_keys`: its process has ended)."""
        return (not lease.holder or lease.expires_at < now - self.grace
                or (lease.lock_key is not None and lease.lock_key in gone))

    def gone_keys(self, leases: Iterable[Lease]) -> frozenset[int]:
        """The lock keys written on ``leases`` (read before this call) whose locks are no longer held: their
        workers' processes have ended. Empty on SQLite.

        Read after the leases, so a key they carry was locked before it was written: one missing now was let go."""
        keys = {lease.lock_key for lease in leases if lease.holder and lease.lock_key is not None}
        if not keys or self.engine.dialect.name != "postgresql":
            return frozenset()
        with self.engine.begin() as connection:
            granted = set(connection.execute(_GRANTED_KEYS, {"space": WORKER_LOCK_SPACE}).scalars())
        return frozenset(keys - granted)

    def claim(self, names: Iterable[str], limit: int, gone: frozenset[int] = frozenset()) -> dict[str, int]:
        """Take up to ``limit`` of ``names`` that are free or abandoned (expired for longer than the grace, or held
        by a worker whose lock is ``gone``); {name: new epoch} for each taken.

        Rows another worker is taking at this moment are skipped, not waited for (SKIP LOCKED).
        """
        wanted = list(dict.fromkeys(names))
        if limit <= 0 or not wanted:
            return {}
        now = self.clock()
        taken: dict[str, int] = {}
        missing = [name for name in wanted if name not in self._known]
        if missing:
            with self.engine.begin() as connection:
                _insert_missing(connection, missing)
            self._known.update(missing)
        takeable = work_lease.c.expires_at < now - self.grace
        if gone:
            takeable = or_(takeable, work_lease.c.lock_key.in_(sorted(gone)))
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(work_lease.c.name, work_lease.c.epoch).where(work_lease.c.name.in_(wanted), takeable)
                .order_by(work_lease.c.expires_at, work_lease.c.name).limit(limit)
                .with_for_update(skip_locked=True)).all()
            for row in rows:
                connection.execute(update(work_lease).where(work_lease.c.name == row.name).values(
                    holder=self.holder, epoch=row.epoch + 1, expires_at=now + self.ttl, lock_key=self.lock_key))
                taken[row.name] = row.epoch + 1
        return taken

    def renew(self, held: dict[str, int]) -> set[str]:
        """Extend every lease in ``held`` ({name: epoch}); returns the names no longer ours (expired and taken)."""
        if not held:
            return set()
        expires = self.clock() + self.ttl
        # One statement for every lease held (hundreds of companies per worker): each still ours is extended; one
        # taken over meanwhile (another holder, or a newer epoch) is not, and comes back as lost.
        with self.engine.begin() as connection:
            renewed = {row.name: row.epoch for row in connection.execute(update(work_lease).where(
                work_lease.c.name.in_(list(held)), work_lease.c.holder == self.holder)
                .values(expires_at=expires, lock_key=self.lock_key)
                .returning(work_lease.c.name, work_lease.c.epoch))}
        return {name for name, epoch in held.items() if renewed.get(name) != epoch}

    def release(self, name: str, epoch: int) -> None:
        """Let go of ``name`` at once (another worker may take it on its next look)."""
        with self.engine.begin() as connection:
            connection.execute(update(work_lease).where(
                work_lease.c.name == name, work_lease.c.holder == self.holder,
                work_lease.c.epoch == epoch).values(expires_at=0.0))

    def all(self, prefix: str = "") -> list[Lease]:
        """Every lease whose name starts with ``prefix``."""
        with self.engine.begin() as connection:
            rows = connection.execute(select(work_lease).where(work_lease.c.name.startswith(prefix))
                                      .order_by(work_lease.c.name)).all()
        return [Lease(row.name, row.holder, row.epoch, row.expires_at, row.lock_key) for row in rows]

    def live_workers(self) -> int:
        """How many workers hold a ``worker:`` lease not abandoned (at least 1: this one)."""
        leases = self.all(WORKER_PREFIX)
        return max(1, len(self.live_holders(leases, self.clock(), self.gone_keys(leases))))

    def live_holders(self, leases: Iterable[Lease], now: float, gone: frozenset[int] = frozenset()) -> set[str]:
        """The holders of the ``worker:`` leases among ``leases`` that are not abandoned at ``now``: the workers
        alive, counting one whose last round came late but within the grace, not one whose lock is ``gone``."""
        return {lease.holder for lease in leases
                if lease.name.startswith(WORKER_PREFIX) and not self.abandoned(lease, now, gone)}

    @staticmethod
    def share(companies: int, workers: int) -> int:
        """How many companies one of ``workers`` live workers takes: the ceiling of an even split."""
        return math.ceil(companies / max(1, workers)) if companies else 0
