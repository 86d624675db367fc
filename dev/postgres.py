"""PostgreSQL from Debian's packages, started by the project in a folder of its own, as an
ordinary user's server would be: never the system's cluster, never a port it did not choose.

The folder (`home`) holds the data directory (`pgdata/`), the server's log and socket (`run/`) and
the password of its one role (`password`, readable by this user only). PostgreSQL refuses to run
as root, so under root (CI, the sessions here) the server runs as Debian's `postgres` user, which
owns `pgdata/`; the folders above `home` must let that user through (o+x).

The Temporal cluster (dev/cluster.py) keeps its two databases here; the store tests on
PostgreSQL start one in a temporary folder.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "sh scripts/ensure-postgres.sh (Debian's postgresql package)"
SERVER_USER = "postgres"  # the account Debian's package creates; the server runs as it under root
ROLE = "temporal"  # the superuser role initdb creates: the Temporal server's and the tools' login


class PostgresError(RuntimeError):
    """PostgreSQL is missing, refused to start, or its port is taken: the message says which."""


def server_bin() -> Path:
    """The newest installed server's bin folder (/usr/lib/postgresql/<major>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise PostgresError(f"PostgreSQL's server is not installed: run {INSTALL_HINT}")
    return found[-1].parent


def _as_server_user() -> list[str]:
    """The command prefix that runs a server tool: as `postgres` under root, as ourselves otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresError(f"running as root needs the {SERVER_USER!r} account to run PostgreSQL: run {INSTALL_HINT}") from None
    return ["runuser", "-u", SERVER_USER, "--"]


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Postgres:
    """One server: its folder and port. Build it with `ensure_started`."""

    home: Path
    port: int
    host: str = "127.0.0.1"
    user: str = ROLE

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.home / "run" / "postgres.log"

    @property
    def password(self) -> str:
        return (self.home / "password").read_text().strip()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def pg_ctl(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [*_as_server_user(), str(server_bin() / "pg_ctl"), "-D", str(self.pgdata), *args]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=timeout)

    def running_port(self) -> int | None:
        """The port of the server running on this folder, or None when none runs."""
        if not (self.pgdata / "PG_VERSION").exists() or self.pg_ctl("status", check=False).returncode != 0:
            return None
        lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 else None

    def is_running(self) -> bool:
        return self.running_port() is not None

    def start(self) -> None:
        if not port_free(self.port, self.host):
            raise PostgresError(
                f"port {self.port} is in use, so PostgreSQL cannot listen there: stop what holds it or choose another port"
            )
        options = f"-p {self.port} -c listen_addresses={self.host} -c unix_socket_directories={self.home / 'run'}"
        done = self.pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file), "-o", options, check=False)
        if done.returncode != 0:
            raise PostgresError(f"PostgreSQL refused to start (log {self.log_file}):\n{log_tail(self.log_file)}")

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            self.pg_ctl("stop", "-w", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """`pg_ctl restart -m MODE`: `immediate` is a crash (no checkpoint, recovery at start)."""
        done = self.pg_ctl("restart", "-w", "-t", "60", "-m", mode, "-l", str(self.log_file), check=False)
        if done.returncode != 0:
            raise PostgresError(f"PostgreSQL did not come back after restart -m {mode}:\n{log_tail(self.log_file)}")


def ensure_started(home: Path, port: int, say: Callable[[str], None] = lambda _: None) -> Postgres:
    """The server of `home` on `port`, running: created the first time (initdb, a fresh password),
    reused after. Idempotent: a server already running there is left as it is."""
    server = Postgres(home.resolve(), port)
    running = server.running_port()
    if running is not None:
        if running != port:
            raise PostgresError(f"the PostgreSQL of {home} already runs on port {running}, not {port}: stop it first")
        return server
    if not (server.pgdata / "PG_VERSION").exists():
        say(f"creating PostgreSQL in {server.pgdata}")
        _initdb(server)
    say(f"starting PostgreSQL on {server.host}:{port}")
    server.start()
    return server


def _initdb(server: Postgres) -> None:
    home = server.home
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)  # the server's account passes through; only this user reads the password
    (home / "run").mkdir(exist_ok=True)  # the server's socket and log: written by the server's account
    password_file = home / "password"
    if not password_file.exists():
        password_file.touch(mode=0o600)
        password_file.write_text(secrets.token_urlsafe(24) + "\n")
    if server.pgdata.exists():
        shutil.rmtree(server.pgdata)  # a half-made folder from an interrupted initdb
    server.pgdata.mkdir(mode=0o700)
    pwfile = home / "initdb-password"
    pwfile.write_text(server.password + "\n")
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        for path in (server.pgdata, home / "run", pwfile):
            os.chown(path, account.pw_uid, account.pw_gid)
        if subprocess.run(["runuser", "-u", SERVER_USER, "--", "test", "-w", str(server.pgdata)]).returncode != 0:
            raise PostgresError(
                f"PostgreSQL runs as {SERVER_USER!r} under root and cannot reach {server.pgdata}: "
                "the folders above it must allow others through (chmod o+x)"
            )
    try:
        command = [
            *_as_server_user(),
            str(server_bin() / "initdb"),
            "-D",
            str(server.pgdata),
            "-U",
            server.user,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise PostgresError(f"initdb failed in {server.pgdata}:\n{done.stderr.strip() or done.stdout.strip()}")


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a server's log, for an error that says why it stopped."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
