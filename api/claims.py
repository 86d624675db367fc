"""The claims routes: report a claim and hear its decision, list claims, read a claim and a track,
and take a human step (one operation per step, plus any step by name).

They validate, then talk to Temporal through the client (client/claims.py, client/listing.py);
they look nothing up themselves. Logs carry report numbers and codes only, never personal data,
and the claim and track views mask personal data for roles that do not need it (api/views.py).
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.access import allowed, allowed_step, recorder, step_allowed
from api.connection import Temporal
from api.errors import UNREACHABLE, ApiError, ErrorBody, describe, not_found
from api.steps import step_endpoint, step_summary
from api.views import masked_claim, masked_track
from client.claims import (
    ReportConflict,
    ReportRefused,
    TrackUnavailable,
    claim_state,
    record_step,
    refusal_message,
    report_with_decision,
    track_state,
)
from client.deliveries import SmsDeliveries, with_deliveries
from client.listing import ClaimFilters, ClaimPage, list_claims
from domain.contracts import FILE_NOT_FOUND, POLICY_NOT_FOUND, REPORT_CONFLICT
from domain.models import BRANCH_PATTERN, REPORT_NO_PREFIX_PATTERN, Frozen, Report, ReportSubmission, Segment, Track
from security.auth import Principal
from security.permissions import Action, sees_personal_data
from workflows.messages import STEP_MODELS, ClaimView, ReportAnswer, Stage, Step, TrackView, claim_workflow_id

log = structlog.get_logger("premium_claims.api")


class ClaimReceipt(Frozen):
    report_no: str
    workflow_id: str
    created: bool  # False: the number was known with this same report (R-X-2), nothing new started
    claim_url: str


class ReportDecision(ReportAnswer):
    """A report's answer: the claim's decision (workflows.messages.ReportAnswer) and its address."""

    workflow_id: str
    claim_url: str


# What the core system's refusal of a report is called in the API (domain/contracts.py).
REPORT_REFUSALS = {POLICY_NOT_FOUND: (422, "policy_not_found"), REPORT_CONFLICT: (409, "report_on_other_policy")}


def claims_router(
    temporal: Temporal, task_queue: str, answer_seconds: float, sms_deliveries: SmsDeliveries | None = None
) -> APIRouter:
    """The routes over the app's Temporal client; a report waits up to `answer_seconds` for its
    decision; a claim's SMS deliveries (the outbox) join its timeline when `sms_deliveries` is
    given. Each group of routes is added by its own function, in the order /openapi.json lists them."""
    router = APIRouter()
    add_report_route(router, temporal, task_queue, answer_seconds)
    add_read_routes(router, temporal, sms_deliveries)
    add_step_routes(router, temporal)
    return router


# --- report ---------------------------------------------------------------------------------------
def add_report_route(router: APIRouter, temporal: Temporal, task_queue: str, answer_seconds: float) -> None:
    @router.post(
        "/claims",
        status_code=201,
        tags=["claims"],
        responses={
            200: {"model": ReportDecision, "description": "the same report was already recorded: its decision"},
            202: {"model": ClaimReceipt, "description": "recorded; the decision was not ready in time: read the claim"},
            409: {"model": ErrorBody, "description": "`report_conflict` or `report_on_other_policy`"},
            422: {"model": ErrorBody, "description": "`invalid_request` or `policy_not_found`"},
        },
        dependencies=[Depends(allowed(Action.REPORT))],
    )
    async def report(submission: ReportSubmission, request: Request) -> ReportDecision:
        """Report a claim (first notice of loss) and hear its decision in the same call, to tell
        the customer during the call which service applies and why (R-ID-2, R-EL-1): the
        recognised tag and segments, each track taken or not with its reasons and failed
        conditions, what each track taken waits for first, the claim's stage.

        201: the claim was started; 200: the number was already reported with this same report
        (R-X-2), its decision; 202: recorded, but the decision was not ready in time (the claim
        goes on; read it at `claim_url`); 409 `report_conflict`: the number is recorded with other
        content; 422 `policy_not_found` / 409 `report_on_other_policy`: the core system cannot
        place the report, nothing is kept, and the number may be reported again."""
        report: Report = submission.to_report()  # identifiers checked here; workflows take the plain Report
        answer, workflow_id = await reported(await temporal(), report, task_queue, answer_seconds)
        claim_url = str(request.url_for("read_claim", report_no=report.report_no))
        # the declared return type documents the 201; the 200 and 202 are in `responses`
        return report_response(report, answer, workflow_id, claim_url)  # type: ignore[return-value]  # see above


async def reported(c: Client, report: Report, task_queue: str, answer_seconds: float) -> tuple[ReportAnswer | None, str]:
    """Start the claim (or find it) and wait for its decision; the core system's refusals as API errors."""
    try:
        answer, handle = await report_with_decision(c, report, task_queue, answer_seconds)
    except ReportConflict as err:
        log.info("api.report_conflict", report_no=report.report_no, fields=err.fields)
        raise ApiError(409, "report_conflict", str(err)) from None
    except ReportRefused as err:
        status, code = REPORT_REFUSALS.get(err.refusal_code, (422, "report_refused"))
        log.info("api.report_refused", report_no=report.report_no, code=code)
        raise ApiError(status, code, str(err)) from None
    return answer, handle.id


