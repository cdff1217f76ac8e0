"""The three-way merge's base (``sync_base``): per synced pair of records, the values both sides last agreed on.

Before this revision the merge created its table itself on first use, so a database may have it already: it is
created only when missing, and a table already there keeps its rows.

Revision ID: 0004_sync_base
Revises: 0003_failure_next_step
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_sync_base"
down_revision = "0003_failure_next_step"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("sync_base"):
        return
    op.create_table(
        "sync_base",
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("qb_id", sa.String(64), primary_key=True),
        sa.Column("sf_id", sa.String(18)),
        sa.Column("salesforce", sa.Text),
        sa.Column("quickbooks", sa.Text),
        sa.Column("lines", sa.Text),
        sa.Column("synced_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_base")
