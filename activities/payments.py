"""Indemnity payments (R-A-6, R-B-5): a ledger that pays each claim-track exactly once (R-X-3).

`PaymentLedger` is the interface; `SqlitePaymentLedger` the embedded default: the ledger is the
payment system, so it keeps the payee account, but no log line ever carries one.

Exactly once, three ways:
- the idempotency key is unique: a repeat returns the first receipt with already_paid=True, so an
  activity whose first attempt paid but whose answer was lost completes on retry;
- (report_no, track) is unique: a claim-track is never paid twice, even under another key;
- every check and the insert run in one BEGIN IMMEDIATE transaction, so concurrent workers queue.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import DUPLICATE_PAYMENT, IDEMPOTENCY_CONFLICT, refusal
from activities.sqlite import connection, create_database, from_utc_text, to_utc_text, utc_now, write_transaction
from domain.contracts import (
    NON_RETRYABLE,
    PAYEE_NOT_INSURED,
    PAYMENT_DECLINED,
    ActivityName,
    PayIndemnityInput,
    PayIndemnityResult,
)
from domain.models import Frozen, Track

log = structlog.get_logger(__name__)


# A transient failure of the gateway (timeout, 5xx, dropped connection): retryable, with backoff.
GATEWAY_UNAVAILABLE = "PaymentGatewayUnavailable"


class PaymentLedger(Protocol):
    def pay(self, input: PayIndemnityInput) -> PayIndemnityResult:
        """Pay once per idempotency key and per claim-track; refuse any payee but the insured."""
        ...


class AsyncPaymentGateway(Protocol):
    async def pay_async(self, input: PayIndemnityInput) -> PayIndemnityResult:
        """The same contract as PaymentLedger.pay, over the network."""
        ...


class PaymentRecord(Frozen):
    payment_id: str
    idempotency_key: str
    report_no: str
    track: Track
    amount: Decimal
    payee_account: str
    paid_at: datetime


def normalise_account(account: str) -> str:
    """Bank account numbers are compared without spaces (of any width): '6222 0000' == '62220000'."""
    return "".join(account.split())


_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    payment_id      TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    report_no       TEXT NOT NULL,
    track           TEXT NOT NULL,
    amount          TEXT NOT NULL,       -- Decimal yuan, two places; never REAL
    payee_account   TEXT NOT NULL,       -- without spaces
    paid_at         TEXT NOT NULL,       -- UTC
    UNIQUE (report_no, track)
);
"""


