"""The operations view: how many tracks stand at each stage, which are overdue and since when, which
payments fall due today, how many deadlines were missed and how many payments were in time in the
last day. Every number is a `count_workflows` over the search attributes the tracks keep
(workflows/search_attributes.py), built by the same query builder as the claim list
(client/listing.visibility_query); no workflow is opened. Each number carries its query and the
Temporal UI's address of that list, so a person goes from the number to the claims behind it.

`GET /operations/summary` answers as JSON (roles operations and supervisor), `GET /operations` as
one server-rendered HTML page that reloads itself every 30 s. A browser carries no bearer token:
staff sign in once at /operations/sign-in (api/sign_in.py, the codec server's sign-in), which
keeps the token in an HttpOnly, SameSite=Lax cookie that the API's guard takes on GET /operations.

Counted are the tracks that index themselves (claims started since the tracks-index-themselves
patch); a track's breach and payment times since the operations-index patch. Codes, stages and
report numbers only: no personal data is in a search attribute, so none is on the page.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name the
# dependencies imported inside operations_router.
import asyncio
import html
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from temporalio.client import Client

from api.access import allowed
from api.errors import ApiError
from api.guard import BROWSER_COOKIE, SIGN_IN_PATH, SIGN_OUT_PATH
from api.sign_in import PAGE_HEADERS, SignIn, sign_in_router
from client.listing import ClaimFilters, visibility_query
from domain.models import BRANCH_PATTERN, REPORT_NO_PREFIX_PATTERN, Frozen, Track
from domain.rules import CHINA_TZ
from security.auth import Authenticator
from security.permissions import Action, roles_for
from workflows import search_attributes as sa
from workflows.messages import Stage

PAGE_PATH = "/operations"
REFRESH_SECONDS = 30
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
    at: datetime | None  # the overdue list: since when; the due list: when due
    workflow_id: str
    ui_url: str


class OperationsSummary(Frozen):
    at: datetime
    since: datetime  # start of the period of deadlines missed and payments
    due_before: datetime  # payments due before this (default: the end of today, China time)
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
) -> OperationsSummary:
    """The operations counts, from visibility only: one count query per number (the server groups
    counts by ExecutionStatus only), run a few at a time."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    since = (since or now - PERIOD).astimezone(UTC)
    due_before = (due_before or end_of_today(now)).astimezone(UTC)
    base = ClaimFilters(track_workflows=True, report_no_prefix=report_no_prefix, branch=branch)
    gate = asyncio.Semaphore(PARALLEL_COUNTS)

    async def count(**update: Any) -> Count:
        query = visibility_query(base.model_copy(update=update))
        async with gate:
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
        rows(client, ui, visibility_query(base.model_copy(update={"running": True, "overdue": True})), sa.DEADLINE_MISSED_AT),
        rows(
            client,
            ui,
            visibility_query(base.model_copy(update={"running": True, "payment_due_before": due_before})),
            sa.PAYMENT_DUE_AT,
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


async def rows(client: Client, ui: TemporalUi, query: str, at: Any) -> tuple[TrackRow, ...]:
    """Up to LIST_LIMIT tracks of `query`, earliest `at` (a datetime attribute) first."""
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


# --- the table (`claims ops`) -------------------------------------------------------------------
def summary_table(summary: OperationsSummary) -> str:
    """The summary as a terminal reads it: tracks, stages, due payments, overdue tracks."""
    lines = [
        f"operations at {summary.at:%Y-%m-%d %H:%M} UTC; period since {summary.since:%Y-%m-%d %H:%M} UTC;"
        f" payments due before {summary.due_before:%Y-%m-%d %H:%M} UTC",
        "",
        f"{'track':<6}{'open':>6}{'overdue':>9}{'missed':>8}{'paid ok':>9}{'late':>6}{'in time':>9}",
    ]
    for t in summary.tracks:
        share = f"{t.in_time_share:.0%}" if t.in_time_share is not None else "-"
        lines.append(
            f"{t.track.value:<6}{t.open.count:>6}{t.overdue.count:>9}{t.deadlines_missed.count:>8}"
            f"{t.paid_in_time.count:>9}{t.paid_late.count:>6}{share:>9}"
        )
    lines += ["", f"{'track':<6}{'stage':<28}{'open':>6}{'overdue':>9}"]
    lines += [f"{c.track.value:<6}{c.stage.value:<28}{c.open.count:>6}{c.overdue.count:>9}" for c in summary.stages]
    lines += ["", f"payments due: {summary.payments_due.count} (late: {summary.payments_late.count})"]
    lines += [f"  {r.report_no:<24}{r.track:<3}{r.at:%Y-%m-%d %H:%M} UTC" for r in summary.due if r.at]
    lines += [f"overdue tracks, oldest first: {len(summary.overdue)}"]
    lines += [
        f"  {r.report_no:<24}{r.track:<3}{r.stage or '-':<28}since {r.at:%Y-%m-%d %H:%M} UTC"
        if r.at
        else f"  {r.report_no:<24}{r.track:<3}{r.stage or '-'}"
        for r in summary.overdue
    ]
    return "\n".join(lines)


# --- the page -----------------------------------------------------------------------------------
def _link(count: Count, name: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls and count.count else ""
    return f'<a href="{html.escape(count.ui_url)}" data-count="{html.escape(name)}"{attr}>{count.count}</a>'


def _ago(now: datetime, at: datetime | None) -> str:
    if at is None:
        return "-"
    minutes = int((now - at).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{max(minutes, 0)} min"


def render_page(summary: OperationsSummary) -> str:
    """One page, no scripts: it reloads itself every REFRESH_SECONDS."""
    esc = html.escape
    by_cell = {(c.track, c.stage): c for c in summary.stages}
    stages = [s for s in OPEN_STAGES if any((t, s) in by_cell for t in Track)]
    head = "".join(f"<th>{t.value} {esc(t.title)}</th>" for t in Track)

    def stage_cell(track: Track, stage: Stage) -> str:
        c = by_cell.get((track, stage))
        if c is None:
            return "<td class=zero>0</td>"
        late = (
            f" <span class=late>({_link(c.overdue, f'overdue:{track.value}:{stage.value}', 'late')} overdue)</span>"
            if c.overdue.count
            else ""
        )
        return f"<td>{_link(c.open, f'stage:{track.value}:{stage.value}')}{late}</td>"

    stage_rows = (
        "".join(f"<tr><th>{esc(s.value)}</th>{''.join(stage_cell(t, s) for t in Track)}</tr>" for s in stages)
        or f"<tr><td colspan={len(Track) + 1}>no open tracks</td></tr>"
    )
    totals = "".join(f"<td>{_link(t.open, f'open:{t.track.value}')}</td>" for t in summary.tracks)
    overdue_totals = "".join(f"<td>{_link(t.overdue, f'overdue:{t.track.value}', 'late')}</td>" for t in summary.tracks)

    def period_row(label: str, name: str, pick: Callable[[TrackCounts], Count], cls: str = "") -> str:
        cells = "".join(f"<td>{_link(pick(t), f'{name}:{t.track.value}', cls)}</td>" for t in summary.tracks)
        return f"<tr><th>{label}</th>{cells}</tr>"

    shares = "".join(
        f"<td data-count='in_time_share:{t.track.value}'>{f'{t.in_time_share:.0%}' if t.in_time_share is not None else '-'}</td>"
        for t in summary.tracks
    )

    def row_list(rows: Sequence[TrackRow], when: Callable[[TrackRow], str], empty: str) -> str:
        if not rows:
            return f"<p class=zero>{esc(empty)}</p>"
        body = "".join(
            f"<tr><td><a href='{esc(r.ui_url)}'>{esc(r.report_no)}</a></td><td>{esc(r.track)}</td>"
            f"<td>{esc(r.stage or '-')}</td><td>{esc(when(r))}</td></tr>"
            for r in rows
        )
        return f"<table class=list><tr><th>report</th><th>track</th><th>stage</th><th>when</th></tr>{body}</table>"

    local = lambda at: at.astimezone(CHINA_TZ).strftime("%m-%d %H:%M") if at else "-"  # noqa: E731
    overdue_list = row_list(
        summary.overdue, lambda r: f"overdue {_ago(summary.at, r.at)} (since {local(r.at)})", "nothing is overdue"
    )
    due_list = row_list(
        summary.due,
        lambda r: f"due {local(r.at)}" + (" (late)" if r.at and r.at < summary.at else ""),
        "no payment falls due",
    )
    scope = " ".join(
        f"Showing {k} {esc(v)}."
        for k, v in (("report numbers starting with", summary.report_no_prefix), ("branch", summary.branch))
        if v
    )
    return f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<meta http-equiv=refresh content="{REFRESH_SECONDS}">
<title>premium-claims operations</title>
<style>
body{{font:14px system-ui;margin:1.5em 2em;color:#222}} h1{{font-size:20px;margin:0 0 .2em}} h2{{font-size:16px;margin:1.4em 0 .4em}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:.3em .7em;text-align:right}} th{{background:#f3f3f3}}
tr th:first-child{{text-align:left}} .list td{{text-align:left}} .zero{{color:#999}} .late,a.late{{color:#b00;font-weight:600}}
a{{color:#0645ad;text-decoration:none}} a:hover{{text-decoration:underline}} .meta{{color:#666}}
.grid{{display:flex;gap:3em;flex-wrap:wrap}} form{{display:inline}}
</style></head><body>
<h1>Premium-claims operations</h1>
<p class=meta>At {local(summary.at)} China time; reloads every {REFRESH_SECONDS} s. {scope}
Each number opens its list in the Temporal UI. <form method=post action="{SIGN_OUT_PATH}"><button>Sign out</button></form></p>
<h2>Where the tracks stand (open tracks by stage; overdue in red)</h2>
<table><tr><th>stage</th>{head}</tr>{stage_rows}
<tr><th>open, all stages</th>{totals}</tr><tr><th>overdue now</th>{overdue_totals}</tr></table>
<h2>Since {local(summary.since)}: deadlines missed and payments in time</h2>
<table><tr><th></th>{head}</tr>
{period_row("deadlines missed", "missed", lambda t: t.deadlines_missed, "late")}
{period_row("paid within the deadline", "paid_in_time", lambda t: t.paid_in_time)}
{period_row("paid late", "paid_late", lambda t: t.paid_late, "late")}
<tr><th>share paid in time</th>{shares}</tr></table>
<div class=grid><div>
<h2>Payments due before {local(summary.due_before)}: {_link(summary.payments_due, "payments_due")}
(late: {_link(summary.payments_late, "payments_late", "late")})</h2>{due_list}</div><div>
<h2>Overdue, oldest first</h2>{overdue_list}</div></div>
</body></html>"""


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


def operations_router(temporal: Callable[[], Awaitable[Client]], authenticator: Authenticator, ui_url: str) -> APIRouter:
    """The operations routes over the app's Temporal client (`temporal()`)."""
    operations_staff = allowed(Action.OPERATIONS)

    async def summary_of(
        since: datetime | None = None,
        due_before: datetime | None = None,
        report_no_prefix: Annotated[str | None, Query(pattern=REPORT_NO_PREFIX_PATTERN)] = None,
        branch: Annotated[str | None, Query(pattern=BRANCH_PATTERN)] = None,
    ) -> OperationsSummary:
        client = await temporal()
        return await operations_summary(
            client,
            TemporalUi(ui_url, client.namespace),
            since=since,
            due_before=due_before,
            report_no_prefix=report_no_prefix,
            branch=branch,
        )

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
        return HTMLResponse(render_page(s), headers=PAGE_HEADERS)

    router.include_router(
        sign_in_router(SIGN_IN, authenticator, lambda: ApiError(403, "cross_origin_form", "sign in on the API's own page"))
    )
    return router
