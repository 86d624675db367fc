"""POST /claims checks the report's personal identifiers (ReportSubmission, issue 5): a bad one is
422 invalid_request naming the field and what is wrong, never the value; a good one in any usual
spelling is normalised before the claim starts."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.conftest import ApiEnv, error_of


def report(**changes: Any) -> dict[str, Any]:
    return {
        "report_no": f"RID{uuid.uuid4().hex[:12].upper()}",
        "policy_no": "P2026000007",
        "reported_at": "2026-11-25T10:00:00+08:00",
        "accident_kind": "single_party",
        "at_scene": False,
        "driver_is_insured": True,
        "reporter_is_insured": True,
        "estimated_own_loss": "1500.00",
    } | changes


async def test_bad_mobile_is_422_naming_the_field(api: ApiEnv) -> None:
    response = await api.http.post("/claims", json=report(reporter_phone="1380000000"))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert error["message"] == "reporter_phone: a mobile number has 11 digits (optionally after +86), not 10"


async def test_every_bad_identifier_is_named_and_no_value_is_echoed(api: ApiEnv) -> None:
    bad = {"reporter_phone": "23800000001", "driver_phone": "138000000012", "payee_account": "6222000000000001"}
    response = await api.http.post("/claims", json=report(**bad))
    assert response.status_code == 422
    message = error_of(response)["message"]
    assert "reporter_phone: a mobile number of mainland China starts with 13 to 19" in message
    assert "driver_phone: a mobile number has 11 digits" in message
    assert "payee_account: a UnionPay card number" in message and "Luhn" in message
    assert not any(value in message for value in bad.values())


async def test_identifiers_are_normalised_before_the_claim_starts_R_X_2(api: ApiEnv) -> None:
    spelled = report(reporter_phone="+86 138 0000 0001", payee_account="6222 0000 0000 0074")
    first = await api.http.post("/claims", json=spelled)
    assert first.status_code == 201, first.text
    # the claim holds the normal forms: the same report in them is the same report (R-X-2)
    normal = spelled | {"reporter_phone": "13800000001", "payee_account": "6222000000000074"}
    again = await api.http.post("/claims", json=normal)
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
