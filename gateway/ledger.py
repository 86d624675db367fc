"""The stand-in bank's ledger (R-X-3): pays each claim-track exactly once. The bank owns it; the
payment activity reaches it only through the interface in activities/payments.py, in-process
(the embedded default, gateway/bank.py) or over HTTP (`python -m gateway`, gateway/server.py).

The ledger is the payment system, so it keeps the payee account, but no log line ever carries one.

Exactly once, three ways:
- the idempotency key is unique: a repeat returns the first receipt with already_paid=True, so an
  activity whose first attempt paid but whose answer was lost completes on retry;
- (report_no, track) is unique: a claim-track is never paid twice, even under another key;
- every check and the insert run in one serializable transaction: on SQLite BEGIN IMMEDIATE (the
  file's one write lock, taken before the first read: concurrent payers queue); on PostgreSQL
  SERIALIZABLE, where of two payers racing on one key or one claim-track one loses (40001, or
  23505 on the unique keys), is run again and finds the winner's row (activities/database.py).

One implementation over both engines (SQLAlchemy Core): a SQLite file by default, PostgreSQL when
the gateway is given its own URL (`python -m gateway --database-url`); its schema is the
versioned history in gateway/migrations/ledger/.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import structlog
from sqlalchemy import Connection, text

from activities.database import Database
from activities.errors import DUPLICATE_PAYMENT, IDEMPOTENCY_CONFLICT, refusal
from activities.sqlite import from_utc_text, to_utc_text, utc_now
from domain.contracts import PAYEE_NOT_INSURED, PAYMENT_DECLINED, PayIndemnityInput, PayIndemnityResult
from domain.models import Frozen, Track

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


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


class SqlPaymentLedger:
    """The ledger in a database (activities/database.py): a SQLite file, or PostgreSQL (the
    gateway's own URL). Its schema: gateway/migrations/ledger/.

    Exactly once on both engines: the checks and the insert are one serializable transaction
    (SQLite BEGIN IMMEDIATE; PostgreSQL SERIALIZABLE, run again when it lost a race, then finding
    the winner's row), and the schema holds the two unique keys besides."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("ledger", MIGRATIONS)

    @classmethod
    def sqlite(cls, path: Path) -> SqlPaymentLedger:
        return cls(Database.sqlite(path))

    @classmethod
    def postgres(cls, url: str, pool_size: int = 5) -> SqlPaymentLedger:
        return cls(Database.postgres(url, pool_size=pool_size))

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

        def book(conn: Connection) -> PayIndemnityResult:
            earlier = (
                conn.execute(text("SELECT * FROM payments WHERE idempotency_key = :key"), {"key": input.idempotency_key})
                .mappings()
                .first()
            )
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
                return PayIndemnityResult(
                    payment_id=earlier["payment_id"],
                    idempotency_key=input.idempotency_key,
                    amount=Decimal(earlier["amount"]),
                    paid_at=from_utc_text(earlier["paid_at"]),
                    already_paid=True,
                )
            other = conn.execute(
                text("SELECT payment_id FROM payments WHERE report_no = :report_no AND track = :track"),
                {"report_no": input.report_no, "track": input.track.value},
            ).scalar()
            if other is not None:
                log.warning("payments.refused_duplicate", report_no=input.report_no, track=input.track.value, payment_id=other)
                raise refusal(
                    f"report {input.report_no} track {input.track.value} was already paid "
                    f"({other}) under another idempotency key (R-X-3)",
                    DUPLICATE_PAYMENT,
                )
            payment_id = "PAY-" + uuid.uuid4().hex[:16]
            paid_at = utc_now()
            conn.execute(
                text(
                    "INSERT INTO payments (payment_id, idempotency_key, report_no, track, amount, payee_account, paid_at) "
                    "VALUES (:payment_id, :key, :report_no, :track, :amount, :payee, :paid_at)"
                ),
                {
                    "payment_id": payment_id,
                    "key": input.idempotency_key,
                    "report_no": input.report_no,
                    "track": input.track.value,
                    "amount": amount,
                    "payee": payee,
                    "paid_at": to_utc_text(paid_at),
                },
            )
            return PayIndemnityResult(
                payment_id=payment_id, idempotency_key=input.idempotency_key, amount=Decimal(amount), paid_at=paid_at
            )

        result = self.db.write(book)
        if result.already_paid:
            log.info("payments.already_paid", report_no=input.report_no, track=input.track.value, payment_id=result.payment_id)
        else:
            log.info(
                "payments.paid", report_no=input.report_no, track=input.track.value, payment_id=result.payment_id, amount=amount
            )
        return result

    # --- for tests, benchmarks and reconciliation -----------------------------------------------
    def payments(self) -> list[PaymentRecord]:
        with self.db.reading() as conn:
            rows = conn.execute(text("SELECT * FROM payments ORDER BY paid_at, payment_id")).mappings().all()
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
        with self.db.reading() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM payments")).scalar_one())

    def is_paid(self, idempotency_key: str) -> bool:
        with self.db.reading() as conn:
            return (
                conn.execute(text("SELECT 1 FROM payments WHERE idempotency_key = :key"), {"key": idempotency_key}).first()
                is not None
            )
