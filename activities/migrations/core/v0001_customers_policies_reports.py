"""The core-system stand-in: customers, policies, and the reports registered on them.

Revision ID: core_0001
Revises:
Create Date: 2026-12-06

A SQLite file made before the migrations (same tables, created on open) is adopted as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("customers"):
        return  # a file of the version before the migrations: the same tables
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("data", sa.Text, nullable=False),  # domain.models.Customer as JSON
    )
    op.create_table(
        "policies",
        sa.Column("policy_no", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, sa.ForeignKey("customers.customer_id"), nullable=False),
        sa.Column("period_start", sa.Text, nullable=False),  # ISO date, China local
        sa.Column("period_end", sa.Text, nullable=False),  # ISO date, inclusive
        sa.Column("data", sa.Text, nullable=False),  # domain.models.Policy as JSON
    )
    op.create_table(
        "reports",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),  # registration order
        sa.Column("report_no", sa.Text, nullable=False, unique=True),
        sa.Column("policy_no", sa.Text, sa.ForeignKey("policies.policy_no"), nullable=False),
        sa.Column("reported_at", sa.Text, nullable=False),  # UTC, fixed width: text order is time order
        sa.Column("reported_date", sa.Text, nullable=False),  # ISO date of reported_at in China
        sa.Column("registered_at", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("reports_by_policy", "reports", ["policy_no", "reported_date"])
