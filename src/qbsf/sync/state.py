"""The sync state store: crosswalk, watermarks, payload hashes, write journal, failures and activity log.

SQLAlchemy Core on SQLite by default (a file in WAL mode, or ``:memory:``); any SQLAlchemy database URL
(``postgresql+psycopg://…``) works too. Every method that takes many records runs in one transaction, and
:meth:`StateStore.batch` lets the engine group several calls (store QB ids, complete the journal, set hashes,
log activity) into a single transaction, so a crash leaves either all of a batch's bookkeeping or none of it.

State is direction-aware: payload hashes, failures and activity carry a :class:`Direction`, so the inbound
engine shares the same tables.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from qbsf.errors import ConfigError, QbsfError
from qbsf.sync import migrations, tenant_scope
from qbsf.sync import policy as error_policy
from qbsf.sync.tenant_scope import tenant_column

logger = logging.getLogger(__name__)

# SQLite's default limit on bound parameters is 32,766; 500 keeps every IN list far below it and below PostgreSQL's.
_CHUNK = 500


class Direction(StrEnum):
    """Which way a record travels."""

    SF_TO_QB = "sf_to_qb"
    QB_TO_SF = "qb_to_sf"


class Outcome(StrEnum):
    """What one attempt on one record came to (the activity log's ``outcome`` column)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    LINKED = "linked"
    SKIPPED = "skipped"
    FAILED = "failed"
    PARKED = "parked"
    WOULD_CREATE = "would_create"
    WOULD_UPDATE = "would_update"


FAILED_OUTCOMES = frozenset({Outcome.FAILED, Outcome.PARKED})


class JournalStatus(StrEnum):
    """Life of one journaled QuickBooks write."""

    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class StateError(QbsfError):
    """The state store refused an operation that would corrupt it (for example two records on one QB id)."""


class _UtcDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite has no time zones and PostgreSQL's would need care per column."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the state store needs time-zone-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# The state store's tables: each holds the rows of many tenants (companies), scoped by qbsf.sync.tenant_scope.
metadata = tenant_scope.scoped_metadata(MetaData())

crosswalk_table = Table(
    "crosswalk", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("sf_id", String(18), primary_key=True),
    Column("qb_id", String(64), nullable=False),
    Column("edit_sequence", String(32)),
    Column("external_guid", String(38)),
    Column("qb_name", String(255)),
    Column("written_back", Boolean, nullable=False, default=False),
    Column("created_at", _UtcDateTime, nullable=False),
    Column("updated_at", _UtcDateTime, nullable=False),
    Index("ix_crosswalk_qb", "tenant", "entity", "qb_id", unique=True),
)

watermark_table = Table(
    "watermark", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("source", String(80), primary_key=True),
    # Up to two instants: the read window's ``…@quiet`` row holds both (qbsf.sync.read_window).
    Column("value", String(128), nullable=False),
    Column("updated_at", _UtcDateTime, nullable=False),
)

payload_hash_table = Table(
    "payload_hash", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("record_key", String(64), primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("synced_at", _UtcDateTime, nullable=False),
)

journal_table = Table(
    "journal", metadata,
    tenant_column(primary_key=False),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(40), nullable=False),
    Column("sf_id", String(18), nullable=False),
    Column("operation", String(16), nullable=False),
    Column("external_guid", String(38)),
    Column("qb_name", String(255)),
    Column("payload_hash", String(64)),
    Column("status", String(12), nullable=False),
    Column("qb_id", String(64)),
    Column("message", Text),
    Column("started_at", _UtcDateTime, nullable=False),
    Column("finished_at", _UtcDateTime),
    Index("ix_journal_status", "tenant", "status", "entity"),
)

failure_table = Table(
    "failure", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("record_key", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("version", String(64)),
    Column("parked", Boolean, nullable=False, default=False),
    Column("first_failed_at", _UtcDateTime, nullable=False),
    Column("last_failed_at", _UtcDateTime, nullable=False),
    Column("next_attempt_at", _UtcDateTime, nullable=False),
    # What happens next (qbsf.sync.policy.NextStep) and, for a record waiting on its parent, that parent.
    Column("next_step", String(16), nullable=False, server_default="backoff"),
    Column("waits_for_entity", String(40)),
    Column("waits_for_key", String(64)),
    Index("ix_failure_waits_for", "tenant", "waits_for_entity", "waits_for_key"),
)

activity_table = Table(
    "activity", metadata,
    tenant_column(primary_key=False),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", _UtcDateTime, nullable=False),
    Column("cycle", String(40)),
    Column("entity", String(40), nullable=False),
    Column("sf_id", String(18)),
    Column("qb_id", String(64)),
    Column("direction", String(8), nullable=False),
    Column("operation", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("message", Text),
    Index("ix_activity_at", "tenant", "at"),
    Index("ix_activity_entity_outcome", "tenant", "entity", "outcome"),
)

seen_table = Table(
    "seen_version", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("source", String(80), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("version", String(40), primary_key=True),
    Column("seen_at", _UtcDateTime, nullable=False),
)


@dataclass(frozen=True)
class Link:
    """One crosswalk row: a Salesforce record and the QuickBooks record it is synced with."""

    entity: str
    sf_id: str
    qb_id: str
    edit_sequence: str | None = None
    external_guid: str | None = None
    qb_name: str | None = None
    written_back: bool = False
    updated_at: datetime | None = None


@dataclass(frozen=True)
class JournalEntry:
    """A QuickBooks write recorded before it is sent, so a crash can be reconciled instead of repeated."""

    entity: str
    sf_id: str
    operation: str
    external_guid: str | None = None
    qb_name: str | None = None
    payload_hash: str | None = None
    id: int | None = None
    status: JournalStatus = JournalStatus.IN_FLIGHT
    qb_id: str | None = None
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class FailureInput:
    """One record that failed this attempt: its key, the error class name, what to do, and its version.

    ``waits_for`` is the parent (entity, id) an AfterDependency error names (``qbsf.sync.policy.waits_for``).
    """

    record_key: str
    kind: str
    message: str
    version: str | None = None
    waits_for: tuple[str, str] | None = None


@dataclass(frozen=True)
class Failure:
    """The failure state of one record: attempts so far, when it may be tried again, parked or not."""

    entity: str
    direction: Direction
    record_key: str
    kind: str
    message: str
    attempts: int
    version: str | None
    parked: bool
    first_failed_at: datetime
    last_failed_at: datetime
    next_attempt_at: datetime
    next_step: str = "backoff"
    waits_for: tuple[str, str] | None = None

    def due(self, now: datetime) -> bool:
        """Whether this record, unchanged since it failed, may be tried again at ``now`` (see qbsf.sync.policy)."""
        return error_policy.is_due(self, now)


@dataclass(frozen=True)
class Activity:
    """One attempt on one record, as the activity log, the dashboard and the CLI show it."""

    entity: str
    direction: Direction
    operation: str
    outcome: Outcome
    sf_id: str | None = None
    qb_id: str | None = None
    message: str | None = None
    at: datetime | None = None
    cycle: str | None = None
    id: int | None = None

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed record is tried again: exponential backoff between cycles, parked after ``max_attempts``."""

    max_attempts: int = 5
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    # Error kinds (class names) parked at their first failure: waiting cannot fix them, a change or a person can.
    park_immediately: frozenset[str] = field(default_factory=frozenset)

    def delay(self, attempts: int) -> timedelta:
        """Backoff before attempt ``attempts + 1`` (attempts ≥ 1): base · 2^(attempts-1), at most ``cap``."""
        seconds = self.base.total_seconds() * (2 ** max(attempts - 1, 0))
        return min(timedelta(seconds=seconds), self.cap)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def entity_of_source(source: str) -> str:
    """The entity a change source is about: ``sf:Account`` → Account, ``qb:Invoice:status_day`` → Invoice.

    Company-wide rows (``qb:deleted``, ``qb:company_utc_offset``) belong to no entity: ``""``. The migration
    that keyed state by entity (``0002_entity_keys``) filled the column with the same rule.
    """
    parts = source.split(":")
    return parts[1] if len(parts) > 1 and parts[1][:1].isupper() else ""


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL for ``target``: a URL as is, ``:memory:``, or a path to a SQLite file."""
    text = str(target)
    if text == ":memory:":
        return "sqlite://"
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _make_engine(target: str | Path, options: dict[str, Any] | None = None) -> Engine:
    url_text = database_url(target)
    try:
        url = make_url(url_text)
    except ArgumentError as exc:
        raise ConfigError(f"state database URL {url_text!r} is not a database URL",
                          hint="use a file path, ':memory:' or e.g. postgresql+psycopg://user@host/qbsf") from exc
    if url.get_backend_name() != "sqlite":
        try:
            return create_engine(url, **{"pool_pre_ping": True, **(options or {})})
        except (ModuleNotFoundError, NoSuchModuleError) as exc:
            raise ConfigError(f"no database driver for {url.drivername!r}",
                              hint="install the driver (e.g. pip install psycopg) or use a SQLite file") from exc
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        # One shared connection: each new connection to sqlite:// would be a new, empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        try:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the folder of the state database {url.database}: {exc.strerror}",
                              hint="choose a writable path for the state database") from exc
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN; we issue BEGIN ourselves so writes lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (only power loss can drop the newest commits).
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _insert_for(connection: Connection) -> Callable[..., Any]:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert


def _upsert(connection: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str],
            update_columns: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE for many rows in one statement execution."""
    if not rows:
        return
    insert = _insert_for(connection)
    statement = insert(table)
    if tenant_scope.is_scoped(table):  # a tenant's rows are keyed by (tenant, …): its own key never conflicts
        keys = (tenant_scope.TENANT, *keys)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update_columns})
    connection.execute(statement, rows)


class StateStore:
    """All of qbsf's local sync state, behind batch-friendly methods. Safe to share between threads.

    A store is opened for one tenant (company; ``tenant``, the default company when not given): every statement it
    runs reads and writes that tenant's rows only (qbsf.sync.tenant_scope). A tenant other than the default must
    be registered first (``qbsf tenants add``, :class:`qbsf.sync.tenants.TenantRegistry`).
    """

    def __init__(self, target: str | Path = ":memory:", *, clock: Callable[[], datetime] | None = None,
                 retry_policy: RetryPolicy | None = None, tenant: str | None = None,
                 pool: dict[str, Any] | None = None) -> None:
        """``pool``: connection pool options for a database server (a hosted worker's many companies share one)."""
        from qbsf.sync import tenants

        self.tenant = tenants.check_tenant_id(tenant if tenant is not None else tenants.DEFAULT_TENANT)
        self.url = database_url(target)
        self.engine = _make_engine(target, pool)
        tenant_scope.install(self.engine)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.retry_policy = retry_policy or RetryPolicy()
        self._batch: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
            f"qbsf_state_batch_{id(self)}", default=None)
        try:
            with self.engine.begin() as connection:
                upgraded = migrations.upgrade(connection)
        except OperationalError as exc:
            self.engine.dispose()
            raise ConfigError(f"cannot open the state database {self._safe_url()}: {exc.orig}",
                              hint="check the path is writable, or the database server is reachable") from exc
        except ConfigError:
            self.engine.dispose()
            raise
        try:
            tenants.require_tenant(self.engine, self.tenant)
        except ConfigError:
            self.engine.dispose()
            raise
        if upgraded.upgraded_existing:
            logger.info("state database %s upgraded from schema %s to %s", self._safe_url(),
                        upgraded.from_revision or "0.1.0", upgraded.applied[-1])

    def for_tenant(self, tenant: str) -> StateStore:
        """A store for another registered tenant (company) of this database that shares this store's connection
        pool: one pool per database however many companies a process serves. Closing it leaves the pool open."""
        from qbsf.sync import tenants

        other = object.__new__(StateStore)
        other.tenant = tenants.check_tenant_id(tenant)
        other.url, other.engine, other.clock, other.retry_policy = self.url, self.engine, self.clock, self.retry_policy
        other._batch = contextvars.ContextVar(f"qbsf_state_batch_{id(other)}", default=None)
        other._shares_engine = True
        tenants.require_tenant(self.engine, other.tenant)
        return other

    def _safe_url(self) -> str:
        # Never show a password in a message or a log line.
        return make_url(self.url).render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"StateStore({self._safe_url()!r}, tenant={self.tenant!r})"

    _shares_engine = False

    def close(self) -> None:
        """Release every database connection (a store from :meth:`for_tenant` leaves the shared pool open)."""
        if not self._shares_engine:
            self.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        """The store's clock (injectable so tests can move time)."""
        return self.clock()

    # ----------------------------------------------------------------- transactions
    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Run every store call inside the ``with`` block in one transaction (committed at the end, or none)."""
        if self._batch.get() is not None:
            yield
            return
        with self.engine.begin() as connection:
            connection.execution_options(**{tenant_scope.OPTION: self.tenant})
            token = self._batch.set(connection)
            try:
                yield
            finally:
                self._batch.reset(token)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Connection]:
        current = self._batch.get()
        if current is not None:
            yield current
            return
        with self.engine.begin() as connection:
            connection.execution_options(**{tenant_scope.OPTION: self.tenant})
            yield connection

    # ----------------------------------------------------------------- crosswalk
    @staticmethod
    def _link(row: Any) -> Link:
        return Link(entity=row.entity, sf_id=row.sf_id, qb_id=row.qb_id, edit_sequence=row.edit_sequence,
                    external_guid=row.external_guid, qb_name=row.qb_name, written_back=bool(row.written_back),
                    updated_at=row.updated_at)

    def lookup_many(self, entity: str, sf_ids: Iterable[str]) -> dict[str, Link]:
        """The crosswalk rows for ``sf_ids`` of ``entity`` that exist, keyed by Salesforce Id."""
        wanted = list(dict.fromkeys(sf_ids))
        found: dict[str, Link] = {}
        with self._tx() as connection:
            for chunk in _chunks(wanted):
                rows = connection.execute(select(crosswalk_table).where(
                    crosswalk_table.c.entity == entity, crosswalk_table.c.sf_id.in_(chunk)))
                found.update((row.sf_id, self._link(row)) for row in rows)
        return found

    def lookup(self, entity: str, sf_id: str) -> Link | None:
        """The crosswalk row of one Salesforce record, or None when it is not linked yet."""
        return self.lookup_many(entity, [sf_id]).get(sf_id)

    def lookup_qb_many(self, entity: str, qb_ids: Iterable[str]) -> dict[str, Link]:
        """The crosswalk rows for QuickBooks ``qb_ids`` (ListID/TxnID) of ``entity``, keyed by QuickBooks id."""
        wanted = list(dict.fromkeys(qb_ids))
        found: dict[str, Link] = {}
        with self._tx() as connection:
            for chunk in _chunks(wanted):
                rows = connection.execute(select(crosswalk_table).where(
                    crosswalk_table.c.entity == entity, crosswalk_table.c.qb_id.in_(chunk)))
                found.update((row.qb_id, self._link(row)) for row in rows)
        return found

    def record_many(self, links: Iterable[Link]) -> None:
        """Insert or update crosswalk rows in one transaction. One QB record never backs two SF records."""
        now = self.now()
        rows = [{"entity": link.entity, "sf_id": link.sf_id, "qb_id": link.qb_id,
                 "edit_sequence": link.edit_sequence, "external_guid": link.external_guid,
                 "qb_name": link.qb_name, "written_back": link.written_back,
                 "created_at": now, "updated_at": now} for link in links]
        if not rows:
            return
        try:
            with self._tx() as connection:
                _upsert(connection, crosswalk_table, rows, ("entity", "sf_id"),
                        ("qb_id", "edit_sequence", "external_guid", "qb_name", "written_back", "updated_at"))
                self._release_waiting(connection, [Link(row["entity"], row["sf_id"], row["qb_id"]) for row in rows])
        except IntegrityError as exc:
            raise StateError("two Salesforce records would be linked to the same QuickBooks record",
                             hint="run `qbsf link` to review the links of this entity") from exc

    def update_edit_sequences(self, entity: str, edit_sequences: Mapping[str, str]) -> None:
        """Remember the newest EditSequence seen per QuickBooks id (keyed by ListID/TxnID)."""
        if not edit_sequences:
            return
        now = self.now()
        with self._tx() as connection:
            connection.execute(
                update(crosswalk_table)
                .where(crosswalk_table.c.entity == entity, crosswalk_table.c.qb_id == bindparam("b_qb_id"))
                .values(edit_sequence=bindparam("b_edit_sequence"), updated_at=now),
                [{"b_qb_id": qb_id, "b_edit_sequence": seq} for qb_id, seq in edit_sequences.items()])

    def mark_written_back_many(self, entity: str, sf_ids: Iterable[str]) -> None:
        """Record that Salesforce now holds the QuickBooks id of these records."""
        wanted = list(dict.fromkeys(sf_ids))
        with self._tx() as connection:
            for chunk in _chunks(wanted):
                connection.execute(update(crosswalk_table).where(
                    crosswalk_table.c.entity == entity, crosswalk_table.c.sf_id.in_(chunk)).values(written_back=True))

    def pending_write_backs(self, entity: str) -> list[Link]:
        """Links whose QuickBooks id is stored here but not yet confirmed written to Salesforce."""
        with self._tx() as connection:
            rows = connection.execute(select(crosswalk_table).where(
                crosswalk_table.c.entity == entity, crosswalk_table.c.written_back.is_(False))
                .order_by(crosswalk_table.c.sf_id))
            return [self._link(row) for row in rows]

    def unlink(self, entity: str, sf_id: str) -> bool:
        """Forget the link of one Salesforce record (and its payload hashes); True when there was one."""
        with self._tx() as connection:
            removed = connection.execute(delete(crosswalk_table).where(
                crosswalk_table.c.entity == entity, crosswalk_table.c.sf_id == sf_id)).rowcount
            connection.execute(delete(payload_hash_table).where(
                payload_hash_table.c.entity == entity, payload_hash_table.c.record_key == sf_id))
        return bool(removed)

    def links(self, entity: str) -> list[Link]:
        """Every link of ``entity``, ordered by Salesforce Id."""
        with self._tx() as connection:
            rows = connection.execute(select(crosswalk_table).where(crosswalk_table.c.entity == entity)
                                      .order_by(crosswalk_table.c.sf_id))
            return [self._link(row) for row in rows]

    def count_links(self) -> dict[str, int]:
        """How many records of each entity are linked."""
        with self._tx() as connection:
            rows = connection.execute(select(crosswalk_table.c.entity, func.count())
                                      .group_by(crosswalk_table.c.entity))
            return {entity: count for entity, count in rows}

    # ----------------------------------------------------------------- watermarks
    def get_watermark(self, source: str, *, entity: str | None = None) -> str | None:
        """The watermark of one change source (e.g. ``sf:Account``, ``qb:Customer``), or None if never set.

        State is keyed by entity: ``entity`` defaults to the one the source names (:func:`entity_of_source`).
        """
        key = entity_of_source(source) if entity is None else entity
        with self._tx() as connection:
            return connection.execute(select(watermark_table.c.value).where(
                watermark_table.c.entity == key, watermark_table.c.source == source)).scalar_one_or_none()

    def set_watermark(self, source: str, value: str, *, entity: str | None = None) -> None:
        """Move ``source``'s watermark to ``value``."""
        key = entity_of_source(source) if entity is None else entity
        with self._tx() as connection:
            _upsert(connection, watermark_table,
                    [{"entity": key, "source": source, "value": value, "updated_at": self.now()}],
                    ("entity", "source"), ("value", "updated_at"))

    def reset_watermark(self, source: str, *, entity: str | None = None) -> bool:
        """Forget one watermark so the next sync of that source starts from scratch; True when one was set."""
        key = entity_of_source(source) if entity is None else entity
        with self._tx() as connection:
            removed = connection.execute(delete(watermark_table).where(
                watermark_table.c.entity == key, watermark_table.c.source == source)).rowcount
            connection.execute(delete(seen_table).where(seen_table.c.entity == key, seen_table.c.source == source))
            # The cursor's own rows (qbsf.sync.pipeline.source): where it settled, when the watermark was seen.
            connection.execute(delete(watermark_table).where(
                watermark_table.c.source.in_([f"{source}@settled", f"{source}@quiet"])))
        return bool(removed)

    def reset_all_watermarks(self, prefix: str = "") -> int:
        """Forget every watermark (or those whose source starts with ``prefix``); returns how many."""
        with self._tx() as connection:
            condition = watermark_table.c.source.startswith(prefix, autoescape=True) if prefix else True
            removed = connection.execute(delete(watermark_table).where(condition)).rowcount
            seen_condition = seen_table.c.source.startswith(prefix, autoescape=True) if prefix else True
            connection.execute(delete(seen_table).where(seen_condition))
        return int(removed)

    def watermarks(self) -> dict[str, tuple[str, datetime]]:
        """Every watermark: source → (value, when it was last moved)."""
        with self._tx() as connection:
            rows = connection.execute(select(watermark_table).order_by(watermark_table.c.source))
            return {row.source: (row.value, row.updated_at) for row in rows}

    # ----------------------------------------------------------------- poll de-duplication
    def unseen(self, source: str, versions: Iterable[tuple[str, str]], *,
               entity: str | None = None) -> list[tuple[str, str]]:
        """The (record id, version) pairs not yet remembered for ``source``, in input order."""
        key = entity_of_source(source) if entity is None else entity
        pairs = list(dict.fromkeys(versions))
        seen: set[tuple[str, str]] = set()
        with self._tx() as connection:
            for chunk in _chunks(pairs):
                rows = connection.execute(select(seen_table.c.record_id, seen_table.c.version).where(
                    seen_table.c.entity == key, seen_table.c.source == source,
                    tuple_(seen_table.c.record_id, seen_table.c.version).in_(list(chunk))))
                seen.update((row.record_id, row.version) for row in rows)
        return [pair for pair in pairs if pair not in seen]

    def seen_ids_between(self, source: str, low: str, high: str, *, entity: str | None = None) -> set[str]:
        """Record ids with a remembered version in [``low``, ``high``] (versions compare as their text)."""
        key = entity_of_source(source) if entity is None else entity
        with self._tx() as connection:
            rows = connection.execute(select(seen_table.c.record_id).distinct().where(
                seen_table.c.entity == key, seen_table.c.source == source,
                seen_table.c.version >= low, seen_table.c.version <= high))
            return {row.record_id for row in rows}

    def seen_versions_from(self, source: str, low: str, *, entity: str | None = None) -> dict[str, str]:
        """Record id → its newest remembered version, for the ids with a remembered version at or after ``low``."""
        key = entity_of_source(source) if entity is None else entity
        with self._tx() as connection:
            rows = connection.execute(select(seen_table.c.record_id, func.max(seen_table.c.version)).where(
                seen_table.c.entity == key, seen_table.c.source == source,
                seen_table.c.version >= low).group_by(seen_table.c.record_id))
            return {row[0]: row[1] for row in rows}

    def count_seen_between(self, source: str, low: str, high: str, *, entity: str | None = None) -> int:
        """How many record ids have a remembered version in [``low``, ``high``] (counted here, not loaded)."""
        key = entity_of_source(source) if entity is None else entity
        with self._tx() as connection:
            return int(connection.execute(select(func.count(seen_table.c.record_id.distinct())).where(
                seen_table.c.entity == key, seen_table.c.source == source,
                seen_table.c.version >= low, seen_table.c.version <= high)).scalar() or 0)

    def remember_seen(self, source: str, versions: Iterable[tuple[str, str]], *,
                      forget_before: str | None = None, entity: str | None = None) -> None:
        """Remember processed (record id, version) pairs; drop those with a version older than ``forget_before``."""
        key = entity_of_source(source) if entity is None else entity
        now = self.now()
        rows = [{"entity": key, "source": source, "record_id": record_id, "version": version, "seen_at": now}
                for record_id, version in dict.fromkeys(versions)]
        with self._tx() as connection:
            _upsert(connection, seen_table, rows, ("entity", "source", "record_id", "version"), ("seen_at",))
            if forget_before is not None:
                connection.execute(delete(seen_table).where(seen_table.c.entity == key,
                                                            seen_table.c.source == source,
                                                            seen_table.c.version < forget_before))

    # ----------------------------------------------------------------- payload hashes
    def hashes_many(self, entity: str, direction: Direction, keys: Iterable[str]) -> dict[str, str]:
        """The hash of the payload last synced ``direction`` for each record key that has one."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str] = {}
        with self._tx() as connection:
            for chunk in _chunks(wanted):
                rows = connection.execute(select(payload_hash_table.c.record_key, payload_hash_table.c.hash).where(
                    payload_hash_table.c.entity == entity, payload_hash_table.c.direction == str(direction),
                    payload_hash_table.c.record_key.in_(chunk)))
                found.update((row.record_key, row.hash) for row in rows)
        return found

    def set_hashes_many(self, entity: str, direction: Direction, hashes: Mapping[str, str]) -> None:
        """Remember the hash of the payload just synced ``direction`` for each record key."""
        now = self.now()
        rows = [{"entity": entity, "direction": str(direction), "record_key": key, "hash": value, "synced_at": now}
                for key, value in hashes.items()]
        with self._tx() as connection:
            _upsert(connection, payload_hash_table, rows, ("entity", "direction", "record_key"),
                    ("hash", "synced_at"))

    def clear_hashes(self, entity: str | None = None, direction: Direction | None = None) -> int:
        """Forget payload hashes (all, or one entity's / one direction's) so the next sync resends; returns count."""
        conditions = []
        if entity is not None:
            conditions.append(payload_hash_table.c.entity == entity)
        if direction is not None:
            conditions.append(payload_hash_table.c.direction == str(direction))
        with self._tx() as connection:
            return int(connection.execute(delete(payload_hash_table).where(and_(True, *conditions))).rowcount)

    # ----------------------------------------------------------------- write journal
    @staticmethod
    def _journal(row: Any) -> JournalEntry:
        return JournalEntry(id=row.id, entity=row.entity, sf_id=row.sf_id, operation=row.operation,
                            external_guid=row.external_guid, qb_name=row.qb_name, payload_hash=row.payload_hash,
                            status=JournalStatus(row.status), qb_id=row.qb_id, message=row.message,
                            started_at=row.started_at, finished_at=row.finished_at)

    def journal_begin_many(self, entries: Sequence[JournalEntry]) -> list[JournalEntry]:
        """Journal QuickBooks writes as in flight, BEFORE sending them; returns the entries with their ids."""
        now = self.now()
        rows = [{"entity": entry.entity, "sf_id": entry.sf_id, "operation": entry.operation,
                 "external_guid": entry.external_guid, "qb_name": entry.qb_name, "payload_hash": entry.payload_hash,
                 "status": str(JournalStatus.IN_FLIGHT), "started_at": now} for entry in entries]
        if not rows:
            return []
        with self._tx() as connection:
            # One multi-row INSERT … RETURNING, ids in input order.
            ids = connection.execute(journal_table.insert().returning(journal_table.c.id,
                                                                      sort_by_parameter_order=True), rows).scalars()
            begun = [JournalEntry(id=journal_id, entity=entry.entity, sf_id=entry.sf_id, operation=entry.operation,
                                  external_guid=entry.external_guid, qb_name=entry.qb_name,
                                  payload_hash=entry.payload_hash, started_at=now)
                     for journal_id, entry in zip(ids, entries, strict=True)]
        return begun

    def journal_complete_many(self, qb_ids: Mapping[int, str | None]) -> None:
        """Mark journaled writes (by journal id) completed, with the QuickBooks id each produced."""
        self._journal_finish([{"b_id": journal_id, "b_qb_id": qb_id, "b_message": None}
                              for journal_id, qb_id in qb_ids.items()], JournalStatus.COMPLETED)

    def journal_abandon_many(self, reasons: Mapping[int, str]) -> None:
        """Mark journaled writes (by journal id) abandoned: QuickBooks did not apply them; the reason is kept."""
        self._journal_finish([{"b_id": journal_id, "b_qb_id": None, "b_message": reason}
                              for journal_id, reason in reasons.items()], JournalStatus.ABANDONED)

    def _journal_finish(self, rows: list[dict[str, Any]], status: JournalStatus) -> None:
        if not rows:
            return
        with self._tx() as connection:
            connection.execute(
                update(journal_table)
                .where(journal_table.c.id == bindparam("b_id"), journal_table.c.status == str(JournalStatus.IN_FLIGHT))
                .values(status=str(status), qb_id=bindparam("b_qb_id"), message=bindparam("b_message"),
                        finished_at=self.now()),
                rows)

    def in_flight(self, entity: str | None = None) -> list[JournalEntry]:
        """Journaled writes never completed nor abandoned: after a crash, these must be reconciled first."""
        conditions = [journal_table.c.status == str(JournalStatus.IN_FLIGHT)]
        if entity is not None:
            conditions.append(journal_table.c.entity == entity)
        with self._tx() as connection:
            rows = connection.execute(select(journal_table).where(*conditions).order_by(journal_table.c.id))
            return [self._journal(row) for row in rows]

    def journal(self, *, limit: int = 100) -> list[JournalEntry]:
        """The newest journal entries, newest first."""
        with self._tx() as connection:
            rows = connection.execute(select(journal_table).order_by(journal_table.c.id.desc()).limit(limit))
            return [self._journal(row) for row in rows]

    def prune_journal(self, older_than: datetime) -> int:
        """Delete finished journal entries older than ``older_than``; in-flight ones are always kept."""
        with self._tx() as connection:
            return int(connection.execute(delete(journal_table).where(
                journal_table.c.status != str(JournalStatus.IN_FLIGHT),
                journal_table.c.started_at < older_than)).rowcount)

    # ----------------------------------------------------------------- failures
    @staticmethod
    def _failure(row: Any) -> Failure:
        return Failure(entity=row.entity, direction=Direction(row.direction), record_key=row.record_key,
                       kind=row.kind, message=row.message, attempts=row.attempts, version=row.version,
                       parked=bool(row.parked), first_failed_at=row.first_failed_at,
                       last_failed_at=row.last_failed_at, next_attempt_at=row.next_attempt_at,
                       next_step=row.next_step,
                       waits_for=(row.waits_for_entity, row.waits_for_key) if row.waits_for_entity else None)

    def fail_many(self, entity: str, direction: Direction, failures: Sequence[FailureInput], *,
                  policy: RetryPolicy | None = None) -> list[Failure]:
        """Count one more failed attempt for each record and decide what happens next (``qbsf.sync.policy``):
        back off (parked after ``max_attempts``), wait for the parent, park at once, or record only.
        Returns the new states."""
        retry_policy = policy or self.retry_policy
        now = self.now()
        keys = [failure.record_key for failure in failures]
        with self._tx() as connection:
            previous = self._failures_for(connection, entity, direction, keys)
            linked = self._linked_parents(connection, [f.waits_for for f in failures if f.waits_for is not None])
            rows = []
            for failure in failures:
                before = previous.get(failure.record_key)
                # A record that changed since it last failed starts counting again.
                attempts = 1 if before is None or before.version != failure.version else before.attempts + 1
                step = _next_step(failure, linked)
                waits_for = failure.waits_for if step is error_policy.NextStep.AFTER_PARENT else None
                parked = step is error_policy.NextStep.PARK or (
                    step is error_policy.NextStep.BACKOFF and (attempts >= retry_policy.max_attempts
                                                         or failure.kind in retry_policy.park_immediately))
                rows.append({"entity": entity, "direction": str(direction), "record_key": failure.record_key,
                             "kind": failure.kind, "message": failure.message, "attempts": attempts,
                             "version": failure.version, "parked": parked,
                             "first_failed_at": before.first_failed_at if before and attempts > 1 else now,
                             "last_failed_at": now, "next_attempt_at": now + retry_policy.delay(attempts),
                             "next_step": str(step), "waits_for_entity": waits_for[0] if waits_for else None,
                             "waits_for_key": waits_for[1] if waits_for else None})
            _upsert(connection, failure_table, rows, ("entity", "direction", "record_key"),
                    ("kind", "message", "attempts", "version", "parked", "first_failed_at", "last_failed_at",
                     "next_attempt_at", "next_step", "waits_for_entity", "waits_for_key"))
            return [self._failure(_Row(row)) for row in rows]

    @staticmethod
    def _linked_parents(connection: Connection, parents: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (entity, Salesforce Id or QuickBooks id) parents are linked already."""
        found: set[tuple[str, str]] = set()
        by_entity: dict[str, list[str]] = {}
        for parent_entity, key in dict.fromkeys(parents):
            by_entity.setdefault(parent_entity, []).append(key)
        for parent_entity, parent_keys in by_entity.items():
            for chunk in _chunks(parent_keys):
                rows = connection.execute(select(crosswalk_table.c.sf_id, crosswalk_table.c.qb_id).where(
                    crosswalk_table.c.entity == parent_entity,
                    or_(crosswalk_table.c.sf_id.in_(chunk), crosswalk_table.c.qb_id.in_(chunk))))
                for row in rows:
                    found.update({(parent_entity, row.sf_id), (parent_entity, row.qb_id)})
        return found

    def _release_waiting(self, connection: Connection, links: Sequence[Link]) -> None:
        """Records waiting for one of these newly linked parents are due now (no timer: the parent is here)."""
        keys_by_entity: dict[str, set[str]] = {}
        for link in links:
            keys_by_entity.setdefault(link.entity, set()).update((link.sf_id, link.qb_id))
        for parent_entity, keys in keys_by_entity.items():
            for chunk in _chunks(sorted(keys)):
                connection.execute(update(failure_table).where(
                    failure_table.c.waits_for_entity == parent_entity, failure_table.c.waits_for_key.in_(chunk))
                    .values(next_step=str(error_policy.NextStep.BACKOFF), waits_for_entity=None, waits_for_key=None,
                            parked=False, next_attempt_at=self.now()))

    def clear_failures_many(self, entity: str, direction: Direction, keys: Iterable[str]) -> int:
        """Forget the failures of records that have now synced; returns how many were cleared."""
        wanted = list(dict.fromkeys(keys))
        removed = 0
        with self._tx() as connection:
            for chunk in _chunks(wanted):
                removed += connection.execute(delete(failure_table).where(
                    failure_table.c.entity == entity, failure_table.c.direction == str(direction),
                    failure_table.c.record_key.in_(chunk))).rowcount
        return removed

    def _failures_for(self, connection: Connection, entity: str, direction: Direction,
                      keys: Sequence[str]) -> dict[str, Failure]:
        found: dict[str, Failure] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            rows = connection.execute(select(failure_table).where(
                failure_table.c.entity == entity, failure_table.c.direction == str(direction),
                failure_table.c.record_key.in_(chunk)))
            found.update((row.record_key, self._failure(row)) for row in rows)
        return found

    def failures_for(self, entity: str, direction: Direction, keys: Iterable[str]) -> dict[str, Failure]:
        """The failure state of each of ``keys`` that has one."""
        with self._tx() as connection:
            return self._failures_for(connection, entity, direction, list(keys))

    def failures_due(self, entity: str, direction: Direction, *, now: datetime | None = None) -> list[Failure]:
        """Failed, unparked records whose backoff has elapsed: retry these this cycle."""
        moment = now or self.now()
        with self._tx() as connection:
            rows = connection.execute(select(failure_table).where(
                failure_table.c.entity == entity, failure_table.c.direction == str(direction),
                failure_table.c.parked.is_(False), failure_table.c.next_attempt_at <= moment,
                failure_table.c.next_step == str(error_policy.NextStep.BACKOFF),
                failure_table.c.waits_for_entity.is_(None))
                .order_by(failure_table.c.record_key))
            return [self._failure(row) for row in rows]

    def failures(self, *, entity: str | None = None, parked: bool | None = None) -> list[Failure]:
        """Every current failure (optionally one entity's, only parked or only retrying ones)."""
        conditions = []
        if entity is not None:
            conditions.append(failure_table.c.entity == entity)
        if parked is not None:
            conditions.append(failure_table.c.parked.is_(parked))
        with self._tx() as connection:
            rows = connection.execute(select(failure_table).where(and_(True, *conditions))
                                      .order_by(failure_table.c.entity, failure_table.c.record_key))
            return [self._failure(row) for row in rows]

    def unpark_changed(self, entity: str, direction: Direction, versions: Mapping[str, str]) -> list[str]:
        """Un-park parked records whose version differs from the one they failed at; returns their keys."""
        with self._tx() as connection:
            current = self._failures_for(connection, entity, direction, list(versions))
            changed = [key for key, failure in current.items()
                       if failure.parked and failure.version != versions[key]]
            for chunk in _chunks(changed):
                connection.execute(update(failure_table).where(
                    failure_table.c.entity == entity, failure_table.c.direction == str(direction),
                    failure_table.c.record_key.in_(chunk)).values(**self._retry_now()))
        return changed

    def retry(self, *, entity: str | None = None, keys: Iterable[str] | None = None) -> int:
        """A user asks to retry: un-park and make due now (all, one entity's, or some records); returns count."""
        conditions: list[Any] = []
        if entity is not None:
            conditions.append(failure_table.c.entity == entity)
        key_list = list(keys) if keys is not None else None
        if key_list is not None:
            conditions.append(or_(False, *[failure_table.c.record_key.in_(chunk) for chunk in _chunks(key_list)]))
        with self._tx() as connection:
            return int(connection.execute(update(failure_table).where(and_(True, *conditions)).values(
                **self._retry_now())).rowcount)

    def _retry_now(self) -> dict[str, Any]:
        # A person's retry (or a change to the record) starts afresh: due now, counted from zero, backing off.
        return {"parked": False, "attempts": 0, "next_attempt_at": self.now(),
                "next_step": str(error_policy.NextStep.BACKOFF), "waits_for_entity": None, "waits_for_key": None}

    # ----------------------------------------------------------------- activity log
    def log_many(self, events: Iterable[Activity]) -> None:
        """Append attempts to the activity log in one transaction."""
        now = self.now()
        rows = [{"at": event_.at or now, "cycle": event_.cycle, "entity": event_.entity, "sf_id": event_.sf_id,
                 "qb_id": event_.qb_id, "direction": str(event_.direction), "operation": event_.operation,
                 "outcome": str(event_.outcome), "message": event_.message} for event_ in events]
        if not rows:
            return
        with self._tx() as connection:
            connection.execute(activity_table.insert(), rows)

    def log(self, event_: Activity) -> None:
        """Append one attempt to the activity log."""
        self.log_many([event_])

    def recent(self, limit: int = 50, *, entity: str | None = None, direction: Direction | None = None,
               failed_only: bool = False, sf_id: str | None = None, since: datetime | None = None) -> list[Activity]:
        """The newest activity, newest first, optionally filtered by entity, direction, record or failures only."""
        conditions = []
        if entity is not None:
            conditions.append(activity_table.c.entity == entity)
        if direction is not None:
            conditions.append(activity_table.c.direction == str(direction))
        if failed_only:
            conditions.append(activity_table.c.outcome.in_([str(outcome) for outcome in FAILED_OUTCOMES]))
        if sf_id is not None:
            conditions.append(activity_table.c.sf_id == sf_id)
        if since is not None:
            conditions.append(activity_table.c.at >= since)
        with self._tx() as connection:
            rows = connection.execute(select(activity_table).where(and_(True, *conditions))
                                      .order_by(activity_table.c.id.desc()).limit(limit))
            return [Activity(id=row.id, at=row.at, cycle=row.cycle, entity=row.entity, sf_id=row.sf_id,
                             qb_id=row.qb_id, direction=Direction(row.direction), operation=row.operation,
                             outcome=Outcome(row.outcome), message=row.message) for row in rows]

    def totals(self, *, direction: Direction | None = None, since: datetime | None = None) -> dict[str, dict[str, int]]:
        """Attempts counted per entity and outcome: ``{"Account": {"created": 10, "failed": 1}, …}``."""
        conditions = []
        if direction is not None:
            conditions.append(activity_table.c.direction == str(direction))
        if since is not None:
            conditions.append(activity_table.c.at >= since)
        with self._tx() as connection:
            rows = connection.execute(
                select(activity_table.c.entity, activity_table.c.outcome, func.count())
                .where(and_(True, *conditions))
                .group_by(activity_table.c.entity, activity_table.c.outcome)
                .order_by(activity_table.c.entity, activity_table.c.outcome))
            totals: dict[str, dict[str, int]] = {}
            for entity, outcome, count in rows:
                totals.setdefault(entity, {})[outcome] = count
            return totals

    def prune_activity(self, older_than: datetime) -> int:
        """Delete activity older than ``older_than``; returns how many rows went."""
        with self._tx() as connection:
            return int(connection.execute(delete(activity_table).where(activity_table.c.at < older_than)).rowcount)


def _next_step(failure: FailureInput, linked: set[tuple[str, str]]) -> error_policy.NextStep:
    step = error_policy.step_for_kind(failure.kind)
    if step is error_policy.NextStep.AFTER_PARENT and (failure.waits_for is None or failure.waits_for in linked):
        # No parent named (nothing to wait for), or it is linked already: back off and try again.
        return error_policy.NextStep.BACKOFF
    return step


class _Row:
    """Attribute access over a dict, so freshly built rows convert like fetched ones."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
