"""Hosted mode: the Web Connector's login throttle shared by every worker process (``wc_login_throttle``), keyed by
company and client address, so wrong passwords counted on one worker hold on every other, and never for another
company.

Revision ID: 0008_login_throttle
Revises: 0007_hosted_workers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_login_throttle"
down_revision = "0007_hosted_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wc_login_throttle",
        sa.Column("company", sa.String(200), primary_key=True),
        sa.Column("client", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("refused", sa.Integer, nullable=False),
        sa.Column("last_failure", sa.Float, nullable=False),
        sa.Column("blocked_until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wc_login_throttle")
