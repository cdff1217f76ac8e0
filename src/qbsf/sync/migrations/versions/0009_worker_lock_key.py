"""Hosted mode: each lease records the advisory-lock key of the worker holding it (``work_lease.lock_key``), so the
other workers see at once that a worker's process has ended (its PostgreSQL session, and the lock with it, are gone)
instead of waiting for its leases to expire. Rows without a key (SQLite, or written before this revision) keep the
expiry rule.

Revision ID: 0009_worker_lock_key
Revises: 0008_login_throttle
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_worker_lock_key"
down_revision = "0008_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_lease", sa.Column("lock_key", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_lease") as batch:
        batch.drop_column("lock_key")