def report_response(report: Report, answer: ReportAnswer | None, workflow_id: str, claim_url: str) -> JSONResponse:
    """201 started, 200 already reported (its decision), 202 decision not ready: with the claim's Location."""
    headers = {"Location": claim_url}
    if answer is None:
        log.info("api.claim_reported", report_no=report.report_no, decided=False)
        receipt = ClaimReceipt(report_no=report.report_no, workflow_id=workflow_id, created=True, claim_url=claim_url)
        return JSONResponse(jsonable_encoder(receipt), status_code=202, headers=headers)
    log.info("api.claim_reported", report_no=report.report_no, created=answer.created, stage=answer.stage.value)
    body = ReportDecision(workflow_id=workflow_id, claim_url=claim_url, **answer.model_dump())
    return JSONResponse(jsonable_encoder(body), status_code=201 if answer.created else 200, headers=headers)


# --- list and read --------------------------------------------------------------------------------
def add_read_routes(router: APIRouter, temporal: Temporal, sms_deliveries: SmsDeliveries | None = None) -> None:
    @router.get("/claims", tags=["claims"], dependencies=[Depends(allowed(Action.READ))])
    async def list_(
        stage: Stage | None = None,
        track: Track | None = None,
        segment: Segment | None = None,
        branch: Annotated[str | None, Query(pattern=BRANCH_PATTERN)] = None,
        overdue: bool | None = None,
        payment_due_before: AwareDatetime | None = None,
        report_no_prefix: Annotated[str | None, Query(pattern=REPORT_NO_PREFIX_PATTERN)] = None,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
        page_token: str | None = None,
    ) -> ClaimPage:
        """Claims by stage, track, segment, branch, overdue, payment due before; from Temporal
        visibility (search attributes), newest first; pass next_page_token as page_token."""
        filters = ClaimFilters(
            stage=stage,
            track=track,
            segment=segment,
            branch=branch,
            overdue=overdue,
            payment_due_before=payment_due_before,
            report_no_prefix=report_no_prefix,
        )
        return await listed(await temporal(), filters, page_size, page_token)

    @router.get("/claims/{report_no}", tags=["claims"], name="read_claim")
    async def read_claim(report_no: str, principal: Annotated[Principal, Depends(allowed(Action.READ))]) -> ClaimView:
        """The claim: stage, tracks taken and not with the reason, failed eligibility conditions,
        waits with deadlines, missing documents, payments, timeline. Personal data in it is masked
        for roles that neither phone nor pay the customer."""
        c = await temporal()
        try:
            view = await claim_state(c, report_no)
        except RPCError as err:
            raise not_found(err, "claim_not_found", f"no claim for report {report_no}") from None
        if sms_deliveries is not None:
            view = with_deliveries(view, await run_in_threadpool(sms_deliveries, report_no))
        return view if sees_personal_data(principal) else masked_claim(view)

    @router.get("/claims/{report_no}/tracks/{track}", tags=["claims"])
    async def read_track(report_no: str, track: str, principal: Annotated[Principal, Depends(allowed(Action.READ))]) -> TrackView:
        c = await temporal()
        t = await known_track(c, report_no, track)
        try:
            view = await track_state(c, report_no, t)
        except RPCError as err:
            raise not_found(err, "track_not_found", f"claim {report_no} runs no track {t.value}") from None
        return view if sees_personal_data(principal) else masked_track(view)


