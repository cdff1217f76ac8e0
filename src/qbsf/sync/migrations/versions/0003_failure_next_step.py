"""Failures say what happens next (``qbsf.sync.policy``): ``next_step`` and the parent a record waits for.

``next_step`` is backoff, after_parent, park or record. Existing rows get the step of their error class as the
policy had it when this revision was written: "needs you" errors are parked (the policy parks them at once),
skippable ones are recorded, the rest back off as before. No row is dropped.

Revision ID: 0003_failure_next_step
Revises: 0002_entity_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_failure_next_step"
down_revision = "0002_entity_keys"
branch_labels = None
depends_on = None

# The error classes (stored by name in failure.kind) of each step when this revision was written.
_PARK = ("NeedsUser", "ApiLimitExceeded", "AuthError", "ConnectionFailed", "FieldValueError", "InvalidSetupReference",
         "MissingAccountError", "ModConflictError", "NameInUse", "QuickBooksRejected", "SalesforceNeedsUser")
_RECORD = ("Skippable", "ObjectNotFound", "SalesforceSkippable")


def upgrade() -> None:
    op.add_column("failure", sa.Column("next_step", sa.String(16), nullable=False, server_default="backoff"))
    op.add_column("failure", sa.Column("waits_for_entity", sa.String(40)))
    op.add_column("failure", sa.Column("waits_for_key", sa.String(64)))
    op.create_index("ix_failure_waits_for", "failure", ["waits_for_entity", "waits_for_key"])
    failure = sa.table("failure", sa.column("kind", sa.String), sa.column("next_step", sa.String),
                       sa.column("parked", sa.Boolean))
    op.execute(failure.update().where(failure.c.kind.in_(_PARK)).values(next_step="park", parked=True))
    op.execute(failure.update().where(failure.c.kind.in_(_RECORD)).values(next_step="record"))


def downgrade() -> None:
    op.drop_index("ix_failure_waits_for", "failure")
    with op.batch_alter_table("failure") as batch:
        batch.drop_column("waits_for_key")
        batch.drop_column("waits_for_entity")
        batch.drop_column("next_step")
