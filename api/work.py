"""The work queue for claims staff (issue 24): `GET /work` (JSON to API callers, the page to a
browser), each item's page with the form of its pending step, and taking, handing back and (a
supervisor) reassigning an item.

The queue is client/workqueue.py (one visibility call per refresh); a step's form is built from the
step's request model (api/step_forms.py), the same one /openapi.json publishes for its operation,
and is validated by it: errors are shown by field and nothing is sent to the claim; a step that
the claim refuses (409 on the API) shows the claim's reason. A browser signs in once at
/work/sign-in (security/sign_in.py: an HttpOnly, SameSite=Lax cookie); the guard (api/guard.py)
takes the cookie on the work pages' GETs, and on their POSTs from this server's own pages only.

Pages are Jinja2 templates (api/templates/work*.html) with one local stylesheet and no script; the
CSP allows nothing from another host.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.store import Documents, StoreRefused
from api.access import allowed, recorder, step_allowed
from api.errors import ApiError
from api.guard import BROWSER_COOKIE, WORK_PATH, WORK_SIGN_IN_PATH, WORK_SIGN_OUT_PATH
from api.sign_in import SignIn, sign_in_router
from api.step_forms import StepForm, Upload, read_form, show_errors, step_form
from api.views import masked_track
from client.claims import TrackUnavailable, record_step, refusal_message, track_state
from client.visibility import VisibilityBudget
from client.workqueue import REFRESH_SECONDS, WorkQueue, assign, steps_for, work_queue
from domain.documents import ALLOWED_CHANNELS
from domain.models import BRANCH_PATTERN, CODE_PATTERN, Frozen, Track
from domain.rules import CHINA_TZ
from security.auth import Authenticator, Principal, Role
from security.permissions import Action, roles_for, sees_personal_data
from workflows.messages import STEP_MODELS, TrackView
from workflows.work import WorkAction

log = structlog.get_logger("premium_claims.api")

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
# Nothing from another host, no script at all; forms post to this server only.
CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Content-Security-Policy": CSP}


def _local(at: datetime | None) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if at else "—"


def _span(seconds: int) -> str:
    minutes = abs(seconds) // 60
    days, hours = minutes // (24 * 60), minutes // 60 % 24
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes % 60} min" if hours else f"{minutes} min"


TEMPLATES.env.filters["local"] = _local
TEMPLATES.env.filters["left"] = lambda s: _span(s) + " left"
TEMPLATES.env.filters["ago"] = lambda s: _span(s or 0)


class Reassign(Frozen):
    """A supervisor gives the item to another member of staff (OPEN-3: the holder is away)."""

    to: str


def wants_page(request: Request) -> bool:
    """A browser's navigation (a link, a form) rather than an API call."""
    return "text/html" in request.headers.get("accept", "") and "authorization" not in request.headers


def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    principal: Principal = context["principal"]
    context = {**context, "roles": [r.value for r in Role if r in principal.roles]}
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status, headers=PAGE_HEADERS)


SIGN_IN = SignIn(
    cookie=BROWSER_COOKIE,
    roles=roles_for(Action.WORK),
    title="premium-claims work queue: sign in",
    after_form=f'<p><a href="{WORK_PATH}">Open your work queue</a></p>',
    sign_in_path=WORK_SIGN_IN_PATH,
    sign_out_path=WORK_SIGN_OUT_PATH,
    log_event="api.work_sign_in",
)


