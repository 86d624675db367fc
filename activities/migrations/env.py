"""Alembic's entry: the stores hand it an open connection (activities/database.py), never a URL,
so the migration runs inside their transaction (and, on PostgreSQL, under their advisory lock)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=context.config.attributes["version_table"])
with context.begin_transaction():
    context.run_migrations()
