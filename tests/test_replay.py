"""Safe change of running workflows: every recorded claim history (tests/histories, written by
scripts/record_histories.py) replays on today's workflow code. A change that would break claims
in flight fails here, in CI, instead of in production."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from client.connect import data_converter_for
from config.settings import load_settings
from tests.incompatible_credit import IncompatibleCredit
from worker.main import WORKFLOWS, workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"{path.parent.name}-{path.stem}", json.loads(path.read_text()))


def replayer(workflows: list[type]) -> Replayer:
    # The project's converter (encryption on): histories recorded in clear pass through the codec.
    return Replayer(workflows=workflows, workflow_runner=workflow_runner(), data_converter=data_converter_for(load_settings()))


def test_every_workflow_type_has_recorded_histories() -> None:
    assert {path.parent.name for path in HISTORIES} == {
        "Claim",
        "SmallClaimAuthorisation",
        "SmallClaimCredit",
        "LargeClaimExpertTeam",
        "InjuryOneToOne",
    }


def patches(path: Path) -> set[str]:
    """The patch IDs whose markers a recorded history holds."""
    found = set()
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes", {})
        if marker.get("markerName") == "core_patch":
            data = marker["details"]["patch-data"]["payloads"][0]["data"]
            found.add(json.loads(base64.b64decode(data))["id"])
    return found


def test_every_side_of_each_patch_is_recorded() -> None:
    """Every workflow type has histories from before the `small-history` patch (v1), after it (v2,
    with its marker), after `tracks-index-themselves` (v3, with that marker only), before the
    later patches (v4) and with them (v5), so the replay covers every path a claim in flight may be on."""
    for kind in {path.parent.name for path in HISTORIES}:
        mine = [p for p in HISTORIES if p.parent.name == kind]
        assert any(p.stem.startswith("v1-") and not patches(p) & {"small-history", "tracks-index-themselves"} for p in mine), kind
        v2 = [p for p in mine if p.stem.startswith("v2-")]
        assert v2 and all(patches(p) & {"small-history", "tracks-index-themselves"} == {"small-history"} for p in v2), kind
        v3 = [p for p in mine if p.stem.startswith("v3-")]
        assert v3 and all(patches(p) & {"small-history", "tracks-index-themselves"} == {"tracks-index-themselves"} for p in v3), (
            kind
        )
        # v4: the code before the decision in the report's answer and the edge-of-program patches
        v4 = [p for p in mine if p.stem.startswith("v4-")]
        assert v4 and all(not patches(p) & LATER_PATCHES for p in v4), kind
        v5 = [p for p in mine if p.stem.startswith("v5-")]
        wanted = {"decision-in-answer"} if kind == "Claim" else {"operations-index"}
        assert v5 and all(wanted <= patches(p) for p in v5), kind


# Patches made after the v4 histories were recorded (v5 holds them).
LATER_PATCHES = {"decision-in-answer", "handed-to-ordinary", "payee-account-from-core", "operations-index"}


def test_the_decision_update_and_a_declined_track_are_recorded() -> None:
    """v5 covers the report's decision update (update-with-start) and a claim handed to the
    ordinary process after a declined track (R-C-1)."""
    claim = json.loads((Path(__file__).parent / "histories" / "Claim" / "v5-C-declined.json").read_text())
    kinds = {e["eventType"] for e in claim["events"]}
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED" in kinds
    assert "handed-to-ordinary" in patches(Path(__file__).parent / "histories" / "Claim" / "v5-C-declined.json")


def test_the_work_queue_and_the_customer_link_are_recorded_on_both_sides() -> None:
    """Issue 24: v6 is the code before the work queue and the customer's SMS (neither patch), v7
    the code with them: every track carries the work-queue marker, every claim the
    customer-link-sms one, and v7-A holds an assessor's `assign` update (take) replayed above."""
    issue_24 = {"work-queue", "customer-link-sms"}
    for path in HISTORIES:
        if path.stem.startswith("v6-"):
            assert not patches(path) & issue_24, path
        if path.stem.startswith("v7-"):
            assert ("customer-link-sms" if path.parent.name == "Claim" else "work-queue") in patches(path), path
    assert {p.parent.name for p in HISTORIES if p.stem.startswith("v7-")} == {p.parent.name for p in HISTORIES}
    track_a = json.loads((Path(__file__).parent / "histories" / "SmallClaimAuthorisation" / "v7-A.json").read_text())
    updates = [
        e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
        for e in track_a["events"]
        if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
    ]
    assert "assign" in updates


def test_current_histories_stay_within_100_events() -> None:
    """Issue 6's history target: a claim's workflows, recorded on the current code (v7, v5, v3) from report
    to callback, hold at most 100 events each (Temporal warns at 10,240)."""
    sizes = {
        f"{p.parent.name}/{p.stem}": len(json.loads(p.read_text())["events"])
        for p in HISTORIES
        if p.stem.startswith(("v3-", "v5-", "v7-"))
    }
    assert len(sizes) >= 5
    assert {k: n for k, n in sizes.items() if n > 100} == {}


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_recorded_history_replays_on_current_code(path: Path) -> None:
    await replayer(WORKFLOWS).replay_workflow(load(path))


async def test_incompatible_change_fails_the_replay() -> None:
    """The replay test can fail: an unpatched new step in the credit track breaks its histories."""
    credit = [p for p in HISTORIES if p.parent.name == "SmallClaimCredit"]
    assert credit, "record histories first: scripts/record_histories.py"
    with pytest.raises(NondeterminismError):
        await replayer([IncompatibleCredit]).replay_workflow(load(credit[0]))
