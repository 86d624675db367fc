"""Activity log lines carry the workflow ID (and so the report number) and the activity name."""

from __future__ import annotations

import dataclasses

import structlog
from structlog.testing import capture_logs
from temporalio.testing import ActivityEnvironment

from worker.interceptors import LogContextInterceptor


class LogsOneLine:
    """Stands for the activity the interceptor wraps."""

    async def execute_activity(self, input: object) -> str:
        structlog.get_logger("test").info("payments.paid", amount="2650.00")
        return "done"


async def test_activity_logs_name_the_claim_and_activity() -> None:
    interceptor = LogContextInterceptor().intercept_activity(LogsOneLine())  # type: ignore[arg-type]  # a stand-in for the next interceptor
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="claim-R20261125001-B", activity_type="payments.pay_indemnity")
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        result = await env.run(interceptor.execute_activity, None)  # type: ignore[arg-type]  # LogsOneLine ignores its input
    assert result == "done"
    [line] = logs
    assert line["workflow_id"] == "claim-R20261125001-B"
    assert line["activity"] == "payments.pay_indemnity"
    assert line["attempt"] == 1
    # nothing leaks into the next log line outside the activity
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as after:
        structlog.get_logger("test").info("elsewhere")
    assert "workflow_id" not in after[0]
