"""The work queue's side of a track (issue 24): which human steps answer each stage, and who holds
the track's pending step (take, hand back, a supervisor's reassign: one update, `assign`).

A hold is on the track, not on one step: a handler who takes the item keeps it through the next
stages their own roles may work (`Assign.keeps_for`, worked out by the client from
security/permissions.py, which workflows do not import), and lets go of it when the track moves
to a stage that is someone else's. Every take, hand-back and reassign is a timeline entry with
who and when, and an update in the history. On runs with WORK_QUEUE_PATCH the track keeps the
holder's staff code and its wait's times in search attributes (workflows/search_attributes.py),
in the same upsert as its stage: no extra history event.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.messages import STAFF_CODE, STEP_REFUSED, Stage, Step, TrackView, Waiting

ASSIGN_UPDATE = "assign"

# The human steps that answer each stage a track waits at (the update names of STEP_MODELS). The
# documents and the assessment may also arrive early, in any stage of SETTLEMENT_OPEN: the queue
# offers them where they are what the track waits for.
STAGE_STEPS: dict[Stage, tuple[str, ...]] = {
    Stage.AWAITING_ACCEPTANCE: ("accept_offer",),  # R-A-1, R-B-1, R-C-1
    Stage.AWAITING_SCENE_ESTIMATE: ("record_scene_estimate",),  # R-A-2
    Stage.AWAITING_CAR_AT_SHOP: ("car_at_shop",),  # R-A-3
    Stage.AWAITING_PHOTOS: ("upload_photos",),  # R-A-3
    Stage.AWAITING_EXPERT_LEAD: ("name_expert_lead",),  # R-C-2
    Stage.AWAITING_LEAD_CONTACT: ("record_lead_contact",),  # R-C-3
    Stage.AWAITING_TEAM: ("staff_team",),  # R-C-4
    Stage.AWAITING_SERVICE_ITEMS: ("complete_service_item", "report_back"),  # R-C-5
    Stage.AWAITING_SPECIALIST_CALL: ("record_specialist_contact",),  # R-D-2..R-D-4
    Stage.AWAITING_DOCUMENTS: ("receive_documents", "issue_assessment"),  # R-A-4, R-A-5, R-B-4, R-X-5
    Stage.AWAITING_PAYEE_ACCOUNT: ("correct_payee_account",),  # R-X-3
    Stage.AWAITING_CASE_CLOSURE: ("record_specialist_contact", "report_back"),  # R-D-5, R-D-6
    Stage.AWAITING_CALLBACK: ("record_callback",),  # R-X-1
}
HUMAN_STAGES = frozenset(STAGE_STEPS)


def refused(message: str) -> ApplicationError:
    """A refusal the caller reads (the same type as track_base.StepRefused, which imports this module)."""
    return ApplicationError(message, type=STEP_REFUSED, non_retryable=True)


class WorkAction(StrEnum):
    TAKE = "take"  # a handler takes the item from the queue
    HAND_BACK = "hand_back"  # the holder puts it back in the queue
    REASSIGN = "reassign"  # a supervisor gives it to someone (OPEN-3: the holder is away)


class Assign(Step):
    """Take, hand back or (a supervisor) reassign a track's pending human step."""

    action: WorkAction
    to: str | None = STAFF_CODE  # reassign: the staff code who holds it now
    # take: the stages the taker's roles may work; the hold lasts while the track is in them
    keeps_for: frozenset[Stage] = Field(default_factory=frozenset)


class WorkAssignment:
    """The holding half of a track workflow (a base of TrackWorkflow, whose updates the SDK collects)."""

    if TYPE_CHECKING:  # what the track workflow provides
        _stage: Stage
        _waiting: Waiting | None
        _outcome: str | None

        def view(self) -> TrackView: ...

        def _note(self, step: str, by: str | None = None, detail: str = "", note: str = "") -> None: ...

        def _publish(self) -> None: ...

    _work_queue = False  # WORK_QUEUE_PATCH: this run keeps the queue's attributes and takes `assign`
    _held_by: str | None = None
    _held_since: datetime | None = None
    _hold_stages: frozenset[Stage] = frozenset()

    @workflow.update(name=ASSIGN_UPDATE)
    async def assign(self, step: Assign) -> TrackView:
        self._check_assign(step)  # again: validators of one task's updates all run before their handlers
        now = workflow.now()
        if step.action is WorkAction.HAND_BACK:
            self._note("handed_back", step.by, f"at {self._stage.value}")
            self._held_by, self._held_since, self._hold_stages = None, None, frozenset()
        else:
            holder = step.by if step.action is WorkAction.TAKE else step.to
            keeps = step.keeps_for if step.action is WorkAction.TAKE else frozenset()
            detail = f"at {self._stage.value}" + (f", to {holder} (was {self._held_by or 'nobody'})" if holder != step.by else "")
            self._note("taken" if step.action is WorkAction.TAKE else "reassigned", step.by, detail)
            self._held_by, self._held_since, self._hold_stages = holder, now, keeps | {self._stage}
        self._publish()
        return self.view()

    @assign.validator
    def _check_assign(self, step: Assign) -> None:
        if not self._work_queue:
            raise refused("this track started before the work queue: its steps are taken without taking the item")
        if self._outcome is not None or self._stage not in HUMAN_STAGES:
            raise refused(f"the track waits for no human step now (stage {self._stage.value})")
        if step.by is None:
            raise refused("who takes, hands back or reassigns the item is required")
        if step.action is WorkAction.TAKE:
            if self._held_by == step.by:
                raise refused(f"you hold this item already (since {self._held_since})")
            if self._held_by is not None:
                raise refused(f"{self._held_by} holds this item; they may hand it back, or a supervisor reassign it")
        elif step.action is WorkAction.HAND_BACK:
            if self._held_by != step.by:
                raise refused(f"only the holder hands an item back; it is held by {self._held_by or 'nobody'}")
        else:
            if step.to is None:
                raise refused("a reassign names who is to hold the item ('to')")
            if step.to == self._held_by:
                raise refused(f"{step.to} holds this item already")

    def _hold_follows(self, stage: Stage) -> None:
        """The track moved to `stage`: a hold lasts through the holder's own stages (and payment)."""
        if self._held_by is None or stage not in HUMAN_STAGES or stage in self._hold_stages:
            return
        self._note("hold_released", detail=f"{stage.value} is not {self._held_by}'s step")
        self._held_by, self._held_since, self._hold_stages = None, None, frozenset()
