"""The claim and its tracks keep their search attributes current, upserting only what changed (a
small history), with codes only; deadlines flip a track's Overdue (time-skipping server)."""

from __future__ import annotations

import json
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from client.claims import report_claim
from domain.models import Track
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import reports, run_claim, running
from workflows import search_attributes as sa
from workflows.messages import claim_workflow_id, track_workflow_id


async def upserted(handle) -> tuple[int, dict[str, bytes], list[str]]:
    """The upserts in a history (each must change something), the last value of each attribute,
    and the ClaimStage values in order."""
    seen: dict[str, bytes] = {}
    upserts = 0
    stages: list[str] = []
    async for event in handle.fetch_history_events():
        if event.event_type != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            continue
        upserts += 1
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        assert fields, "an empty upsert"
        for name, payload in fields.items():
            assert seen.get(name) != payload.data, f"{name} upserted again with the same value"
            seen[name] = payload.data
            if name == sa.CLAIM_STAGE.name:
                stages.append(json.loads(payload.data))
    return upserts, seen, stages


async def test_attributes_follow_the_claim_and_each_upsert_changes_something(dev_env: WorkflowEnvironment) -> None:
    """R-B-1..5: a track B claim ends with ClaimStage closed, its track and segment; the track
    keeps its own stage, Overdue and payment due date, and its claim's codes; every upsert in
    either history changes a value (no repeated writes)."""
    fakes = FakeSystems()
    report = reports()["B"]
    async with running(dev_env.client, fakes.activities()) as tq:
        await run_claim(dev_env.client, tq, report, [Track.CREDIT])
    handle = dev_env.client.get_workflow_handle(claim_workflow_id(report.report_no))
    track = dev_env.client.get_workflow_handle(track_workflow_id(report.report_no, Track.CREDIT))
    for h in (handle, track):
        attrs = (await h.describe()).typed_search_attributes
        assert attrs.get(sa.REPORT_NO) == report.report_no
        assert attrs.get(sa.CLAIM_STAGE) == "closed"
        assert attrs.get(sa.CLAIM_TRACKS) == ["B"]
        assert attrs.get(sa.SEGMENT) == ["claim_free_3"]
        assert attrs.get(sa.BRANCH) == "HQ" and attrs.get(sa.LOSS_BAND) == "<=3000"
        assert attrs.get(sa.PAYMENT_DUE_AT) is None
    assert (await track.describe()).typed_search_attributes.get(sa.OVERDUE) is False
    assert (await handle.describe()).typed_search_attributes.get(sa.OVERDUE) is None  # the track's to keep

    upserts, seen, stages = await upserted(handle)
    assert upserts <= 4 and stages == ["in_service", "closed"]
    track_upserts, track_seen, track_stages = await upserted(track)
    assert track_upserts <= 8
    assert track_stages[-1] == "closed" and "awaiting_documents" in track_stages and "paying" in track_stages
    assert sa.PAYMENT_DUE_AT.name in track_seen  # set while paying, removed once paid
    # codes only: no name, phone or account of the sample customer in any attribute or detail
    description = await handle.describe()
    summary, details = await description.static_summary(), await description.static_details()
    assert summary == f"Claim for report {report.report_no}" and details and report.report_no in details
    shown = " ".join(str(v) for v in [*seen.values(), *track_seen.values()]) + details + summary
    for personal in ("测试客户", "1380000", "6222"):
        assert personal not in shown


async def test_open_3_overdue_is_searchable_after_a_missed_deadline(time_env: WorkflowEnvironment) -> None:
    """OPEN-3, R-D-2: past the specialist's 30 minutes, the claim reads ClaimStage
    awaiting_specialist_call and Overdue true, so `ClaimStage = ... AND Overdue = true` finds it."""
    fakes = FakeSystems()
    report = reports()["D"]
    async with running(time_env.client, fakes.activities()) as tq:
        handle, _ = await report_claim(time_env.client, report, tq)
        track = time_env.client.get_workflow_handle(track_workflow_id(report.report_no, Track.INJURY))
        await time_env.sleep(timedelta(minutes=10))
        attrs = (await track.describe()).typed_search_attributes
        assert attrs.get(sa.CLAIM_STAGE) == "awaiting_specialist_call" and attrs.get(sa.OVERDUE) is False
        await time_env.sleep(timedelta(minutes=25))
        attrs = (await track.describe()).typed_search_attributes
        assert attrs.get(sa.CLAIM_STAGE) == "awaiting_specialist_call" and attrs.get(sa.OVERDUE) is True
        assert attrs.get(sa.REPORT_NO) == report.report_no and attrs.get(sa.CLAIM_TRACKS) == ["D"]
        assert (await handle.describe()).typed_search_attributes.get(sa.CLAIM_STAGE) == "in_service"
        await handle.terminate("test done")
