"""The app's one Temporal client: injected (tests), or made by `connect` on first use, so the API
starts while Temporal is down and /ready says so. Routes call it: `client = await temporal()`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from temporalio.client import Client

from api.errors import ApiError

log = structlog.get_logger("premium_claims.api")

Temporal = Callable[[], Awaitable[Client]]


class TemporalConnection:
    def __init__(self, client: Client | None = None, connect: Temporal | None = None) -> None:
        self._client, self._connect = client, connect
        self._lock = asyncio.Lock()

    async def __call__(self) -> Client:
        """The client; 503 `temporal_unavailable` while Temporal cannot be reached (tried again next call)."""
        if self._client is not None:
            return self._client
        if self._connect is None:
            raise ApiError(503, "temporal_unavailable", "no Temporal client is configured")
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await self._connect()
                except Exception as err:
                    log.warning("api.temporal_unreachable", error=type(err).__name__)
                    raise ApiError(503, "temporal_unavailable", "Temporal does not answer; try again shortly") from None
        return self._client
