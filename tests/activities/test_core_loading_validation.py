"""Loading the embedded core system checks every identifier (issue 5, input hardening): a bad
record refuses the whole load, and the error names each record (index and ID) and field, never
the value; good records are stored normalised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activities.core_system import CoreData, CoreDataRefused, SqlCoreSystem, checked
from domain.contracts import LookupPolicyInput
from tests.helpers.databases import Databases

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "core.json"


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def rows(core: SqlCoreSystem) -> tuple[int, int]:
    return core.count_customers(), core.count_policies()


def test_sample_data_passes_the_checks_unchanged() -> None:
    data = CoreData.model_validate_json(SAMPLE.read_bytes())
    assert checked(data) == data


def test_bad_records_refuse_the_load_naming_index_id_and_field(tmp_path: Path, databases: Databases) -> None:
    data = sample()
    data["customers"][1]["id_number"] = "111111111111111112"  # the old fake
    data["customers"][4]["id_number"] = "91110105MA0000005F"  # corporate: a credit code, wrong check
    data["customers"][6]["mobile"] = "1380000007"
    data["policies"][2]["plate"] = "测A00002"
    data["policies"][3]["insured_bank_account"] = "6222000000000003"
    path = tmp_path / "core.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    core = SqlCoreSystem(databases("core"))

    with pytest.raises(CoreDataRefused) as caught:
        core.load_file(path)

    problems = caught.value.problems
    assert [p.split(": ")[0:2] for p in problems] == [
        ["customers[1] (C0002)", "id_number"],
        ["customers[4] (C0005)", "id_number"],
        ["customers[6] (C0007)", "mobile"],
        ["policies[2] (P2026000002)", "plate"],
        ["policies[3] (P2026000003)", "insured_bank_account"],
    ]
    message = str(caught.value)
    assert message.startswith("refused, nothing loaded: 5 invalid field(s)")
    assert "birth date" in problems[0] and "unified social credit code" in problems[1] and "Luhn" in problems[4]
    for value in ("111111111111111112", "91110105MA0000005F", "1380000007", "测A00002", "6222000000000003"):
        assert value not in message
    assert rows(core) == (0, 0), "nothing of a refused load is written"
    assert isinstance(caught.value, ValueError)  # `claims load-core` prints it as `error: …`


def test_identifiers_are_stored_normalised(databases: Databases) -> None:
    data = sample()
    data["customers"][0]["mobile"] = "+86 138 0000 0001"
    data["customers"][6]["id_number"] = "11010519700707071x"
    data["policies"][0]["plate"] = "京a f0001"
    data["policies"][0]["insured_bank_account"] = "6222 0000 0000 0017"
    core = SqlCoreSystem(databases("core"))
    core.load(CoreData.model_validate(data))

    found = core.lookup(
        LookupPolicyInput(report_no="R2026000001", policy_no="P2026000001", reported_at="2026-03-01T10:00:00+08:00")
    )
    assert (found.customer.mobile, found.policy.plate, found.policy.insured_bank_account) == (
        "13800000001",
        "京A·F0001",
        "6222000000000017",
    )
    seventh = core.lookup(
        LookupPolicyInput(report_no="R2026000002", policy_no="P2026000007", reported_at="2026-03-01T10:00:00+08:00")
    )
    assert seventh.customer.id_number == "11010519700707071X"
