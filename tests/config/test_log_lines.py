"""Issue 23.7: the service's log reads as one stream. One format for structlog's lines and the
standard library's (temporalio, uvicorn), no traceback for a refusal the service expects (an
unknown policy on a report), and no line for a browser's /favicon.ico."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import structlog
from temporalio.testing import WorkflowEnvironment

from activities import build_activities
from activities.store import FileStore
from api import create_app
from client.claims import ReportRefused, report_with_decision
from config.logging import configure_logging
from config.serving import uvicorn_config
from dev.scenarios import sample_reports
from domain.rules import RuleSettings
from gateway.ledger import SqlitePaymentLedger
from security.auth import LocalTokens
from tests.workflows.helpers import unique_prefix
from worker.main import build_worker


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """The process's log (both formats' set-up writes here), restored afterwards."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for handler in handlers:
        root.removeHandler(handler)
    configure_logging("console", "INFO", stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()


LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z \[\s*(debug|info|warning|error|critical)\s*\] ")


def test_stdlib_and_structlog_lines_share_one_format(log: io.StringIO) -> None:
    structlog.get_logger("premium_claims.test").info("test.structlog_line", report_no="R1")
    logging.getLogger("temporalio.worker").warning("a %s line", "stdlib")
    lines = [line for line in log.getvalue().splitlines() if line.strip()]
    assert len(lines) == 2, lines
    assert all(LINE.match(line) for line in lines), lines
    assert "a stdlib line" in lines[1] and "temporalio.worker" in lines[1]


def test_the_json_format_holds_stdlib_lines_too(tmp_path: Path) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers = list(root.handlers)
    for handler in handlers:
        root.removeHandler(handler)
    try:
        configure_logging("json", "INFO", stream=stream)
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
        import json

        [line] = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
        assert line["event"] == "Started server process [42]" and line["logger"] == "uvicorn.error"
        assert line["level"] == "info" and line["timestamp"]
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        structlog.reset_defaults()


async def test_an_unknown_policy_logs_no_traceback(dev_env: WorkflowEnvironment, tmp_path: Path, log: io.StringIO) -> None:
    """It logged a 28-line traceback twice ("Completing activity as failed"); the refusal is an
    answer the service expects (422 policy_not_found), so one line at most, and no traceback."""
    activities = build_activities(tmp_path, RuleSettings(), bank=SqlitePaymentLedger(tmp_path / "ledger.sqlite3"))
    report = sample_reports(unique_prefix(), datetime.now(UTC))["B"].model_copy(update={"policy_no": "P2099999999"})
    task_queue = f"tq-{unique_prefix()}"
    async with build_worker(dev_env.client, task_queue, activities):
        with pytest.raises(ReportRefused):
            await report_with_decision(dev_env.client, report, task_queue, 20)
    text = log.getvalue()
    assert "Traceback" not in text, text
    assert "ApplicationError" not in text, text


async def test_a_favicon_request_logs_nothing(tmp_path: Path, log: io.StringIO) -> None:
    app = create_app(store=FileStore(tmp_path / "files", max_bytes=1024), authenticator=LocalTokens(b"k" * 32))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        response = await http.get("/favicon.ico")
    assert response.status_code in (204, 404)
    service = [line for line in log.getvalue().splitlines() if "[httpx]" not in line]  # the test's own client
    assert not any("unauthenticated" in line or "favicon" in line for line in service), service


def test_uvicorn_lines_read_in_the_same_format(log: io.StringIO) -> None:
    """uvicorn set its own handlers and format up ("INFO:     …") beside ours."""
    uvicorn_config(object(), host="127.0.0.1", port=17501)
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    lines = [line for line in log.getvalue().splitlines() if line.strip()]
    assert lines and all(LINE.match(line) for line in lines), lines
