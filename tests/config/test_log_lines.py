"""Issue 23.7: the service's log reads as one stream. One format for structlog's lines and the
standard library's (temporalio, uvicorn), and no traceback for a refusal the service expects (an
unknown policy on a report). The favicon's quiet: tests/api/test_quiet_favicon.py."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from temporalio.testing import WorkflowEnvironment

from activities import build_activities
from client.claims import ReportRefused, report_with_decision
from config.serving import uvicorn_config
from dev.scenarios import sample_reports
from domain.rules import RuleSettings
from gateway.ledger import SqlPaymentLedger
from tests.helpers.logs import captured_log
from tests.workflows.helpers import unique_prefix
from worker.main import build_worker


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    with captured_log() as stream:
        yield stream


LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z \[\s*(debug|info|warning|error|critical)\s*\] ")


def test_stdlib_and_structlog_lines_share_one_format(log: io.StringIO) -> None:
    structlog.get_logger("premium_claims.test").info("test.structlog_line", report_no="R1")
    logging.getLogger("temporalio.worker").warning("a %s line", "stdlib")
    lines = [line for line in log.getvalue().splitlines() if line.strip()]
    assert len(lines) == 2, lines
    assert all(LINE.match(line) for line in lines), lines
    assert "a stdlib line" in lines[1] and "temporalio.worker" in lines[1]


def test_the_json_format_holds_stdlib_lines_too() -> None:
    with captured_log("json") as stream:
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    [line] = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert line["event"] == "Started server process [42]" and line["logger"] == "uvicorn.error"
    assert line["level"] == "info" and line["timestamp"]


async def test_an_unknown_policy_logs_no_traceback(dev_env: WorkflowEnvironment, tmp_path: Path, log: io.StringIO) -> None:
    """It logged a 28-line traceback twice ("Completing activity as failed"); the refusal is an
    answer the service expects (422 policy_not_found), so one line at most, and no traceback."""
    activities = build_activities(tmp_path, RuleSettings(), bank=SqlPaymentLedger.sqlite(tmp_path / "ledger.sqlite3"))
    report = sample_reports(unique_prefix(), datetime.now(UTC))["B"].model_copy(update={"policy_no": "P2099999999"})
    task_queue = f"tq-{unique_prefix()}"
    async with build_worker(dev_env.client, task_queue, activities):
        with pytest.raises(ReportRefused):
            await report_with_decision(dev_env.client, report, task_queue, 20)
    text = log.getvalue()
    assert "Traceback" not in text, text
    assert "ApplicationError" not in text, text


def test_uvicorn_lines_read_in_the_same_format(log: io.StringIO) -> None:
    """uvicorn set its own handlers and format up ("INFO:     …") beside ours."""
    uvicorn_config(object(), host="127.0.0.1", port=17501)
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    lines = [line for line in log.getvalue().splitlines() if line.strip()]
    assert lines and all(LINE.match(line) for line in lines), lines
