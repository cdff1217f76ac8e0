"""Tenants: one state database serves many companies, each row belongs to one.

Adds the ``tenant`` list (with the default tenant, ``default``), ``tenant_secret`` (each tenant's secrets,
encrypted) and a ``tenant`` column to every state table, first in its primary key (tables keyed by a generated id
get it as a required column leading their indexes). Every row a database held before belongs to the default tenant:
a single-company set-up goes on exactly as it was, nothing is dropped.

Tables keyed by their columns are rebuilt (a primary key cannot change in place on SQLite) and their rows copied by
the database itself (INSERT … SELECT); on PostgreSQL the two tables keyed by an id get the column in place, which
keeps their id sequences. ``watermark.value`` grows to 128 characters (the read window's rows hold two instants).

Revision ID: 0006_tenants
Revises: 0005_lifecycle_notice
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_tenants"
down_revision = "0005_lifecycle_notice"
branch_labels = None
depends_on = None

DEFAULT_TENANT = "default"
_TENANT_LENGTH = 63

# Every state table, with its indexes after this revision (before it: the same columns without ``tenant``).
_KEYED = ("crosswalk", "watermark", "payload_hash", "failure", "seen_version", "inbound_snapshot",
          "inbound_open_invoice", "sync_base", "lifecycle_notice")
_BY_ID = ("journal", "activity")
# Columns widened on the way: the read window keeps two instants in one watermark value (65 characters), which
# PostgreSQL refused in 64 (qbsf.sync.read_window).
_WIDER = {("watermark", "value"): sa.String(128)}
_INDEXES: dict[str, tuple[tuple[str, tuple[str, ...], bool], ...]] = {
    "crosswalk": (("ix_crosswalk_qb", ("entity", "qb_id"), True),),
    "journal": (("ix_journal_status", ("status", "entity"), False),),
    "failure": (("ix_failure_waits_for", ("waits_for_entity", "waits_for_key"), False),),
    "activity": (("ix_activity_at", ("at",), False), ("ix_activity_entity_outcome", ("entity", "outcome"), False)),
}


def _indexes(name: str, *, with_tenant: bool) -> None:
    for index, columns, unique in _INDEXES.get(name, ()):
        op.create_index(index, name, [*(["tenant"] if with_tenant else []), *columns], unique=unique)


def _drop_indexes(name: str) -> None:
    for index, _columns, _unique in _INDEXES.get(name, ()):
        op.drop_index(index, table_name=name)


def _rebuild(name: str, *, with_tenant: bool) -> None:
    """Replace table ``name`` by one with (or without) the ``tenant`` column, copying the rows in the database.

    Going back (``with_tenant=False``) keeps the default tenant's rows only: older qbsf knows one company.
    """
    bind = op.get_bind()
    old = sa.Table(name, sa.MetaData(), autoload_with=bind)
    kept = [column for column in old.columns if column.name != "tenant"]
    columns = [sa.Column(column.name, _WIDER.get((name, column.name), column.type),
                         primary_key=column.primary_key, nullable=column.nullable,
                         server_default=column.server_default.arg if column.server_default is not None else None,
                         autoincrement=column.primary_key and name in _BY_ID)
               for column in kept]
    if with_tenant:
        columns.insert(0, sa.Column("tenant", sa.String(_TENANT_LENGTH), nullable=False,
                                    primary_key=name not in _BY_ID))
    new = sa.Table(f"{name}__new", sa.MetaData(), *columns)
    new.create(bind)
    names = [column.name for column in kept]
    if with_tenant:
        copy = sa.select(sa.literal(DEFAULT_TENANT, sa.String(_TENANT_LENGTH)), *[old.c[n] for n in names])
        bind.execute(new.insert().from_select(["tenant", *names], copy))
    else:
        copy = sa.select(*[old.c[n] for n in names]).where(old.c.tenant == DEFAULT_TENANT)
        bind.execute(new.insert().from_select(names, copy))
    op.drop_table(name)
    op.rename_table(new.name, name)
    if bind.dialect.name == "postgresql":
        # PostgreSQL keeps the constraint's name through a rename: give it the name create_all would.
        op.execute(f'ALTER TABLE {name} RENAME CONSTRAINT "{name}__new_pkey" TO "{name}_pkey"')
    _indexes(name, with_tenant=with_tenant)


def _add_tenant_in_place(name: str) -> None:
    """PostgreSQL, tables keyed by an id: add the column (every row the default tenant's), keep the id sequence."""
    _drop_indexes(name)
    op.add_column(name, sa.Column("tenant", sa.String(_TENANT_LENGTH), nullable=False,
                                  server_default=DEFAULT_TENANT))
    # No default afterwards: a row must always say whose it is.
    op.alter_column(name, "tenant", server_default=None)
    _indexes(name, with_tenant=True)


def upgrade() -> None:
    bind = op.get_bind()
    tenant = op.create_table(
        "tenant",
        sa.Column("id", sa.String(_TENANT_LENGTH), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(tenant, [{"id": DEFAULT_TENANT, "name": "Default company", "config": "", "created_at": now,
                             "updated_at": now}])
    op.create_table(
        "tenant_secret",
        sa.Column("tenant", sa.String(_TENANT_LENGTH), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    for name in _KEYED:
        _rebuild(name, with_tenant=True)
    for name in _BY_ID:
        if bind.dialect.name == "postgresql":
            _add_tenant_in_place(name)
        else:
            _rebuild(name, with_tenant=True)


def downgrade() -> None:
    bind = op.get_bind()
    for name in _BY_ID:
        if bind.dialect.name == "postgresql":
            _drop_indexes(name)
            op.execute(sa.text(f"DELETE FROM {name} WHERE tenant <> :tenant").bindparams(tenant=DEFAULT_TENANT))
            op.drop_column(name, "tenant")
            _indexes(name, with_tenant=False)
        else:
            _rebuild(name, with_tenant=False)
    for name in _KEYED:
        _rebuild(name, with_tenant=False)
    op.drop_table("tenant_secret")
    op.drop_table("tenant")
