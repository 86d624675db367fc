"""Builders for the domain tests: a customer, policy and report that pass every rule by default.

Each test changes only the facts its rule is about, so a failure points at that rule.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.models import (
    AccidentKind,
    ClaimHistory,
    Coverage,
    Customer,
    CustomerKind,
    Gender,
    Policy,
    Report,
)
from domain.rules import RuleSettings

INSURED_ACCOUNT = "6222 0000 1111 2222"


class Make:
    """Valid defaults; keyword arguments replace fields and are validated like real input."""

    @staticmethod
    def customer(**changes: Any) -> Customer:
        defaults: dict[str, Any] = {
            "customer_id": "C0001",
            "name": "张三",
            "kind": CustomerKind.INDIVIDUAL,
            "gender": Gender.MALE,
            "premium_tag": "钻石(-3)成功男士",
        }
        return Customer(**(defaults | changes))

    @staticmethod
    def policy(**changes: Any) -> Policy:
        defaults: dict[str, Any] = {
            "policy_no": "P2026000001",
            "customer_id": "C0001",
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 12, 31),
            "coverages": frozenset(Coverage),
            "consecutive_commercial_years": 3,
            "vehicle_first_registered": date(2019, 5, 1),  # an old car: not NEW_CAR
            "insured_bank_account": INSURED_ACCOUNT,
        }
        return Policy(**(defaults | changes))

    @staticmethod
    def report(**changes: Any) -> Report:
        defaults: dict[str, Any] = {
            "report_no": "R2026000001",
            "policy_no": "P2026000001",
            "reported_at": datetime(2026, 6, 10, 2, 0, tzinfo=UTC),  # 10:00 in China
            "accident_kind": AccidentKind.SINGLE_PARTY,
            "at_scene": True,
            "driver_is_insured": True,
            "reporter_is_insured": True,
        }
        return Report(**(defaults | changes))

    @staticmethod
    def history(prior_claims: int = 0) -> ClaimHistory:
        return ClaimHistory(prior_claims_this_period=prior_claims)

    @staticmethod
    def settings() -> RuleSettings:
        return RuleSettings()


@pytest.fixture
def make() -> Make:
    return Make()
