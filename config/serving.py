"""Serving an HTTP app (the API, the codec server) in this process until it is told to stop."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import uvicorn


async def serve_until(server: uvicorn.Server, stop: asyncio.Event | None, what: str) -> None:
    """Run a uvicorn server until SIGINT/SIGTERM, or, when `stop` is given, until it is set (the
    caller then owns the signals). Raises when it never started listening."""
    if stop is None:
        await server.serve()
        return
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # uvicorn has no switch to leave the signals to the caller

    async def stopper() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.ensure_future(stopper())
    try:
        await server.serve()
    finally:
        watcher.cancel()
    if not server.started:
        raise RuntimeError(f"{what} could not listen")


def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    """uvicorn's settings for our servers: warnings and errors only, no access log (the apps log
    what they did, with codes only), and no logging set-up of its own (log_config None), so its
    lines reach the root logger and read in the process's one format (config/logging.py)."""
    return uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, **options)
