"""Satisfaction callbacks and the supervisor follow-up of a poor score (R-X-1, R-C-6, R-D-6)."""

from __future__ import annotations

import pytest
from temporalio.testing import ActivityEnvironment

from activities.callbacks import CallbackActivities, SqlCallbackBook
from activities.sms import SqlSmsOutbox
from domain.contracts import RecordCallbackInput, SmsKind
from domain.models import Track
from tests.helpers.databases import Databases


def score(value: int, *, track: Track = Track.CREDIT, poor_max: int = 2, comment: str = "") -> RecordCallbackInput:
    return RecordCallbackInput(report_no="R2026000001", track=track, score=value, comment=comment, poor_score_max=poor_max)


@pytest.fixture
def sms(databases: Databases) -> SqlSmsOutbox:
    return SqlSmsOutbox(databases("sms"))


@pytest.fixture
def book(databases: Databases, sms: SqlSmsOutbox) -> SqlCallbackBook:
    return SqlCallbackBook(databases("callbacks"), sms=sms)


@pytest.mark.parametrize("value", [1, 2])
def test_poor_score_opens_follow_up_and_tells_a_supervisor_R_X_1(book: SqlCallbackBook, sms: SqlSmsOutbox, value: int) -> None:
    result = book.record(score(value))
    assert result.follow_up_opened and result.follow_up_id
    [follow_up] = book.follow_ups(open_only=True)
    assert (follow_up.follow_up_id, follow_up.report_no, follow_up.track, follow_up.score) == (
        result.follow_up_id,
        "R2026000001",
        Track.CREDIT,
        value,
    )
    [message] = sms.outbox()
    assert message.kind == SmsKind.SUPERVISOR_FOLLOW_UP and message.recipient_role == "supervisor"
    assert "R2026000001" in message.body and f"{value}分" in message.body


@pytest.mark.parametrize("value", [3, 5])
def test_good_score_opens_nothing_R_X_1(book: SqlCallbackBook, sms: SqlSmsOutbox, value: int) -> None:
    result = book.record(score(value))
    assert not result.follow_up_opened and result.follow_up_id is None
    assert book.follow_ups() == []
    assert sms.outbox() == []
    assert [c.score for c in book.callbacks()] == [value]


def test_poor_threshold_is_the_setting_R_X_1(book: SqlCallbackBook) -> None:
    assert book.record(score(3, poor_max=3)).follow_up_opened


def test_repeat_returns_the_first_result_R_X_1(book: SqlCallbackBook, sms: SqlSmsOutbox) -> None:
    first = book.record(score(1, comment="定损太慢"))
    assert book.record(score(1)) == first
    assert book.record(score(5)) == first  # a later, different score does not overwrite the first
    assert len(book.callbacks()) == 1 and len(book.follow_ups()) == 1 and len(sms.outbox()) == 1
    assert book.callbacks()[0].comment == "定损太慢"


def test_each_track_gets_its_own_callback_R_X_1(book: SqlCallbackBook, sms: SqlSmsOutbox) -> None:
    book.record(score(1, track=Track.CREDIT))
    book.record(score(1, track=Track.INJURY))
    book.record(score(4, track=Track.EXPERT_TEAM))
    assert len(book.callbacks()) == 3 and len(book.follow_ups()) == 2 and len(sms.outbox()) == 2


def test_supervisor_sms_lost_between_steps_is_sent_on_retry_R_X_1(databases: Databases, sms: SqlSmsOutbox) -> None:
    # As if the process died after the follow-up was written and before the SMS was queued.
    first = SqlCallbackBook(databases("callbacks"), sms=None).record(score(1))
    assert sms.outbox() == []
    assert SqlCallbackBook(databases("callbacks"), sms=sms).record(score(1)) == first
    assert [m.kind for m in sms.outbox()] == [SmsKind.SUPERVISOR_FOLLOW_UP]


async def test_activity_records_callback_R_X_1(book: SqlCallbackBook) -> None:
    result = await ActivityEnvironment().run(CallbackActivities(book).record_callback, score(2))
    assert result.follow_up_opened
    assert book.follow_ups()[0].follow_up_id == result.follow_up_id
