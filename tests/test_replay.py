"""Safe change of running workflows: every recorded claim history (tests/histories, written by
scripts/record_histories.py) replays on today's workflow code. A change that would break claims
in flight fails here, in CI, instead of in production."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from worker.main import WORKFLOWS, workflow_runner

from tests.incompatible_credit import IncompatibleCredit

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"{path.parent.name}-{path.stem}", json.loads(path.read_text()))


def replayer(workflows: list[type]) -> Replayer:
    return Replayer(workflows=workflows, workflow_runner=workflow_runner(), data_converter=pydantic_data_converter)


def test_every_workflow_type_has_recorded_histories() -> None:
    assert {path.parent.name for path in HISTORIES} == {
        "Claim", "SmallClaimAuthorisation", "SmallClaimCredit", "LargeClaimExpertTeam", "InjuryOneToOne"
    }


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_recorded_history_replays_on_current_code(path: Path) -> None:
    await replayer(WORKFLOWS).replay_workflow(load(path))


async def test_incompatible_change_fails_the_replay() -> None:
    """The replay test can fail: an unpatched new step in the credit track breaks its histories."""
    credit = [p for p in HISTORIES if p.parent.name == "SmallClaimCredit"]
    assert credit, "record histories first: scripts/record_histories.py"
    with pytest.raises(NondeterminismError):
        await replayer([IncompatibleCredit]).replay_workflow(load(credit[0]))
