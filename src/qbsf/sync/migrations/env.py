"""Alembic's environment for the ``alembic`` command line (see alembic.ini beside this file).

qbsf upgrades its state database through :func:`qbsf.sync.migrations.upgrade` when a StateStore opens it; this
file only serves developers running ``alembic revision`` / ``alembic upgrade`` by hand (``-x url=…``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from qbsf.sync.migrations import target_metadata
from qbsf.sync.state import database_url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata())
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    _url = context.get_x_argument(as_dictionary=True).get("url")
    if not _url:
        raise SystemExit("give the state database: alembic -c … -x url=sqlite:////path/to/state.db …")
    with create_engine(database_url(_url)).begin() as _opened:
        _run(_opened)
