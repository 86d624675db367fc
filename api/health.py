"""/health (the process is up) and /ready (Temporal answers): open to all, for load balancers and probes."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter

from api.connection import Temporal
from api.errors import ApiError, ErrorBody
from domain.models import Frozen

log = structlog.get_logger("premium_claims.api")

READY_TIMEOUT_SECONDS = 3.0


class Health(Frozen):
    status: str


def health_router(temporal: Temporal) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health")
    async def health() -> Health:
        """The process is up."""
        return Health(status="ok")

    @router.get("/ready", responses={503: {"model": ErrorBody}})
    async def ready() -> Health:
        """Ready only when Temporal answers."""
        try:
            c = await temporal()
            await asyncio.wait_for(c.service_client.check_health(), READY_TIMEOUT_SECONDS)
        except ApiError:
            raise
        except Exception as err:
            log.warning("api.not_ready", error=type(err).__name__)
            raise ApiError(503, "temporal_unavailable", "Temporal does not answer") from None
        return Health(status="ready")

    return router
