"""The work queue (issue 24): the pending human steps a member of staff's roles may take, for their
branch, overdue first, then by deadline; and taking, handing back and reassigning an item.

One refresh is ONE visibility call (ListWorkflowExecutions, one page of up to QUEUE_LIMIT rows):
every field an item shows is a search attribute the track keeps itself (workflows/search_attributes.py:
ReportNo, ClaimTracks, Segment, PremiumTag, Branch, ClaimStage, Overdue, HeldBy, WaitHalf, WaitDue),
so no workflow is opened. The real server allows 10 visibility requests a second per namespace per
frontend: a page that reloads every REFRESH_SECONDS per member of staff stays far below it.

Who may take which step is security/permissions.py; which steps answer a stage is
workflows/work.py. The query finds tracks at the stages the caller's other roles may work, and for a
supervisor the tracks that need one: every overdue track (OPEN-3: escalations land in the
supervisors' queue) and every track nobody took by half its deadline. A supervisor may take
almost every step (to move a claim whose holder is away), but their queue is not every open step.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.client import Client

from client.visibility import VisibilityBudget
from domain.models import Frozen, Track
from security.auth import Principal, Role
from security.permissions import roles_for_step
from workflows import search_attributes as sa
from workflows.messages import TRACK_WORKFLOW_TYPES, ChinaTime, Stage, TrackView, track_workflow_id
from workflows.work import ASSIGN_UPDATE, STAGE_STEPS, Assign, WorkAction

QUEUE_LIMIT = 200  # rows of one refresh (one visibility page); a queue longer than that is a staffing problem
REFRESH_SECONDS = 60
VISIBILITY_CALLS_PER_REFRESH = 1


class WorkItem(Frozen):
    report_no: str
    track: Track
    workflow_id: str
    stage: Stage
    steps: tuple[str, ...]  # the steps of this stage the caller's roles may take
    segments: tuple[str, ...] = ()
    tag: str | None = None  # tier and claim-free years, no persona: 钻石(-3)
    branch: str | None = None
    held_by: str | None = None
    half_way: ChinaTime | None = None  # half-way to the deadline: untaken by then, it is flagged
    due_at: ChinaTime | None = None
    seconds_left: int | None = None  # negative when overdue
    overdue: bool = False
    escalated: bool = False  # overdue, and in a supervisor's queue (OPEN-3)
    unclaimed_past_half: bool = False  # nobody took it by half its deadline


class WorkQueue(Frozen):
    at: ChinaTime
    subject: str
    roles: tuple[Role, ...]
    branch: str | None  # the staff's branch (their token's), or the one asked for; None: every branch
    items: tuple[WorkItem, ...]
    query: str  # the visibility query (the same works in the Temporal UI's search box)
    visibility_calls: int = VISIBILITY_CALLS_PER_REFRESH


# A track's own steps beside every track's (workflows/work.py STAGE_STEPS): R-D-5, the injury
# specialist follows the case up until it is done, so the follow-up is offered while track D waits
# for its documents and the assessment too, not only at the first call and at case closure.
TRACK_STAGE_STEPS: dict[tuple[Track, Stage], tuple[str, ...]] = {
    (Track.INJURY, Stage.AWAITING_DOCUMENTS): ("record_specialist_contact",),
}


def steps_for(roles: frozenset[Role], track: Track, stage: Stage) -> tuple[str, ...]:
    """The steps answering `stage` on `track` that one of `roles` may take."""
    steps = STAGE_STEPS.get(stage, ()) + TRACK_STAGE_STEPS.get((track, stage), ())
    return tuple(step for step in steps if roles & roles_for_step(step, track))


def stages_for(roles: frozenset[Role]) -> tuple[Stage, ...]:
    """Every stage where some track waits for a step one of `roles` may take (the holder's hold
    lasts through these: workflows/work.py)."""
    return tuple(s for s in STAGE_STEPS if any(steps_for(roles, t, s) for t in Track))


def _quote(value: str) -> str:
    return "'" + value.replace("'", "").replace("\\", "") + "'"


def own_roles(roles: frozenset[Role]) -> frozenset[Role]:
    """The roles whose steps fill the queue: a supervisor's power to take any step does not."""
    return roles - {Role.SUPERVISOR}


