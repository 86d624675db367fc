"""The gateway's record of every call (key, outcome), which the fault runs count; it was a second
table in the gateway's SQLite file, created on open, and is adopted as it is there.

Revision ID: ledger_0002
Revises: ledger_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ledger_0002"
down_revision = "ledger_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("attempts"):
        return
    op.create_table(
        "attempts",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        # paid, repeat, declined, refused, timeout, timeout:declined, 5xx, drop, bad_request
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("attempts_key", "attempts", ["idempotency_key"])
