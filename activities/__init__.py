"""Activities: one module per outside system, each an interface, an embedded default and an
activities class that owns its implementation (tests and production hand it another).

`build_activities` wires them for the worker: under one data directory (SQLite files and a folder
of documents, the default), or, with a database URL, the records in PostgreSQL shared by every host.
Every activity is an async def that runs its blocking work in a thread (asyncio.to_thread), so
the worker needs no activity executor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from activities.callbacks import CallbackActivities, SqlCallbackBook
from activities.core_system import CoreSystemActivities, SqlCoreSystem
from activities.database import Database
from activities.object_store import ObjectStore
from activities.payments import AsyncPaymentGateway, PaymentActivities, PaymentLedger
from activities.rules import RulesActivities
from activities.sms import SmsActivities, SqlSmsOutbox
from activities.store import Documents, FileStore, StoreActivities
from domain.rules import RuleSettings

__all__ = ["EmbeddedSystems", "StoreSettings", "build_activities", "migrate", "open_documents", "open_embedded", "open_stores"]

SERVICE_STORES = ("core", "sms", "callbacks")  # the tables in the service's database (its migrations)


class StoreSettings(Protocol):
    """What opening the stores reads of the settings (config.settings.Settings has it all)."""

    data_dir: Path
    database_url: str | None
    database_pool_size: int
    database_max_overflow: int
    object_store_endpoint: str | None
    object_store_bucket: str
    object_store_prefix: str
    object_store_region: str
    object_store_access_key_id: str | None
    object_store_secret_access_key: SecretStr | None
    object_store_create_bucket: bool

    def payload_keyring(self) -> tuple[str, dict[str, bytes]]: ...


def open_documents(settings: StoreSettings) -> Documents:
    """The photo and document store the settings name: the object store, else the local folder."""
    if not settings.object_store_endpoint:
        return FileStore(Path(settings.data_dir) / "files")
    primary, keys = settings.payload_keyring()
    secret = settings.object_store_secret_access_key
    return ObjectStore(
        settings.object_store_endpoint,
        settings.object_store_bucket,
        keys=keys,
        primary_key_id=primary,
        access_key_id=settings.object_store_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        region=settings.object_store_region,
        prefix=settings.object_store_prefix,
        create_bucket=settings.object_store_create_bucket,
    )


@dataclass(frozen=True)
class EmbeddedSystems:
    """The embedded defaults of every outside system but the bank (gateway/), for the worker, the
    API and the CLI."""

    core: SqlCoreSystem
    store: Documents
    sms: SqlSmsOutbox
    callbacks: SqlCallbackBook
    data_dir: Path


def open_embedded(
    data_dir: Path,
    *,
    database_url: str | None = None,
    pool_size: int = 5,
    max_overflow: int = 5,
    documents: Documents | None = None,
) -> EmbeddedSystems:
    """Open (creating and migrating if need be) every system: without a database URL each store is
    a SQLite file under data_dir, as `make run` has it; with a `postgresql://…` URL the core system,
    the SMS outbox and the callback book share that database through one pool."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # a folder of another owner (a mounted volume) stays as it is
        data_dir.chmod(0o700)  # the systems' files, photos and documents: the service's user only
    if database_url:
        shared = Database.postgres(database_url, pool_size=pool_size, max_overflow=max_overflow)
        core_db = sms_db = callbacks_db = shared
    else:
        core_db = Database.sqlite(data_dir / "core.sqlite3")
        sms_db = Database.sqlite(data_dir / "sms.sqlite3")
        callbacks_db = Database.sqlite(data_dir / "callbacks.sqlite3")
    sms = SqlSmsOutbox(sms_db)
    return EmbeddedSystems(
        core=SqlCoreSystem(core_db),
        store=documents if documents is not None else FileStore(data_dir / "files"),
        sms=sms,
        callbacks=SqlCallbackBook(callbacks_db, sms=sms),
        data_dir=data_dir,
    )


def open_stores(settings: StoreSettings) -> EmbeddedSystems:
    """`open_embedded` as the settings say."""
    return open_embedded(
        settings.data_dir,
        database_url=settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        documents=open_documents(settings),
    )


def migrate(settings: StoreSettings) -> dict[str, str | None]:
    """Bring every store's tables to this code's version (idempotent); each store's version after.
    Opening the stores migrates them: this opens them, then reads back what each holds."""
    systems = open_stores(settings)
    versions = {
        "core": systems.core.db.version("core"),
        "sms": systems.sms.db.version("sms"),
        "callbacks": systems.callbacks.db.version("callbacks"),
    }
    for db in {id(s.db): s.db for s in (systems.core, systems.sms, systems.callbacks)}.values():
        db.dispose()
    return versions


def build_activities(
    data_dir: Path | EmbeddedSystems,
    rules: RuleSettings | Callable[[], RuleSettings],
    *,
    bank: PaymentLedger | AsyncPaymentGateway,
    customer_link: Callable[[str], str] | None = None,
) -> list[Callable[..., Any]]:
    """The bound activity methods, over the systems given or the embedded defaults under data_dir, for Worker(activities=...).

    The payment activity reaches the bank only through `bank`, its interface: the worker hands it
    the gateway's client or the stand-in's ledger in-process (gateway.bank.open_bank).
    """
    systems = data_dir if isinstance(data_dir, EmbeddedSystems) else open_embedded(data_dir)
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
