"""The SMS relay (issue 22.6): what turns the outbox's rows into text messages on staff phones.

It leases the due rows of the outbox (any number of relays on any number of hosts: a lease is held
by one), sends each through an `SmsProvider` to the phone of its recipient role, and records the
provider's message id, or the error and when to try again (exponential backoff with jitter, given
up after `max_attempts`).

Nothing is sent twice: the row's id travels as the delivery key, and the provider (an SMS
aggregator's "client reference"; the stand-in gateway/sms_provider.py does the same) takes a key
once and answers a repeat with the first message id. A relay killed after the provider took a
message and before the row says so leaves the lease to run out; the next relay sends the same key
again and is told the first message id. The body is personal data (R-D-1): sent, never logged.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import httpx
import structlog

from activities.sms import OutboxMessage, SqlSmsOutbox
from activities.sqlite import utc_now

log = structlog.get_logger(__name__)


class SmsProviderUnavailable(RuntimeError):
    """The provider could not take the message now (timeout, 5xx, connection): try again later."""


class SmsRejected(ValueError):
    """The provider refused the message for good (a bad number, a body it will not carry)."""


class SmsProvider(Protocol):
    def send(self, delivery_key: str, to: str, body: str) -> str:
        """Send once per delivery key; the provider's message id (the first one's, on a repeat)."""
        ...


class HttpSmsProvider:
    """A provider's HTTP API as the stand-in speaks it: POST /v1/messages {delivery_key, to, body}
    → 200 {"message_id": …}; 4xx a rejection, anything else try again."""

    def __init__(self, base_url: str, timeout_seconds: float = 10.0) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_seconds)

    def send(self, delivery_key: str, to: str, body: str) -> str:
        try:
            answer = self._client.post("/v1/messages", json={"delivery_key": delivery_key, "to": to, "body": body})
        except httpx.HTTPError as err:
            raise SmsProviderUnavailable(f"provider unreachable: {type(err).__name__}") from None
        if answer.status_code == 200:
            return str(answer.json()["message_id"])
        if 400 <= answer.status_code < 500 and answer.status_code not in (408, 429):
            raise SmsRejected(f"provider refused ({answer.status_code}): {answer.json().get('message', '')}"[:300])
        raise SmsProviderUnavailable(f"provider answered {answer.status_code}")

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class RelayPolicy:
    batch: int = 20
    lease: timedelta = timedelta(seconds=60)  # longer than a batch takes to send
    max_attempts: int = 10
    first_backoff: timedelta = timedelta(seconds=2)
    max_backoff: timedelta = timedelta(minutes=10)
    idle_poll_seconds: float = 1.0

    def backoff(self, attempts: int) -> timedelta:
        """After the n-th failed attempt: first_backoff·2^(n-1), at most max_backoff, with ±25 % jitter."""
        seconds = min(self.max_backoff.total_seconds(), self.first_backoff.total_seconds() * 2 ** (attempts - 1))
        return timedelta(seconds=seconds * random.uniform(0.75, 1.25))


@dataclass
class RelayStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class SmsRelay:
    def __init__(
        self,
        outbox: SqlSmsOutbox,
        provider: SmsProvider,
        recipients: Mapping[str, str],
        policy: RelayPolicy | None = None,
        relay_id: str | None = None,
        heartbeat_file: Path | None = None,
    ) -> None:
        self.outbox = outbox
        self.provider = provider
        self.recipients = dict(recipients)  # recipient role → the phone on duty (settings: sms_recipients)
        self.policy = policy or RelayPolicy()
        self.relay_id = relay_id or "relay-" + uuid.uuid4().hex[:8]
        self.heartbeat_file = heartbeat_file

    def run_once(self) -> RelayStats:
        """One batch: lease the due messages and deliver each."""
        stats = RelayStats()
        for message in self.outbox.claim_due(self.relay_id, self.policy.batch, self.policy.lease):
            self._deliver(message, stats)
        return stats

    def run_until(self, stop: threading.Event) -> RelayStats:
        total = RelayStats()
        log.info("sms_relay.started", relay=self.relay_id)
        while not stop.is_set():
            try:
                stats = self.run_once()
            except Exception as err:  # the database away for a moment: the next round tries again
                log.warning("sms_relay.round_failed", relay=self.relay_id, error=type(err).__name__)
                stop.wait(self.policy.idle_poll_seconds)
                continue
            if self.heartbeat_file is not None:
                self.heartbeat_file.touch()
            total.sent, total.retried, total.failed = (
                total.sent + stats.sent,
                total.retried + stats.retried,
                total.failed + stats.failed,
            )
            if not (stats.sent or stats.retried or stats.failed):
                stop.wait(self.policy.idle_poll_seconds)
        log.info("sms_relay.stopped", relay=self.relay_id, sent=total.sent, retried=total.retried, failed=total.failed)
        return total

    def _deliver(self, message: OutboxMessage, stats: RelayStats) -> None:
        attempt = message.attempts + 1
        phone = self.recipients.get(message.recipient_role)
        try:
            if not phone:
                raise SmsProviderUnavailable(f"no phone set for role {message.recipient_role} (settings: sms_recipients)")
            provider_id = self.provider.send(message.message_id, phone, message.body)
        except SmsRejected as err:
            self.outbox.mark_attempt_failed(message.message_id, str(err), None)
            stats.failed += 1
            log.warning("sms_relay.rejected", message_id=message.message_id, report_no=message.report_no, error=str(err))
            return
        except SmsProviderUnavailable as err:
            give_up = attempt >= self.policy.max_attempts
            retry_at = None if give_up else utc_now() + self.policy.backoff(attempt)
            self.outbox.mark_attempt_failed(message.message_id, str(err), retry_at)
            if give_up:
                stats.failed += 1
            else:
                stats.retried += 1
            log.warning(
                "sms_relay.attempt_failed",
                message_id=message.message_id,
                report_no=message.report_no,
                attempt=attempt,
                gave_up=give_up,
                error=str(err),
            )
            return
        self.outbox.mark_sent(message.message_id, provider_id)
        stats.sent += 1
        log.info(
            "sms_relay.sent",
            message_id=message.message_id,
            report_no=message.report_no,
            kind=message.kind,
            recipient_role=message.recipient_role,
            provider_message_id=provider_id,
        )
