"""`claims sms-relay`: deliver the SMS outbox through the provider (issue 22.6), until SIGTERM/SIGINT.

Any number may run, on any host, against the one outbox: each leases its batch; the provider's
delivery key keeps a message from being sent twice even when a relay dies mid-batch."""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
from datetime import timedelta

from activities import open_stores
from activities.sms_relay import HttpSmsProvider, RelayPolicy, SmsRelay
from cli.command import Command
from config.settings import Settings


def relay_from_settings(settings: Settings) -> SmsRelay:
    if not settings.sms_provider_url:
        raise ValueError("set sms_provider_url (PREMIUM_CLAIMS_SMS_PROVIDER_URL) to the SMS provider's API")
    return SmsRelay(
        open_stores(settings).sms,
        HttpSmsProvider(settings.sms_provider_url),
        settings.sms_recipients,
        RelayPolicy(
            batch=settings.sms_relay_batch,
            lease=timedelta(seconds=settings.sms_relay_lease_seconds),
            max_attempts=settings.sms_relay_max_attempts,
            first_backoff=timedelta(seconds=settings.sms_relay_first_backoff_seconds),
            max_backoff=timedelta(seconds=settings.sms_relay_max_backoff_seconds),
            idle_poll_seconds=0.5,
        ),
        heartbeat_file=settings.sms_relay_heartbeat_file,
    )


async def run_sms_relay(args: argparse.Namespace, settings: Settings) -> None:
    relay = relay_from_settings(settings)
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"SMS relay {relay.relay_id} delivering through {settings.sms_provider_url}", flush=True)
    await asyncio.to_thread(relay.run_until, stop)


SMS_RELAY = Command(help="deliver the SMS outbox through the provider (any number, any host)", run=run_sms_relay)
