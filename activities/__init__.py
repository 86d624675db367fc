"""Activities: one module per outside system, each an interface, an embedded default and an
activities class that owns its implementation (tests and production hand it another).

`build_activities` wires the embedded defaults under one data directory for the worker.
Every activity is an async def that runs its blocking work in a thread (asyncio.to_thread), so
the worker needs no activity executor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activities.callbacks import CallbackActivities, SqliteCallbackBook
from activities.core_system import CoreSystemActivities, SqliteCoreSystem
from activities.payments import AsyncPaymentGateway, PaymentActivities, PaymentLedger
from activities.rules import RulesActivities
from activities.sms import SmsActivities, SqliteSmsOutbox
from activities.store import FileStore, StoreActivities
from domain.rules import RuleSettings

__all__ = ["EmbeddedSystems", "build_activities", "open_embedded"]


@dataclass(frozen=True)
class EmbeddedSystems:
    """The embedded defaults of every outside system but the bank (gateway/), for the worker, the
    API and the CLI."""

    core: SqliteCoreSystem
    store: FileStore
    sms: SqliteSmsOutbox
    callbacks: SqliteCallbackBook


def open_embedded(data_dir: Path) -> EmbeddedSystems:
    """Open (creating if need be) every embedded system under data_dir."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # a folder of another owner (a mounted volume) stays as it is
        data_dir.chmod(0o700)  # the systems' files, photos and documents: the service's user only
    sms = SqliteSmsOutbox(data_dir / "sms.sqlite3")
    return EmbeddedSystems(
        core=SqliteCoreSystem(data_dir / "core.sqlite3"),
        store=FileStore(data_dir / "files"),
        sms=sms,
        callbacks=SqliteCallbackBook(data_dir / "callbacks.sqlite3", sms=sms),
    )


def build_activities(
    data_dir: Path,
    rules: RuleSettings | Callable[[], RuleSettings],
    *,
    bank: PaymentLedger | AsyncPaymentGateway,
    customer_link: Callable[[str], str] | None = None,
) -> list[Callable[..., Any]]:
    """The bound activity methods, over the embedded defaults under data_dir, for Worker(activities=...).

    The payment activity reaches the bank only through `bank`, its interface: the worker hands it
    the gateway's client or the stand-in's ledger in-process (gateway.bank.open_bank).
    """
    systems = open_embedded(data_dir)
    payments = PaymentActivities(bank)
    core = CoreSystemActivities(systems.core)
    return [
        RulesActivities(rules).load_rules,
        core.lookup_policy,
        core.insured_account,
        StoreActivities(systems.store).check_files,
        payments.pay_indemnity,
        SmsActivities(systems.sms, customer_link).send_sms,  # customer_link: the customer's SMS (issue 24)
        CallbackActivities(systems.callbacks).record_callback,
    ]
