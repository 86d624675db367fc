"""SQLite plumbing shared by the embedded defaults: one connection per call, WAL, BEGIN IMMEDIATE.

Each call opens its own connection (activities run their blocking work in threads), so no
connection is ever shared between threads. Writers take the database write lock up front with
BEGIN IMMEDIATE: two workers checking "was this paid?" can never both see "no".
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

OWNER_ONLY = 0o600  # names, phones, ID numbers and accounts in clear: like secrets/

# How long a writer waits for another writer's lock before failing (the activity then retries).
BUSY_TIMEOUT_MS = 30_000


def open_connection(path: Path) -> sqlite3.Connection:
    # isolation_level=None: autocommit, so BEGIN/COMMIT below are ours and not the module's.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextmanager
def connection(path: Path) -> Iterator[sqlite3.Connection]:
    conn = open_connection(path)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def write_transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection inside BEGIN IMMEDIATE; commits on success, rolls back on any exception."""
    with connection(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def create_database(path: Path, schema: str) -> None:
    """Create the file owner-only (0600: it holds personal data; SQLite gives its -wal and -shm
    files the same mode), switch it to WAL (persistent in the file) and create tables if missing.
    A file made before this rule (0644) is made owner-only too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, OWNER_ONLY))
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists():
            os.chmod(part, OWNER_ONLY)
    with connection(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(schema)


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_utc_text(moment: datetime) -> str:
    """A fixed-width UTC text form, so that comparing the strings compares the instants."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_utc_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
