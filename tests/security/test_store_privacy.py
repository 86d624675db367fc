"""Issue 22.4: the privacy scan over the stores' tables, on SQLite and on PostgreSQL. Which columns
hold personal data in clear is the same on both engines, and only these: the core-system
stand-in's customer and policy records (names, mobiles, ID numbers, plates, bank accounts: it is
the insurer's core system), the SMS body (R-D-1 requires the insured's name and a phone), and the
customer's callback comment. Every other column (keys, report numbers, codes, times, delivery
state) is free of it. The object store's objects are ciphertext (tests/activities/test_object_store.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text

from activities.callbacks import SqlCallbackBook
from activities.core_system import CoreData, SqlCoreSystem
from activities.sms import SqlSmsOutbox
from domain.contracts import LookupPolicyInput, RecordCallbackInput, SendSmsInput, SmsKind
from domain.models import Track
from tests.helpers.databases import Databases
from tests.helpers.running import fake_core, leaks

EXPECTED = {("customers", "data"), ("policies", "data"), ("outbox", "body"), ("callbacks", "comment")}


def test_issue_22_personal_data_only_where_the_stores_must_keep_it(tmp_path: Path, databases: Databases) -> None:
    fake_core(tmp_path / "core.json")
    data = CoreData.model_validate_json((tmp_path / "core.json").read_bytes())
    customer = next(c for c in data.customers if c.customer_id == "C0004")
    policy = next(p for p in data.policies if p.policy_no == "P2026000004")
    values = {
        customer.name,
        customer.mobile or "",
        customer.id_number or "",
        policy.plate or "",
        policy.insured_bank_account or "",
    }
    values.discard("")
    assert len(values) == 5

    core = SqlCoreSystem(databases("core"))
    core.load(data)
    core.lookup(LookupPolicyInput(report_no="R2026000004", policy_no=policy.policy_no, reported_at=datetime.now(UTC)))
    sms = SqlSmsOutbox(databases("sms"))
    sms.send(
        SendSmsInput(
            idempotency_key="R2026000004:D:specialist-sms",
            kind=SmsKind.INJURY_SPECIALIST,
            report_no="R2026000004",
            recipient_role="injury_specialist",
            fields={"insured_name": customer.name, "contact_phone": customer.mobile or ""},
        )
    )
    SqlCallbackBook(databases("callbacks"), sms=sms).record(
        RecordCallbackInput(
            report_no="R2026000004", track=Track.INJURY, score=1, comment=f"请联系{customer.mobile}", poor_score_max=2
        )
    )

    found: set[tuple[str, str]] = set()
    scanned = 0
    for store in ("core", "sms", "callbacks"):
        db = databases(store)
        with db.reading() as conn:
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
                for row in rows:
                    for column, value in row.items():
                        scanned += 1
                        if value is not None and leaks(str(value).encode(), values):
                            found.add((table, column))
    assert scanned > 30
    assert found == EXPECTED, f"personal data in clear in {sorted(found - EXPECTED)}; expected in {sorted(EXPECTED)}"
