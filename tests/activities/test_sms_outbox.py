"""SMS to staff through the outbox (R-D-1 injury specialist, OPEN-3 escalation, R-X-1 follow-up),
on SQLite and on PostgreSQL (tests/databases.py)."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.errors import BAD_SMS
from activities.sms import BadSms, SmsActivities, SqlSmsOutbox, render_sms
from domain.contracts import SendSmsInput, SmsKind
from tests.helpers.databases import Databases

NAME = "测试客户一"
PHONE = "13800000001"


def injury(key: str = "R2026000001:D:specialist-sms", **fields: str) -> SendSmsInput:
    return SendSmsInput(
        idempotency_key=key,
        kind=SmsKind.INJURY_SPECIALIST,
        report_no="R2026000001",
        recipient_role="injury_specialist",
        fields=fields or {"insured_name": NAME, "contact_phone": PHONE, "contact_role": "驾驶员"},
    )


@pytest.fixture
def outbox(databases: Databases) -> SqlSmsOutbox:
    return SqlSmsOutbox(databases("sms"))


def test_injury_sms_carries_report_insured_and_phone_R_D_1(outbox: SqlSmsOutbox) -> None:
    result = outbox.send(injury())
    assert result.message_id.startswith("SMS-") and not result.duplicate
    [message] = outbox.outbox()
    assert "R2026000001" in message.body and NAME in message.body and PHONE in message.body
    assert message.kind == SmsKind.INJURY_SPECIALIST
    assert message.recipient_role == "injury_specialist"
    assert message.sent_at is None


def test_same_key_queues_one_message_R_D_1(outbox: SqlSmsOutbox) -> None:
    first = outbox.send(injury())
    again = outbox.send(injury())
    assert again.duplicate and again.message_id == first.message_id
    assert len(outbox.outbox()) == 1


@pytest.mark.parametrize("missing", ["insured_name", "contact_phone"])
async def test_injury_sms_without_a_required_field_is_refused_R_D_1(outbox: SqlSmsOutbox, missing: str) -> None:
    fields = {"insured_name": NAME, "contact_phone": PHONE}
    fields[missing] = "  "
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(SmsActivities(outbox).send_sms, injury(**fields))
    assert caught.value.type == BAD_SMS
    assert caught.value.non_retryable
    assert missing in str(caught.value)
    assert outbox.outbox() == []


def test_escalation_names_report_track_step_and_due_time() -> None:
    body = render_sms(
        SendSmsInput(
            idempotency_key="k",
            kind=SmsKind.SUPERVISOR_ESCALATION,
            report_no="R2026000001",
            recipient_role="supervisor",
            fields={"track": "D", "step": "specialist_first_call", "due_at": "2026-03-01 10:30"},
        )
    )
    assert all(part in body for part in ("R2026000001", "人伤案件全程通", "specialist_first_call", "2026-03-01 10:30"))


def test_follow_up_names_report_track_and_score_R_X_1() -> None:
    body = render_sms(
        SendSmsInput(
            idempotency_key="k",
            kind=SmsKind.SUPERVISOR_FOLLOW_UP,
            report_no="R2026000001",
            recipient_role="supervisor",
            fields={"track": "B", "score": "1"},
        )
    )
    assert "R2026000001" in body and "小额案件授信" in body and "1分" in body


def test_unknown_kind_cannot_be_rendered() -> None:
    with pytest.raises(BadSms):
        render_sms(SendSmsInput(idempotency_key="k", kind="marketing", report_no="R2026000001", recipient_role="x"))


def test_logs_never_carry_name_or_phone_R_D_1(outbox: SqlSmsOutbox) -> None:
    with capture_logs() as logs:
        outbox.send(injury())
        outbox.send(injury())
    assert logs
    assert all(NAME not in repr(entry) and PHONE not in repr(entry) for entry in logs)


async def test_activity_queues_the_message_unsent_for_the_relay(outbox: SqlSmsOutbox) -> None:
    result = await ActivityEnvironment().run(SmsActivities(outbox).send_sms, injury())
    assert [m.message_id for m in outbox.outbox(unsent_only=True)] == [result.message_id]
    assert outbox.outbox()[0].sent_at is None
