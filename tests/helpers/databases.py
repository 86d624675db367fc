"""The store tests' two engines (issue 22): every test that takes `databases` runs once on SQLite
(files under its tmp_path) and once on PostgreSQL (a fresh database of its own).

PostgreSQL is the one at PREMIUM_CLAIMS_TEST_DATABASE_URL (a superuser's URL: each test creates
a database), else Debian's server started once for the session by dev/postgres.py in a temporary
folder (scripts/ensure-postgres.sh installs it), on a free port of 17400-17449."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from activities.database import Database
from dev.postgres import Postgres, ensure_started, port_free

ENGINES = ("sqlite", "postgresql")
PORTS = range(17400, 17450)

Databases = Callable[[str], Database]  # a store's name → its database in this test


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres | None]:
    """The PostgreSQL started here for the session, or None when PREMIUM_CLAIMS_TEST_DATABASE_URL names one."""
    if os.environ.get("PREMIUM_CLAIMS_TEST_DATABASE_URL"):
        yield None
        return
    home = Path(tempfile.mkdtemp(prefix="premium-claims-pg-"))
    home.chmod(0o711)  # the server runs as `postgres` under root: it must pass through
    port = next((p for p in PORTS if port_free(p)), None)
    if port is None:
        pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the test PostgreSQL")
    server = ensure_started(home / "pg", port)
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_url(postgres_server: Postgres | None) -> str:
    return postgres_server.url("postgres") if postgres_server else os.environ["PREMIUM_CLAIMS_TEST_DATABASE_URL"]


def fresh_postgres_database(admin_url: str, prefix: str = "t") -> str:
    """A new, empty database on the server of admin_url; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=ENGINES)
def store_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(store_engine: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None on SQLite (the stores' files under the data folder); a fresh database's URL on PostgreSQL."""
    if store_engine == "sqlite":
        yield None
        return
    admin = request.getfixturevalue("postgres_admin_url")
    url = fresh_postgres_database(admin)
    yield url
    drop_postgres_database(admin, url)


@pytest.fixture
def databases(database_url: str | None, tmp_path: Path) -> Iterator[Databases]:
    """The database a store opens in this test: on SQLite a file per store name, on PostgreSQL the
    one database every store shares (as with PREMIUM_CLAIMS_DATABASE_URL)."""
    opened: dict[str, Database] = {}

    def open_database(store: str) -> Database:
        key = store if database_url is None else "shared"
        if key not in opened:
            opened[key] = (
                Database.sqlite(tmp_path / f"{store}.sqlite3") if database_url is None else Database.postgres(database_url)
            )
        return opened[key]

    yield open_database
    for db in opened.values():
        db.dispose()
