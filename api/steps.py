"""One OpenAPI operation per human step: its body is that step's model (workflows.messages.STEP_MODELS),
so /openapi.json shows every step's schema and a client can be generated from it.

No `from __future__ import annotations` here: FastAPI reads each endpoint's body type from its
signature, and each endpoint is made for one model at run time.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Body, Depends

from security.auth import Principal
from workflows.messages import Step, TrackView

Record = Callable[[str, str, str, Step, Principal], Awaitable[TrackView]]


def step_summary(step: str, model: type[Step]) -> str:
    first = (model.__doc__ or "").strip().splitlines()
    return f"{step}: {first[0]}" if first and model.__doc__ != Step.__doc__ else step


def step_endpoint(
    step: str, model: type[Step], record: Record, allowed: Callable[..., Awaitable[Principal]]
) -> Callable[..., Awaitable[TrackView]]:
    """The endpoint of `step`: `allowed` checks the caller's roles, the body is validated against
    `model`, and `record` sends it to the track. The step is recorded as done by the token's
    subject: leave `by` out (or give your own staff code)."""

    async def endpoint(
        report_no: str,
        track: str,
        body: Annotated[model, Body()],  # type: ignore[valid-type]  # the model is chosen at run time
        principal: Annotated[Principal, Depends(allowed)],
    ) -> TrackView:
        return await record(report_no, track, step, body, principal)

    endpoint.__name__ = f"step_{step}"
    endpoint.__doc__ = (
        f"Record the step `{step}` on a track (a workflow update): the track's new view. "
        "409 `step_refused` with the reason when the step does not fit the claim now; "
        "the step is recorded as done by the token's subject (leave `by` out or give your own code)."
    )
    return endpoint