class SqlitePaymentLedger:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        create_database(self.path, _SCHEMA)

    def pay(self, input: PayIndemnityInput) -> PayIndemnityResult:
        payee = normalise_account(input.payee_account)
        insured = normalise_account(input.insured_account)
        # R-X-3 / R-EL-1.6, before anything is written: only the insured's own account.
        if not insured or payee != insured:
            log.warning("payments.refused_payee_not_insured", report_no=input.report_no, track=input.track.value)
            raise refusal(
                f"report {input.report_no}: the payee account is not the insured's own account (R-X-3)",
                PAYEE_NOT_INSURED,
            )
        if input.amount <= 0:
            raise refusal(f"report {input.report_no}: nothing to pay (amount {input.amount})", PAYMENT_DECLINED)
        amount = str(input.amount.quantize(Decimal("0.01")))

        with write_transaction(self.path) as conn:
            earlier = conn.execute("SELECT * FROM payments WHERE idempotency_key = ?", (input.idempotency_key,)).fetchone()
            if earlier is not None:
                same = (
                    earlier["report_no"] == input.report_no
                    and earlier["track"] == input.track.value
                    and Decimal(earlier["amount"]) == input.amount
                    and earlier["payee_account"] == payee
                )
                if not same:
                    raise refusal(
                        f"idempotency key {input.idempotency_key} was used for a different payment",
                        IDEMPOTENCY_CONFLICT,
                    )
                log.info(
                    "payments.already_paid",
                    report_no=input.report_no,
                    track=input.track.value,
                    payment_id=earlier["payment_id"],
                )
                return PayIndemnityResult(
                    payment_id=earlier["payment_id"],
                    idempotency_key=input.idempotency_key,
                    amount=Decimal(earlier["amount"]),
                    paid_at=from_utc_text(earlier["paid_at"]),
                    already_paid=True,
                )
            other = conn.execute(
                "SELECT payment_id FROM payments WHERE report_no = ? AND track = ?",
                (input.report_no, input.track.value),
            ).fetchone()
            if other is not None:
                log.warning(
                    "payments.refused_duplicate",
                    report_no=input.report_no,
                    track=input.track.value,
                    payment_id=other["payment_id"],
                )
                raise refusal(
                    f"report {input.report_no} track {input.track.value} was already paid "
                    f"({other['payment_id']}) under another idempotency key (R-X-3)",
                    DUPLICATE_PAYMENT,
                )
            payment_id = "PAY-" + uuid.uuid4().hex[:16]
            paid_at = utc_now()
            conn.execute(
                "INSERT INTO payments (payment_id, idempotency_key, report_no, track, amount, payee_account, paid_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (payment_id, input.idempotency_key, input.report_no, input.track.value, amount, payee, to_utc_text(paid_at)),
            )
        log.info("payments.paid", report_no=input.report_no, track=input.track.value, payment_id=payment_id, amount=amount)
        return PayIndemnityResult(
            payment_id=payment_id, idempotency_key=input.idempotency_key, amount=Decimal(amount), paid_at=paid_at
        )

    # --- for tests, benchmarks and reconciliation -----------------------------------------------
    def payments(self) -> list[PaymentRecord]:
        with connection(self.path) as conn:
            rows = conn.execute("SELECT * FROM payments ORDER BY paid_at, payment_id").fetchall()
        return [
            PaymentRecord(
                payment_id=row["payment_id"],
                idempotency_key=row["idempotency_key"],
                report_no=row["report_no"],
                track=Track(row["track"]),
                amount=Decimal(row["amount"]),
                payee_account=row["payee_account"],
                paid_at=from_utc_text(row["paid_at"]),
            )
            for row in rows
        ]

    def count(self) -> int:
        with connection(self.path) as conn:
            return conn.execute("SELECT COUNT(*) FROM payments").fetchone()[0]

    def is_paid(self, idempotency_key: str) -> bool:
        with connection(self.path) as conn:
            row = conn.execute("SELECT 1 FROM payments WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
        return row is not None


class HttpPaymentGateway:
    """The client of a payment gateway over HTTP: the bank's in production, `python -m gateway` here.

    POST {base}/v1/payments with the PayIndemnityInput as JSON and the idempotency key as the
    Idempotency-Key header. 200: the receipt. 4xx: a business refusal {"type", "message"}, raised
    non-retryable. Anything else (timeout, 5xx, a connection closed without an answer) raises the
    retryable GATEWAY_UNAVAILABLE: the payment may have been booked, and the retry with the same
    key returns that booking's receipt.
    """

    def __init__(self, base_url: str, timeout_seconds: float = 20.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout_seconds

    async def pay_async(self, input: PayIndemnityInput) -> PayIndemnityResult:
        try:
            # a fresh connection per call: a pooled one the gateway dropped would fail the next call
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.post(
                    f"{self.base_url}/v1/payments",
                    content=input.model_dump_json(),
                    headers={"Content-Type": "application/json", "Idempotency-Key": input.idempotency_key},
                )
        except httpx.TimeoutException as err:
            raise _unavailable(input, f"no answer within {self.timeout:g}s") from err
        except httpx.TransportError as err:  # refused, reset, closed without an answer
            raise _unavailable(input, type(err).__name__) from err
        if response.status_code == 200:
            return PayIndemnityResult.model_validate_json(response.content)
        if 400 <= response.status_code < 500:
            try:
                body = response.json()
                error_type, message = str(body["type"]), str(body["message"])
            except (ValueError, KeyError, TypeError):
                error_type, message = "", ""
            if error_type in NON_RETRYABLE:
                log.warning("payments.gateway_refused", report_no=input.report_no, track=input.track.value, type=error_type)
                # the reason goes into the claim's history and view: keep it short (the bank's text)
                raise ApplicationError(message[:300], type=error_type, non_retryable=True)
        raise _unavailable(input, f"HTTP {response.status_code}")


def _unavailable(input: PayIndemnityInput, what: str) -> ApplicationError:
    log.info("payments.gateway_unavailable", report_no=input.report_no, track=input.track.value, what=what)
    return ApplicationError(f"payment gateway unavailable: {what}", type=GATEWAY_UNAVAILABLE)


class PaymentActivities:
    """The payment activity over the embedded ledger (in a thread) or a gateway (over HTTP).

    It heartbeats every `heartbeat_seconds` while the call is in flight, so a worker that died
    mid-payment is noticed within the heartbeat timeout (PAYMENT_CALL), not the 2-minute attempt.
    """

    def __init__(self, ledger: PaymentLedger | AsyncPaymentGateway, heartbeat_seconds: float = 2.0) -> None:
        self._ledger = ledger
        self._heartbeat_seconds = heartbeat_seconds

    @activity.defn(name=ActivityName.PAY_INDEMNITY)
    async def pay_indemnity(self, input: PayIndemnityInput) -> PayIndemnityResult:
        activity.heartbeat()
        if hasattr(self._ledger, "pay_async"):
            call = asyncio.ensure_future(self._ledger.pay_async(input))
        else:
            call = asyncio.ensure_future(asyncio.to_thread(self._ledger.pay, input))
        try:
            while True:
                done, _ = await asyncio.wait({call}, timeout=self._heartbeat_seconds)
                if done:
                    return call.result()
                activity.heartbeat()
        finally:
            # cancelled (heartbeat timeout, worker shutdown): stop waiting; the retry uses the same key
            call.cancel()
