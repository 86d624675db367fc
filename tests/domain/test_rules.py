"""The rules' own helpers (domain/rules.py, domain/models.py): one home for each threshold and code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.models import is_code
from domain.rules import Deadlines, RuleSettings, Thresholds, is_poor_score


@pytest.mark.parametrize(
    ("amount", "band"),
    [(None, "unknown"), ("2500", "<=2500"), ("2500.01", "2500-40000"), ("39999.99", "2500-40000"), ("40000", ">=40000")],
)
def test_loss_band_follows_the_branch_thresholds_r_a_2_open_2(amount: str | None, band: str) -> None:
    thresholds = Thresholds(small_claim_own_max=Decimal("2500"), major_loss_min=Decimal("40000"))
    assert thresholds.loss_band(None if amount is None else Decimal(amount)) == band


def test_loss_band_defaults_are_the_spec_edges() -> None:
    bands = [Thresholds().loss_band(Decimal(x)) for x in ("3000", "3000.01", "49999.99", "50000")]
    assert bands == ["<=3000", "3000-50000", "3000-50000", ">=50000"]


@pytest.mark.parametrize(("score", "poor"), [(1, True), (2, True), (3, False), (5, False)])
def test_r_x_1_poor_score_is_at_or_below_the_setting(score: int, poor: bool) -> None:
    assert is_poor_score(score, Thresholds().poor_callback_score_max) is poor


def test_a_retired_deadline_setting_is_dropped_not_refused() -> None:
    """Claims recorded before assessment_working_days was retired carry it in their rules."""
    rules = RuleSettings.model_validate({"deadlines": {"assessment_working_days": 1, "documents": "P7D"}})
    assert rules.deadlines == Deadlines()
    assert "assessment_working_days" not in rules.model_dump()["deadlines"]
    with pytest.raises(ValueError, match="Extra inputs"):
        Deadlines.model_validate({"no_such_deadline": 1})


@pytest.mark.parametrize(
    ("value", "ok"),
    [("S001", True), ("ab_c.d-1", True), ("x" * 40, True), ("x" * 41, False), ("", False), ("张三", False), ("a b", False)],
)
def test_staff_codes(value: str, ok: bool) -> None:
    assert is_code(value) is ok