def queue_query(roles: frozenset[Role], branch: str | None, now: datetime) -> str:
    types = ", ".join(_quote(t) for t in TRACK_WORKFLOW_TYPES.values())
    stages = stages_for(own_roles(roles))
    wanted = [f"{sa.CLAIM_STAGE.name} IN ({', '.join(_quote(s.value) for s in stages)})"] if stages else []
    if Role.SUPERVISOR in roles:
        wanted.append(f"{sa.OVERDUE.name} = true")  # OPEN-3: escalations reach the supervisors
        wanted.append(f"{sa.WAIT_DUE.name} <= {int(now.timestamp())}")  # due, the escalation on its way
        wanted.append(f"({sa.WAIT_HALF.name} <= {int(now.timestamp())} AND {sa.HELD_BY.name} IS NULL)")
    parts = [f"WorkflowType IN ({types})", "ExecutionStatus = 'Running'"]
    if branch:
        parts.append(f"{sa.BRANCH.name} = {_quote(branch)}")
    parts.append("(" + " OR ".join(wanted or ["false"]) + ")")
    return " AND ".join(parts)


def _at(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


async def work_queue(
    client: Client,
    principal: Principal,
    branch: str | None = None,
    now: datetime | None = None,
    budget: VisibilityBudget | None = None,
) -> WorkQueue:
    """The caller's queue: overdue first, then by deadline (none last), then by report number.
    One visibility call, which waits its turn in the process's `budget` (client/visibility.py)."""
    now = now or datetime.now(UTC)
    roles = frozenset(principal.roles)
    query = queue_query(roles, branch, now)
    items: list[WorkItem] = []
    if budget is not None:
        await budget.take()
    async for execution in client.list_workflows(query, limit=QUEUE_LIMIT, page_size=QUEUE_LIMIT):
        attrs = execution.typed_search_attributes
        try:
            track = Track((attrs.get(sa.CLAIM_TRACKS) or [""])[0])
            stage = Stage(attrs.get(sa.CLAIM_STAGE) or "")
        except ValueError:
            continue
        half, due = _at(attrs.get(sa.WAIT_HALF)), _at(attrs.get(sa.WAIT_DUE))
        held_by = attrs.get(sa.HELD_BY)
        overdue = bool(attrs.get(sa.OVERDUE)) or (due is not None and due <= now)
        untaken = held_by is None and half is not None and now >= half
        supervising = Role.SUPERVISOR in roles and (overdue or untaken)
        if not steps_for(own_roles(roles), track, stage) and not supervising:
            continue
        items.append(
            WorkItem(
                report_no=attrs.get(sa.REPORT_NO) or "",
                track=track,
                workflow_id=execution.id,
                stage=stage,
                steps=steps_for(roles, track, stage),
                segments=tuple(attrs.get(sa.SEGMENT) or ()),
                tag=attrs.get(sa.PREMIUM_TAG),
                branch=attrs.get(sa.BRANCH),
                held_by=held_by,
                half_way=half,
                due_at=due,
                seconds_left=int((due - now).total_seconds()) if due is not None else None,
                overdue=overdue,
                escalated=overdue and Role.SUPERVISOR in roles,
                unclaimed_past_half=untaken,
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    items.sort(key=lambda i: (not i.overdue, i.due_at or far, i.report_no, i.track.value))
    return WorkQueue(
        at=now,
        subject=principal.subject,
        roles=tuple(r for r in Role if r in roles),
        branch=branch,
        items=tuple(items),
        query=query,
    )


async def assign(
    client: Client, report_no: str, track: Track, action: WorkAction, principal: Principal, to: str | None = None
) -> TrackView:
    """Take, hand back or reassign a track's pending step (the track's `assign` update): the track's
    new view. A taker keeps the item through the stages their roles may work."""
    step = Assign(
        action=action,
        by=principal.subject,
        to=to,
        keeps_for=frozenset(stages_for(frozenset(principal.roles))) if action is WorkAction.TAKE else frozenset(),
    )
    handle = client.get_workflow_handle(track_workflow_id(report_no, track))
    return await handle.execute_update(ASSIGN_UPDATE, step, result_type=TrackView)
