"""Hosted mode: Web Connector passwords verified with scrypt are remembered in the shared database
(``wc_login_memo``), one row per user name, so that every worker process recognises them without scrypt again.

Revision ID: 0010_login_memo
Revises: 0009_worker_lock_key
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_login_memo"
down_revision = "0009_worker_lock_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wc_login_memo",
        sa.Column("user_key", sa.String(200), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wc_login_memo")
