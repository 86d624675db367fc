"""The HTTP front for claims staff and outside systems (FastAPI; OpenAPI docs at /docs).

It validates, then talks to Temporal through the client: it starts claims, answers human steps
through the track workflows' updates, reads claims by query, lists them from visibility, and puts
photos and documents in the file store. It looks nothing up itself.

Every error is {"code": "<stable code>", "message": "<for people>"}; no stack trace leaves the
process, and logs carry report numbers and codes only, never the report's personal data.

Every route but /health, /ready and the docs needs a staff token (api/guard.py: 401, 429, 413
before any body is read); each route then allows only its roles (security/permissions.py: 403),
a step is recorded as done by the token's subject, and the claim and track views mask personal
data for the roles that do not need it (api/views.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, File, Query, Request, Security, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from activities.store import FileStore, StoredFile, StoreRefused
from api.calendar import calendar_router
from api.docs import add_offline_docs
from api.guard import Guard, Limits
from api.operations import operations_router
from api.steps import step_endpoint, step_summary
from api.views import masked_claim, masked_track
from client.claims import ReportConflict, ReportRefused, claim_state, report_with_decision, track_state
from client.listing import ClaimFilters, ClaimPage, list_claims
from config.settings import TASK_QUEUE
from domain.contracts import FILE_NOT_FOUND, POLICY_NOT_FOUND, REPORT_CONFLICT
from domain.models import (
    BRANCH_PATTERN,
    CODE_RULE,
    REPORT_NO_PREFIX_PATTERN,
    Frozen,
    Report,
    ReportSubmission,
    Segment,
    Track,
    is_code,
)
from domain.rules import RuleSettings
from security.auth import Authenticator, Principal
from security.permissions import Action, role_list, roles_for, roles_for_step, sees_personal_data
from workflows.messages import (
    STEP_MODELS,
    ClaimView,
    ReportAnswer,
    Stage,
    Step,
    TrackView,
    claim_workflow_id,
    track_workflow_id,
)

log = structlog.get_logger("premium_claims.api")

UPLOAD_CHUNK = 64 * 1024
READY_TIMEOUT_SECONDS = 3.0

# What each action is called in a 403's message: "<roles> may <this>".
ACTION_WORDS = {Action.READ: "read claims", Action.REPORT: "report a claim", Action.UPLOAD: "upload files"}
ACTION_WORDS[Action.OPERATIONS] = "read the operations view"  # api/operations.py

bearer = HTTPBearer(
    auto_error=False,  # the guard has answered 401 already; this documents the scheme in OpenAPI
    scheme_name="staff_token",
    description="A staff token: `claims token --subject S001 --role assessor` locally, or the identity provider's JWT.",
)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class ErrorBody(Frozen):
    code: str
    message: str


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


class Health(Frozen):
    status: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 413, 415, 422, 429, 503)
}


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


def create_app(
    client: Client | None = None,
    *,
    task_queue: str = TASK_QUEUE,
    store: FileStore,
    authenticator: Authenticator,
    limits: Limits | None = None,
    connect: Callable[[], Awaitable[Client]] | None = None,
    answer_seconds: float = 5.0,
    rules: Callable[[], RuleSettings] = RuleSettings,
    temporal_ui_url: str = "http://localhost:8233",
) -> FastAPI:
    """The app over an injected Temporal client (tests) or one made by `connect` on first use;
    callers are checked by `authenticator` (settings: local tokens or the identity provider).
    A report waits up to `answer_seconds` for its claim's decision (settings.report_answer_seconds);
    `rules` gives the rules in force, for the calendar (default: the built-in ones)."""
    holder: dict[str, Client] = {"client": client} if client is not None else {}
    lock = asyncio.Lock()

    async def temporal() -> Client:
        if "client" in holder:
            return holder["client"]
        if connect is None:
            raise ApiError(503, "temporal_unavailable", "no Temporal client is configured")
        async with lock:
            if "client" not in holder:
                try:
                    holder["client"] = await connect()
                except Exception as err:
                    log.warning("api.temporal_unreachable", error=type(err).__name__)
                    raise ApiError(503, "temporal_unavailable", "Temporal does not answer; try again shortly") from None
        return holder["client"]

    app = FastAPI(
        title="premium-claims",
        summary="Premium-customer motor claims: report, take human steps, upload documents, read and list claims.",
        version="1",
        responses=ERRORS,
        docs_url=None,  # /docs and /redoc on local assets (api/docs.py): nothing from a CDN
        redoc_url=None,
    )
    add_offline_docs(app)

    # --- errors: one JSON shape, stable codes, nothing internal ---------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, err: ApiError) -> JSONResponse:
        return JSONResponse({"code": err.code, "message": err.message}, status_code=err.status, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse({"code": "invalid_request", "message": describe(err.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = err.detail if isinstance(err.detail, str) else "request refused"
        return JSONResponse({"code": codes.get(err.status_code, "http_error"), "message": message}, status_code=err.status_code)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, err: RPCError) -> JSONResponse:
        log.warning("api.temporal_error", path=request.url.path, status=err.status.name if err.status else None)
        if "search attribute" in (err.message or "").lower():
            message = "the claim's search attributes are not registered on this namespace: run `claims search-attributes --apply`"
            return JSONResponse({"code": "search_attributes_missing", "message": message}, status_code=503)
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return JSONResponse({"code": "temporal_unavailable", "message": "Temporal does not answer"}, status_code=503)
        return JSONResponse({"code": "temporal_error", "message": "Temporal refused the call"}, status_code=502)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        # the type only: a message or traceback could carry a report's personal data
        log.error("api.unexpected_error", path=request.url.path, error=type(err).__name__)
        return JSONResponse({"code": "internal_error", "message": "the request failed; it has been logged"}, status_code=500)

    # --- health ---------------------------------------------------------------------------------
    @app.get("/health", tags=["operations"])
    async def health() -> Health:
        """The process is up."""
        return Health(status="ok")

    @app.get("/ready", tags=["operations"], responses={503: {"model": ErrorBody}})
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

    # --- claims ---------------------------------------------------------------------------------
    @app.post(
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
        c = await temporal()
        try:
            answer, handle = await report_with_decision(c, report, task_queue, answer_seconds)
        except ReportConflict as err:
            log.info("api.report_conflict", report_no=report.report_no, fields=err.fields)
            raise ApiError(409, "report_conflict", str(err)) from None
        except ReportRefused as err:
            status, code = REPORT_REFUSALS.get(err.refusal_code, (422, "report_refused"))
            log.info("api.report_refused", report_no=report.report_no, code=code)
            raise ApiError(status, code, str(err)) from None
        claim_url = str(request.url_for("read_claim", report_no=report.report_no))
        headers = {"Location": claim_url}
        if answer is None:
            log.info("api.claim_reported", report_no=report.report_no, decided=False)
            receipt = ClaimReceipt(report_no=report.report_no, workflow_id=handle.id, created=True, claim_url=claim_url)
            return JSONResponse(jsonable_encoder(receipt), status_code=202, headers=headers)  # type: ignore[return-value]
        log.info("api.claim_reported", report_no=report.report_no, created=answer.created, stage=answer.stage.value)
        body = ReportDecision(workflow_id=handle.id, claim_url=claim_url, **answer.model_dump())
        return JSONResponse(  # type: ignore[return-value]
            jsonable_encoder(body), status_code=201 if answer.created else 200, headers=headers
        )

    @app.get("/claims", tags=["claims"], dependencies=[Depends(allowed(Action.READ))])
    async def list_(
        stage: Stage | None = None,
        track: Track | None = None,
        segment: Segment | None = None,
        branch: Annotated[str | None, Query(pattern=BRANCH_PATTERN)] = None,
        overdue: bool | None = None,
        payment_due_before: datetime | None = None,
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
        c = await temporal()
        try:
            return await list_claims(c, filters, page_size, page_token)
        except ValueError as err:
            raise ApiError(422, "invalid_page_token", str(err)) from None
        except RPCError as err:
            # The server decodes the token itself; a forged or stale one fails with whatever status
            # its parser gives. Only an unreachable Temporal is our fault then, not the caller's.
            unreachable = err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
            if page_token and not unreachable:
                raise ApiError(422, "invalid_page_token", "the page token is not valid for this query") from None
            raise

    @app.get("/claims/{report_no}", tags=["claims"], name="read_claim")
    async def read_claim(report_no: str, principal: Annotated[Principal, Depends(allowed(Action.READ))]) -> ClaimView:
        """The claim: stage, tracks taken and not with the reason, failed eligibility conditions,
        waits with deadlines, missing documents, payments, timeline. Personal data in it is masked
        for roles that neither phone nor pay the customer."""
        c = await temporal()
        try:
            view = await claim_state(c, report_no)
        except RPCError as err:
            raise not_found(err, "claim_not_found", f"no claim for report {report_no}") from None
        return view if sees_personal_data(principal) else masked_claim(view)

    @app.get("/claims/{report_no}/tracks/{track}", tags=["claims"])
    async def read_track(report_no: str, track: str, principal: Annotated[Principal, Depends(allowed(Action.READ))]) -> TrackView:
        c = await temporal()
        t = await known_track(c, report_no, track)
        try:
            view = await track_state(c, report_no, t)
        except RPCError as err:
            raise not_found(err, "track_not_found", f"claim {report_no} runs no track {t.value}") from None
        return view if sees_personal_data(principal) else masked_track(view)

    async def record_step(report_no: str, track: str, step: str, payload: Step, principal: Principal) -> TrackView:
        """Send one validated step to its track (a workflow update): the track's new view."""
        if payload.by != principal.subject:
            payload = payload.model_copy(update={"by": recorder(principal, payload.by)})
        c = await temporal()
        t = await known_track(c, report_no, track)
        handle = c.get_workflow_handle(track_workflow_id(report_no, t))
        try:
            view = await handle.execute_update(step, payload, result_type=TrackView)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            code = "step_refused"
            if isinstance(cause, ApplicationError) and cause.type == FILE_NOT_FOUND:
                code = "file_not_in_store"
            log.info("api.step_refused", report_no=report_no, track=t.value, step=step, code=code)
            raise ApiError(409, code, refusal_message(cause)) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                if "completed" in err.message.lower():
                    raise ApiError(409, "track_closed", f"track {t.value} of {report_no} has ended") from None
                raise ApiError(404, "track_not_found", f"claim {report_no} runs no track {t.value}") from None
            if err.status == RPCStatusCode.FAILED_PRECONDITION:
                raise ApiError(409, "track_closed", f"track {t.value} of {report_no} has ended") from None
            raise
        log.info("api.step_recorded", report_no=report_no, track=t.value, step=step, by=principal.subject, stage=view.stage.value)
        return view if sees_personal_data(principal) else masked_track(view)

    # One operation per step, each with its body's schema in /openapi.json (clients are generated
    # from it), registered before the generic route below, which takes the same paths.
    for name, model in STEP_MODELS.items():
        app.add_api_route(
            f"/claims/{{report_no}}/tracks/{{track}}/steps/{name}",
            step_endpoint(name, model, record_step, allowed_step(name)),
            methods=["POST"],
            tags=["steps"],
            name=f"step_{name}",
            operation_id=f"step_{name}",
            summary=step_summary(name, model),
            response_model=TrackView,
        )

    @app.post("/claims/{report_no}/tracks/{track}/steps/{step}", tags=["steps"], include_in_schema=False)
    async def take_step(
        report_no: str, track: str, step: str, request: Request, principal: Annotated[Principal, Depends(step_allowed)]
    ) -> TrackView:
        """Any step by name (the body is the step's JSON): what the operations above do, for a step
        name not known in advance. 404 `unknown_step` for a name that is no step."""
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
            payload = model.model_validate(body)
        except ValidationError as err:
            raise ApiError(422, "invalid_request", describe(err.errors())) from None
        return await record_step(report_no, track, step, payload, principal)

    async def known_track(c: Client, report_no: str, track: str) -> Track:
        try:
            t = Track(track)
        except ValueError:
            raise ApiError(404, "track_not_found", f"no track {track}; the tracks are A, B, C, D") from None
        try:
            await c.get_workflow_handle(claim_workflow_id(report_no)).describe()
        except RPCError as err:
            raise not_found(err, "claim_not_found", f"no claim for report {report_no}") from None
        return t

    # --- files ----------------------------------------------------------------------------------
    @app.post("/files", status_code=201, tags=["files"], dependencies=[Depends(allowed(Action.UPLOAD))])
    async def upload(request: Request, file: Annotated[UploadFile, File(description="JPEG, PNG or PDF")]) -> StoredFile:
        """Put a photo or document in the store (by sha256: the same bytes are kept once). Refer
        to it by the returned sha256 in upload_photos and receive_document."""
        declared = file.content_type or "application/octet-stream"

        def chunks():  # type: ignore[no-untyped-def]
            while chunk := file.file.read(UPLOAD_CHUNK):
                yield chunk

        try:
            stored = await run_in_threadpool(store.put_stream, chunks(), declared)
        except StoreRefused as err:
            status, code = {
                "too_large": (413, "file_too_large"),
                "type_not_allowed": (415, "unsupported_file_type"),
                "type_mismatch": (415, "file_type_mismatch"),
                "empty": (422, "empty_file"),
            }.get(err.reason, (422, "file_refused"))
            raise ApiError(status, code, str(err)) from None
        log.info("api.file_stored", sha256=stored.sha256, size=stored.size)
        return stored

    app.include_router(calendar_router(rules, [Depends(allowed(Action.READ))]))
    app.include_router(operations_router(temporal, authenticator, temporal_ui_url))  # api/operations.py

    # before any body is read: 401 unknown caller, 429 too many requests, 413 too large a body
    app.add_middleware(Guard, authenticator=authenticator, limits=limits or Limits(), upload_max_bytes=store.max_bytes)
    return app


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


def not_found(err: RPCError, code: str, message: str) -> Exception:
    if err.status == RPCStatusCode.NOT_FOUND:
        return ApiError(404, code, message)
    return err


def describe(errors: Any) -> str:
    """pydantic's errors as one sentence, by field; never the submitted values (personal data)."""
    parts = []
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {plain(str(e.get('msg', 'invalid')))}")
    return "; ".join(parts) or "invalid request"


# What pydantic puts before a validator's own message: people read the message alone.
PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def plain(message: str) -> str:
    for prefix in PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def refusal_message(cause: BaseException | None) -> str:
    """A refused step's reason as the workflow gave it: the message alone, no exception class."""
    if cause is None:
        return "the step was refused"
    message = cause.message if isinstance(cause, FailureError) else str(cause)
    return message or "the step was refused"
