"""Who may call a route: the caller the guard authenticated (api/guard.py), checked against the
roles of the action or step (security/permissions.py: 403 names the roles that may), and who a
step is recorded as done by (always the caller)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from domain.models import CODE_RULE, Track, is_code
from security.auth import Principal
from security.permissions import Action, role_list, roles_for, roles_for_step
from workflows.messages import STEP_MODELS

# What each action is called in a 403's message: "<roles> may <this>".
ACTION_WORDS = {
    Action.READ: "read claims",
    Action.REPORT: "report a claim",
    Action.UPLOAD: "upload files",
    Action.OPERATIONS: "read the operations view",
    Action.WORK: "work from the work queue",
    Action.REASSIGN: "reassign a work queue item",
}

bearer = HTTPBearer(
    auto_error=False,  # the guard has answered 401 already; this documents the scheme in OpenAPI
    scheme_name="staff_token",
    description="A staff token: `claims token --subject S001 --role assessor` locally, or the identity provider's JWT.",
)


async def caller(request: Request, _token: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> Principal:
    """The Principal the guard authenticated; none means the guard did not run: fail closed.
    (The permission checks are async: no I/O, so no thread per request.)"""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise ApiError(401, "unauthenticated", "missing Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"})
    return principal


def forbidden(roles: frozenset, what: str, principal: Principal) -> ApiError:
    return ApiError(403, "forbidden", f"{role_list(roles)} may {what}; this token's roles: {role_list(principal.roles)}")


def allowed(action: Action) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, if one of their roles may do `action` (security/permissions.py)."""

    async def check(principal: Annotated[Principal, Depends(caller)]) -> Principal:
        roles = roles_for(action)
        if not principal.has_any(roles):
            raise forbidden(roles, ACTION_WORDS[action], principal)
        return principal

    return check


async def step_allowed(step: str, track: str, principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """The caller, if one of their roles may take `step` on `track`; an unknown step or track is
    left to the route (404), so the answer does not depend on the caller."""
    if step not in STEP_MODELS:
        return principal
    t = Track(track) if track in {t.value for t in Track} else None
    roles = roles_for_step(step, t)
    if not principal.has_any(roles):
        raise forbidden(roles, f"take the step {step}" + (f" on track {t.value}" if t else ""), principal)
    return principal


def allowed_step(step: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency for the operation of one step: the caller, if one of their roles may take it."""

    async def check(track: str, principal: Annotated[Principal, Depends(caller)]) -> Principal:
        return await step_allowed(step, track, principal)

    return check


def recorder(principal: Principal, given: Any) -> str:
    """Who a step is recorded as done by: the token's subject, always. A body naming someone else
    is refused rather than overwritten, so nobody believes they recorded a step for a colleague."""
    if given is not None and given != principal.subject:
        raise ApiError(
            403,
            "by_mismatch",
            f'a step is recorded as done by the caller ({principal.subject}); leave out "by" or give your own staff code',
        )
    if not is_code(principal.subject):
        raise ApiError(
            403,
            "forbidden",
            f"the token's subject is not a staff code ({CODE_RULE}), so no step can be recorded "
            "by it; in OIDC mode set auth.subject_claim to the claim that holds the staff code",
        )
    return principal.subject
