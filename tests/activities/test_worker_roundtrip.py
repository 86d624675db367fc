"""Every activity of `build_activities`, registered on a real worker and called by name through
the pydantic data converter, as the workflows will call them; refusals arrive non-retryable.
Uses the session's time-skipping server (`time_env`, tests/conftest.py)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import build_activities, open_embedded
from activities.core_system import SqlCoreSystem
from activities.database import Database
from domain.contracts import (
    PAYEE_NOT_INSURED,
    ActivityName,
    CheckFilesInput,
    CheckFilesResult,
    LoadRulesInput,
    LookupPolicyInput,
    LookupPolicyResult,
    PayIndemnityInput,
    PayIndemnityResult,
    RecordCallbackInput,
    RecordCallbackResult,
    SendSmsInput,
    SendSmsResult,
    SmsKind,
)
from domain.models import Frozen, Track
from domain.rules import CHINA_TZ, RuleSettings
from gateway.bank import open_bank

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "core.json"
TIMEOUT = timedelta(seconds=10)


class RoundTrip(Frozen):
    prior_claims: int
    premium_tag: str | None
    paid: Decimal
    repaid_already: bool
    missing: tuple[str, ...]
    follow_up_opened: bool
    sms_duplicate: bool
    small_claim_own_max: Decimal


def pay(payee: str) -> PayIndemnityInput:
    return PayIndemnityInput(
        idempotency_key="R2026000001:B:indemnity",
        report_no="R2026000001",
        track=Track.CREDIT,
        amount=Decimal("2850.50"),
        payee_account=payee,
        insured_account="6222000000000017",
    )


@workflow.defn(name="test-activities-roundtrip", sandboxed=False)
class RoundTripWorkflow:
    @workflow.run
    async def run(self, payee: str) -> RoundTrip:
        rules = await workflow.execute_activity(
            ActivityName.LOAD_RULES, LoadRulesInput(), result_type=RuleSettings, start_to_close_timeout=TIMEOUT
        )
        looked_up = await workflow.execute_activity(
            ActivityName.LOOKUP_POLICY,
            LookupPolicyInput(
                report_no="R2026000001", policy_no="P2026000001", reported_at=datetime(2026, 3, 1, 10, tzinfo=CHINA_TZ)
            ),
            result_type=LookupPolicyResult,
            start_to_close_timeout=TIMEOUT,
        )
        receipts = [
            await workflow.execute_activity(
                ActivityName.PAY_INDEMNITY,
                pay(payee),
                result_type=PayIndemnityResult,
                start_to_close_timeout=TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=3),
            )
            for _ in range(2)
        ]
        files = await workflow.execute_activity(
            ActivityName.CHECK_FILES,
            CheckFilesInput(sha256=("a" * 64,)),
            result_type=CheckFilesResult,
            start_to_close_timeout=TIMEOUT,
        )
        callback = await workflow.execute_activity(
            ActivityName.RECORD_CALLBACK,
            RecordCallbackInput(report_no="R2026000001", track=Track.CREDIT, score=1, poor_score_max=2),
            result_type=RecordCallbackResult,
            start_to_close_timeout=TIMEOUT,
        )
        sms = await workflow.execute_activity(
            ActivityName.SEND_SMS,
            SendSmsInput(
                idempotency_key="R2026000001:B:callback-follow-up",  # the key the callback book used
                kind=SmsKind.SUPERVISOR_FOLLOW_UP,
                report_no="R2026000001",
                recipient_role="supervisor",
                fields={"track": "B", "score": "1"},
            ),
            result_type=SendSmsResult,
            start_to_close_timeout=TIMEOUT,
        )
        return RoundTrip(
            prior_claims=looked_up.history.prior_claims_this_period,
            premium_tag=looked_up.customer.premium_tag,
            paid=receipts[0].amount,
            repaid_already=receipts[1].already_paid,
            missing=files.missing,
            follow_up_opened=callback.follow_up_opened,
            sms_duplicate=sms.duplicate,
            small_claim_own_max=rules.thresholds.small_claim_own_max,
        )


async def test_every_activity_answers_through_a_worker_R_X_3_R_X_1(
    time_env: WorkflowEnvironment, tmp_path: Path, database_url: str | None
) -> None:
    """On both engines: the worker's systems as `open_embedded` opens them for SQLite files or a
    PostgreSQL URL."""
    systems = open_embedded(tmp_path, database_url=database_url, pool_size=2)
    activities = build_activities(systems, RuleSettings(), bank=open_bank(tmp_path))
    systems.core.load_file(SAMPLE)
    queue = f"activities-{uuid.uuid4()}"
    async with Worker(time_env.client, task_queue=queue, workflows=[RoundTripWorkflow], activities=activities):
        result = await time_env.client.execute_workflow(
            RoundTripWorkflow.run, "6222 0000 0000 0017", id=f"rt-{uuid.uuid4()}", task_queue=queue
        )
    assert result == RoundTrip(
        prior_claims=0,
        premium_tag="钻石(-3)成功男士",
        paid=Decimal("2850.50"),
        repaid_already=True,
        missing=("a" * 64,),
        follow_up_opened=True,
        sms_duplicate=True,
        small_claim_own_max=Decimal("3000.00"),
    )


async def test_refusal_is_not_retried_by_the_worker_R_X_3(time_env: WorkflowEnvironment, tmp_path: Path) -> None:
    activities = build_activities(tmp_path, RuleSettings(), bank=open_bank(tmp_path))
    SqlCoreSystem(Database.sqlite(tmp_path / "core.sqlite3")).load_file(SAMPLE)
    queue = f"activities-{uuid.uuid4()}"
    handle_id = f"rt-{uuid.uuid4()}"
    async with Worker(time_env.client, task_queue=queue, workflows=[RoundTripWorkflow], activities=activities):
        with pytest.raises(WorkflowFailureError) as caught:
            await time_env.client.execute_workflow(RoundTripWorkflow.run, "6222000000000099", id=handle_id, task_queue=queue)
    activity_error = caught.value.cause
    assert isinstance(activity_error, ActivityError)
    assert isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.type == PAYEE_NOT_INSURED
    # One attempt although the policy allows three: non-retryable.
    history = await time_env.client.get_workflow_handle(handle_id).fetch_history()
    scheduled = [e for e in history.events if e.HasField("activity_task_started_event_attributes")]
    assert [e.activity_task_started_event_attributes.attempt for e in scheduled][-1] == 1
