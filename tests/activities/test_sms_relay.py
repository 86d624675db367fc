"""The SMS relay delivers the outbox through the provider (issue 22.6; R-D-1 specialist, OPEN-3 and
R-X-1 supervisors): once per message, with backoff on faults, on SQLite and on PostgreSQL, and
exactly once even when a relay is killed mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from activities.sms import DeliveryStatus, SqlSmsOutbox
from activities.sms_relay import HttpSmsProvider, RelayPolicy, SmsRelay
from gateway.sms_provider import SmsProviderServer, SmsProviderStandIn
from tests.activities.sms_samples import injury
from tests.helpers import wait_until
from tests.helpers.databases import Databases

SPECIALIST_PHONE = "13900000011"
SUPERVISOR_PHONE = "13900000022"
RECIPIENTS = {"injury_specialist": SPECIALIST_PHONE, "supervisor": SUPERVISOR_PHONE}
FAST = RelayPolicy(batch=5, lease=timedelta(seconds=30), first_backoff=timedelta(milliseconds=50), idle_poll_seconds=0.05)


def serve(provider: SmsProviderStandIn) -> Iterator[str]:
    server = SmsProviderServer(0, provider)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def provider(tmp_path: Path) -> SmsProviderStandIn:
    return SmsProviderStandIn(tmp_path / "provider.sqlite3")


@pytest.fixture
def provider_url(provider: SmsProviderStandIn) -> Iterator[str]:
    yield from serve(provider)


@pytest.fixture
def outbox(databases: Databases) -> SqlSmsOutbox:
    return SqlSmsOutbox(databases("sms"))


def test_relay_delivers_each_message_once_and_records_the_provider_id_R_D_1(
    outbox: SqlSmsOutbox, provider: SmsProviderStandIn, provider_url: str
) -> None:
    queued = [outbox.send(injury(n)).message_id for n in range(7)]
    relay = SmsRelay(outbox, HttpSmsProvider(provider_url), RECIPIENTS, FAST)
    assert relay.run_once().sent == 5 and relay.run_once().sent == 2  # batches of five
    assert relay.run_once().sent == 0
    taken = {m["delivery_key"]: m["message_id"] for m in provider.messages()}
    assert set(taken) == set(queued)
    for message in outbox.outbox():
        assert message.status == DeliveryStatus.SENT and message.sent_at is not None
        assert message.provider_message_id == taken[message.message_id]
    assert [phone for phone, _ in provider.handset()] == [SPECIALIST_PHONE] * 7
    assert outbox.outbox(unsent_only=True) == []


def test_provider_faults_are_retried_with_backoff_then_given_up(outbox: SqlSmsOutbox, tmp_path: Path) -> None:
    down = SmsProviderStandIn(tmp_path / "down.sqlite3", fail_rate=1.0)
    for url in serve(down):
        message_id = outbox.send(injury(1)).message_id
        relay = SmsRelay(
            outbox, HttpSmsProvider(url), RECIPIENTS, RelayPolicy(max_attempts=2, first_backoff=timedelta(seconds=60))
        )
        assert relay.run_once().retried == 1
        [message] = outbox.outbox()
        assert (message.status, message.attempts) == (DeliveryStatus.QUEUED, 1)
        assert message.next_attempt_at is not None and message.last_error == "provider answered 503"
        assert relay.run_once().retried == 0, "not due again before its backoff"
        relay.policy = RelayPolicy(max_attempts=2, first_backoff=timedelta(0))
        outbox.mark_attempt_failed(message_id, "test: due now", outbox.outbox()[0].created_at)
        assert relay.run_once().failed == 1  # the second attempt was the last
        assert outbox.outbox()[0].status == DeliveryStatus.FAILED
    assert down.messages() == []


def test_a_message_the_provider_refuses_fails_at_once(outbox: SqlSmsOutbox, provider_url: str) -> None:
    outbox.send(injury(1))
    relay = SmsRelay(outbox, HttpSmsProvider(provider_url), {"injury_specialist": "12345"}, FAST)
    assert relay.run_once().failed == 1
    [message] = outbox.outbox()
    assert message.status == DeliveryStatus.FAILED and "not a mainland mobile number" in (message.last_error or "")


def test_relays_side_by_side_send_each_message_once(
    outbox: SqlSmsOutbox, provider: SmsProviderStandIn, provider_url: str
) -> None:
    for n in range(40):
        outbox.send(injury(n))
    relays = [SmsRelay(outbox, HttpSmsProvider(provider_url), RECIPIENTS, FAST, relay_id=f"r{i}") for i in range(3)]

    def drain(relay: SmsRelay) -> int:
        sent = 0
        while outbox.outbox(unsent_only=True):
            sent += relay.run_once().sent
        return sent

    threads: list[int] = []
    workers = [threading.Thread(target=lambda r=r: threads.append(drain(r))) for r in relays]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert sum(threads) == 40
    assert len(provider.handset()) == 40
    assert all(m["requests"] == 1 for m in provider.messages()), "a lease keeps a message to one relay"


@pytest.mark.integration  # relay processes of ours
def test_relay_killed_mid_batch_sends_each_message_exactly_once(
    tmp_path: Path, database_url: str | None, databases: Databases
) -> None:
    """The relay process is killed (SIGKILL) while the provider holds its answer to the third
    message: taken, but not acknowledged. A second relay takes the batch over when the lease runs
    out, sends that message's key again, gets the first message id, and nothing reaches a phone twice."""
    data_dir = tmp_path  # on SQLite the relay's outbox is <data_dir>/sms.sqlite3: databases("sms")
    outbox = SqlSmsOutbox(databases("sms"))
    queued = [outbox.send(injury(n)).message_id for n in range(8)]
    provider = SmsProviderStandIn(tmp_path / "provider.sqlite3", hang_after=3, hang_seconds=20)
    for url in serve(provider):
        env = {
            **os.environ,
            "PREMIUM_CLAIMS_DATA_DIR": str(data_dir),
            "PREMIUM_CLAIMS_DATABASE_URL": database_url or "",
            "PREMIUM_CLAIMS_SMS_PROVIDER_URL": url,
            "PREMIUM_CLAIMS_SMS_RECIPIENTS__INJURY_SPECIALIST": SPECIALIST_PHONE,
            "PREMIUM_CLAIMS_SMS_RELAY_LEASE_SECONDS": "3",
            "PREMIUM_CLAIMS_SMS_RELAY_BATCH": "5",
        }
        first = subprocess.Popen([sys.executable, "-m", "cli.main", "sms-relay"], env=env, stdout=subprocess.DEVNULL)
        try:
            assert provider.hung.wait(60), "the relay never reached the third message"
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        # killed: two sent and acknowledged, the third taken by the provider but not acknowledged
        assert sum(m.status == DeliveryStatus.SENT for m in outbox.outbox()) == 2
        assert len(provider.messages()) == 3
        provider.hang_after = None
        second = subprocess.Popen([sys.executable, "-m", "cli.main", "sms-relay"], env=env, stdout=subprocess.DEVNULL)
        try:
            wait_until(lambda: not outbox.outbox(unsent_only=True), 60, "the second relay to send every message", every=0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
    taken = {m["delivery_key"]: m for m in provider.messages()}
    assert sorted(taken) == sorted(queued), "every message reached the provider"
    assert len(provider.handset()) == 8, "and a phone exactly once"
    assert taken[queued[2]]["requests"] == 2, "the unacknowledged one was asked for again"
    for message in outbox.outbox():
        assert message.status == DeliveryStatus.SENT
        assert message.provider_message_id == taken[message.message_id]["message_id"]
