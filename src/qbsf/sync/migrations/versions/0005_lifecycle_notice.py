"""Open life-cycle notices (``lifecycle_notice``): synced Salesforce records deleted, merged away or no longer
eligible, told to the user once and shown by ``qbsf sync status`` until the record syncs again.

Revision ID: 0005_lifecycle_notice
Revises: 0004_sync_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_lifecycle_notice"
down_revision = "0004_sync_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_notice",
        sa.Column("entity", sa.String(40), primary_key=True),
        sa.Column("sf_id", sa.String(18), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("qb_id", sa.String(64)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lifecycle_notice")
