"""SMS to staff (R-D-1 injury specialist, OPEN-3 escalations, R-X-1 follow-ups) through an outbox.

`SmsOutbox` is the interface; `SqliteSmsOutbox` the embedded default: a message is "sent" when it
is in the outbox table, once per idempotency key. Handing the rows to the SMS gateway is the
relay's (outside this project: it reads the unsent rows, sends each to the phone of the recipient
role at the branch, and sets sent_at); `outbox()` is what it and the tests read. The body
holds personal data (R-D-1 requires the insured's name and a phone): it is stored, never logged.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

import structlog
from temporalio import activity

from activities.errors import BAD_SMS, refusal
from activities.sqlite import connection, create_database, from_utc_text, to_utc_text, utc_now, write_transaction
from domain.contracts import ActivityName, SendSmsInput, SendSmsResult, SmsKind
from domain.models import Frozen, Track

log = structlog.get_logger(__name__)

# Staff read Chinese; the track names are the program's own (SPEC §2–§5).
TRACK_NAMES_ZH = {
    Track.AUTHORISATION: "小额案件授权",
    Track.CREDIT: "小额案件授信",
    Track.EXPERT_TEAM: "大额赔案专家团队支持",
    Track.INJURY: "人伤案件全程通",
}


_TRACK_SERVICE = {t.value: f"“{name}”服务" for t, name in TRACK_NAMES_ZH.items()}


class BadSms(ValueError):
    """The message cannot be rendered: unknown kind or a required field missing."""


class SmsOutbox(Protocol):
    def send(self, input: SendSmsInput) -> SendSmsResult:
        """Queue one message per idempotency key; a repeat returns the first with duplicate=True."""
        ...


class OutboxMessage(Frozen):
    message_id: str
    idempotency_key: str
    kind: str
    report_no: str
    recipient_role: str
    body: str
    recipient_phone: str | None = None  # a customer's message only
    created_at: datetime
    sent_at: datetime | None = None


def _require(input: SendSmsInput, *names: str) -> dict[str, str]:
    values = {name: (input.fields.get(name) or "").strip() for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise BadSms(f"{input.kind} SMS for report {input.report_no} lacks field(s): {', '.join(missing)}")
    return values


def _track(code: str) -> str:
    try:
        return f"{code}（{TRACK_NAMES_ZH[Track(code)]}）"
    except ValueError:
        return code


def render_sms(input: SendSmsInput) -> str:
    """The message text. Raises BadSms (a ValueError) for an unknown kind or a missing field."""
    if input.kind == SmsKind.INJURY_SPECIALIST:
        # R-D-1: report number, the insured, the phone of the driver or the reporter.
        f = _require(input, "insured_name", "contact_phone")
        role = (input.fields.get("contact_role") or "").strip()
        phone = f"{f['contact_phone']}（{role}）" if role else f["contact_phone"]
        return (
            f"【人伤案件全程通】人伤报案，报案号{input.report_no}，被保险人{f['insured_name']}，"
            f"联系电话{phone}。请立即查询案件并致电客户，提供一对一全程服务。"
        )
    if input.kind == SmsKind.SUPERVISOR_ESCALATION:
        # OPEN-3: a human step missed its deadline.
        f = _require(input, "track", "step", "due_at")
        return (
            f"【理赔督办】报案号{input.report_no}，{_track(f['track'])}环节“{f['step']}”"
            f"应于{f['due_at']}前完成，现已超时，请督办。"
        )
    if input.kind == SmsKind.CUSTOMER_LINK:
        # issue 24: the customer's one message, with the signed link to their claim's page.
        f = _require(input, "link", "phone")
        tracks = [_TRACK_SERVICE.get(code.strip(), "") for code in (input.fields.get("tracks") or "").split(",")]
        service = "、".join(t for t in tracks if t) or "专项理赔服务"
        return (
            f"【车险理赔】您的报案（报案号{input.report_no}）已受理，您享有{service}。"
            f"理赔进度、尚缺单证、联系人和赔款情况请查看：{f['link']} （本链接仅限本案，请勿转发）"
        )
    if input.kind == SmsKind.SUPERVISOR_FOLLOW_UP:
        # R-X-1: a poor satisfaction score.
        f = _require(input, "track", "score")
        return f"【满意度回访】报案号{input.report_no}，{_track(f['track'])}回访评分{f['score']}分（差评），请主管跟进处理。"
    raise BadSms(f"unknown SMS kind {input.kind!r} for report {input.report_no}")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id              TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    report_no       TEXT NOT NULL,
    recipient_role  TEXT NOT NULL,
    recipient_phone TEXT,                -- a customer's message: their mobile (personal data, never logged)
    body            TEXT NOT NULL,       -- may hold personal data: never logged
    created_at      TEXT NOT NULL,       -- UTC
    sent_at         TEXT                 -- set by the relay that hands it to the SMS gateway
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(sent_at, created_at);
"""


