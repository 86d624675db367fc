"""Listing claims from visibility by their search attributes, never by opening each workflow: the
filters, the visibility query they make (the same one works in the Temporal UI's search box), the
rows and the page tokens."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field
from temporalio.client import Client, WorkflowExecutionStatus

from domain.models import BRANCH_PATTERN, REPORT_NO_PREFIX_PATTERN, Frozen, Segment, Track
from workflows import search_attributes as sa
from workflows.messages import CLAIM_WORKFLOW_TYPE, TRACK_WORKFLOW_TYPES, ChinaTime, Stage


class ClaimFilters(Frozen):
    stage: Stage | None = None
    track: Track | None = None
    segment: Segment | None = None
    branch: str | None = Field(default=None, pattern=BRANCH_PATTERN)
    overdue: bool | None = None
    payment_due_before: AwareDatetime | None = None
    report_no_prefix: str | None = Field(default=None, pattern=REPORT_NO_PREFIX_PATTERN)
    # what the operations view (api/operations.py) counts by, on tracks that index themselves
    track_workflows: bool = False  # search track workflows only (the `track`'s when given)
    running: bool | None = None
    payment_due_from: AwareDatetime | None = None
    deadline_missed_from: AwareDatetime | None = None
    paid_from: AwareDatetime | None = None
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
