"""GET /calendar/due: what a payment deadline would be, from the working-day calendar the claims use
(SPEC §6, R-A-6, R-B-5, R-X-4), so a branch can check its calendar before a holiday.

Read-only and answered here: the rules (with today's calendar overrides file) come from the same
settings the worker hands new claims, so the answer is the deadline a claim completed at that
moment would get. Times are China time (+08:00), as in every claim view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from domain.calendar import WorkingCalendar, payment_deadline
from domain.models import Frozen, Track
from domain.rules import CHINA_TZ, RuleSettings


class SkippedDayView(Frozen):
    day: date
    reason: str  # e.g. "New Year's Day (statutory holiday; …)", "Saturday", "holiday in the calendar overrides"


class DueAnswer(Frozen):
    track: Track
    rule: str  # R-A-6 (one working day), R-B-5 (same day), R-X-4 (statutory, tracks C and D)
    complete_at: datetime  # documents complete, China time
    agreed_at: datetime  # indemnity agreed, China time
    due_at: datetime  # China time
    skipped: tuple[SkippedDayView, ...] = ()  # the days between that were not counted, and why
    years_without_official_data: tuple[int, ...] = ()  # the fallback was used for these years


def calendar_router(rules: Callable[[], RuleSettings], dependencies: Sequence[Any] = ()) -> APIRouter:
    """The calendar routes; `rules` gives the rules in force (read at every call: the overrides file
    takes effect without a restart), `dependencies` the permission check (any staff role)."""
    router = APIRouter(tags=["calendar"], dependencies=list(dependencies))

    @router.get("/calendar/due")
    async def calendar_due(
        track: Track,
        complete_at: Annotated[AwareDatetime, Query(description="when the documents were complete, with its offset")],
        agreed_at: Annotated[
            AwareDatetime | None, Query(description="when the indemnity was agreed (default: complete_at)")
        ] = None,
    ) -> DueAnswer:
        """The payment deadline of a claim on `track` whose documents were complete at `complete_at`
        (and whose indemnity was agreed at `agreed_at`), with the days it skipped and why."""
        current = rules()
        calendar = WorkingCalendar(current.calendar)
        agreed = agreed_at or complete_at
        deadline = payment_deadline(track, complete_at, agreed, calendar, current.deadlines)
        start = max(complete_at, agreed).astimezone(CHINA_TZ).date()
        end = deadline.due_at.astimezone(CHINA_TZ).date()
        skipped = calendar.skipped(start, end)
        years = sorted({y for y in range(start.year, end.year + 1) if not calendar.has_data_for(y)})
        return DueAnswer(
            track=track,
            rule=deadline.rule,
            complete_at=complete_at.astimezone(CHINA_TZ),
            agreed_at=agreed.astimezone(CHINA_TZ),
            due_at=deadline.due_at.astimezone(CHINA_TZ),
            skipped=tuple(SkippedDayView(day=s.day, reason=s.reason) for s in skipped),
            years_without_official_data=tuple(years),
        )

    return router
