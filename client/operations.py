"""The operations read model: how many tracks stand at each stage, which are overdue and since
when, which payments fall due today, how many deadlines were missed and how many payments were in
time in the last day. Every number is a `count_workflows` over the search attributes the tracks
keep (workflows/search_attributes.py), built by the same query builder as the claim list
(client/listing.visibility_query); no workflow is opened. Each number carries its query and the
Temporal UI's address of that list, so a person goes from the number to the claims behind it.

The fronts show it: the API as JSON and as a page (api/operations.py), the CLI as a table
(`claims ops`, cli/ops.py).

Counted are the tracks that index themselves (claims started since the tracks-index-themselves
patch); a track's breach and payment times since the operations-index patch. Codes, stages and
report numbers only: no personal data is in a search attribute, so none is in the summary.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from temporalio.client import Client

from client.listing import ClaimFilters, visibility_query
from client.visibility import VisibilityBudget
from domain.models import Frozen, Track
from domain.rules import CHINA_TZ
from workflows import search_attributes as sa
from workflows.messages import ChinaTime, Stage

PERIOD = timedelta(days=1)  # breaches and payments: the last day unless asked otherwise
LIST_LIMIT = 100  # rows of the overdue and due lists (the counts are exact)
PARALLEL_COUNTS = 16
# The stages an open track can stand at, in the order tracks pass them.
OPEN_STAGES: tuple[Stage, ...] = tuple(s for s in Stage if s not in sa.ENDED and s is not Stage.IN_SERVICE)


class Count(Frozen):
    count: int
    query: str  # the visibility query counted; the same works in the UI's search box
    ui_url: str  # the Temporal UI's workflow list with that query


class StageCount(Frozen):
    track: Track
    stage: Stage
    open: Count
    overdue: Count


class TrackCounts(Frozen):
    track: Track
    open: Count
    overdue: Count
    deadlines_missed: Count  # tracks whose latest missed deadline falls in the period
    paid_in_time: Count  # paid in the period, by the payment's deadline (R-A-6, R-B-5, R-X-4)
    paid_late: Count
    in_time_share: float | None  # paid_in_time / all paid in the period; None when none was paid


class TrackRow(Frozen):
    report_no: str
    track: str
    stage: str | None
    at: ChinaTime | None  # the overdue list: since when; the due list: when due
    workflow_id: str
    ui_url: str


class OperationsSummary(Frozen):
    # in China time, as the claim views (workflows.messages.ChinaTime): one time zone for people
    at: ChinaTime
    since: ChinaTime  # start of the period of deadlines missed and payments
    due_before: ChinaTime  # payments due before this (default: the end of today, China time)
    report_no_prefix: str | None = None
    branch: str | None = None
    tracks: tuple[TrackCounts, ...]
    stages: tuple[StageCount, ...]  # the track × stage cells with open tracks
    payments_due: Count  # open tracks whose payment is due before `due_before`, late ones included
    payments_late: Count  # … whose payment is past due now
    overdue: tuple[TrackRow, ...]  # oldest first (at most LIST_LIMIT)
    due: tuple[TrackRow, ...]  # soonest first (at most LIST_LIMIT)


@dataclass(frozen=True)
class TemporalUi:
    """Addresses in the Temporal Web UI as staff's browsers reach it."""

    base_url: str
    namespace: str = "default"

    def list_url(self, query: str) -> str:
        ns = urllib.parse.quote(self.namespace, safe="")
        return f"{self.base_url.rstrip('/')}/namespaces/{ns}/workflows?query={urllib.parse.quote(query, safe='')}"

    def workflow_url(self, workflow_id: str) -> str:
        ns = urllib.parse.quote(self.namespace, safe="")
        return f"{self.base_url.rstrip('/')}/namespaces/{ns}/workflows/{urllib.parse.quote(workflow_id, safe='')}"


def end_of_today(now: datetime) -> datetime:
    """Midnight after `now` in mainland China, where the program's days are."""
    today = now.astimezone(CHINA_TZ).date()
    return datetime.combine(today + timedelta(days=1), time(0), CHINA_TZ).astimezone(UTC)


