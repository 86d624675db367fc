"""The payment ledger: one payment per idempotency key and per claim-track (R-X-3).

Revision ID: ledger_0001
Revises:
Create Date: 2026-12-06

A SQLite file made before the migrations (same table, created on open) is adopted as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ledger_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("payments"):
        return
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.Text, primary_key=True),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("report_no", sa.Text, nullable=False),
        sa.Column("track", sa.Text, nullable=False),
        sa.Column("amount", sa.Text, nullable=False),  # Decimal yuan, two places; never a float
        sa.Column("payee_account", sa.Text, nullable=False),  # without spaces
        sa.Column("paid_at", sa.Text, nullable=False),  # UTC
        sa.UniqueConstraint("report_no", "track"),
    )
