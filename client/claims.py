"""The calls staff make on a claim, over a Temporal client: report it (and hear its decision in the
same call, refusing a conflicting report of a known number, R-X-2), read it, take a step, drive it."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.models import Report, Track
from workflows import search_attributes
from workflows.claim import ClaimWorkflow
from workflows.messages import (
    REPORT_CONTENT_CONFLICT,
    STEP_MODELS,
    ClaimInput,
    ClaimView,
    DecisionAsk,
    ReportAnswer,
    Stage,
    TrackView,
    claim_workflow_id,
    report_digest,
    track_workflow_id,
)

# R-X-2: a report number is one claim. A claim that ended (paid, declined, ordinary) is never
# started again; only one that failed may be: an unknown policy fails its claim, so the agent can
# report the number again with the right policy.
REUSE_POLICY = WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY


def _claim_start(report: Report) -> dict[str, Any]:
    return dict(
        id=claim_workflow_id(report.report_no),
        id_reuse_policy=REUSE_POLICY,
        static_summary=search_attributes.static_summary(report),
        static_details=search_attributes.static_details(report),
        search_attributes=search_attributes.at_report(report),
    )


async def report_claim(
    client: Client, report: Report, task_queue: str, request_id: str | None = None
) -> tuple[WorkflowHandle, bool]:
    """Start the claim for a report, or reach the one already started for its number (R-X-2).

    Returns the handle and whether this call started it. Starting takes no worker; the claim
    decides in its first workflow task (report_for_decision waits for that decision).
    """
    try:
        handle = await client.start_workflow(
            ClaimWorkflow.run,
            ClaimInput(report=report, request_id=request_id),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            **_claim_start(report),
        )
        return handle, True
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(claim_workflow_id(report.report_no), result_type=ClaimView), False


class ClaimEnded(Exception):
    """The report's number belongs to a claim that has ended: it has no decision to give now."""


async def report_for_decision(
    client: Client, report: Report, task_queue: str, wait_seconds: float
) -> tuple[ReportAnswer | None, WorkflowHandle]:
    """Report a claim and hear its decision in the same call (R-ID-2, R-EL-1): update-with-start
    on the claim (one workflow per report number, conflict policy USE_EXISTING), answered once
    the claim has decided its tracks in its first workflow task.

    A claim already running for the number answers the same decision (`created` False); one of
    other content refuses the update (WorkflowUpdateFailedError, cause REPORT_CONTENT_CONFLICT,
    nothing recorded). If no answer comes within `wait_seconds`, the claim is made sure to exist
    (a report is never lost, and never doubled: the number is the workflow ID) and the answer is
    None. A claim that has ended raises ClaimEnded.
    """
    request_id = uuid.uuid4().hex
    start = WithStartWorkflowOperation(
        ClaimWorkflow.run,
        ClaimInput(report=report, request_id=request_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        **_claim_start(report),
    )
    ask = DecisionAsk(request_id=request_id, report_digest=report_digest(report))
    try:
        answer = await asyncio.wait_for(
            client.execute_update_with_start_workflow(
                ClaimWorkflow.decision,  # type: ignore[call-overload]  # the typed overloads take no result_type; it names the model
                ask,
                start_workflow_operation=start,
                result_type=ReportAnswer,
            ),
            wait_seconds,
        )
    except WorkflowAlreadyStartedError:
        await _settle(start)
        raise ClaimEnded(report.report_no) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # The call may or may not have reached the server: start the claim unless it exists (as a
        # claim no report call waits on: its own decision update may never come).
        await _settle(start)
        handle, _ = await report_claim(client, report, task_queue)
        return None, handle
    except BaseException:
        await _settle(start)
        raise
    return answer, await start.workflow_handle()


async def _settle(start: WithStartWorkflowOperation) -> None:
    """Retrieve the start operation's outcome after a failed call, so no error is left unread."""
    try:
        await asyncio.wait_for(start.workflow_handle(), 0.01)
    except BaseException:
        pass


async def forget_refused_report(client: Client, handle: WorkflowHandle) -> None:
    """Remove a report the core system could not place from the server and visibility: it was
    never a claim, and its number may be reported again. Its run still waits (the claim's
    REFUSAL_GRACE): the server ends and deletes it."""
    try:
        await client.workflow_service.delete_workflow_execution(
            DeleteWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=handle.id, run_id=handle.result_run_id or ""),
            )
        )
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return
    # answer once it is gone, so a read right after the refusal finds no claim (bounded: the
    # deletion goes on in the server whatever happens here)
    loop = asyncio.get_running_loop()
    until = loop.time() + DELETION_WAIT_SECONDS
    while loop.time() < until:
        try:
            await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return
            raise
        await asyncio.sleep(0.05)


