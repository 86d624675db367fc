"""The injury specialist's SMS (R-D-1) for report number n, as the outbox and relay tests send it."""

from __future__ import annotations

from domain.contracts import SendSmsInput, SmsKind


def injury(n: int) -> SendSmsInput:
    return SendSmsInput(
        idempotency_key=f"R2026{n:06d}:D:specialist-sms",
        kind=SmsKind.INJURY_SPECIALIST,
        report_no=f"R2026{n:06d}",
        recipient_role="injury_specialist",
        fields={"insured_name": "测试客户一", "contact_phone": "13800000001"},
    )
