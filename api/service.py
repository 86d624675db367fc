"""What the HTTP API and the CLI do on claims, over a Temporal client: report (refusing a
conflicting report of a known number, R-X-2), read the report a claim was started with, and list
claims from visibility by their search attributes (never by opening each workflow)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any

from pydantic import Field
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.models import Frozen, Report, Segment, Track
from worker.client import ClaimEnded, claim_state, forget_refused_report, report_for_decision
from workflows import search_attributes as sa
from workflows.messages import (
    CLAIM_WORKFLOW_TYPE,
    REPORT_CONTENT_CONFLICT,
    TRACK_WORKFLOW_TYPES,
    ChinaTime,
    ClaimInput,
    ReportAnswer,
    Stage,
    claim_workflow_id,
)

BRANCH_PATTERN = r"^[A-Za-z0-9_.-]{1,20}$"


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
        report_no=view.report_no, created=False, stage=view.stage, decision=view.decision,
        next_stages=first, refusal=view.refusal,
    )


async def report_with_decision(
    client: Client, report: Report, task_queue: str, wait_seconds: float
) -> tuple[ReportAnswer | None, WorkflowHandle]:
    """Report a claim and answer its decision in the same call (worker.client.report_for_decision).

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


# --- listing from visibility --------------------------------------------------------------------
class ClaimFilters(Frozen):
    stage: Stage | None = None
    track: Track | None = None
    segment: Segment | None = None
    branch: str | None = Field(default=None, pattern=BRANCH_PATTERN)
    overdue: bool | None = None
    payment_due_before: datetime | None = None
    report_no_prefix: str | None = Field(default=None, pattern=r"^[A-Z0-9][A-Z0-9-]{0,39}$")
    # what the operations view (api/operations.py) counts by, on tracks that index themselves
    track_workflows: bool = False  # search track workflows only (the `track`'s when given)
    running: bool | None = None
    payment_due_from: datetime | None = None
    deadline_missed_from: datetime | None = None
    paid_from: datetime | None = None
    paid_in_time: bool | None = None


class ClaimSummary(Frozen):
    """One claim as visibility knows it: its search attributes, no personal data. When the filters
    ask for a track's stage, Overdue or payment due date, a row may be one track of a claim
    (`track` set, `workflow_id` the track's): tracks keep those themselves."""

    report_no: str
    workflow_id: str
    track: str | None = None
    status: str
    started_at: ChinaTime
    closed_at: ChinaTime | None = None
    stage: str | None = None
    tracks: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    branch: str | None = None
    loss_band: str | None = None
    payment_due_at: ChinaTime | None = None
    overdue: bool | None = None


class ClaimPage(Frozen):
    claims: tuple[ClaimSummary, ...]
    next_page_token: str | None = None
    query: str


def _quote(value: str) -> str:
    # values are enum values or pattern-checked codes; quote defensively anyway
    return '"' + re.sub(r'["\\\\]', "", value) + '"'


def _literal(value: str | bool | datetime) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _quote(value.isoformat() if isinstance(value, datetime) else value)


def track_level(filters: ClaimFilters) -> bool:
    """Whether the filters ask for what tracks keep themselves: a track stage, Overdue, payment due."""
    stage = filters.stage is not None and filters.stage not in sa.CLAIM_STAGES
    return stage or filters.overdue is not None or filters.payment_due_before is not None


def visibility_query(filters: ClaimFilters) -> str:
    """The Temporal visibility query for the filters (the same one works in the UI's search box).

    Claim-level filters find claims. A track's stage, Overdue or payment due date is kept by the
    track (and, for claims started before tracks indexed themselves, by the claim): those filters
    search claims and tracks together, newer claims carry them on their tracks only.
    """
    if filters.track_workflows and filters.track is not None:
        parts = [f"WorkflowType = '{TRACK_WORKFLOW_TYPES[filters.track]}'"]
    elif track_level(filters) or filters.track_workflows:
        claim = () if filters.track_workflows else (CLAIM_WORKFLOW_TYPE,)
        types = ", ".join(f"'{t}'" for t in (*claim, *TRACK_WORKFLOW_TYPES.values()))
        parts = [f"WorkflowType IN ({types})"]
    else:
        parts = [f"WorkflowType = '{CLAIM_WORKFLOW_TYPE}'"]
    if filters.running is not None:
        parts.append(f"ExecutionStatus {'=' if filters.running else '!='} 'Running'")
    track = filters.track.value if filters.track is not None and not filters.track_workflows else None
    conditions: list[tuple[str, str, str | bool | datetime | None]] = [
        (sa.CLAIM_STAGE.name, "=", filters.stage.value if filters.stage is not None else None),
        (sa.CLAIM_TRACKS.name, "=", track),
        (sa.SEGMENT.name, "=", filters.segment.value if filters.segment is not None else None),
        (sa.BRANCH.name, "=", filters.branch),
        (sa.OVERDUE.name, "=", filters.overdue),
        (sa.PAYMENT_DUE_AT.name, ">=", filters.payment_due_from),
        (sa.PAYMENT_DUE_AT.name, "<", filters.payment_due_before),
        (sa.DEADLINE_MISSED_AT.name, ">=", filters.deadline_missed_from),
        (sa.PAID_AT.name, ">=", filters.paid_from),
        (sa.PAID_IN_TIME.name, "=", filters.paid_in_time),
        (sa.REPORT_NO.name, "STARTS_WITH", filters.report_no_prefix),
    ]
    parts += [f"{name} {op} {_literal(value)}" for name, op, value in conditions if value is not None]
    return " AND ".join(parts)


def encode_token(token: bytes | None) -> str | None:
    return base64.urlsafe_b64encode(token).decode("ascii") if token else None


def decode_token(token: str | None) -> bytes | None:
    if not token:
        return None
    try:
        raw = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if not raw:
        raise ValueError("the page token is not one this API gave out")
    return raw


def _summary(execution: Any) -> ClaimSummary:
    attrs = execution.typed_search_attributes
    status = execution.status
    is_track = execution.workflow_type != CLAIM_WORKFLOW_TYPE
    return ClaimSummary(
        report_no=attrs.get(sa.REPORT_NO) or execution.id.removeprefix("claim-"),
        workflow_id=execution.id,
        track=(attrs.get(sa.CLAIM_TRACKS) or [None])[0] if is_track else None,
        status=status.name.lower() if isinstance(status, WorkflowExecutionStatus) else "unknown",
        started_at=execution.start_time,
        closed_at=execution.close_time,
        stage=attrs.get(sa.CLAIM_STAGE),
        tracks=tuple(attrs.get(sa.CLAIM_TRACKS) or ()),
        segments=tuple(attrs.get(sa.SEGMENT) or ()),
        branch=attrs.get(sa.BRANCH),
        loss_band=attrs.get(sa.LOSS_BAND),
        payment_due_at=attrs.get(sa.PAYMENT_DUE_AT),
        overdue=attrs.get(sa.OVERDUE),
    )


async def list_claims(client: Client, filters: ClaimFilters, page_size: int = 50, page_token: str | None = None) -> ClaimPage:
    """One page of claims matching the filters, newest first, answered by visibility alone."""
    query = visibility_query(filters)
    pages = client.list_workflows(query, page_size=page_size, next_page_token=decode_token(page_token))
    await pages.fetch_next_page()
    return ClaimPage(
        claims=tuple(_summary(e) for e in pages.current_page or ()),
        next_page_token=encode_token(pages.next_page_token),
        query=query,
    )
