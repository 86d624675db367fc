"""Bad input never breaks the models: any JSON-ish input either validates or raises
pydantic.ValidationError, and what validates keeps the rules (money with two places and never
negative, report numbers of the pattern: R-X-2, R-X-3, R-A-2, R-B-2)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import TypeVar

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain.models import REPORT_NO_PATTERN, Report
from tests.properties.strategies import any_value, payloads, reports
from workflows.messages import STEP_MODELS, IssueAssessment, SceneEstimate

FUZZ = settings(max_examples=150, deadline=None)

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: object) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None  # the one allowed refusal; any other exception fails the test


def money_ok(value: Decimal | None) -> bool:
    return value is None or (value >= 0 and value.as_tuple().exponent == -2 and value.is_finite())


@FUZZ
@given(reports())
def test_r_x_2_any_report_input_validates_or_is_a_validation_error(data: dict) -> None:
    report = validate(Report, data)
    event("valid" if report is not None else "refused")
    if report is not None:
        assert re.fullmatch(REPORT_NO_PATTERN, report.report_no)  # R-X-2: the claim's identity
        assert money_ok(report.estimated_own_loss) and money_ok(report.estimated_third_party_loss)
        assert report.deaths >= 0 and report.hospitalised >= 0
        again = Report.model_validate_json(report.model_dump_json())
        assert again == report  # what we store and send comes back the same


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200) | st.builds(json.dumps, any_value))
def test_any_bytes_as_a_report_are_a_validation_error_or_a_report(raw: bytes | str) -> None:
    try:
        Report.model_validate_json(raw)
    except ValidationError:
        pass


@FUZZ
@given(st.from_regex(REPORT_NO_PATTERN, fullmatch=True))
def test_r_x_2_every_report_number_of_the_pattern_is_accepted(report_no: str) -> None:
    report = Report.model_validate(
        {
            "report_no": report_no,
            "policy_no": "P1",
            "reported_at": "2026-11-25T10:00:00+08:00",
            "accident_kind": "single_party",
            "at_scene": False,
            "driver_is_insured": True,
            "reporter_is_insured": True,
        }
    )
    assert report.report_no == report_no


@FUZZ
@given(st.text(max_size=45).filter(lambda s: not re.fullmatch(REPORT_NO_PATTERN, s)))
def test_r_x_2_a_report_number_off_the_pattern_is_refused(report_no: str) -> None:
    with pytest.raises(ValidationError):
        Report.model_validate(
            {
                "report_no": report_no,
                "policy_no": "P1",
                "reported_at": "2026-11-25T10:00:00+08:00",
                "accident_kind": "single_party",
                "at_scene": False,
                "driver_is_insured": True,
                "reporter_is_insured": True,
            }
        )


@pytest.mark.parametrize("step", sorted(STEP_MODELS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_step_payload_validates_or_is_a_validation_error(step: str, data: st.DataObject) -> None:
    model = STEP_MODELS[step]
    payload = data.draw(payloads(model) | any_value)
    parsed = validate(model, payload)
    if parsed is not None:
        for name in ("amount", "own_loss"):
            if hasattr(parsed, name):
                assert money_ok(getattr(parsed, name))
        assert model.model_validate_json(parsed.model_dump_json()) == parsed


@FUZZ
@given(st.decimals(allow_nan=True, allow_infinity=True) | st.floats() | st.integers() | st.text(max_size=25))
def test_r_a_2_valid_money_has_two_places_and_is_never_negative(amount: object) -> None:
    """The estimate (R-A-2) and the assessed indemnity that is paid (R-X-3)."""
    for model, field, extra in (
        (SceneEstimate, "own_loss", {}),
        (IssueAssessment, "amount", {"sheet_no": "DS-1"}),
    ):
        parsed = validate(model, {field: amount, **extra})
        if parsed is not None:
            value = getattr(parsed, field)
            assert isinstance(value, Decimal) and money_ok(value)
            if model is IssueAssessment:
                assert value > 0
