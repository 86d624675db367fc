"""The SMS outbox: one message per idempotency key.

Revision ID: sms_0001
Revises:
Create Date: 2026-12-06

A SQLite file made before the migrations (same table, created on open) is adopted as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sms_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("outbox"):
        return
    op.create_table(
        "outbox",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("report_no", sa.Text, nullable=False),
        sa.Column("recipient_role", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # may hold personal data: never logged
        sa.Column("created_at", sa.Text, nullable=False),  # UTC
        sa.Column("sent_at", sa.Text),  # set by the relay that hands it to the SMS provider
    )
    op.create_index("outbox_unsent", "outbox", ["sent_at", "created_at"])
