"""An ASGI app (the API) served by uvicorn on a free port in the test's own event loop, for a
browser to open: up within a timeout or the test fails, stopped when the block ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp

from tests.helpers import eventually, free_port


@asynccontextmanager
async def serving(app: ASGIApp, timeout: float = 15.0) -> AsyncIterator[str]:
    """The app at http://127.0.0.1:<port> until the block ends (its base URL)."""
    port = free_port()
    # log_config=None: uvicorn leaves the logging set-up of the test process alone (other tests read it)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.ensure_future(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # it ended before it started: its error
        return server.started

    try:
        await eventually(started, bool, timeout, f"uvicorn to serve on port {port}", every=0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
