"""The payment ledger: only the insured's account, and exactly once (R-X-3, R-EL-1.6, R-X-2), on
SQLite and on PostgreSQL (tests/helpers/databases.py): the concurrent payers race for real on both."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.errors import DUPLICATE_PAYMENT, IDEMPOTENCY_CONFLICT
from activities.payments import PaymentActivities
from domain.contracts import PAYEE_NOT_INSURED, PAYMENT_DECLINED, PayIndemnityInput, PayIndemnityResult
from domain.models import Track
from gateway.ledger import SqlPaymentLedger
from tests.helpers.databases import Databases

ACCOUNT = "6222000000000001"


def order(
    key: str = "R2026000001:B:indemnity",
    *,
    report_no: str = "R2026000001",
    track: Track = Track.CREDIT,
    amount: str = "2850.50",
    payee: str = ACCOUNT,
    insured: str = ACCOUNT,
) -> PayIndemnityInput:
    return PayIndemnityInput(
        idempotency_key=key,
        report_no=report_no,
        track=track,
        amount=Decimal(amount),
        payee_account=payee,
        insured_account=insured,
    )


@pytest.fixture
def ledger(databases: Databases) -> SqlPaymentLedger:
    return SqlPaymentLedger(databases("ledger"))


def refused(ledger: SqlPaymentLedger, input: PayIndemnityInput) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        ledger.pay(input)
    assert caught.value.non_retryable
    return caught.value


def test_pays_once_and_keeps_money_as_text_R_X_3(ledger: SqlPaymentLedger) -> None:
    receipt = ledger.pay(order())
    assert receipt.payment_id.startswith("PAY-") and len(receipt.payment_id) == 20
    assert receipt.amount == Decimal("2850.50")
    assert receipt.paid_at.tzinfo is not None
    assert not receipt.already_paid
    [record] = ledger.payments()
    assert (record.payment_id, record.amount, record.payee_account) == (receipt.payment_id, Decimal("2850.50"), ACCOUNT)
    column_type = "pg_typeof(amount)::text" if ledger.db.is_postgres else "typeof(amount)"
    with ledger.db.reading() as conn:
        assert tuple(conn.execute(text(f"SELECT {column_type}, amount FROM payments")).one()) == ("text", "2850.50")


def test_same_key_returns_the_original_receipt_R_X_3(ledger: SqlPaymentLedger) -> None:
    first = ledger.pay(order())
    again = ledger.pay(order())
    assert again.already_paid
    assert (again.payment_id, again.amount, again.paid_at) == (first.payment_id, first.amount, first.paid_at)
    assert ledger.count() == 1


def test_concurrent_pays_with_one_key_pay_once_R_X_3(ledger: SqlPaymentLedger) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(lambda _: ledger.pay(order()), range(8)))
    assert ledger.count() == 1
    assert sum(not r.already_paid for r in receipts) == 1
    assert {r.payment_id for r in receipts} == {ledger.payments()[0].payment_id}


def test_concurrent_pays_of_one_claim_track_under_different_keys_pay_once_R_X_3(ledger: SqlPaymentLedger) -> None:
    def attempt(i: int) -> PayIndemnityResult | str:
        try:
            return ledger.pay(order(f"R2026000001:B:indemnity:{i}"))
        except ApplicationError as exc:
            return exc.type or ""

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert ledger.count() == 1
    assert sum(isinstance(o, PayIndemnityResult) for o in outcomes) == 1
    assert outcomes.count(DUPLICATE_PAYMENT) == 7


def test_payee_other_than_the_insured_is_refused_and_nothing_recorded_R_X_3(ledger: SqlPaymentLedger) -> None:
    error = refused(ledger, order(payee="6222000000000099"))
    assert error.type == PAYEE_NOT_INSURED
    assert ledger.count() == 0


def test_insured_without_account_is_refused_R_X_3(ledger: SqlPaymentLedger) -> None:
    assert refused(ledger, order(payee="", insured="")).type == PAYEE_NOT_INSURED
    assert ledger.count() == 0


def test_accounts_are_compared_without_spaces_R_X_3(ledger: SqlPaymentLedger) -> None:
    receipt = ledger.pay(order(payee="6222 0000 0000 0001", insured=" 6222000000000001\u3000"))
    assert not receipt.already_paid
    assert ledger.payments()[0].payee_account == ACCOUNT


def test_second_key_for_a_paid_claim_track_is_refused_R_X_3(ledger: SqlPaymentLedger) -> None:
    ledger.pay(order())
    error = refused(ledger, order("R2026000001:B:indemnity:second"))
    assert error.type == DUPLICATE_PAYMENT
    assert ledger.count() == 1


def test_other_track_of_the_same_report_is_paid_R_X_2(ledger: SqlPaymentLedger) -> None:
    ledger.pay(order())
    ledger.pay(order("R2026000001:D:indemnity", track=Track.INJURY, amount="800"))
    assert ledger.count() == 2


def test_same_key_with_another_amount_or_payee_is_a_conflict(ledger: SqlPaymentLedger) -> None:
    ledger.pay(order())
    assert refused(ledger, order(amount="2850.51")).type == IDEMPOTENCY_CONFLICT
    assert refused(ledger, order(payee="6222000000000002", insured="6222000000000002")).type == IDEMPOTENCY_CONFLICT
    assert ledger.count() == 1


def test_nothing_to_pay_is_declined(ledger: SqlPaymentLedger) -> None:
    assert refused(ledger, order(amount="0")).type == PAYMENT_DECLINED
    assert ledger.count() == 0


def test_logs_never_carry_the_account(ledger: SqlPaymentLedger) -> None:
    with capture_logs() as logs:
        ledger.pay(order())
        ledger.pay(order())
        with pytest.raises(ApplicationError):
            ledger.pay(order("other", payee="6222000000000099"))
    assert logs, "the ledger logs what it does"
    assert all(ACCOUNT not in repr(entry) and "6222000000000099" not in repr(entry) for entry in logs)


async def test_activity_heartbeats_once_then_pays(ledger: SqlPaymentLedger) -> None:
    env = ActivityEnvironment()
    beats: list[tuple] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    receipt = await env.run(PaymentActivities(ledger).pay_indemnity, order())
    assert len(beats) == 1
    assert not receipt.already_paid
    assert ledger.count() == 1


async def test_activity_refusal_is_non_retryable_R_X_3(ledger: SqlPaymentLedger) -> None:
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(PaymentActivities(ledger).pay_indemnity, order(payee="6222000000000099"))
    assert caught.value.type == PAYEE_NOT_INSURED
    assert caught.value.non_retryable
    assert "6222" not in str(caught.value)  # the message reaches the workflow history