DELETION_WAIT_SECONDS = 3.0


class ReportConflict(Exception):
    """R-X-2: the number is known with a report of other content; it is refused, never merged."""

    def __init__(self, report_no: str, fields: list[str]) -> None:
        super().__init__(
            f"report {report_no} is already recorded with different content "
            f"({', '.join(fields) or 'unreadable'}); a report number is one claim and is not merged"
        )
        self.fields = fields


async def recorded_report(client: Client, report_no: str) -> Report:
    """The report the claim was started with, from the first event of its history (no worker needed)."""
    handle = client.get_workflow_handle(claim_workflow_id(report_no))
    async for event in handle.fetch_history_events(page_size=1):
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            break
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        [claim_input] = await client.data_converter.decode(payloads, [ClaimInput])
        return claim_input.report
    raise LookupError(f"claim {report_no} has no start event")


class ReportRefused(Exception):
    """The core system could not place the report (an unknown policy, or a number registered on
    another policy): no claim is kept for it, and the number may be reported again."""

    def __init__(self, refusal_code: str, message: str) -> None:
        super().__init__(message)
        self.refusal_code = refusal_code


def _differing_fields(recorded: Report, report: Report) -> list[str]:
    return [name for name in Report.model_fields if getattr(recorded, name) != getattr(report, name)]


async def _answer_of_existing(client: Client, report: Report) -> ReportAnswer | None:
    """The decision of a claim already recorded with this same report, read from the claim (None if
    no worker answers the query in time: the caller still has the claim's address)."""
    try:
        view = await claim_state(client, report.report_no)
    except (RPCError, WorkflowQueryFailedError):
        return None
    first = {t: v.stage for t, v in view.tracks.items()}
    return ReportAnswer(
        report_no=view.report_no,
        created=False,
        stage=view.stage,
        decision=view.decision,
        next_stages=first,
        refusal=view.refusal,
    )


async def report_with_decision(
    client: Client, report: Report, task_queue: str, wait_seconds: float
) -> tuple[ReportAnswer | None, WorkflowHandle]:
    """Report a claim and answer its decision in the same call (report_for_decision).

    The same report again answers the same decision (created False); a report of other content
    for a known number raises ReportConflict (the differing field names only); a report the core
    system cannot place raises ReportRefused, after its failed claim is removed. The answer is None
    when the decision was not ready within `wait_seconds` (the claim exists and goes on).
    """
    try:
        answer, handle = await report_for_decision(client, report, task_queue, wait_seconds)
    except (WorkflowUpdateFailedError, ClaimEnded) as err:
        cause = err.cause if isinstance(err, WorkflowUpdateFailedError) else None
        if isinstance(err, WorkflowUpdateFailedError) and not (
            isinstance(cause, ApplicationError) and cause.type == REPORT_CONTENT_CONFLICT
        ):
            raise
        # the running claim refused the report's digest, or the claim has ended: compare the
        # report it was started with (the same report written differently is the same report)
        handle = client.get_workflow_handle(claim_workflow_id(report.report_no))
        fields = _differing_fields(await recorded_report(client, report.report_no), report)
        if fields:
            raise ReportConflict(report.report_no, fields) from None
        answer = await _answer_of_existing(client, report)
    if answer is not None and answer.refusal_code is not None:
        await forget_refused_report(client, handle)
        raise ReportRefused(answer.refusal_code, answer.refusal or "the core system could not place this report")
    return answer, handle


# A query needs a worker; without one it would wait as long as the caller does.
QUERY_TIMEOUT = timedelta(seconds=10)


