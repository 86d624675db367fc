"""Satisfaction callbacks (R-C-6, R-D-6, R-X-1): the score of each claim-track, and the supervisor
follow-up a poor score opens.

`CallbackBook` is the interface; `SqliteCallbackBook` the embedded default. A score is recorded
once per (report_no, track); a repeat answers as the first did. The follow-up row is written in
the same transaction as the score; the supervisor's SMS goes through the outbox with a key of its
own, and is (re)sent on every call that finds a follow-up: a crash between the two heals on retry.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from pathlib import Path
from typing import Protocol

import structlog
from temporalio import activity

from activities.sms import SmsOutbox
from activities.sqlite import connection, create_database, from_utc_text, to_utc_text, utc_now, write_transaction
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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS callbacks (
    report_no      TEXT NOT NULL,
    track          TEXT NOT NULL,
    score          INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment        TEXT NOT NULL,        -- the customer's words: never logged
    poor_score_max INTEGER NOT NULL,     -- the setting the score was judged by
    follow_up_id   TEXT,
    recorded_at    TEXT NOT NULL,        -- UTC
    PRIMARY KEY (report_no, track)
);
CREATE TABLE IF NOT EXISTS follow_ups (
    follow_up_id TEXT PRIMARY KEY,
    report_no    TEXT NOT NULL,
    track        TEXT NOT NULL,
    score        INTEGER NOT NULL,
    opened_at    TEXT NOT NULL,
    closed_at    TEXT,
    UNIQUE (report_no, track)
);
"""


class SqliteCallbackBook:
    def __init__(self, path: Path, sms: SmsOutbox | None = None) -> None:
        self.path = Path(path)
        self._sms = sms
        create_database(self.path, _SCHEMA)

    def record(self, input: RecordCallbackInput) -> RecordCallbackResult:
        with write_transaction(self.path) as conn:
            earlier = conn.execute(
                "SELECT score, follow_up_id FROM callbacks WHERE report_no = ? AND track = ?",
                (input.report_no, input.track.value),
            ).fetchone()
            if earlier is not None:
                score, follow_up_id = earlier["score"], earlier["follow_up_id"]
                if score != input.score:
                    log.warning(
                        "callbacks.repeat_with_other_score",
                        report_no=input.report_no,
                        track=input.track.value,
                        recorded=score,
                        ignored=input.score,
                    )
            else:
                score = input.score
                now = to_utc_text(utc_now())
                # R-X-1: a poor score opens a follow-up for a supervisor.
                follow_up_id = "FU-" + uuid.uuid4().hex[:16] if is_poor_score(score, input.poor_score_max) else None
                conn.execute(
                    "INSERT INTO callbacks (report_no, track, score, comment, poor_score_max, follow_up_id, recorded_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (input.report_no, input.track.value, score, input.comment, input.poor_score_max, follow_up_id, now),
                )
                if follow_up_id:
                    conn.execute(
                        "INSERT INTO follow_ups (follow_up_id, report_no, track, score, opened_at) VALUES (?, ?, ?, ?, ?)",
                        (follow_up_id, input.report_no, input.track.value, score, now),
                    )
                log.info(
                    "callbacks.recorded",
                    report_no=input.report_no,
                    track=input.track.value,
                    score=score,
                    follow_up_id=follow_up_id,
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
        with connection(self.path) as conn:
            rows = conn.execute("SELECT * FROM callbacks ORDER BY recorded_at, report_no, track").fetchall()
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
        with connection(self.path) as conn:
            rows = conn.execute(query).fetchall()
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
