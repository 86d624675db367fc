"""A report from outside is checked (ReportSubmission); the Report the workflows receive is not,
so recorded histories with old fake values still deserialize on replay."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from domain.models import Customer, Policy, Report, ReportSubmission

REPORT: dict[str, Any] = {
    "report_no": "R20261125001",
    "policy_no": "P2026000007",
    "reported_at": "2026-11-25T10:00:00+08:00",
    "accident_kind": "single_party",
    "at_scene": False,
    "driver_is_insured": True,
    "reporter_is_insured": True,
    "estimated_own_loss": "1500.00",
}


def test_submission_normalises_identifiers_and_becomes_a_plain_report() -> None:
    submission = ReportSubmission.model_validate(
        REPORT | {"reporter_phone": "+86 138 0000 0001", "driver_phone": "138-0000-0002", "payee_account": "6222 0000 0000 0074"}
    )
    report = submission.to_report()
    assert type(report) is Report
    assert (report.reporter_phone, report.driver_phone, report.payee_account) == (
        "13800000001",
        "13800000002",
        "6222000000000074",
    )
    assert report.model_dump() == submission.model_dump()


def test_submission_has_the_fields_of_a_report() -> None:
    assert list(ReportSubmission.model_fields) == list(Report.model_fields)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("reporter_phone", "1380000000", "11 digits"),
        ("driver_phone", "02188888888", "13 to 19"),
        ("payee_account", "6222000000000001", "Luhn"),
        ("payee_account", "6222 0000", "12 to 21 digits"),
    ],
)
def test_submission_refuses_a_bad_identifier_naming_the_field(field: str, value: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ReportSubmission.model_validate(REPORT | {field: value})
    [error] = caught.value.errors(include_input=False)
    assert error["loc"] == (field,)
    assert says in error["msg"]
    assert value not in error["msg"]


def test_models_the_workflows_receive_stay_lenient_for_recorded_histories() -> None:
    """tests/histories hold values from before the checks (e.g. 111111111111111111, 测A00001)."""
    Report.model_validate(REPORT | {"reporter_phone": "13800000999", "payee_account": "6222000000000099"})
    Customer(customer_id="C0001", name="测试客户一", kind="individual", id_number="111111111111111111")
    Policy(
        policy_no="P2026000001",
        customer_id="C0001",
        period_start="2026-01-01",
        period_end="2026-12-31",
        coverages=["compulsory"],
        plate="测A00001",
        insured_bank_account="6222000000000001",
    )
