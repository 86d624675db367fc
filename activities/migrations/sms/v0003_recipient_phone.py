"""A customer's own message (issue 24: the link to their claim's page) goes to their mobile, not
to a staff role's: the outbox keeps that number beside the message (personal data, never logged).

Revision ID: sms_0003
Revises: sms_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sms_0003"
down_revision = "sms_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("recipient_phone", sa.Text))