async def claim_state(client: Client, report_no: str) -> ClaimView:
    """The claim, with each open track's view read from the track itself.

    A claim learns its tracks' final views when they end; while they run, each track is the one
    place that knows its stage, documents and timeline (claims started before the tracks indexed
    themselves also heard of each stage change).
    """
    view = await client.get_workflow_handle(claim_workflow_id(report_no)).query(
        "state", result_type=ClaimView, rpc_timeout=QUERY_TIMEOUT
    )
    decided = [d.track for d in view.decision.applying()] if view.decision else []
    open_tracks = [t for t in decided if t not in view.tracks or view.tracks[t].stage not in search_attributes.ENDED]
    if not open_tracks:
        return view
    live = await asyncio.gather(*(track_state(client, report_no, t) for t in open_tracks), return_exceptions=True)
    fresh = {t: v for t, v in zip(open_tracks, live, strict=True) if isinstance(v, TrackView)}
    if not fresh:
        return view
    tracks = {**view.tracks, **fresh}
    return view.model_copy(update={"tracks": tracks, "overdue": any(v.overdue for v in tracks.values())})


async def track_state(client: Client, report_no: str, track: Track) -> TrackView:
    return await client.get_workflow_handle(track_workflow_id(report_no, track)).query(
        "state", result_type=TrackView, rpc_timeout=QUERY_TIMEOUT
    )


async def take_step(client: Client, report_no: str, track: Track, step: str, payload: BaseModel | dict[str, Any]) -> TrackView:
    """Record one human step on a track (a workflow update): the new track view, or the refusal.

    The payload is checked against the step's model first (pydantic.ValidationError, nothing sent);
    the workflow's validator then refuses a step that does not fit the claim now.
    """
    model = STEP_MODELS.get(step)
    if model is None:
        raise ValueError(f"unknown step {step!r}; the steps are: {', '.join(sorted(STEP_MODELS))}")
    if not isinstance(payload, model):
        payload = model.model_validate(payload.model_dump() if isinstance(payload, BaseModel) else payload)
    handle = client.get_workflow_handle(track_workflow_id(report_no, track))
    return await handle.execute_update(step, payload, result_type=TrackView)


