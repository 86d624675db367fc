"""The payment gateway and its client (R-X-3): exactly once per key and per claim-track, only the
insured's account, declines are business refusals, and every transient failure is retryable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payments import GATEWAY_UNAVAILABLE, HttpPaymentGateway, PaymentActivities
from bench.harness import GatewayProcess
from dev.postgres import port_free
from domain.contracts import DUPLICATE_PAYMENT, NON_RETRYABLE, PAYEE_NOT_INSURED, PAYMENT_DECLINED, PayIndemnityInput
from domain.models import Track
from gateway.ledger import SqlPaymentLedger
from gateway.server import Gateway, GatewayServer, attempts_by_key
from tests.helpers import wait_until
from tests.helpers.databases import Databases, drop_postgres_database, fresh_postgres_database

ACCOUNT = "6222 9000 0000 0001"


def order(
    report_no: str = "R2026000001",
    *,
    payee: str = ACCOUNT,
    insured: str = ACCOUNT,
    amount: str = "2650.00",
    key: str | None = None,
) -> PayIndemnityInput:
    return PayIndemnityInput(
        idempotency_key=key or f"{report_no}:B:indemnity",
        report_no=report_no,
        track=Track.CREDIT,
        amount=Decimal(amount),
        payee_account=payee,
        insured_account=insured,
    )


class Running:
    def __init__(self, gateway: Gateway, server: GatewayServer) -> None:
        self.gateway, self.server = gateway, server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"

    def client(self, timeout: float = 5.0) -> HttpPaymentGateway:
        return HttpPaymentGateway(self.url, timeout)


@pytest.fixture
def gateway(databases: Databases, request: pytest.FixtureRequest) -> Iterator[Running]:
    """The gateway in this process over its ledger on SQLite, then on PostgreSQL (its own database)."""
    options = getattr(request, "param", {})
    state = Gateway(databases("ledger"), **options)
    server = GatewayServer(0, state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield Running(state, server)
    server.shutdown()
    server.server_close()


async def refused(gateway: Running, input: PayIndemnityInput) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await gateway.client().pay_async(input)
    return caught.value


async def test_r_x_3_one_payment_per_key_a_repeat_gets_the_first_receipt(gateway: Running) -> None:
    first = await gateway.client().pay_async(order())
    again = await gateway.client().pay_async(order())
    assert not first.already_paid and again.already_paid
    assert again.payment_id == first.payment_id and again.amount == Decimal("2650.00")
    assert gateway.gateway.ledger.count() == 1


async def test_r_x_3_a_second_key_for_the_same_claim_track_is_refused(gateway: Running) -> None:
    await gateway.client().pay_async(order())
    error = await refused(gateway, order(key="R2026000001:B:other"))
    assert error.type == DUPLICATE_PAYMENT and error.non_retryable
    assert gateway.gateway.ledger.count() == 1


async def test_r_x_3_payee_not_insured_stays_payee_not_insured(gateway: Running) -> None:
    error = await refused(gateway, order(payee="6222900000000099"))
    assert error.type == PAYEE_NOT_INSURED and error.non_retryable
    assert gateway.gateway.ledger.count() == 0


@pytest.mark.parametrize(
    ("gateway", "input", "reason"),
    [
        ({"closed_accounts": {"6222900000000001"}}, order(), "account closed"),
        ({}, order(payee="6222900000004040", insured="6222900000004040"), "name does not match"),
        ({"max_amount": 2000.0}, order(amount="2000.01"), "over the single-payment limit"),
    ],
    indirect=["gateway"],
    ids=["account-closed", "name-mismatch-marker", "over-limit"],
)
async def test_r_x_3_declines_are_non_retryable_payment_declined_with_the_reason(
    gateway: Running, input: PayIndemnityInput, reason: str
) -> None:
    error = await refused(gateway, input)
    assert error.type == PAYMENT_DECLINED and PAYMENT_DECLINED in NON_RETRYABLE and error.non_retryable
    assert reason in error.message
    assert gateway.gateway.ledger.count() == 0
    assert attempts_by_key(gateway.gateway.db) == {input.idempotency_key: ["declined"]}


async def test_r_x_3_a_booked_key_gets_its_receipt_even_after_the_account_closes(gateway: Running) -> None:
    first = await gateway.client().pay_async(order())
    gateway.gateway.set_closed(ACCOUNT, True)
    again = await gateway.client().pay_async(order())
    assert again.already_paid and again.payment_id == first.payment_id


@pytest.mark.parametrize("gateway", [{"fail_rate": 1.0, "faults": ("5xx",)}], indirect=True)
async def test_a_5xx_is_retryable_and_books_nothing(gateway: Running) -> None:
    error = await refused(gateway, order())
    assert error.type == GATEWAY_UNAVAILABLE and not error.non_retryable and "503" in error.message
    assert gateway.gateway.ledger.count() == 0


@pytest.mark.parametrize("gateway", [{"fail_rate": 1.0, "faults": ("drop",)}], indirect=True)
async def test_r_x_3_a_dropped_answer_is_retryable_and_the_retry_gets_the_booked_receipt(gateway: Running) -> None:
    error = await refused(gateway, order())
    assert error.type == GATEWAY_UNAVAILABLE and not error.non_retryable
    [booked] = gateway.gateway.ledger.payments()  # booked, though the caller never heard
    gateway.gateway.fail_rate = 0.0
    receipt = await gateway.client().pay_async(order())
    assert receipt.already_paid and receipt.payment_id == booked.payment_id
    assert gateway.gateway.ledger.count() == 1


@pytest.mark.parametrize("gateway", [{"fail_rate": 1.0, "faults": ("timeout",), "hang_seconds": 1.0}], indirect=True)
async def test_r_x_3_a_timeout_is_retryable_and_a_late_booking_is_found_by_the_retry(gateway: Running) -> None:
    began = time.monotonic()
    with pytest.raises(ApplicationError) as caught:
        await gateway.client(timeout=0.3).pay_async(order())
    error = caught.value
    assert error.type == GATEWAY_UNAVAILABLE and not error.non_retryable and "no answer" in error.message
    assert time.monotonic() - began < 0.9
    await asyncio.sleep(1.2)  # the gateway wakes up and books it anyway
    gateway.gateway.fail_rate = 0.0
    receipt = await gateway.client().pay_async(order())
    assert receipt.already_paid and gateway.gateway.ledger.count() == 1


async def test_a_gateway_that_is_down_is_retryable() -> None:
    with pytest.raises(ApplicationError) as caught:
        await HttpPaymentGateway("http://127.0.0.1:9", 1).pay_async(order())
    assert caught.value.type == GATEWAY_UNAVAILABLE and not caught.value.non_retryable


@pytest.mark.parametrize("gateway", [{"latency": (1.2, 1.2)}], indirect=True)
async def test_the_payment_activity_heartbeats_while_the_gateway_call_is_in_flight(gateway: Running) -> None:
    """PAYMENT_CALL's heartbeat timeout only catches a dead worker if a live one heartbeats."""
    beats: list[float] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(time.monotonic())
    activities = PaymentActivities(gateway.client(), heartbeat_seconds=0.2)
    receipt = await env.run(activities.pay_indemnity, order())
    assert receipt.payment_id.startswith("PAY-")
    assert len(beats) >= 4  # one at the start, then every 0.2 s of the 1.2 s call


