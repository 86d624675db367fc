"""The relay's delivery state on each outbox row (issue 22.6): a lease so that two relays never
hold one message at once, the attempts and when the next is due (backoff), the provider's message
id once delivered, the last error, and a status: queued, sent, or failed (given up).

Revision ID: sms_0002
Revises: sms_0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sms_0002"
down_revision = "sms_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("status", sa.Text, nullable=False, server_default="queued"))
    op.add_column("outbox", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.add_column("outbox", sa.Column("next_attempt_at", sa.Text))  # UTC; NULL: at once
    op.add_column("outbox", sa.Column("leased_by", sa.Text))
    op.add_column("outbox", sa.Column("leased_until", sa.Text))  # UTC
    op.add_column("outbox", sa.Column("provider_message_id", sa.Text))
    op.add_column("outbox", sa.Column("last_error", sa.Text))  # the provider's words or ours; never the body
    # rows a relay sent before this version had sent_at set by it
    op.execute("UPDATE outbox SET status = 'sent' WHERE sent_at IS NOT NULL")
    op.create_index("outbox_due", "outbox", ["status", "next_attempt_at"])
