"""The operations view's fronts: `GET /operations/summary` answers as JSON (roles operations and
supervisor), `GET /operations` as one server-rendered HTML page (api/templates/operations.html,
its styles in api/static/operations.css) that reloads itself every 30 s. The numbers come from the
read model in client/operations.py.

A browser carries no bearer token: staff sign in once at /operations/sign-in (api/sign_in.py, the
codec server's sign-in), which keeps the token in an HttpOnly, SameSite=Lax cookie that the API's
guard takes on GET /operations.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name the
# dependencies imported inside operations_router.
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import jinja2
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import AwareDatetime
from temporalio.client import Client

from api.access import allowed
from api.errors import ApiError
from api.guard import BROWSER_COOKIE, SIGN_IN_PATH, SIGN_OUT_PATH, STATIC_PATH
from api.sign_in import PAGE_HEADERS, SignIn, sign_in_router
from client.operations import OPEN_STAGES, OperationsSummary, TemporalUi, TrackCounts, TrackRow, operations_summary
from client.visibility import SharedSnapshot, VisibilityBudget
from domain.models import BRANCH_PATTERN, REPORT_NO_PREFIX_PATTERN, Track
from domain.rules import CHINA_TZ
from security.auth import Authenticator
from security.permissions import Action, roles_for

PAGE_PATH = "/operations"
REFRESH_SECONDS = 30
HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"  # served at STATIC_PATH (api/app.py)
# StrictUndefined: a name the template misspells fails the page instead of rendering empty.
TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)
# The page loads its stylesheet from this server and nothing else: no scripts, no inline styles;
# its only form posts back here (sign out).
OPERATIONS_PAGE_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
}


# --- the page -----------------------------------------------------------------------------------
def _ago(now: datetime, at: datetime | None) -> str:
    if at is None:
        return "-"
    minutes = int((now - at).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{max(minutes, 0)} min"


def _local(at: datetime | None) -> str:
    return at.astimezone(CHINA_TZ).strftime("%m-%d %H:%M") if at else "-"


def _share(t: TrackCounts) -> str:
    return f"{t.in_time_share:.0%}" if t.in_time_share is not None else "-"


def render_page(summary: OperationsSummary) -> str:
    """One page, no scripts: it reloads itself every REFRESH_SECONDS. The view model is made here;
    the template only lays it out."""
    by_cell = {(c.track, c.stage): c for c in summary.stages}
    stages = [s for s in OPEN_STAGES if any((t, s) in by_cell for t in Track)]

    def overdue_when(r: TrackRow) -> str:
        return f"overdue {_ago(summary.at, r.at)} (since {_local(r.at)})"

    def due_when(r: TrackRow) -> str:
        return f"due {_local(r.at)}" + (" (late)" if r.at and r.at < summary.at else "")

    return TEMPLATES.get_template("operations.html").render(
        s=summary,
        tracks=list(Track),
        stage_rows=[(stage, [(t, by_cell.get((t, stage))) for t in Track]) for stage in stages],
        overdue=[(r, overdue_when(r)) for r in summary.overdue],
        due=[(r, due_when(r)) for r in summary.due],
        scope=[
            (what, value)
            for what, value in (("report numbers starting with", summary.report_no_prefix), ("branch", summary.branch))
            if value
        ],
        local=_local,
        share=_share,
        refresh_seconds=REFRESH_SECONDS,
        sign_out_path=SIGN_OUT_PATH,
        stylesheet=f"{STATIC_PATH}/operations.css",
    )


# --- the routes ---------------------------------------------------------------------------------
SIGN_IN = SignIn(
    cookie=BROWSER_COOKIE,
    roles=roles_for(Action.OPERATIONS),
    title="premium-claims operations: sign in",
    after_form=f'<p><a href="{PAGE_PATH}">Open the operations view</a></p>',
    sign_in_path=SIGN_IN_PATH,
    sign_out_path=SIGN_OUT_PATH,
    log_event="api.operations_sign_in",
)


def operations_router(
    temporal: Callable[[], Awaitable[Client]],
    authenticator: Authenticator,
    ui_url: str,
    *,
    budget: VisibilityBudget | None = None,
    share_seconds: float = 0,
) -> APIRouter:
    """The operations routes over the app's Temporal client (`temporal()`). With `share_seconds`,
    the summary every viewer of a branch (or of all) sees is computed at most that often and
    served to all of them (client/visibility.py); a summary asked with other filters is computed
    for its caller. Every visibility call is taken from `budget` when there is one."""
    operations_staff = allowed(Action.OPERATIONS)
    shared: dict[str | None, SharedSnapshot[OperationsSummary]] = {}

    async def compute(
        since: datetime | None = None,
        due_before: datetime | None = None,
        report_no_prefix: str | None = None,
        branch: str | None = None,
    ) -> OperationsSummary:
        client = await temporal()
        return await operations_summary(
            client,
            TemporalUi(ui_url, client.namespace),
            since=since,
            due_before=due_before,
            report_no_prefix=report_no_prefix,
            branch=branch,
            budget=budget,
        )

    async def summary_of(
        since: AwareDatetime | None = None,
        due_before: AwareDatetime | None = None,
        report_no_prefix: Annotated[str | None, Query(pattern=REPORT_NO_PREFIX_PATTERN)] = None,
        branch: Annotated[str | None, Query(pattern=BRANCH_PATTERN)] = None,
    ) -> OperationsSummary:
        if share_seconds <= 0 or since is not None or due_before is not None or report_no_prefix is not None:
            return await compute(since, due_before, report_no_prefix, branch)
        if branch not in shared:
            shared[branch] = SharedSnapshot(lambda: compute(branch=branch), share_seconds)
        return (await shared[branch].get()).value

    router = APIRouter(tags=["operations"])

    @router.get(f"{PAGE_PATH}/summary", dependencies=[Depends(operations_staff)])
    async def summary(s: Annotated[OperationsSummary, Depends(summary_of)]) -> OperationsSummary:
        """Open tracks per track and stage, overdue ones, payments due before `due_before` (default
        the end of today, China time), deadlines missed and payments in or out of time since `since`
        (default a day ago); each count with its visibility query and its Temporal UI address."""
        return s

    @router.get(PAGE_PATH, response_class=HTMLResponse, dependencies=[Depends(operations_staff)])
    async def page(s: Annotated[OperationsSummary, Depends(summary_of)]) -> HTMLResponse:
        """The same as a page for people (sign in at /operations/sign-in); it reloads every 30 s."""
        return HTMLResponse(render_page(s), headers=OPERATIONS_PAGE_HEADERS)

    router.include_router(
        sign_in_router(SIGN_IN, authenticator, lambda: ApiError(403, "cross_origin_form", "sign in on the API's own page"))
    )
    return router
