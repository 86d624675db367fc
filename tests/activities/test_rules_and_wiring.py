"""The rules activity and the wiring of every embedded default for the worker."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from temporalio import activity
from temporalio.testing import ActivityEnvironment

from activities import build_activities
from activities.rules import RulesActivities
from domain.contracts import ActivityName, LoadRulesInput
from domain.rules import RuleSettings, Thresholds
from gateway.bank import open_bank


async def test_load_rules_returns_the_settings_the_worker_read() -> None:
    """A branch's changed threshold (R-A-2's 3000) reaches the claim through this activity."""
    rules = RuleSettings(thresholds=Thresholds(small_claim_own_max=Decimal("5000.00")))
    result = await ActivityEnvironment().run(RulesActivities(rules).load_rules, LoadRulesInput(branch="SH01"))
    assert result == rules
    assert result.thresholds.small_claim_own_max == Decimal("5000.00")


def test_build_activities_registers_every_contract_name(tmp_path: Path) -> None:
    functions = build_activities(tmp_path / "data", RuleSettings(), bank=open_bank(tmp_path / "data"))
    # The SDK's own reading of @activity.defn: what the worker will register.
    names = [str(activity._Definition.must_from_callable(fn).name) for fn in functions]
    expected = [value for key, value in vars(ActivityName).items() if key.isupper()]
    assert sorted(names) == sorted(expected)
    created = {p.name for p in (tmp_path / "data").iterdir()}
    databases = ["core.sqlite3", "payments.sqlite3", "sms.sqlite3", "callbacks.sqlite3"]
    assert {*databases, "files"} <= created
    for name in databases:  # WAL: readers never block the writer, and concurrent workers queue
        with sqlite3.connect(tmp_path / "data" / name) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
