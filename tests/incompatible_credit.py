"""A deliberately incompatible version of the credit track, for tests/test_replay.py. Its own
module, importing only what a workflow may: the sandbox re-imports the module of every workflow
class it validates."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contracts import ActivityName, LoadRulesInput
    from domain.rules import RuleSettings
    from workflows.calls import QUICK_CALL
    from workflows.credit import SmallClaimCreditWorkflow
    from workflows.messages import TrackInput, TrackView


@workflow.defn(name="SmallClaimCredit")
class IncompatibleCredit(SmallClaimCreditWorkflow):
    """One more activity before the customer is offered the service, without a patch."""

    @workflow.run
    async def run(self, input: TrackInput) -> TrackView:
        await workflow.execute_activity(ActivityName.LOAD_RULES, LoadRulesInput(), result_type=RuleSettings, **QUICK_CALL)
        return await self._run(input)
