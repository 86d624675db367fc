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

from worker.client import data_converter_for
from worker.main import WORKFLOWS, workflow_runner
from worker.settings import load_settings

from tests.incompatible_credit import IncompatibleCredit

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"{path.parent.name}-{path.stem}", json.loads(path.read_text()))


def replayer(workflows: list[type]) -> Replayer:
    # The project's converter (encryption on): histories recorded in clear pass through the codec.
    return Replayer(workflows=workflows, workflow_runner=workflow_runner(), data_converter=data_converter_for(load_settings()))


def test_every_workflow_type_has_recorded_histories() -> None:
    assert {path.parent.name for path in HISTORIES} == {
        "Claim", "SmallClaimAuthorisation", "SmallClaimCredit", "LargeClaimExpertTeam", "InjuryOneToOne"
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


def test_both_sides_of_the_small_history_patch_are_recorded() -> None:
    """Every workflow type has histories from before the `small-history` patch (v1) and after it
    (v2, with its marker), so the replay covers the old path and the new one."""
    for kind in {path.parent.name for path in HISTORIES}:
        mine = [p for p in HISTORIES if p.parent.name == kind]
        assert any(p.stem.startswith("v1-") and "small-history" not in patches(p) for p in mine), kind
        after = [p for p in mine if p.stem.startswith("v2-")]
        assert after and all("small-history" in patches(p) for p in after), kind


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_recorded_history_replays_on_current_code(path: Path) -> None:
    await replayer(WORKFLOWS).replay_workflow(load(path))


async def test_incompatible_change_fails_the_replay() -> None:
    """The replay test can fail: an unpatched new step in the credit track breaks its histories."""
    credit = [p for p in HISTORIES if p.parent.name == "SmallClaimCredit"]
    assert credit, "record histories first: scripts/record_histories.py"
    with pytest.raises(NondeterminismError):
        await replayer([IncompatibleCredit]).replay_workflow(load(credit[0]))
