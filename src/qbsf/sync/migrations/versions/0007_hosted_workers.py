"""Hosted mode with several workers: Web Connector sessions shared by every worker process (``wc_company``,
``wc_ticket``, ``wc_request``) and the leases that place each company's sync on one worker (``work_lease``).

Revision ID: 0007_hosted_workers
Revises: 0006_tenants
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_hosted_workers"
down_revision = "0006_tenants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wc_company",
        sa.Column("company", sa.String(200), primary_key=True),
        sa.Column("active_session", sa.String(64)),
        sa.Column("engine_epoch", sa.Integer, nullable=False),
        sa.Column("wanted", sa.Boolean, nullable=False),
        sa.Column("announced", sa.Boolean, nullable=False),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("engine_activity", sa.Float, nullable=False),
        sa.Column("progress_done", sa.Integer),
        sa.Column("progress_total", sa.Integer),
        sa.Column("percent_shown", sa.Integer, nullable=False),
        sa.Column("sessions_opened", sa.Integer, nullable=False),
        sa.Column("current_session", sa.Text),
        sa.Column("last_session", sa.Text),
        sa.Column("iterators", sa.Text, nullable=False),
        sa.Column("host", sa.Text),
        sa.Column("settings", sa.Text),
        sa.Column("qbxml_version", sa.String(16)),
        sa.Column("country", sa.String(8), nullable=False),
        sa.Column("company_file", sa.Text, nullable=False),
        sa.Column("run_every_minutes", sa.Float),
        sa.Column("cycles", sa.Integer, nullable=False),
        sa.Column("records_synced", sa.Integer, nullable=False),
        sa.Column("records_failed", sa.Integer, nullable=False),
        sa.Column("last_cycle_end", sa.Float),
    )
    op.create_table(
        "wc_ticket",
        sa.Column("ticket_key", sa.String(64), primary_key=True),
        sa.Column("company", sa.String(200), nullable=False),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("hcp_read", sa.Boolean, nullable=False),
        sa.Column("noop", sa.Boolean, nullable=False),
        sa.Column("closing", sa.Boolean, nullable=False),
        sa.Column("ended", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
    )
    op.create_index("ix_wc_ticket_company", "wc_ticket", ["company"])
    op.create_table(
        "wc_request",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("company", sa.String(200), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("session", sa.String(64)),
        sa.Column("request_xml", sa.Text, nullable=False),
        sa.Column("response_xml", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("wc_request_company_state", "wc_request", ["company", "state"])
    op.create_table(
        "work_lease",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("work_lease")
    op.drop_index("wc_request_company_state", table_name="wc_request")
    op.drop_table("wc_request")
    op.drop_index("ix_wc_ticket_company", table_name="wc_ticket")
    op.drop_table("wc_ticket")
    op.drop_table("wc_company")