class SqliteSmsOutbox:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        create_database(self.path, _SCHEMA)
        with write_transaction(self.path) as conn:  # an outbox made before customers' messages
            columns = {row["name"] for row in conn.execute("PRAGMA table_info(outbox)")}
            if "recipient_phone" not in columns:
                conn.execute("ALTER TABLE outbox ADD COLUMN recipient_phone TEXT")

    def send(self, input: SendSmsInput) -> SendSmsResult:
        body = render_sms(input)  # before the transaction: a bad message writes nothing
        with write_transaction(self.path) as conn:
            earlier = conn.execute("SELECT id FROM outbox WHERE idempotency_key = ?", (input.idempotency_key,)).fetchone()
            if earlier is not None:
                log.info("sms.duplicate", report_no=input.report_no, kind=input.kind, message_id=earlier["id"])
                return SendSmsResult(message_id=earlier["id"], duplicate=True)
            message_id = "SMS-" + uuid.uuid4().hex[:16]
            conn.execute(
                "INSERT INTO outbox (id, idempotency_key, kind, report_no, recipient_role, recipient_phone, body, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    input.idempotency_key,
                    input.kind,
                    input.report_no,
                    input.recipient_role,
                    input.fields.get("phone") if input.kind == SmsKind.CUSTOMER_LINK else None,
                    body,
                    to_utc_text(utc_now()),
                ),
            )
        log.info(
            "sms.queued",
            report_no=input.report_no,
            kind=input.kind,
            recipient_role=input.recipient_role,
            message_id=message_id,
        )
        return SendSmsResult(message_id=message_id)

    # --- reading the outbox (the relay, the tests) ------------------------------------------------------------
    def outbox(self, *, unsent_only: bool = False) -> list[OutboxMessage]:
        query = "SELECT * FROM outbox" + (" WHERE sent_at IS NULL" if unsent_only else "") + " ORDER BY created_at, id"
        with connection(self.path) as conn:
            rows = conn.execute(query).fetchall()
        return [_message(row) for row in rows]


def _message(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        message_id=row["id"],
        idempotency_key=row["idempotency_key"],
        kind=row["kind"],
        report_no=row["report_no"],
        recipient_role=row["recipient_role"],
        recipient_phone=row["recipient_phone"],
        body=row["body"],
        created_at=from_utc_text(row["created_at"]),
        sent_at=from_utc_text(row["sent_at"]) if row["sent_at"] else None,
    )


class SmsActivities:
    """`customer_link(report_no)` makes the customer's signed link (security/customer_links.py,
    handed in by the worker's set-up): the history holds the request, never the link."""

    def __init__(self, outbox: SmsOutbox, customer_link: Callable[[str], str] | None = None) -> None:
        self._outbox = outbox
        self._customer_link = customer_link

    @activity.defn(name=ActivityName.SEND_SMS)
    async def send_sms(self, input: SendSmsInput) -> SendSmsResult:
        if input.kind == SmsKind.CUSTOMER_LINK:
            if self._customer_link is None:
                raise refusal(f"no customer link can be made for report {input.report_no}: the worker has no link key", BAD_SMS)
            input = input.model_copy(update={"fields": {**input.fields, "link": self._customer_link(input.report_no)}})
        try:
            return await asyncio.to_thread(self._outbox.send, input)
        except BadSms as exc:
            raise refusal(str(exc), BAD_SMS) from exc
