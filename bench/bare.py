"""The bare baseline of the capacity benchmark: one plain workflow per claim that takes the same
number of updates and runs the same number of activities (ordinary and local) as a claim of the
mix, with none of the claim's rules, child workflows or signals; and the same in two workflows
(BarePair: a parent that runs it as its child), the shape of a claim and its track.

    python -m bench.bare --address 127.0.0.1:7233 --task-queue bare [--max-cached-workflows 1000]

runs its worker as a process of its own, with the claim worker's options (sandbox runner with
the same passthrough modules, workflow cache), so the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow

NOOP = "bench.noop"
CALL: dict[str, Any] = dict(start_to_close_timeout=timedelta(seconds=30))


class BarePlan(BaseModel):
    updates: int
    activities: int
    local_activities: int


@activity.defn(name=NOOP)
async def noop(n: int) -> int:
    return n


@workflow.defn(name="BareClaim")
class BareClaim:
    def __init__(self) -> None:
        self._steps = 0

    @workflow.run
    async def run(self, plan: BarePlan) -> int:
        # activities between the updates, as a claim calls outside systems between human steps
        local, remote = plan.local_activities, plan.activities
        for i in range(plan.updates):
            await workflow.wait_condition(functools.partial(self._reached, i))
            if local:
                local -= 1
                await workflow.execute_local_activity(NOOP, i, result_type=int, **CALL)
            if remote:
                remote -= 1
                await workflow.execute_activity(NOOP, i, result_type=int, **CALL)
        for i in range(local):
            await workflow.execute_local_activity(NOOP, i, result_type=int, **CALL)
        for i in range(remote):
            await workflow.execute_activity(NOOP, i, result_type=int, **CALL)
        return self._steps

    def _reached(self, steps: int) -> bool:
        return self._steps > steps

    @workflow.update(name="step")
    async def step(self, n: int) -> int:
        self._steps += 1
        return self._steps


@workflow.defn(name="BarePair")
class BarePair:
    """The bare claim in the shape the project card gives a claim: a parent that starts it as a
    child workflow and waits for its end (the claim and its track), with nothing else."""

    @workflow.run
    async def run(self, plan: BarePlan) -> int:
        return await workflow.execute_child_workflow(BareClaim.run, plan, id=child_id(workflow.info().workflow_id))


def child_id(parent_id: str) -> str:
    return f"{parent_id}-child"


async def serve(address: str, task_queue: str, max_cached_workflows: int) -> None:
    from temporalio.worker import Worker

    from client.connect import connect
    from worker.main import run_until_signalled, workflow_runner

    client = await connect(address)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[BareClaim, BarePair],
        activities=[noop],
        workflow_runner=workflow_runner(),
        max_cached_workflows=max_cached_workflows,
    )
    await run_until_signalled(worker)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare", description=__doc__.split("\n")[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--max-cached-workflows", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(serve(args.address, args.task_queue, args.max_cached_workflows))


if __name__ == "__main__":
    main()
