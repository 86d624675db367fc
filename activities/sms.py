"""SMS to staff (R-D-1 injury specialist, OPEN-3 escalations, R-X-1 follow-ups) through an outbox.

`SmsOutbox` is the interface; `SqlSmsOutbox` the implementation over either engine (a SQLite file
by default, PostgreSQL with `PREMIUM_CLAIMS_DATABASE_URL`): a message is "sent" when it is in the
outbox table, once per idempotency key. Handing the rows to the SMS gateway is the
relay's (outside this project: it reads the unsent rows, sends each to the phone of the recipient
role at the branch, and sets sent_at); `outbox()` is what it and the tests read. The body
holds personal data (R-D-1 requires the insured's name and a phone): it is stored, never logged.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import structlog
from sqlalchemy import Connection, RowMapping, bindparam, text
from temporalio import activity

from activities.database import Database
from activities.errors import BAD_SMS, refusal
from activities.sqlite import from_utc_text, to_utc_text, utc_now
from domain.contracts import ActivityName, DeliveryNote, SendSmsInput, SendSmsResult, SmsKind
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


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # waiting for the relay (or for its next attempt)
    SENT = "sent"  # the provider took it: provider_message_id
    FAILED = "failed"  # given up after the relay's last attempt, or refused by the provider


class OutboxMessage(Frozen):
    message_id: str  # also the delivery key the provider deduplicates by: never sent twice
    idempotency_key: str
    kind: str
    report_no: str
    recipient_role: str
    body: str
    recipient_phone: str | None = None  # a customer's message only
    created_at: datetime
    sent_at: datetime | None = None
    status: DeliveryStatus = DeliveryStatus.QUEUED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    provider_message_id: str | None = None
    last_error: str | None = None

    def note(self) -> DeliveryNote:
        """Its delivery in words for the claim's timeline: status, attempts, the provider's id or
        the last error; never the body or the phone."""
        if self.status == DeliveryStatus.SENT:
            state = f"sent ({self.provider_message_id})"
        elif self.status == DeliveryStatus.FAILED:
            state = f"failed after {self.attempts} attempt(s): {self.last_error or ''}".rstrip(": ")
        else:
            state = f"queued, {self.attempts} attempt(s) so far" if self.attempts else "queued"
        return DeliveryNote(
            idempotency_key=self.idempotency_key,
            at=self.sent_at or self.created_at,
            step=f"sms_{self.status.value}",
            by="sms-relay",
            detail=f"{self.kind} to {self.recipient_role} {self.message_id}: {state}",
        )


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


class SqlSmsOutbox:
    """The outbox in a database (activities/database.py): a SQLite file, or PostgreSQL shared by
    every host. Its schema: activities/migrations/sms/."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("sms")

    def send(self, input: SendSmsInput) -> SendSmsResult:
        body = render_sms(input)  # before the transaction: a bad message writes nothing

        def queue(conn: Connection) -> SendSmsResult:
            earlier = conn.execute(
                text("SELECT id FROM outbox WHERE idempotency_key = :key"), {"key": input.idempotency_key}
            ).first()
            if earlier is not None:
                return SendSmsResult(message_id=earlier.id, duplicate=True)
            message_id = "SMS-" + uuid.uuid4().hex[:16]
            conn.execute(
                text(
                    "INSERT INTO outbox (id, idempotency_key, kind, report_no, recipient_role, recipient_phone, body, created_at) "
                    "VALUES (:id, :key, :kind, :report_no, :role, :phone, :body, :created_at)"
                ),
                {
                    "id": message_id,
                    "key": input.idempotency_key,
                    "kind": input.kind,
                    "report_no": input.report_no,
                    "role": input.recipient_role,
                    # a customer's message: their mobile (personal data, never logged)
                    "phone": input.fields.get("phone") if input.kind == SmsKind.CUSTOMER_LINK else None,
                    "body": body,
                    "created_at": to_utc_text(utc_now()),
                },
            )
            return SendSmsResult(message_id=message_id)

        result = self.db.write(queue)
        if result.duplicate:
            log.info("sms.duplicate", report_no=input.report_no, kind=input.kind, message_id=result.message_id)
        else:
            log.info(
                "sms.queued",
                report_no=input.report_no,
                kind=input.kind,
                recipient_role=input.recipient_role,
                message_id=result.message_id,
            )
        return result

    # --- reading the outbox (the relay, the tests) ------------------------------------------------------------
    def outbox(self, *, unsent_only: bool = False) -> list[OutboxMessage]:
        query = "SELECT * FROM outbox" + (" WHERE status <> 'sent'" if unsent_only else "") + " ORDER BY created_at, id"
        with self.db.reading() as conn:
            rows = conn.execute(text(query)).mappings().all()
        return [_message(row) for row in rows]

    def notes_for_report(self, report_no: str) -> list[DeliveryNote]:
        """The deliveries of one claim's messages as its timeline shows them (`claims show`, the API)."""
        return [message.note() for message in self.for_report(report_no)]

    def for_report(self, report_no: str) -> list[OutboxMessage]:
        """The messages about one claim, oldest first (its timeline shows their delivery)."""
        with self.db.reading() as conn:
            rows = conn.execute(
                text("SELECT * FROM outbox WHERE report_no = :no ORDER BY created_at, id"), {"no": report_no}
            ).mappings()
            return [_message(row) for row in rows]

    # --- the relay's side -------------------------------------------------------------------------------------
    def claim_due(self, relay: str, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Lease up to `limit` queued messages whose attempt is due and that no live lease holds.
        A relay that dies holding a lease lets go when it runs out: the messages go to the next."""
        now = utc_now()

        def lease_rows(conn: Connection) -> list[str]:
            ids = list(
                conn.execute(
                    text(
                        "SELECT id FROM outbox WHERE status = 'queued' "
                        "AND (next_attempt_at IS NULL OR next_attempt_at <= :now) "
                        "AND (leased_until IS NULL OR leased_until <= :now) ORDER BY created_at, id LIMIT :limit"
                    ),
                    {"now": to_utc_text(now), "limit": limit},
                ).scalars()
            )
            for message_id in ids:
                conn.execute(
                    text("UPDATE outbox SET leased_by = :relay, leased_until = :until WHERE id = :id"),
                    {"relay": relay, "until": to_utc_text(now + lease), "id": message_id},
                )
            return ids

        ids = self.db.write(lease_rows)
        if not ids:
            return []
        with self.db.reading() as conn:
            rows = conn.execute(
                text("SELECT * FROM outbox WHERE id IN :ids ORDER BY created_at, id").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            ).mappings()
            return [_message(row) for row in rows]

    def mark_sent(self, message_id: str, provider_message_id: str) -> None:
        self.db.write(
            lambda conn: conn.execute(
                text(
                    "UPDATE outbox SET status = 'sent', sent_at = :now, provider_message_id = :pid, attempts = attempts + 1, "
                    "leased_by = NULL, leased_until = NULL, last_error = NULL WHERE id = :id"
                ),
                {"now": to_utc_text(utc_now()), "pid": provider_message_id, "id": message_id},
            )
        )

    def mark_attempt_failed(self, message_id: str, error: str, retry_at: datetime | None) -> None:
        """One more failed attempt: try again at retry_at, or give up (status failed) when None."""
        self.db.write(
            lambda conn: conn.execute(
                text(
                    "UPDATE outbox SET status = :status, attempts = attempts + 1, next_attempt_at = :retry, "
                    "last_error = :error, leased_by = NULL, leased_until = NULL WHERE id = :id"
                ),
                {
                    "status": DeliveryStatus.QUEUED.value if retry_at else DeliveryStatus.FAILED.value,
                    "retry": to_utc_text(retry_at) if retry_at else None,
                    "error": error[:500],
                    "id": message_id,
                },
            )
        )


def _message(row: RowMapping) -> OutboxMessage:
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
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=from_utc_text(row["next_attempt_at"]) if row["next_attempt_at"] else None,
        provider_message_id=row["provider_message_id"],
        last_error=row["last_error"],
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