async def listed(c: Client, filters: ClaimFilters, page_size: int, page_token: str | None) -> ClaimPage:
    """A page of claims; a page token the server cannot read is the caller's error (422)."""
    try:
        return await list_claims(c, filters, page_size, page_token)
    except ValueError as err:
        raise ApiError(422, "invalid_page_token", str(err)) from None
    except RPCError as err:
        # The server decodes the token itself; a forged or stale one fails with whatever status
        # its parser gives. Only an unreachable Temporal is our fault then, not the caller's.
        if page_token and err.status not in UNREACHABLE:
            raise ApiError(422, "invalid_page_token", "the page token is not valid for this query") from None
        raise


async def known_track(c: Client, report_no: str, track: str) -> Track:
    """The track named in the path, of a claim that exists (404 otherwise)."""
    try:
        t = Track(track)
    except ValueError:
        raise ApiError(404, "track_not_found", f"no track {track}; the tracks are A, B, C, D") from None
    try:
        await c.get_workflow_handle(claim_workflow_id(report_no)).describe()
    except RPCError as err:
        raise not_found(err, "claim_not_found", f"no claim for report {report_no}") from None
    return t


# --- steps ----------------------------------------------------------------------------------------
def add_step_routes(router: APIRouter, temporal: Temporal) -> None:
    async def record_step(report_no: str, track: str, step: str, payload: Step, principal: Principal) -> TrackView:
        return await recorded_step(await temporal(), report_no, track, step, payload, principal)

    # One operation per step, each with its body's schema in /openapi.json (clients are generated
    # from it), registered before the generic route below, which takes the same paths.
    for name, model in STEP_MODELS.items():
        router.add_api_route(
            f"/claims/{{report_no}}/tracks/{{track}}/steps/{name}",
            step_endpoint(name, model, record_step, allowed_step(name)),
            methods=["POST"],
            tags=["steps"],
            name=f"step_{name}",
            operation_id=f"step_{name}",
            summary=step_summary(name, model),
            response_model=TrackView,
        )

    @router.post("/claims/{report_no}/tracks/{track}/steps/{step}", tags=["steps"], name="take_step", include_in_schema=False)
    async def take_any_step(
        report_no: str, track: str, step: str, request: Request, principal: Annotated[Principal, Depends(step_allowed)]
    ) -> TrackView:
        """Any step by name (the body is the step's JSON): what the operations above do, for a step
        name not known in advance. 404 `unknown_step` for a name that is no step."""
        payload = await step_payload(step, request, principal)
        return await record_step(report_no, track, step, payload, principal)


async def step_payload(step: str, request: Request, principal: Principal) -> Step:
    """The body of a step named at run time, validated by its model, recorded as done by the caller."""
    model = STEP_MODELS.get(step)
    if model is None:
        raise ApiError(404, "unknown_step", f"no step {step}; the steps are: {', '.join(sorted(STEP_MODELS))}")
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(422, "invalid_request", "the body is not JSON") from None
    if isinstance(body, dict):
        body = {**body, "by": recorder(principal, body.get("by"))}
    try:
        return model.model_validate(body)
    except ValidationError as err:
        raise ApiError(422, "invalid_request", describe(err.errors())) from None


async def recorded_step(c: Client, report_no: str, track: str, step: str, payload: Step, principal: Principal) -> TrackView:
    """Send one validated step to its track (a workflow update): the track's new view."""
    if payload.by != principal.subject:
        payload = payload.model_copy(update={"by": recorder(principal, payload.by)})
    t = await known_track(c, report_no, track)
    try:
        view = await record_step(c, report_no, t, step, payload)
    except TrackUnavailable as err:
        raise ApiError(409 if err.code == "track_closed" else 404, err.code, err.message) from None
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        code = "file_not_in_store" if isinstance(cause, ApplicationError) and cause.type == FILE_NOT_FOUND else "step_refused"
        log.info("api.step_refused", report_no=report_no, track=t.value, step=step, code=code)
        raise ApiError(409, code, refusal_message(cause)) from None
    log.info("api.step_recorded", report_no=report_no, track=t.value, step=step, by=principal.subject, stage=view.stage.value)
    return view if sees_personal_data(principal) else masked_track(view)