async def test_the_gateway_runs_as_its_own_process_on_loopback(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path / "payments.sqlite3", "--closed-account", "6222900000000002")
    try:
        receipt = await HttpPaymentGateway(gateway.url).pay_async(order())
        with pytest.raises(ApplicationError) as caught:
            await HttpPaymentGateway(gateway.url).pay_async(
                order("R2026000002", payee="6222900000000002", insured="6222900000000002")
            )
        assert caught.value.type == PAYMENT_DECLINED
        stats = gateway.stats()
        assert stats["payments"] == 1 and stats["outcomes"] == {"paid": 1, "declined": 1}
        [row] = SqlPaymentLedger.sqlite(tmp_path / "payments.sqlite3").payments()
        assert row.payment_id == receipt.payment_id and row.payee_account == "6222900000000001"
        with pytest.raises(httpx.HTTPError):  # bound to 127.0.0.1 only (no other interface answers)
            httpx.get(f"http://{_other_address()}:{gateway.port}/health", timeout=1)
    finally:
        gateway.stop()
    assert gateway.proc.returncode == 0  # SIGTERM: a clean stop


def _other_address() -> str:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            address = "127.0.0.2"
    return "127.0.0.2" if address.startswith("127.") else address


async def test_the_gateway_process_keeps_its_ledger_in_postgresql(tmp_path: Path, postgres_admin_url: str) -> None:
    """`python -m gateway` with GATEWAY_DATABASE_URL (its own URL, off the command line): the
    payment is in PostgreSQL, where another process (the reconciliation, a second gateway) reads it."""
    url = fresh_postgres_database(postgres_admin_url, "gateway")
    port = next(p for p in range(17460, 17480) if port_free(p))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--port", str(port)],
        env={**os.environ, "GATEWAY_DATABASE_URL": url},
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                return httpx.get(base + "/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(answers, 30, f"python -m gateway to answer on {base}", every=0.2)
        receipt = await HttpPaymentGateway(base).pay_async(order())
        ledger = SqlPaymentLedger.postgres(url, pool_size=1)
        assert [p.payment_id for p in ledger.payments()] == [receipt.payment_id]
        assert attempts_by_key(ledger.db) == {order().idempotency_key: ["paid"]}
        ledger.db.dispose()
    finally:
        proc.terminate()
        proc.wait(10)
        drop_postgres_database(postgres_admin_url, url)


def test_python_m_gateway_refuses_unknown_faults(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "--port", "1", "--db", str(tmp_path / "x.sqlite3"), "--faults", "fire"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 2 and "--faults" in run.stderr
