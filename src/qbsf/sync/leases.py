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

Expiry times are wall-clock seconds from each worker's clock: hosts sharing a database keep their clocks in step
(NTP), which the lease length (``ttl``, 15 s by default) leaves ample room for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Column, Engine, Float, Integer, String, Table, select, update
from sqlalchemy.engine import Connection

from qbsf.quickbooks.webconnector import shared as wc_shared
from qbsf.sync import state

work_lease = Table(
    "work_lease", state.metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(200), nullable=False, default=""),
    Column("epoch", Integer, nullable=False, default=0),
    Column("expires_at", Float, nullable=False, default=0.0),
)

# The Web Connector's shared tables are created and migrated with the rest of the state database.
for _table in wc_shared.metadata.sorted_tables:
    if _table.name not in state.metadata.tables:
        _table.to_metadata(state.metadata)

#: Tables of the deployment, not of one tenant: which worker runs which company, and the Web Connector sessions,
#: each row naming its company (the tenant) itself.
DEPLOYMENT_TABLES = frozenset({"work_lease", *wc_shared.metadata.tables})

WORKER_PREFIX = "worker:"
COMPANY_PREFIX = "company:"


@dataclass(frozen=True)
class Lease:
    """One lease as stored: name, holder, epoch and expiry (wall-clock seconds)."""

    name: str
    holder: str
    epoch: int
    expires_at: float


def _insert_missing(connection: Connection, names: Iterable[str]) -> None:
    rows = [{"name": name, "holder": "", "epoch": 0, "expires_at": 0.0} for name in names]
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
        self._known: set[str] = set()  # names whose rows exist (inserted once per process, not every round)

    def abandoned(self, lease: Lease, now: float) -> bool:
        """Whether ``lease`` may be taken at ``now``: let go, never held, or expired for longer than the grace."""
        return not lease.holder or lease.expires_at < now - self.grace

    def claim(self, names: Iterable[str], limit: int) -> dict[str, int]:
        """Take up to ``limit`` of ``names`` that are free or abandoned (expired for longer than the grace);
        {name: new epoch} for each taken.

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
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(work_lease.c.name, work_lease.c.epoch).where(
                    work_lease.c.name.in_(wanted), work_lease.c.expires_at < now - self.grace)
                .order_by(work_lease.c.expires_at, work_lease.c.name).limit(limit)
                .with_for_update(skip_locked=True)).all()
            for row in rows:
                connection.execute(update(work_lease).where(work_lease.c.name == row.name).values(
                    holder=self.holder, epoch=row.epoch + 1, expires_at=now + self.ttl))
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
                work_lease.c.name.in_(list(held)), work_lease.c.holder == self.holder).values(expires_at=expires)
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
        return [Lease(row.name, row.holder, row.epoch, row.expires_at) for row in rows]

    def live_workers(self) -> int:
        """How many workers hold a ``worker:`` lease not abandoned (at least 1: this one)."""
        return max(1, len(self.live_holders(self.all(WORKER_PREFIX), self.clock())))

    def live_holders(self, leases: Iterable[Lease], now: float) -> set[str]:
        """The holders of the ``worker:`` leases among ``leases`` that are not abandoned at ``now``: the workers
        alive, counting one whose last round came late but within the grace."""
        return {lease.holder for lease in leases
                if lease.name.startswith(WORKER_PREFIX) and not self.abandoned(lease, now)}

    @staticmethod
    def share(companies: int, workers: int) -> int:
        """How many companies one of ``workers`` live workers takes: the ceiling of an even split."""
        return math.ceil(companies / max(1, workers)) if companies else 0
