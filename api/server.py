"""Running the API in a process: the app from the settings, served by uvicorn in the current loop
(so `claims run` serves it beside the worker)."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from activities.store import FileStore
from api.app import create_app
from worker.client import connect
from worker.settings import Settings


def app_from_settings(settings: Settings, client: Client | None = None) -> FastAPI:
    """The app over the settings' Temporal (connected on first use, so the API starts while
    Temporal is down and /ready says so) and the file store under the data directory."""
    return create_app(
        client,
        task_queue=settings.task_queue,
        store=FileStore(settings.data_dir / "files"),
        connect=lambda: connect(settings.temporal_address, settings.namespace),
    )


def api_urls(settings: Settings) -> tuple[str, str]:
    base = f"http://{settings.api_host}:{settings.api_port}"
    return base, f"{base}/docs"


async def serve(settings: Settings, app: FastAPI, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM, or, when `stop` is given, until it is set (the caller owns the
    signals: `claims run` stops the API and the worker together)."""
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        access_log=False,  # the app logs what it did, with codes only
        lifespan="on",
    )
    server = uvicorn.Server(config)
    if stop is None:
        await server.serve()
        return
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]

    async def stopper() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.ensure_future(stopper())
    try:
        await server.serve()
    finally:
        watcher.cancel()
    if not server.started:
        raise RuntimeError(f"the API could not listen on {settings.api_host}:{settings.api_port}")
