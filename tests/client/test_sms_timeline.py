"""A claim's SMS deliveries on its timeline (issue 22.6, R-D-1): the injury specialist's message on
track D's timeline with the relay's status and the provider's id, never the body."""

from __future__ import annotations

from datetime import UTC, datetime

from activities.sms import DeliveryStatus, OutboxMessage
from client.deliveries import with_deliveries
from domain.models import Track
from workflows.messages import ClaimView, Stage, TimelineEntry, TrackView

AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
BODY = "【人伤案件全程通】人伤报案，报案号R2026000001，被保险人测试客户一，联系电话13800000001。"


def message(message_id: str, key: str, status: DeliveryStatus, **extra: object) -> OutboxMessage:
    return OutboxMessage(
        message_id=message_id,
        idempotency_key=key,
        kind="injury_specialist",
        report_no="R2026000001",
        recipient_role="injury_specialist",
        body=BODY,
        created_at=AT,
        status=status,
        **extra,
    )


def test_deliveries_join_the_timeline_of_their_track_R_D_1() -> None:
    track = TrackView(
        track=Track.INJURY,
        workflow_id="claim-R2026000001-D",
        stage=Stage.DECIDING,
        timeline=(TimelineEntry(at=AT.replace(hour=1), step="reported"),),
    )
    view = ClaimView(report_no="R2026000001", stage=Stage.DECIDING, tracks={Track.INJURY: track})
    sent = message(
        "SMS-1", "R2026000001:D:specialist-sms", DeliveryStatus.SENT, sent_at=AT, provider_message_id="MSG-1", attempts=2
    )
    stray = message("SMS-2", "R2026000001:escalation", DeliveryStatus.FAILED, attempts=10, last_error="provider answered 503")

    shown = with_deliveries(view, [sent.note(), stray.note()])

    steps = [(e.step, e.detail) for e in shown.tracks[Track.INJURY].timeline]
    assert steps[0][0] == "reported"
    assert steps[1] == ("sms_sent", "injury_specialist to injury_specialist SMS-1: sent (MSG-1)")
    assert [e.step for e in shown.timeline] == ["sms_failed"]
    assert "provider answered 503" in shown.timeline[0].detail
    assert "测试客户一" not in shown.model_dump_json() and "13800000001" not in shown.model_dump_json()
    assert with_deliveries(view, []) == view
