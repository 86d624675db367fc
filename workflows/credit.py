"""Track B — small-claim credit (SPEC §3, R-B-1..R-B-5): no waiting anywhere, paid the same day."""

from __future__ import annotations

from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import Track
    from workflows.messages import TRACK_WORKFLOW_TYPES, Stage, TrackInput, TrackView
    from workflows.track_base import TrackWorkflow


@workflow.defn(name=TRACK_WORKFLOW_TYPES[Track.CREDIT])
class SmallClaimCreditWorkflow(TrackWorkflow):
    track = Track.CREDIT
    opening_stage = Stage.AWAITING_DOCUMENTS
    stage_rules: ClassVar[dict[Stage, str]] = {**TrackWorkflow.stage_rules, Stage.AWAITING_DOCUMENTS: "R-B-2/R-B-3/R-B-4"}

    @workflow.run
    async def run(self, input: TrackInput) -> TrackView:
        return await self._run(input)

    async def _service(self) -> bool:
        # R-B-2/R-B-3: the estimate the customer confirmed at report time already put the claim
        # within the limits (the decision checked it); the customer goes straight to documents.
        self._note("customer_need_not_wait", detail=self._input_or_fail().decision.reason)
        return True
