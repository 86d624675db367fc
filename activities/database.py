"""One database interface over the two engines the stores run on: SQLite (the embedded default,
a file per store under the data folder) and PostgreSQL (`PREMIUM_CLAIMS_DATABASE_URL`, every
host's workers and API processes sharing it).

Each store is written once, in SQL that both engines speak, through SQLAlchemy Core; its schema is
a versioned Alembic history of its own (activities/migrations/<store>/), applied by `claims migrate`
and, idempotently, when a store opens.

Writes are serializable on both engines, so a store's "check, then insert" is atomic:
- SQLite: BEGIN IMMEDIATE takes the file's one write lock before the first read; two workers
  checking "was this paid?" can never both see "no".
- PostgreSQL: the transaction runs at SERIALIZABLE (SSI); of two transactions that each read what
  the other writes, one fails with a serialization failure (40001) or, on a unique key, a unique
  violation (23505), and is run again from the start, when it reads the other's committed row.
Reads run at the engine's default (READ COMMITTED on PostgreSQL), as they only show what is there.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = structlog.get_logger(__name__)
# our own line says what was migrated (database.migrated); Alembic's INFO lines (its plugins on
# import, each step) are noise on a command's stderr. Set before Alembic is first imported.
logging.getLogger("alembic").setLevel(logging.WARNING)

T = TypeVar("T")

OWNER_ONLY = 0o600  # names, phones, ID numbers and accounts in clear: like secrets/
BUSY_TIMEOUT_MS = 30_000  # SQLite: how long a writer waits for another's lock (the activity then retries)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# PostgreSQL error codes that mean "run the transaction again": another transaction won the race.
_RETRY_CODES = frozenset({"40001", "40P01", "23505"})  # serialization failure, deadlock, unique violation
WRITE_ATTEMPTS = 12


class SchemaBehind(RuntimeError):
    """The database's schema is older than this code: run `claims migrate`."""


def postgres_url(url: str) -> str:
    """`postgresql://…` as given in the settings, with the driver SQLAlchemy is to use (psycopg 3)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"a database URL is postgresql://…, not {parsed.get_backend_name()}://")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL for logs and messages: never the password."""
    return make_url(url).render_as_string(hide_password=True)


@dataclass
class Database:
    """An engine with the transactions the stores need. Build it with `sqlite()` or `postgres()`."""

    engine: Engine
    name: str  # for logs: the file, or the URL without its password
    _migrated: set[str] = field(default_factory=set)
    retries: int = 0  # write transactions run again after losing a race (benchmarks read it)

    @classmethod
    def sqlite(cls, path: Path) -> Database:
        """A file owner-only (0600: it holds personal data; SQLite gives its -wal and -shm files the
        same mode; a file made 0644 by an earlier version is made owner-only), in WAL mode."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, OWNER_ONLY))
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if part.exists():
                os.chmod(part, OWNER_ONLY)
        # No pool: a connection per transaction, as the stores had before, so no file stays open
        # (and no thread shares one) between calls; opening a SQLite file is cheap.
        engine = create_engine(
            f"sqlite:///{path}",
            poolclass=NullPool,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # BEGIN is ours (below), not the driver's
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")  # persistent in the file
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Writers take the write lock up front; readers share.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return cls(engine, str(path))

    @classmethod
    def postgres(cls, url: str, *, pool_size: int = 5, max_overflow: int = 5, pool_timeout: float = 30) -> Database:
        """A pool of `pool_size` connections (and `max_overflow` more at a peak) to the URL's database."""
        engine = create_engine(
            postgres_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,  # a server restarted under the pool: the next call reconnects
        )
        return cls(engine, redacted(url))

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()

    # --- transactions ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def write(self, work: Callable[[Connection], T]) -> T:
        """`work` in one serializable write transaction, committed on return, rolled back on any
        exception. On PostgreSQL a transaction that lost a race is run again (so `work` must do
        nothing outside the database that it would regret doing twice)."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                if self.is_postgres:
                    with self.engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn, conn.begin():
                        return work(conn)
                with self.engine.connect().execution_options(write=True) as conn, conn.begin():
                    return work(conn)
            except DBAPIError as err:
                code = getattr(err.orig, "sqlstate", None)
                if code not in _RETRY_CODES or attempt == WRITE_ATTEMPTS:
                    raise
                self.retries += 1
                log.debug("database.write_retried", database=self.name, sqlstate=code, attempt=attempt)
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))  # jittered backoff: up to 0.32 s
        raise AssertionError("unreachable")

    # --- schema ---------------------------------------------------------------------------------
    def migrate(self, store: str, migrations: Path = MIGRATIONS) -> str | None:
        """Bring `store`'s tables to the newest version of its history (`migrations/<store>/`,
        activities/migrations by default; the payment gateway keeps its own); the version."""
        if store in self._migrated:
            return newest_version(store, migrations)
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", str(migrations / store))
        config.attributes["version_table"] = f"{store}_schema_version"

        def upgrade(conn: Connection) -> None:
            if self.is_postgres:
                # Workers starting together: one migrates, the others wait and then find it done.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(store)})
            if _current(conn, store) == newest_version(store, migrations):
                return
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            log.info("database.migrated", database=self.name, store=store, version=newest_version(store, migrations))

        if self.is_postgres:
            with self.engine.begin() as conn:
                upgrade(conn)
        else:
            with self.engine.connect().execution_options(write=True) as conn, conn.begin():
                upgrade(conn)
        self._migrated.add(store)
        return newest_version(store, migrations)

    def version(self, store: str) -> str | None:
        with self.reading() as conn:
            return _current(conn, store)


def _current(conn: Connection, store: str) -> str | None:
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": f"{store}_schema_version"})
    return context.get_current_revision()


@cache
def newest_version(store: str, migrations: Path = MIGRATIONS) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS), version_locations=[str(migrations / store)]).get_current_head()


def _lock_key(store: str) -> int:
    # a fixed 63-bit number per store (Python's hash() changes between runs)
    return int.from_bytes(hashlib.sha256(f"premium-claims:{store}".encode()).digest()[:8], "big") >> 1
