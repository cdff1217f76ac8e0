"""The state database of qbsf 0.1.0: the schema every later revision starts from.

0.1.0 created its tables with ``create_all`` and had no version table, and it created the two QuickBooks →
Salesforce tables only when that direction first ran. So this revision creates each table that is missing and
leaves every existing one (and its rows) alone: on an empty database it builds the whole schema, on a 0.1.0
database it adds what that database lacks and the upgrade carries on from there.

The tables are written out here, frozen as 0.1.0 had them: later changes go in later revisions.

Revision ID: 0001_baseline
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def baseline_metadata() -> sa.MetaData:
    """The 0.1.0 tables (a new MetaData each call)."""
    metadata = sa.MetaData()
    sa.Table(
        "crosswalk", metadata,
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("sf_id", sa.String(18), primary_key=True),
        sa.Column("qb_id", sa.String(64), nullable=False),
        sa.Column("edit_sequence", sa.String(32)),
        sa.Column("external_guid", sa.String(38)),
        sa.Column("qb_name", sa.String(255)),
        sa.Column("written_back", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Index("ix_crosswalk_qb", "entity", "qb_id", unique=True),
    )
    sa.Table(
        "watermark", metadata,
        sa.Column("source", sa.String(80), primary_key=True),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "payload_hash", metadata,
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("record_key", sa.String(64), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("synced_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "journal", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("sf_id", sa.String(18), nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("external_guid", sa.String(38)),
        sa.Column("qb_name", sa.String(255)),
        sa.Column("payload_hash", sa.String(64)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("qb_id", sa.String(64)),
        sa.Column("message", sa.Text),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Index("ix_journal_status", "status", "entity"),
    )
    sa.Table(
        "failure", metadata,
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("record_key", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("version", sa.String(64)),
        sa.Column("parked", sa.Boolean, nullable=False),
        sa.Column("first_failed_at", sa.DateTime, nullable=False),
        sa.Column("last_failed_at", sa.DateTime, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "activity", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("cycle", sa.String(40)),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("sf_id", sa.String(18)),
        sa.Column("qb_id", sa.String(64)),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("message", sa.Text),
        sa.Index("ix_activity_at", "at"),
        sa.Index("ix_activity_entity_outcome", "entity", "outcome"),
    )
    sa.Table(
        "seen_version", metadata,
        sa.Column("source", sa.String(80), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(40), primary_key=True),
        sa.Column("seen_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "inbound_snapshot", metadata,
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("qb_id", sa.String(64), primary_key=True),
        sa.Column("sf_id", sa.String(18)),
        sa.Column("edit_sequence", sa.String(32)),
        sa.Column("active", sa.String(5)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("synced_at", sa.DateTime, nullable=False),
    )
    sa.Table(
        "inbound_open_invoice", metadata,
        sa.Column("txn_id", sa.String(64), primary_key=True),
        sa.Column("due_date", sa.String(10)),
        sa.Column("balance", sa.String(24)),
        sa.Column("status", sa.String(12), nullable=False),
    )
    return metadata


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in baseline_metadata().sorted_tables:
        if table.name not in existing:
            table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(baseline_metadata().sorted_tables):
        table.drop(bind, checkfirst=True)
