"""Issue 23.7: a demo cut short resumes where its claims stand (dev.scenarios.remaining_steps)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dev.scenarios import is_demo_prefix, remaining_steps, sample_reports, steps_for
from domain.models import DocumentType, Track
from workflows.messages import Stage, TrackView


def steps(track: Track) -> list[str]:
    report = sample_reports("RESUME", datetime(2026, 12, 1, tzinfo=UTC))[track.value]
    return [step for _, step, _ in steps_for(track, report, photo_sha256="0" * 64)]


def left(
    track: Track, stage: Stage, documents_missing: tuple[DocumentType, ...] = (), assessment_amount: Decimal | None = None
) -> list[str]:
    report = sample_reports("RESUME", datetime(2026, 12, 1, tzinfo=UTC))[track.value]
    all_steps = steps_for(track, report, photo_sha256="0" * 64)
    at = TrackView(
        track=track,
        workflow_id=f"claim-RESUME-{track.value}-{track.value}",
        stage=stage,
        documents_missing=documents_missing,
        assessment_amount=assessment_amount,
    )
    return [step for _, step, _ in remaining_steps(all_steps, at)]


def test_a_track_not_started_yet_takes_every_step() -> None:
    report = sample_reports("RESUME", datetime(2026, 12, 1, tzinfo=UTC))["B"]
    all_steps = steps_for(Track.CREDIT, report, photo_sha256="0" * 64)
    assert remaining_steps(all_steps, None) == all_steps


def test_the_steps_of_passed_stages_are_done() -> None:
    assert left(Track.AUTHORISATION, Stage.AWAITING_CAR_AT_SHOP) == steps(Track.AUTHORISATION)[2:]
    assert left(Track.CREDIT, Stage.AWAITING_CALLBACK) == ["record_callback"]


def test_at_the_documents_stage_what_is_done_is_not_sent_again() -> None:
    """The track refuses documents already received and a second assessment."""
    missing = (DocumentType.CLAIM_FORM,)
    assert left(Track.CREDIT, Stage.AWAITING_DOCUMENTS, documents_missing=missing) == [
        "receive_documents",
        "issue_assessment",
        "record_callback",
    ]
    assert left(Track.CREDIT, Stage.AWAITING_DOCUMENTS) == ["issue_assessment", "record_callback"]
    # track D: the documents were received, the assessment not yet issued
    assert left(Track.INJURY, Stage.AWAITING_DOCUMENTS) == [
        "record_specialist_contact",
        "issue_assessment",
        "report_back",
        "record_callback",
    ]
    assert left(
        Track.AUTHORISATION, Stage.AWAITING_DOCUMENTS, documents_missing=missing, assessment_amount=Decimal("2650.00")
    ) == [
        "receive_documents",
        "record_callback",
    ]


@pytest.mark.parametrize("stage", [Stage.CLOSED, Stage.DECLINED, Stage.TRANSFERRED])
def test_an_ended_track_has_nothing_left(stage: Stage) -> None:
    assert left(Track.CREDIT, stage) == []


def test_a_paying_track_waits_for_its_callback() -> None:
    assert left(Track.CREDIT, Stage.PAYING) == ["record_callback"]


def test_a_demo_prefix_makes_report_numbers() -> None:
    assert is_demo_prefix("DEMO2026") and is_demo_prefix("CL12") and is_demo_prefix("A-B-")
    assert not any(is_demo_prefix(p) for p in ("CL1", "x", "demo", "-ABC", "A" * 39, "DE MO"))