async def operations_summary(
    client: Client,
    ui: TemporalUi,
    *,
    now: datetime | None = None,
    since: datetime | None = None,
    due_before: datetime | None = None,
    report_no_prefix: str | None = None,
    branch: str | None = None,
    budget: VisibilityBudget | None = None,
) -> OperationsSummary:
    """The operations counts, from visibility only: one count query per number (the server groups
    counts by ExecutionStatus only), run a few at a time, each call taken from `budget` when there
    is one (a real cluster admits 10 visibility calls per second per namespace: client/visibility.py)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    since = (since or now - PERIOD).astimezone(UTC)
    due_before = (due_before or end_of_today(now)).astimezone(UTC)
    base = ClaimFilters(track_workflows=True, report_no_prefix=report_no_prefix, branch=branch)
    gate = asyncio.Semaphore(PARALLEL_COUNTS)

    async def count(**update: Any) -> Count:
        query = visibility_query(base.model_copy(update=update))
        async with gate:
            if budget is not None:
                await budget.take()
            result = await client.count_workflows(query)
        return Count(count=result.count, query=query, ui_url=ui.list_url(query))

    async def per_track(track: Track) -> TrackCounts:
        open_, overdue, missed, in_time, late = await asyncio.gather(
            count(track=track, running=True),
            count(track=track, running=True, overdue=True),
            count(track=track, deadline_missed_from=since),
            count(track=track, paid_from=since, paid_in_time=True),
            count(track=track, paid_from=since, paid_in_time=False),
        )
        paid = in_time.count + late.count
        share = round(in_time.count / paid, 3) if paid else None
        return TrackCounts(
            track=track,
            open=open_,
            overdue=overdue,
            deadlines_missed=missed,
            paid_in_time=in_time,
            paid_late=late,
            in_time_share=share,
        )

    async def cell(track: Track, stage: Stage) -> StageCount | None:
        open_ = await count(track=track, stage=stage, running=True)
        if not open_.count:
            return None
        overdue = await count(track=track, stage=stage, running=True, overdue=True)
        return StageCount(track=track, stage=stage, open=open_, overdue=overdue)

    tracks, cells, due, late, overdue_rows, due_rows = await asyncio.gather(
        asyncio.gather(*(per_track(t) for t in Track)),
        asyncio.gather(*(cell(t, s) for t in Track for s in OPEN_STAGES)),
        count(running=True, payment_due_before=due_before),
        count(running=True, payment_due_before=now),
        rows(
            client,
            ui,
            visibility_query(base.model_copy(update={"running": True, "overdue": True})),
            sa.DEADLINE_MISSED_AT,
            budget,
        ),
        rows(
            client,
            ui,
            visibility_query(base.model_copy(update={"running": True, "payment_due_before": due_before})),
            sa.PAYMENT_DUE_AT,
            budget,
        ),
    )
    return OperationsSummary(
        at=now,
        since=since,
        due_before=due_before,
        report_no_prefix=report_no_prefix,
        branch=branch,
        tracks=tuple(tracks),
        stages=tuple(c for c in cells if c is not None),
        payments_due=due,
        payments_late=late,
        overdue=overdue_rows,
        due=due_rows,
    )


async def rows(
    client: Client, ui: TemporalUi, query: str, at: Any, budget: VisibilityBudget | None = None
) -> tuple[TrackRow, ...]:
    """Up to LIST_LIMIT tracks of `query`, earliest `at` (a datetime attribute) first: one list call."""
    if budget is not None:
        await budget.take()
    found = []
    async for execution in client.list_workflows(query, limit=LIST_LIMIT):
        attrs = execution.typed_search_attributes
        found.append(
            TrackRow(
                report_no=attrs.get(sa.REPORT_NO) or "",
                track=(attrs.get(sa.CLAIM_TRACKS) or ["?"])[0],
                stage=attrs.get(sa.CLAIM_STAGE),
                at=attrs.get(at),
                workflow_id=execution.id,
                ui_url=ui.workflow_url(execution.id),
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    return tuple(sorted(found, key=lambda r: (r.at or far, r.report_no)))
