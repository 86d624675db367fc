"""Satisfaction callbacks, one per claim-track, and the follow-ups a poor score opens.

Revision ID: callbacks_0001
Revises:
Create Date: 2026-12-06

A SQLite file made before the migrations (same tables, created on open) is adopted as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "callbacks_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("callbacks"):
        return
    op.create_table(
        "callbacks",
        sa.Column("report_no", sa.Text, primary_key=True),
        sa.Column("track", sa.Text, primary_key=True),
        sa.Column("score", sa.Integer, sa.CheckConstraint("score BETWEEN 1 AND 5"), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),  # the customer's words: never logged
        sa.Column("poor_score_max", sa.Integer, nullable=False),  # the setting the score was judged by
        sa.Column("follow_up_id", sa.Text),
        sa.Column("recorded_at", sa.Text, nullable=False),  # UTC
    )
    op.create_table(
        "follow_ups",
        sa.Column("follow_up_id", sa.Text, primary_key=True),
        sa.Column("report_no", sa.Text, nullable=False),
        sa.Column("track", sa.Text, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.Text, nullable=False),
        sa.Column("closed_at", sa.Text),
        sa.UniqueConstraint("report_no", "track"),
    )
