"""Migrations of the state database (Alembic revisions in ``versions/``).

A :class:`~qbsf.sync.state.StateStore` calls :func:`upgrade` whenever it opens a database, in one transaction:

- an empty database gets the newest schema at once (the tables as the code declares them), stamped as such;
- a database made by qbsf 0.1.0 (tables, no version table) is upgraded in place, every row kept;
- a database already at the newest revision costs one query;
- a database written by a newer qbsf (a revision this code does not know) is refused with a clear message.

On PostgreSQL an advisory lock makes two processes opening one database upgrade it once; on SQLite the
store's ``BEGIN IMMEDIATE`` does the same. Writing a new revision: see ``alembic.ini`` beside this file.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, MetaData, inspect, text

from qbsf.errors import ConfigError

HERE = Path(__file__).resolve().parent
# Alembic's ``op`` and ``context`` are process-wide proxies: one upgrade at a time per process.
_LOCK = threading.Lock()
_PG_LOCK_KEY = 0x71627366  # "qbsf"


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did: the revision found, the revisions applied, whether the database held tables."""

    from_revision: str | None
    applied: tuple[str, ...]
    had_tables: bool

    @property
    def upgraded_existing(self) -> bool:
        """True when a database holding state was brought to a newer schema (worth telling the user)."""
        return bool(self.applied) and self.had_tables


@functools.cache
def script_directory() -> ScriptDirectory:
    """The revisions shipped with this qbsf (loaded once per process)."""
    return ScriptDirectory(str(HERE))


def head() -> str:
    """The newest revision this qbsf knows."""
    newest = script_directory().get_current_head()
    assert newest is not None
    return newest


def target_metadata() -> MetaData:
    """The tables the code expects, as the newest revision leaves them."""
    # importing them defines their tables
    from qbsf.sync import inbound_state, leases, lifecycle, merge_state, state, tenants  # noqa: F401

    return state.metadata


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (None: empty, or made by qbsf 0.1.0)."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def upgrade(connection: Connection, destination: str = "head") -> Upgrade:
    """Bring the database behind ``connection`` (in a transaction the caller commits) to ``destination``."""
    with _LOCK:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        script = script_directory()
        found = current_revision(connection)
        if found is not None:
            try:
                script.get_revision(found)
            except CommandError:
                raise ConfigError(
                    f"the state database is at schema revision {found!r}, which this qbsf does not know: "
                    "a newer qbsf wrote it",
                    hint="upgrade qbsf (pip install -U qbsf), or point state.url at another database") from None
        target = head() if destination == "head" else destination
        if found == target:
            return Upgrade(found, (), True)
        had_tables = bool(inspect(connection).get_table_names())
        if not had_tables and target == head():
            # A new database: the newest schema in one step (test_migrations checks the revisions build the same).
            target_metadata().create_all(connection)
            MigrationContext.configure(connection).stamp(script, target)
            return Upgrade(None, (target,), False)
        applied: list[str] = []

        def steps(revision: object, _context: MigrationContext) -> list[object]:
            return list(script._upgrade_revs(target, revision))  # type: ignore[arg-type]

        def done(*, step: object, **_kw: object) -> None:
            applied.append(str(getattr(step, "up_revision_id", "")))

        environment = EnvironmentContext(Config(), script, fn=steps, destination_rev=target)
        with environment:
            environment.configure(connection=connection, target_metadata=target_metadata(), on_version_apply=done)
            with environment.begin_transaction():
                environment.run_migrations()
        return Upgrade(found, tuple(applied), had_tables)