class TrackUnavailable(Exception):
    """A step sent to a track that cannot take one, in the words the API and the CLI both use:
    `track_closed` (the track has ended), `track_not_found` (the claim does not run it: the message
    names the claim's decision when it has made one), `claim_not_found` (no claim for the number)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


async def track_unavailable(client: Client, err: RPCError, report_no: str, track: Track) -> TrackUnavailable | None:
    """What Temporal's refusal of a step (`take_step`'s RPCError) means to the caller, or None
    when it is another failure (Temporal unreachable, …): the track ended, or was never taken."""
    ended = TrackUnavailable("track_closed", f"track {track.value} of {report_no} has ended")
    if err.status == RPCStatusCode.FAILED_PRECONDITION:
        return ended
    if err.status != RPCStatusCode.NOT_FOUND:
        return None
    if "completed" in (err.message or "").lower():
        return ended
    try:
        answer = await track_not_taken(client, report_no, track)
    except RPCError as claim_err:
        if claim_err.status == RPCStatusCode.NOT_FOUND:
            return TrackUnavailable("claim_not_found", f"no claim for report {report_no}")
        answer = False  # the claim cannot say now: the plain answer
    except WorkflowQueryFailedError:
        answer = False
    if isinstance(answer, TrackNotTaken):
        return TrackUnavailable("track_not_found", str(answer))
    return TrackUnavailable("track_not_found", f"claim {report_no} runs no track {track.value}")


async def record_step(client: Client, report_no: str, track: Track, step: str, payload: BaseModel | dict[str, Any]) -> TrackView:
    """`take_step`, with a track that cannot take a step told as TrackUnavailable (what the API
    answers and the CLI prints); a step the workflow refuses stays WorkflowUpdateFailedError."""
    try:
        return await take_step(client, report_no, track, step, payload)
    except RPCError as err:
        unavailable = await track_unavailable(client, err, report_no, track)
        if unavailable is None:
            raise
        raise unavailable from None


def refusal_message(cause: BaseException | None) -> str:
    """A refused step's reason as the workflow gave it (the cause of `take_step`'s
    WorkflowUpdateFailedError): the message alone, no exception class."""
    if cause is None:
        return "the step was refused"
    message = cause.message if isinstance(cause, FailureError) else str(cause)
    return message or "the step was refused"


class TrackNotTaken(Exception):
    """The claim decided without this track: waiting for the track would never end."""

    def __init__(self, report_no: str, track: Track, view: ClaimView) -> None:
        self.report_no, self.track, self.view = report_no, track, view
        decided = next((d for d in view.decision.tracks if d.track == track), None) if view.decision else None
        why = decided.reason if decided else (view.refusal or "the claim made no decision")
        failed = "; ".join(f"{f.rule} {f.reason}" for f in view.decision.eligibility.failed) if view.decision else ""
        super().__init__(
            f"track {track.value} of {report_no} was not taken (claim stage {view.stage.value}): {why}"
            + (f" [not eligible: {failed}]" if failed else "")
        )


async def track_not_taken(client: Client, report_no: str, track: Track) -> TrackNotTaken | bool:
    """While a track's workflow is not there: TrackNotTaken if its claim has decided without it,
    True if the claim took it (its start is on the way), False if the claim is still deciding."""
    claim = client.get_workflow_handle(claim_workflow_id(report_no))
    stage = (await claim.describe(rpc_timeout=QUERY_TIMEOUT)).typed_search_attributes.get(search_attributes.CLAIM_STAGE)
    if stage in (None, Stage.DECIDING.value):
        return False
    view = await claim.query("state", result_type=ClaimView, rpc_timeout=QUERY_TIMEOUT)
    if view.decision is None and view.stage == Stage.DECIDING:
        return False
    if view.decision is not None and any(d.track == track for d in view.decision.applying()):
        return True
    return TrackNotTaken(report_no, track, view)


PACE = (0.1, 0.5)  # seconds: the first look again, and the longest pause between looks


async def wait_for_stage(
    client: Client,
    report_no: str,
    track: Track,
    stage: Stage,
    timeout: float = 30.0,
    polls: Counter[str] | None = None,
    pace: tuple[float, float] = PACE,
) -> TrackView:
    """Wait until a track reaches `stage` (a driver's helper: staff act when the claim is ready),
    looking again after `pace[0]` seconds, then less often, at most every `pace[1]`; `polls`
    counts the looks.

    A track that indexes itself shows its stage in its search attributes, which the server
    answers from the workflow's own record (describe) without waking the worker; the track is
    queried for its view only once that stage is there (older tracks are queried every time).

    While the track's workflow is not there, its claim is asked (describe, then one query once it
    has decided) whether it took the track: a track the claim did not take raises TrackNotTaken
    at once, with the claim's decision, instead of waiting out the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    handle = client.get_workflow_handle(track_workflow_id(report_no, track))
    seen: str | None = None
    taken = False  # the claim has been seen to take the track
    pause, longest = pace
    while True:
        try:
            if polls is not None:
                polls["polls"] += 1
            indexed = (await handle.describe(rpc_timeout=QUERY_TIMEOUT)).typed_search_attributes.get(
                search_attributes.CLAIM_STAGE
            )
            seen = indexed
            if indexed is None or indexed == stage.value:
                view = await track_state(client, report_no, track)
                seen = view.stage.value
                if view.stage == stage:
                    return view
        except RPCError as err:  # not started yet, or too busy to answer in time: look again
            if err.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
                raise
            if err.status == RPCStatusCode.NOT_FOUND and not taken:
                try:
                    answer = await track_not_taken(client, report_no, track)
                except RPCError as claim_err:  # the claim itself not started yet, or busy
                    if claim_err.status not in (
                        RPCStatusCode.NOT_FOUND,
                        RPCStatusCode.CANCELLED,
                        RPCStatusCode.DEADLINE_EXCEEDED,
                    ):
                        raise
                    answer = False
                if isinstance(answer, TrackNotTaken):
                    raise answer from None
                taken = answer
        if loop.time() > deadline:
            raise TimeoutError(
                f"track {track.value} of {report_no} did not reach {stage.value}; it is at {seen or 'not started'}"
            )
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, longest)


async def drive(
    client: Client,
    report_no: str,
    track: Track,
    steps: list[tuple[Stage, str, Any]],
    *,
    timeout: float = 30.0,
    polls: Counter[str] | None = None,
    pace: tuple[float, float] = PACE,
) -> TrackView:
    """Take each step as soon as the track is ready for it; returns the last view.

    A step's answer shows where the track went next (on tracks that index themselves), so the
    track is asked again only when it is busy elsewhere (not started yet, paying)."""
    view: TrackView | None = None
    for stage, step, payload in steps:
        if view is None or view.stage != stage:
            await wait_for_stage(client, report_no, track, stage, timeout, polls, pace)
        view = await take_step(client, report_no, track, step, payload)
    assert view is not None
    return view
