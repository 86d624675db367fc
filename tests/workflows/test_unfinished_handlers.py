"""Issue 23.5: a workflow that completes while a signal or update handler is still running is an
error in this suite (pyproject filterwarnings, as in the SDK's own tests), not a warning that
scrolls by: its completing workflow task fails and the failure names the warning."""

from __future__ import annotations

import asyncio
import uuid

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker


@workflow.defn(name="TestLeavesASignalHandlerRunning")
class LeavesASignalHandlerRunning:
    def __init__(self) -> None:
        self.signalled = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.signalled)
        return "done"

    @workflow.signal(name="poke")
    async def poke(self) -> None:
        self.signalled = True
        await workflow.wait_condition(lambda: False)  # still running when run() returns


async def test_issue_23_5_a_workflow_leaving_a_handler_running_fails_its_task(time_env: WorkflowEnvironment) -> None:
    queue = f"unfinished-{uuid.uuid4()}"
    async with Worker(time_env.client, task_queue=queue, workflows=[LeavesASignalHandlerRunning]):
        handle = await time_env.client.start_workflow(
            LeavesASignalHandlerRunning.run, id=f"unfinished-{uuid.uuid4()}", task_queue=queue
        )
        await handle.signal("poke")
        failure = ""
        for _ in range(100):
            async for event in handle.fetch_history_events():
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    # the failure's text is encrypted like every payload (security/codec.py): decode it
                    encoded = event.workflow_task_failed_event_attributes.failure
                    failure = str(await time_env.client.data_converter.decode_failure(encoded))
            if failure:
                break
            await asyncio.sleep(0.1)
        await handle.terminate("test done")
    assert "Workflow finished while signal handlers are still running" in failure, failure
