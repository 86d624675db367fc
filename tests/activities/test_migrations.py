"""The stores' schemas are versioned Alembic histories (issue 22): `claims migrate` and opening a
store bring a database to this version, on SQLite and on PostgreSQL; a SQLite file made before the
migrations is adopted with its rows; workers starting together on one PostgreSQL migrate once."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from activities import migrate
from activities.database import Database, newest_version
from activities.sms import SqlSmsOutbox
from config.settings import Settings, SettingsError, load_settings
from dev.postgres import Postgres
from tests.activities.sms_samples import injury


def test_migrate_brings_every_store_to_its_newest_version_and_is_idempotent(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, database_pool_size=2)
    first = migrate(settings)
    assert first == {store: newest_version(store) for store in ("core", "sms", "callbacks")}
    assert all(first.values())
    assert migrate(settings) == first


def test_a_sqlite_outbox_made_before_the_migrations_is_adopted_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "sms.sqlite3"
    with sqlite3.connect(path) as conn:  # the table as the version before issue 22 created it
        conn.execute(
            "CREATE TABLE outbox (id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, "
            "report_no TEXT NOT NULL, recipient_role TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, sent_at TEXT)"
        )
        conn.execute(
            "INSERT INTO outbox VALUES ('SMS-1', 'k1', 'injury_specialist', 'R2026000001', 'injury_specialist', 'b', "
            "'2026-12-01T00:00:00.000000Z', NULL)"
        )
    db = Database.sqlite(path)
    outbox = SqlSmsOutbox(db)
    assert [m.message_id for m in outbox.outbox()] == ["SMS-1"]
    assert db.version("sms") == newest_version("sms")


def test_workers_starting_together_on_one_postgresql_migrate_once(postgres_admin_url: str) -> None:
    from tests.helpers.databases import drop_postgres_database, fresh_postgres_database

    url = fresh_postgres_database(postgres_admin_url)
    try:
        databases = [Database.postgres(url, pool_size=1, max_overflow=0) for _ in range(4)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            versions = list(pool.map(lambda db: db.migrate("sms"), databases))
        assert versions == [newest_version("sms")] * 4
        for db in databases:
            db.dispose()
    finally:
        drop_postgres_database(postgres_admin_url, url)


def test_database_url_setting_is_postgresql_or_unset() -> None:
    assert load_settings(environ={"PREMIUM_CLAIMS_DATABASE_URL": ""}).database_url is None
    url = "postgresql://claims:secret@db:5432/claims"
    assert load_settings(environ={"PREMIUM_CLAIMS_DATABASE_URL": url}).database_url == url
    with pytest.raises(SettingsError, match="PREMIUM_CLAIMS_DATABASE_URL"):
        load_settings(environ={"PREMIUM_CLAIMS_DATABASE_URL": "mysql://db/claims"})


def test_stores_on_postgresql_carry_on_after_the_server_crashes(
    postgres_server: Postgres | None, postgres_admin_url: str
) -> None:
    """A PostgreSQL crash (restart -m immediate: no checkpoint, recovery at start) under a store's
    pool: what was committed is there after recovery, and the next call reconnects (pre-ping)
    instead of failing on a dead connection."""
    if postgres_server is None:
        pytest.skip("the PostgreSQL at PREMIUM_CLAIMS_TEST_DATABASE_URL is not this run's to crash")
    from tests.helpers.databases import drop_postgres_database, fresh_postgres_database

    url = fresh_postgres_database(postgres_admin_url)
    db = Database.postgres(url, pool_size=2)
    try:
        outbox = SqlSmsOutbox(db)
        first = outbox.send(injury(1))
        postgres_server.restart("immediate")
        assert outbox.send(injury(1)).message_id == first.message_id  # committed before the crash
        outbox.send(injury(2))
        assert len(outbox.outbox()) == 2
    finally:
        db.dispose()
        drop_postgres_database(postgres_admin_url, url)