def work_router(
    temporal: Callable[[], Awaitable[Client]],
    authenticator: Authenticator,
    store: Documents,
    budget: VisibilityBudget | None = None,
) -> APIRouter:
    """The work routes and their sign-in; the queue's visibility call is taken from `budget`, the
    process's (client/visibility.py), shared with the operations view. The pages' stylesheet is
    api/static/people.css, served with the others at /static (api/app.py)."""
    router = APIRouter(tags=["work"])
    staff = allowed(Action.WORK)
    supervisors = allowed(Action.REASSIGN)

    def known(track: str) -> Track:
        try:
            return Track(track)
        except ValueError:
            raise ApiError(404, "track_not_found", f"no track {track}; the tracks are A, B, C, D") from None

    async def view_of(report_no: str, track: Track, principal: Principal) -> TrackView:
        client = await temporal()
        try:
            view = await track_state(client, report_no, track)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise ApiError(404, "track_not_found", f"claim {report_no} runs no track {track.value}") from None
            raise
        return view if sees_personal_data(principal) else masked_track(view)

    def forms_for(view: TrackView, principal: Principal) -> list[StepForm]:
        if view.outcome is not None:
            return []
        steps = steps_for(frozenset(principal.roles), view.track, view.stage)
        done = {
            "receive_documents": not view.documents_missing,  # every document is in: no row to tick, only an error
            "issue_assessment": view.assessment_amount is not None,  # one sheet a track: a second is refused
        }
        steps = tuple(s for s in steps if not done.get(s, False))
        channels = sorted(c.value for c in ALLOWED_CHANNELS[view.track])
        return [
            step_form(s, STEP_MODELS[s], documents=[d.value for d in view.documents_missing], channels=channels) for s in steps
        ]

    def item_page(
        request: Request,
        report_no: str,
        view: TrackView,
        principal: Principal,
        *,
        forms: list[StepForm] | None = None,
        done: str | None = None,
        refusal: str | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        mine = forms_for(view, principal)
        if forms:  # the posted form, with its values and errors, in place of its blank one
            posted = {f.step: f for f in forms}
            mine = [posted.get(f.step, f) for f in mine]
        context = {
            "principal": principal,
            "report_no": report_no,
            "view": view,
            "forms": mine,
            "done": done,
            "refusal": refusal,
            "supervisor": Role.SUPERVISOR in principal.roles,
        }
        return page(request, "work_item.html", context, status)

    @router.get(
        WORK_PATH,
        responses={200: {"content": {"text/html": {}}, "description": "the queue; a browser gets the page"}},
    )
    async def queue(
        request: Request,
        principal: Annotated[Principal, Depends(staff)],
        branch: Annotated[str | None, Query(pattern=BRANCH_PATTERN)] = None,
    ) -> WorkQueue:
        """The pending human steps the caller's roles may take (security/permissions.py), for their
        branch (the token's; else `branch`, else every branch), overdue first, then by deadline.
        Supervisors also get every overdue item (OPEN-3). One visibility call per refresh."""
        client = await temporal()
        found = await work_queue(client, principal, principal.branch or branch, budget=budget)
        if wants_page(request):
            return page(request, "work.html", {"principal": principal, "queue": found, "refresh": REFRESH_SECONDS})  # type: ignore[return-value]  # the page for browsers, documented in `responses`
        return found

    async def assigned(
        request: Request, report_no: str, track: str, action: WorkAction, principal: Principal, to: str | None = None
    ) -> Response:
        t = known(track)
        client = await temporal()
        try:
            view = await assign(client, report_no, t, action, principal, to)
        except WorkflowUpdateFailedError as err:
            message = refusal_message(err.cause)
            log.info("api.work_refused", report_no=report_no, track=t.value, action=action.value)
            if wants_page(request):
                current = await view_of(report_no, t, principal)
                return item_page(request, report_no, current, principal, refusal=message, status=409)
            raise ApiError(409, "step_refused", message) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise ApiError(404, "track_not_found", f"claim {report_no} runs no track {t.value}") from None
            raise
        log.info("api.work_assigned", report_no=report_no, track=t.value, action=action.value, by=principal.subject, to=to)
        if wants_page(request):
            # the queue after handing back; the item's page after taking it
            target = WORK_PATH if action is WorkAction.HAND_BACK else f"{WORK_PATH}/{report_no}/{t.value}"
            return RedirectResponse(target, status_code=303)
        return Response(  # the track's view, as a step's answer is
            (view if sees_personal_data(principal) else masked_track(view)).model_dump_json(), media_type="application/json"
        )

    @router.post(f"{WORK_PATH}/{{report_no}}/{{track}}/take", response_model=TrackView)
    async def take(request: Request, report_no: str, track: str, principal: Annotated[Principal, Depends(staff)]) -> Response:
        """Take the item: the caller holds the track's pending step (recorded on its timeline and
        in its history) and keeps it through the next stages their roles may work."""
        recorder(principal, None)
        return await assigned(request, report_no, track, WorkAction.TAKE, principal)

    @router.post(f"{WORK_PATH}/{{report_no}}/{{track}}/hand-back", response_model=TrackView)
    async def hand_back(
        request: Request, report_no: str, track: str, principal: Annotated[Principal, Depends(staff)]
    ) -> Response:
        """Put a held item back in the queue (the holder only)."""
        recorder(principal, None)
        return await assigned(request, report_no, track, WorkAction.HAND_BACK, principal)

    @router.post(f"{WORK_PATH}/{{report_no}}/{{track}}/reassign", response_model=TrackView)
    async def reassign(
        request: Request, report_no: str, track: str, principal: Annotated[Principal, Depends(supervisors)]
    ) -> Response:
        """A supervisor gives the item to a member of staff (JSON `{"to": "AS02"}` or a form field `to`)."""
        recorder(principal, None)
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                to = Reassign.model_validate_json(await request.body()).to
            except ValidationError:
                raise ApiError(422, "invalid_request", 'the body is {"to": "<staff code>"}') from None
        else:
            to = str((await request.form()).get("to") or "")
        if not re.fullmatch(CODE_PATTERN, to):
            raise ApiError(422, "invalid_request", "'to' is a staff code (letters, digits, _ . -, up to 40)")
        return await assigned(request, report_no, track, WorkAction.REASSIGN, principal, to)

    @router.get(f"{WORK_PATH}/{{report_no}}/{{track}}", response_class=HTMLResponse, include_in_schema=False)
    async def item(
        request: Request, report_no: str, track: str, principal: Annotated[Principal, Depends(staff)], done: str | None = None
    ) -> HTMLResponse:
        """The item's page: where the track stands, and the form of each pending step that is the caller's."""
        view = await view_of(report_no, known(track), principal)
        return item_page(request, report_no, view, principal, done=done if done in STEP_MODELS else None)

    @router.post(f"{WORK_PATH}/{{report_no}}/{{track}}/steps/{{step}}", response_class=HTMLResponse, include_in_schema=False)
    async def step_from_form(
        request: Request, report_no: str, track: str, step: str, principal: Annotated[Principal, Depends(step_allowed)]
    ) -> Response:
        """A step's form posted: validated by the step's model (422 with errors by field, nothing
        sent), then sent to the track as the API sends it (409 with the claim's reason)."""
        t = known(track)
        model = STEP_MODELS.get(step)
        if model is None:
            raise ApiError(404, "unknown_step", f"no step {step}")
        view = await view_of(report_no, t, principal)
        form = next((f for f in forms_for(view, principal) if f.step == step), None)
        if form is None:
            refusal = f"{step} is not a step you can take on this track now (it is at {view.stage.value})"
            return item_page(request, report_no, view, principal, refusal=refusal, status=409)
        posted = await request.form()
        values: dict[str, list[str]] = {}
        uploads: dict[str, list[Upload]] = {}
        for key, value in posted.multi_items():
            if isinstance(value, UploadFile):
                uploads.setdefault(key, []).append(Upload(await value.read(), value.content_type or ""))
            else:
                values.setdefault(key, []).append(value)
        body = read_form(form, values, uploads)
        body["by"] = recorder(principal, None)
        try:
            payload = model.model_validate(body)
        except ValidationError as err:
            show_errors(form, err)
            return item_page(request, report_no, view, principal, forms=[form], status=422)
        for f in form.fields:  # photos go to the file store only once the step's input is valid
            for upload in uploads.get(f.name, []) if f.kind == "files" else []:
                if not upload.content:
                    continue
                try:
                    store.put(upload.content, upload.content_type or "application/octet-stream")
                except StoreRefused as err:
                    f.error = str(err)
                    return item_page(request, report_no, view, principal, forms=[form], status=422)
        client = await temporal()
        try:
            await record_step(client, report_no, t, step, payload)
        except WorkflowUpdateFailedError as err:
            log.info("api.step_refused", report_no=report_no, track=t.value, step=step, code="step_refused")
            return item_page(request, report_no, view, principal, forms=[form], refusal=refusal_message(err.cause), status=409)
        except TrackUnavailable as err:  # the track ended (or went) since the form was shown
            log.info("api.step_refused", report_no=report_no, track=t.value, step=step, code=err.code)
            return item_page(request, report_no, view, principal, refusal=err.message, status=409)
        log.info("api.step_recorded", report_no=report_no, track=t.value, step=step, by=principal.subject, via="form")
        return RedirectResponse(f"{WORK_PATH}/{report_no}/{t.value}?done={step}", status_code=303)

    router.include_router(
        sign_in_router(SIGN_IN, authenticator, lambda: ApiError(403, "cross_origin_form", "sign in on the API's own page"))
    )
    return router
