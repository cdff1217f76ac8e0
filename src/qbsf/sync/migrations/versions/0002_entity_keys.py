"""State keyed by entity in every table: watermarks, seen versions and open invoices get an ``entity`` column.

0.1.0 keyed watermarks and seen versions by a source string alone (``sf:Account``, ``qb:Customer``) and open
invoices by TxnID alone. Each table is rebuilt with ``entity`` in its primary key and every row copied: the
entity is read from the source (``sf:Account`` → Account, ``qb:Invoice:status_day`` → Invoice; the company-wide
rows ``qb:deleted`` and ``qb:company_utc_offset`` belong to no entity, ``""``), every open invoice is an Invoice.

Revision ID: 0002_entity_keys
Revises: 0001_baseline
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_entity_keys"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

_ROWS_PER_INSERT = 1000


def entity_of_source(source: str) -> str:
    """The entity a 0.1.0 source string is about: its second part when that is an entity name, else ``""``."""
    parts = source.split(":")
    return parts[1] if len(parts) > 1 and parts[1][:1].isupper() else ""


def _columns(name: str, *, with_entity: bool) -> list[sa.Column[Any]]:
    entity = [sa.Column("entity", sa.String(40), primary_key=True)] if with_entity else []
    if name == "watermark":
        return [*entity, sa.Column("source", sa.String(80), primary_key=True),
                sa.Column("value", sa.String(64), nullable=False),
                sa.Column("updated_at", sa.DateTime, nullable=False)]
    if name == "seen_version":
        return [*entity, sa.Column("source", sa.String(80), primary_key=True),
                sa.Column("record_id", sa.String(64), primary_key=True),
                sa.Column("version", sa.String(40), primary_key=True),
                sa.Column("seen_at", sa.DateTime, nullable=False)]
    return [*entity, sa.Column("txn_id", sa.String(64), primary_key=True),
            sa.Column("due_date", sa.String(10)), sa.Column("balance", sa.String(24)),
            sa.Column("status", sa.String(12), nullable=False)]


def _rebuild(name: str, *, with_entity: bool, convert: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Replace table ``name`` by one with the new columns, copying (and converting) every row."""
    bind = op.get_bind()
    old = sa.Table(name, sa.MetaData(), autoload_with=bind)
    rows = [convert(dict(row)) for row in bind.execute(sa.select(old)).mappings()]
    new = sa.Table(f"{name}__new", sa.MetaData(), *_columns(name, with_entity=with_entity))
    new.create(bind)
    keys = [column.name for column in new.primary_key.columns]
    unique = list({tuple(row[key] for key in keys): row for row in rows}.values())
    for start in range(0, len(unique), _ROWS_PER_INSERT):
        bind.execute(new.insert(), unique[start:start + _ROWS_PER_INSERT])
    op.drop_table(name)
    op.rename_table(new.name, name)
    if bind.dialect.name == "postgresql":
        # PostgreSQL keeps the constraint's name through a rename: give it the name create_all would.
        op.execute(f'ALTER TABLE {name} RENAME CONSTRAINT "{name}__new_pkey" TO "{name}_pkey"')


def _with_entity_from_source(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "entity": entity_of_source(row["source"])}


def _without_entity(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "entity"}


def upgrade() -> None:
    _rebuild("watermark", with_entity=True, convert=_with_entity_from_source)
    _rebuild("seen_version", with_entity=True, convert=_with_entity_from_source)
    _rebuild("inbound_open_invoice", with_entity=True, convert=lambda row: {**row, "entity": "Invoice"})


def downgrade() -> None:
    for name in ("watermark", "seen_version", "inbound_open_invoice"):
        _rebuild(name, with_entity=False, convert=_without_entity)
