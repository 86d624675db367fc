"""How the workflows call outside systems: timeouts and retries (the call policy), and the short
call that is a local activity on new runs (versioning.small_history)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.contracts import NON_RETRYABLE
    from workflows.versioning import small_history

# Outside calls: short ones retry quickly; the payment retries for up to a day, with backoff, and
# never retries a business refusal (the NON_RETRYABLE error types). The payment activity
# heartbeats every few seconds while the gateway call is in flight, so a worker killed mid-payment
# is noticed within the heartbeat timeout and the retry (same idempotency key) gets the receipt.
QUICK_CALL: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), non_retryable_error_types=NON_RETRYABLE),
)
PAYMENT_CALL: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(minutes=2),
    schedule_to_close_timeout=timedelta(days=1),
    heartbeat_timeout=timedelta(seconds=10),  # the activity heartbeats every 2 s
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=5),
        non_retryable_error_types=NON_RETRYABLE,
    ),
)


async def quick_call(
    activity: str, arg: object, *, current: bool, result_type: type | None = None, summary: str | None = None
) -> Any:
    """A short call (QUICK_CALL timeouts and retries): a local activity on new claims."""
    if small_history(current):
        return await workflow.execute_local_activity(activity, arg, result_type=result_type, summary=summary, **QUICK_CALL)
    return await workflow.execute_activity(activity, arg, result_type=result_type, summary=summary, **QUICK_CALL)
