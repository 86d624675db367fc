"""Issue 23.7: one time zone for people. The claim views read in China time (UTC+08:00); so do
`claims ops`, the token's expiry line and the example bodies `claims show` prints."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.admin import cmd_token
from cli.ops import summary_table
from cli.show import next_steps
from client.operations import Count, OperationsSummary, TrackRow
from config.settings import load_settings
from domain.models import Track
from security.auth import Role
from workflows.messages import Stage, TrackView


def count(n: int) -> Count:
    return Count(count=n, query="q", ui_url="http://ui")


def summary() -> OperationsSummary:
    row = TrackRow(
        report_no="R1",
        track="A",
        stage="awaiting_documents",
        at=datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
        workflow_id="claim-R1-A",
        ui_url="http://ui",
    )
    return OperationsSummary(
        at=datetime(2026, 12, 1, 23, 30, tzinfo=UTC),
        since=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
        due_before=datetime(2026, 12, 2, 16, 0, tzinfo=UTC),
        tracks=(),
        stages=(),
        payments_due=count(1),
        payments_late=count(0),
        overdue=(row,),
        due=(row,),
    )


def test_claims_ops_reads_in_china_time() -> None:
    table = summary_table(summary())
    assert "operations at 2026-12-02 07:30" in table  # 23:30 UTC is 07:30 the next day in China
    assert "period since 2026-12-01 07:30" in table and "payments due before 2026-12-03 00:00" in table
    assert "2026-12-02 04:00" in table  # the rows' times too
    assert not re.search(r"\d UTC\b", table), table
    assert "China time" in table


def test_the_summary_json_gives_its_times_with_the_china_offset() -> None:
    """/operations/summary and `claims ops --json`: ISO 8601 with the offset, +08:00 as the views."""
    body = summary().model_dump(mode="json")
    assert body["at"] == "2026-12-02T07:30:00+08:00"
    assert body["due_before"] == "2026-12-03T00:00:00+08:00"
    assert body["overdue"][0]["at"] == "2026-12-02T04:00:00+08:00"


def test_the_token_says_when_it_expires_in_china_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(environ={"PREMIUM_CLAIMS_DATA_DIR": str(tmp_path)})
    cmd_token(settings, "AG01", [Role.AGENT], 60)
    line = capsys.readouterr().err
    assert re.search(r"expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d China time", line), line
    assert "+00:00" not in line


def test_the_surveyor_eta_example_is_in_china_time() -> None:
    view = TrackView(track=Track.INJURY, workflow_id="claim-EXAMPLE-D", stage=Stage.AWAITING_SPECIALIST_CALL)
    bodies = [body for step, body in next_steps(Track.INJURY, view) if step == "record_specialist_contact"]
    assert bodies and all(b.get("surveyor_eta") for b in bodies), bodies
    assert all(str(b["surveyor_eta"]).endswith("+08:00") for b in bodies), bodies
