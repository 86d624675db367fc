"""Before `claims run` starts anything: every port it is about to listen on must be free.

A `claims run` that crashed can leave its dev server behind; the next one would find a server
answering on the port, say "ready" and use it while its own server failed to bind. Instead the
run stops before starting anything and says which port, which setting moves it, and which
process holds it (from /proc on Linux; elsewhere just that it is in use).
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from config.settings import ENV_PREFIX, Settings


@dataclass(frozen=True)
class Listener:
    what: str  # e.g. "the Temporal dev server (gRPC)"
    setting: str  # the variable that moves it
    host: str
    port: int


def listeners(settings: Settings) -> list[Listener]:
    """What `claims run` listens on, with the setting of each."""
    found = [
        Listener("the Temporal dev server (gRPC)", ENV_PREFIX + "DEV_SERVER_PORT", "127.0.0.1", settings.dev_server_port),
        Listener("the Temporal Web UI", ENV_PREFIX + "UI_PORT", "127.0.0.1", settings.ui_port),
        Listener("the HTTP API", ENV_PREFIX + "API_PORT", settings.api_host, settings.api_port),
        Listener("the codec server", ENV_PREFIX + "CODEC__PORT", settings.codec.host, settings.codec.port),
    ]
    if settings.metrics_bind:
        host, _, port = settings.metrics_bind.rpartition(":")
        found.append(Listener("the worker's metrics", ENV_PREFIX + "METRICS_BIND", host or "127.0.0.1", int(port)))
    return found


class PortInUse(RuntimeError):
    """A port `claims run` needs is taken; the message says by what, and how to move."""


def check_free(settings: Settings) -> None:
    """Raise PortInUse naming every listener whose port is taken (and the process holding it)."""
    problems = []
    for item in listeners(settings):
        if not _can_bind(item.host, item.port):
            holder = holder_of(item.port)
            problems.append(
                f"port {item.port} for {item.what} is in use{f' by {holder}' if holder else ''}: "
                f"stop that process (a `claims run` that crashed can leave its dev server behind), or set {item.setting}"
            )
    if problems:
        raise PortInUse("; ".join(problems))


def _can_bind(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def holder_of(port: int, proc: Path = Path("/proc")) -> str | None:
    """`pid N (command line)` of the process listening on `port`, if /proc tells (Linux)."""
    inodes = set()
    for table in ("net/tcp", "net/tcp6"):
        try:
            lines = (proc / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in targets for fd in (pid_dir / "fd").iterdir()):
                command = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                return f"pid {pid_dir.name} ({command[:120]})"
        except OSError:  # gone, or not ours to read
            continue
    return None
