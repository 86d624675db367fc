"""Random human steps against a live claim (the real dev server and workflows, fake outside
systems): a payload is refused by its model (nothing sent), refused by the workflow (the track's
timeline and stage unchanged), or recorded; never a workflow task failure (R-X-3 refusals, OPEN-3
stages, R-B-4 channels)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from client.claims import report_claim, take_step, track_state, wait_for_stage
from domain.models import Report, Track
from tests.properties.strategies import any_value, payloads, plausible
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import reports, running
from workflows.messages import STEP_MODELS, Stage, claim_workflow_id, track_workflow_id


@dataclass
class LiveClaim:
    client: Client
    report: Report


@pytest_asyncio.fixture
async def live_claim(dev_env: WorkflowEnvironment) -> AsyncIterator[LiveClaim]:
    """A track-B claim (R-B-2) whose offer is accepted: it waits for documents."""
    fakes = FakeSystems()
    report = reports()["B"]
    async with running(dev_env.client, fakes.activities()) as task_queue:
        await report_claim(dev_env.client, report, task_queue)
        await wait_for_stage(dev_env.client, report.report_no, Track.CREDIT, Stage.AWAITING_ACCEPTANCE)
        await take_step(dev_env.client, report.report_no, Track.CREDIT, "accept_offer", {"accepted": True})
        yield LiveClaim(dev_env.client, report)
        for workflow_id in (claim_workflow_id(report.report_no), track_workflow_id(report.report_no, Track.CREDIT)):
            history = await dev_env.client.get_workflow_handle(workflow_id).fetch_history()
            failed = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
            assert not failed, f"{workflow_id}: workflow task failed: {failed[0].workflow_task_failed_event_attributes}"


steps = st.sampled_from(sorted(STEP_MODELS)).flatmap(
    lambda name: st.tuples(st.just(name), plausible(STEP_MODELS[name]) | payloads(STEP_MODELS[name]) | any_value)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=steps)
async def test_random_steps_are_refused_without_a_trace_or_recorded(live_claim: LiveClaim, step: tuple) -> None:
    name, payload = step
    client, report_no = live_claim.client, live_claim.report.report_no
    before = await track_state(client, report_no, Track.CREDIT)
    try:
        await take_step(client, report_no, Track.CREDIT, name, payload)
    except ValidationError:
        event("refused by the model")
    except (WorkflowUpdateFailedError, RPCError):
        event("refused by the workflow")
        after = await track_state(client, report_no, Track.CREDIT)
        assert after.timeline == before.timeline and after.stage == before.stage
    else:
        event("recorded")
        after = await track_state(client, report_no, Track.CREDIT)
        assert len(after.timeline) > len(before.timeline)
