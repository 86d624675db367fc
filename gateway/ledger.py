"""The stand-in bank's ledger (R-X-3): pays each claim-track exactly once. The bank owns it; the
payment activity reaches it only through the interface in activities/payments.py, in-process
(the embedded default, gateway/bank.py) or over HTTP (`python -m gateway`, gateway/server.py).

The ledger is the payment system, so it keeps the payee account, but no log line ever carries one.

Exactly once, three ways:
- the idempotency key is unique: a repeat returns the first receipt with already_paid=True, so an
  activity whose first attempt paid but whose answer was lost completes on retry;
- (report_no, track) is unique: a claim-track is never paid twice, even under another key;
- every check and the insert run in one BEGIN IMMEDIATE transaction, so concurrent workers queue.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import structlog

from activities.errors import DUPLICATE_PAYMENT, IDEMPOTENCY_CONFLICT, refusal
from activities.sqlite import connection, create_database, from_utc_text, to_utc_text, utc_now, write_transaction
from domain.contracts import PAYEE_NOT_INSURED, PAYMENT_DECLINED, PayIndemnityInput, PayIndemnityResult
from domain.models import Frozen, Track

log = structlog.get_logger(__name__)


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
