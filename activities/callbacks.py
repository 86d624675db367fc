"""Satisfaction callbacks (R-C-6, R-D-6, R-X-1): the score of each claim-track, and the supervisor
follow-up a poor score opens.

`CallbackBook` is the interface; `SqlCallbackBook` the implementation over either engine. A score is recorded
once per (report_no, track); a repeat answers as the first did. The follow-up row is written in
the same transaction as the score; the supervisor's SMS goes through the outbox with a key of its
own, and is (re)sent on every call that finds a follow-up: a crash between the two heals on retry.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy import Connection, text
from temporalio import activity

from activities.database import Database
from activities.sms import SmsOutbox
from activities.sqlite import from_utc_text, to_utc_text, utc_now
from domain.contracts import ActivityName, RecordCallbackInput, RecordCallbackResult, SendSmsInput, SmsKind, follow_up_sms_key
from domain.models import Frozen, Track
from domain.rules import is_poor_score

log = structlog.get_logger(__name__)


class CallbackBook(Protocol):
    def record(self, input: RecordCallbackInput) -> RecordCallbackResult: ...


class CallbackRecord(Frozen):
    report_no: str
    track: Track
    score: int
    comment: str
    follow_up_id: str | None
    recorded_at: datetime


class FollowUp(Frozen):
    follow_up_id: str
    report_no: str
    track: Track
    score: int
    opened_at: datetime
    closed_at: datetime | None = None


class SqlCallbackBook:
    """The book in a database (activities/database.py); its schema: activities/migrations/callbacks/."""

    def __init__(self, db: Database, sms: SmsOutbox | None = None) -> None:
        self.db = db
        self._sms = sms
        db.migrate("callbacks")

    def record(self, input: RecordCallbackInput) -> RecordCallbackResult:
        def write(conn: Connection) -> tuple[int, str | None, bool]:
            key = {"report_no": input.report_no, "track": input.track.value}
            earlier = conn.execute(
                text("SELECT score, follow_up_id FROM callbacks WHERE report_no = :report_no AND track = :track"), key
            ).first()
            if earlier is not None:
                return earlier.score, earlier.follow_up_id, False
            now = to_utc_text(utc_now())
            # R-X-1: a poor score opens a follow-up for a supervisor.
            follow_up_id = "FU-" + uuid.uuid4().hex[:16] if is_poor_score(input.score, input.poor_score_max) else None
            conn.execute(
                text(
                    "INSERT INTO callbacks (report_no, track, score, comment, poor_score_max, follow_up_id, recorded_at) "
                    "VALUES (:report_no, :track, :score, :comment, :poor_max, :follow_up_id, :now)"
                ),
                {
                    **key,
                    "score": input.score,
                    "comment": input.comment,
                    "poor_max": input.poor_score_max,
                    "follow_up_id": follow_up_id,
                    "now": now,
                },
            )
            if follow_up_id:
                conn.execute(
                    text(
                        "INSERT INTO follow_ups (follow_up_id, report_no, track, score, opened_at) "
                        "VALUES (:follow_up_id, :report_no, :track, :score, :now)"
                    ),
                    {**key, "follow_up_id": follow_up_id, "score": input.score, "now": now},
                )
            return input.score, follow_up_id, True

        score, follow_up_id, new = self.db.write(write)
        if new:
            log.info(
                "callbacks.recorded", report_no=input.report_no, track=input.track.value, score=score, follow_up_id=follow_up_id
            )
        elif score != input.score:
            log.warning(
                "callbacks.repeat_with_other_score",
                report_no=input.report_no,
                track=input.track.value,
                recorded=score,
                ignored=input.score,
            )
        if follow_up_id and self._sms is not None:
            self._sms.send(
                SendSmsInput(
                    idempotency_key=follow_up_sms_key(input.report_no, input.track),
                    kind=SmsKind.SUPERVISOR_FOLLOW_UP,
                    report_no=input.report_no,
                    recipient_role="supervisor",
                    fields={"track": input.track.value, "score": str(score)},
                )
            )
        return RecordCallbackResult(follow_up_opened=follow_up_id is not None, follow_up_id=follow_up_id)

    # --- for tests and the supervisors' list ----------------------------------------------------
    def callbacks(self) -> list[CallbackRecord]:
        with self.db.reading() as conn:
            rows = conn.execute(text("SELECT * FROM callbacks ORDER BY recorded_at, report_no, track")).mappings().all()
        return [
            CallbackRecord(
                report_no=row["report_no"],
                track=Track(row["track"]),
                score=row["score"],
                comment=row["comment"],
                follow_up_id=row["follow_up_id"],
                recorded_at=from_utc_text(row["recorded_at"]),
            )
            for row in rows
        ]

    def follow_ups(self, *, open_only: bool = False) -> list[FollowUp]:
        query = "SELECT * FROM follow_ups" + (" WHERE closed_at IS NULL" if open_only else "") + " ORDER BY opened_at"
        with self.db.reading() as conn:
            rows = conn.execute(text(query)).mappings().all()
        return [
            FollowUp(
                follow_up_id=row["follow_up_id"],
                report_no=row["report_no"],
                track=Track(row["track"]),
                score=row["score"],
                opened_at=from_utc_text(row["opened_at"]),
                closed_at=from_utc_text(row["closed_at"]) if row["closed_at"] else None,
            )
            for row in rows
        ]


class CallbackActivities:
    def __init__(self, book: CallbackBook) -> None:
        self._book = book

    @activity.defn(name=ActivityName.RECORD_CALLBACK)
    async def record_callback(self, input: RecordCallbackInput) -> RecordCallbackResult:
        return await asyncio.to_thread(self._book.record, input)
