"""The embedded core system: policy lookup, report registration and prior-claim counting (R-EL-1.2)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.core_system import CoreData, CoreSystemActivities, SqlCoreSystem
from activities.errors import REPORT_CONFLICT
from domain.contracts import POLICY_NOT_FOUND, LookupPolicyInput
from domain.models import Coverage, Customer, CustomerKind, Gender, Policy
from domain.rules import CHINA_TZ
from tests.helpers.databases import Databases

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "core.json"
POLICY = "P2026000001"  # 测试客户一, 2026-01-01..2026-12-31


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def ask(report_no: str, reported_at: datetime, policy_no: str = POLICY) -> LookupPolicyInput:
    return LookupPolicyInput(report_no=report_no, policy_no=policy_no, reported_at=reported_at)


@pytest.fixture
def core(databases: Databases) -> SqlCoreSystem:
    core = SqlCoreSystem(databases("core"))
    core.load_file(SAMPLE)
    return core


def prior(core: SqlCoreSystem, report_no: str, reported_at: datetime, policy_no: str = POLICY) -> int:
    return core.lookup(ask(report_no, reported_at, policy_no)).history.prior_claims_this_period


def test_lookup_returns_policy_and_insured(core: SqlCoreSystem) -> None:
    result = core.lookup(ask("R2026000001", at(2026, 3, 1, 10, 0)))
    assert result.policy.policy_no == POLICY
    assert result.customer.customer_id == "C0001"
    assert result.customer.premium_tag == "钻石(-3)成功男士"
    assert Coverage.WAIVER_THIRD_PARTY in result.policy.coverages
    assert result.policy.insured_bank_account == "6222000000000017"


def test_first_claim_in_period_has_no_prior_claims_R_EL_1_2(core: SqlCoreSystem) -> None:
    assert prior(core, "R2026000001", at(2026, 3, 1, 10, 0)) == 0


def test_second_and_third_claims_count_earlier_reports_R_EL_1_2(core: SqlCoreSystem) -> None:
    assert prior(core, "R2026000001", at(2026, 3, 1, 10, 0)) == 0
    assert prior(core, "R2026000002", at(2026, 5, 1, 10, 0)) == 1
    assert prior(core, "R2026000003", at(2026, 9, 1, 10, 0)) == 2


def test_repeated_report_is_still_the_first_claim_R_EL_1_2_R_X_2(core: SqlCoreSystem) -> None:
    assert prior(core, "R2026000001", at(2026, 3, 1, 10, 0)) == 0
    assert prior(core, "R2026000002", at(2026, 5, 1, 10, 0)) == 1
    # The same report again (a retried activity, a second call) registers nothing new.
    assert prior(core, "R2026000001", at(2026, 3, 1, 10, 0)) == 0
    assert prior(core, "R2026000002", at(2026, 5, 1, 10, 0)) == 1
    assert core.count_reports() == 2


def test_repeat_answers_with_the_first_registered_time_R_X_2(core: SqlCoreSystem) -> None:
    assert prior(core, "R2026000001", at(2026, 3, 1, 10, 0)) == 0
    assert prior(core, "R2026000002", at(2026, 5, 1, 10, 0)) == 1
    # Repeating R2026000002 with a later clock does not move it.
    assert prior(core, "R2026000002", at(2026, 12, 1, 10, 0)) == 1


def test_claims_outside_the_period_are_not_counted_R_EL_1_2(core: SqlCoreSystem) -> None:
    # Registered against the policy but reported before its period started (China local date).
    assert prior(core, "R2025000099", at(2025, 12, 31, 23, 30)) == 0
    assert prior(core, "R2026000001", at(2026, 3, 1, 10, 0)) == 0


def test_period_is_read_in_china_time_R_EL_1_2(core: SqlCoreSystem) -> None:
    # 2026-01-01 00:30 in China is still 2025-12-31 in UTC: it is inside the 2026 period.
    early = at(2026, 1, 1, 0, 30)
    assert early.astimezone(UTC).date() == date(2025, 12, 31)
    assert prior(core, "R2026000001", early) == 0
    assert prior(core, "R2026000002", at(2026, 2, 1, 9, 0)) == 1


def test_reports_on_other_policies_are_not_counted_R_EL_1_2(core: SqlCoreSystem) -> None:
    assert prior(core, "R2026000101", at(2026, 2, 1, 9, 0), policy_no="P2026000002") == 0
    assert prior(core, "R2027000001", at(2027, 2, 1, 9, 0), policy_no="P2027000001") == 0
    assert prior(core, "R2026000001", at(2026, 3, 1, 10, 0)) == 0


def test_naive_report_time_is_taken_as_china_time(core: SqlCoreSystem) -> None:
    # 20:00 on 31 December in China is before the period; read as UTC it would be inside it.
    assert prior(core, "R2025000099", datetime(2025, 12, 31, 20, 0)) == 0
    assert prior(core, "R2026000001", at(2026, 1, 1, 10, 0)) == 0


def test_simultaneous_reports_have_exactly_one_first_claim_R_EL_1_2(core: SqlCoreSystem) -> None:
    same_time = at(2026, 4, 1, 8, 0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda i: prior(core, f"R20260004{i:02d}", same_time), range(8)))
    assert sorted(counts) == list(range(8))


def test_report_number_on_another_policy_is_refused_R_X_2(core: SqlCoreSystem) -> None:
    core.lookup(ask("R2026000001", at(2026, 3, 1, 10, 0)))
    with pytest.raises(ApplicationError) as caught:
        core.lookup(ask("R2026000001", at(2026, 3, 1, 10, 0), policy_no="P2026000002"))
    assert caught.value.type == REPORT_CONFLICT
    assert caught.value.non_retryable


async def test_activity_looks_up_policy(core: SqlCoreSystem) -> None:
    result = await ActivityEnvironment().run(CoreSystemActivities(core).lookup_policy, ask("R2026000001", at(2026, 3, 1, 10, 0)))
    assert result.policy.policy_no == POLICY
    assert result.history.prior_claims_this_period == 0


async def test_unknown_policy_is_a_non_retryable_refusal(core: SqlCoreSystem) -> None:
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            CoreSystemActivities(core).lookup_policy, ask("R2026000001", at(2026, 3, 1), policy_no="P9999999999")
        )
    assert caught.value.type == POLICY_NOT_FOUND
    assert caught.value.non_retryable
    assert core.count_reports() == 0


def test_sample_file_loads_every_segment(databases: Databases) -> None:
    core = SqlCoreSystem(databases("core"))
    assert (core.count_customers(), core.count_policies()) == (0, 0)
    stats = core.load_file(SAMPLE)
    assert (core.count_customers(), core.count_policies()) == (7, 8)
    assert (stats.customers_added, stats.policies_added) == (7, 8)
    again = core.load_file(SAMPLE)
    assert (again.customers_added, again.customers_updated, again.policies_added, again.policies_updated) == (0, 7, 0, 8)

    data = CoreData.model_validate_json(SAMPLE.read_bytes())
    tags = {c.premium_tag for c in data.customers}
    assert {"钻石(-3)成功男士", "(-3)女性", "金（-1）女性", None} <= tags
    assert any(c.kind == CustomerKind.CORPORATE for c in data.customers)
    assert any(c.gender == Gender.FEMALE and c.premium_tag == "(-3)女性" for c in data.customers)
    reform = [p for p in data.policies if p.reform_2020 and Coverage.WAIVER_THIRD_PARTY not in p.coverages]
    assert reform, "a 2020-reform policy without explicit waivers"
    assert any(p.vehicle_first_registered == date(2026, 6, 1) for p in data.policies)
    assert any(Coverage.THIRD_PARTY not in p.coverages for p in data.policies)
    first = [p for p in data.policies if p.customer_id == "C0001"]
    assert {p.period_start.year for p in first} == {2026, 2027}

    # Every sample policy answers a lookup, and counts claims on its own.
    for n, policy in enumerate(data.policies):
        start = datetime.combine(policy.period_start, datetime.min.time(), CHINA_TZ).replace(hour=12)
        assert prior(core, f"RS{n:04d}01", start, policy.policy_no) == 0
        assert prior(core, f"RS{n:04d}02", start.replace(hour=13), policy.policy_no) == 1


def test_load_is_all_or_nothing(databases: Databases) -> None:
    core = SqlCoreSystem(databases("core"))
    customer = Customer(customer_id="C9001", name="测试客户九", kind=CustomerKind.INDIVIDUAL)
    orphan = Policy(
        policy_no="P2026009002",
        customer_id="C9999",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        coverages=frozenset({Coverage.COMPULSORY}),
    )
    with pytest.raises(ValueError, match="unknown customer C9999"):
        core.load(CoreData(customers=[customer], policies=[orphan]))
    assert core.count_customers() == 0


def test_late_delivered_earlier_report_cannot_also_be_first_R_EL_1_2(core: SqlCoreSystem) -> None:
    """Two claims on one policy: whatever order they reach us in, only one is the first claim."""
    assert prior(core, "R2026000602", at(2026, 6, 2, 10, 0)) == 0
    # Reported earlier, delivered later: the policy already has a claim this period.
    assert prior(core, "R2026000601", at(2026, 6, 1, 10, 0)) == 1
