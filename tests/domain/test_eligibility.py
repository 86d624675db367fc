"""R-EL-1: eligibility for the small-claim tracks, every failed condition by name."""

from __future__ import annotations

import pytest

from domain.eligibility import check_eligibility
from domain.models import Coverage, CustomerKind, Eligibility, EligibilityCondition
from domain.rules import Thresholds
from domain.tags import read_tag

WAIVERS = {Coverage.WAIVER_VEHICLE_DAMAGE, Coverage.WAIVER_THIRD_PARTY}
BASE = frozenset(Coverage) - WAIVERS


def _check(make, customer=None, policy=None, history=None, report=None) -> Eligibility:
    customer = customer or make.customer()
    return check_eligibility(
        customer,
        policy or make.policy(),
        read_tag(customer.premium_tag),
        history or make.history(),
        report or make.report(),
        Thresholds(),
    )


def _only_failure(eligibility: Eligibility, rule: str) -> str:
    """Assert exactly one condition failed, under `rule`, and return its reason."""
    assert not eligibility.eligible
    assert [f.rule for f in eligibility.failed] == [rule]
    return eligibility.failed[0].reason


def test_r_el_1_all_conditions_hold(make):
    assert _check(make) == Eligibility(eligible=True, failed=())


def test_r_el_1_1_corporate_customer_fails(make):
    eligibility = _check(make, customer=make.customer(kind=CustomerKind.CORPORATE))
    assert "corporate" in _only_failure(eligibility, "R-EL-1.1")
    assert eligibility.failed[0].condition is EligibilityCondition.INDIVIDUAL_THREE_YEARS


@pytest.mark.parametrize(
    ("tag", "words"),
    [("(-2)男性", "2 claim-free years, fewer than the 3 required"), ("钻石-3男性", "not recognised")],
)
def test_r_el_1_1_tag_without_three_claim_free_years_fails(make, tag, words):
    assert words in _only_failure(_check(make, customer=make.customer(premium_tag=tag)), "R-EL-1.1")


def test_r_el_1_1_fewer_than_three_consecutive_commercial_years_fails(make):
    reason = _only_failure(_check(make, policy=make.policy(consecutive_commercial_years=2)), "R-EL-1.1")
    assert "commercial insurance with us 2 years in a row, fewer than the 3 required" in reason


def test_r_el_1_2_second_claim_in_the_period_fails(make):
    reason = _only_failure(_check(make, history=make.history(prior_claims=1)), "R-EL-1.2")
    assert "claim number 2" in reason


def test_r_el_1_3_pre_reform_policy_without_waivers_fails_naming_them(make):
    policy = make.policy(coverages=BASE, reform_2020=False)
    reason = _only_failure(_check(make, policy=policy), "R-EL-1.3")
    assert "deductible waiver for vehicle damage" in reason
    assert "deductible waiver for third-party liability" in reason
    assert "compulsory" not in reason


def test_r_el_1_3_reform_2020_policy_has_the_waiver_built_in(make):
    assert _check(make, policy=make.policy(coverages=BASE, reform_2020=True)).eligible


def test_r_el_1_3_reform_2020_still_needs_the_base_coverages(make):
    policy = make.policy(coverages=BASE - {Coverage.COMPULSORY}, reform_2020=True)
    reason = _only_failure(_check(make, policy=policy), "R-EL-1.3")
    assert "compulsory traffic insurance" in reason
    assert "waiver" not in reason


def test_r_el_1_4_driver_not_the_insured_fails(make):
    reason = _only_failure(_check(make, report=make.report(driver_is_insured=False)), "R-EL-1.4")
    assert reason == "the insured did not drive the car"


def test_r_el_1_5_reporter_not_the_insured_fails(make):
    reason = _only_failure(_check(make, report=make.report(reporter_is_insured=False)), "R-EL-1.5")
    assert "not reported by the insured" in reason


def test_r_el_1_6_payee_not_the_insured_fails(make):
    reason = _only_failure(_check(make, report=make.report(payee_account="6222000099998888")), "R-EL-1.6")
    assert "not the insured's own" in reason


@pytest.mark.parametrize("payee", [None, "6222000011112222", " 6222 0000 1111 2222 "])
def test_r_el_1_6_insured_account_or_none_passes(make, payee):
    assert _check(make, report=make.report(payee_account=payee)).eligible


def test_r_el_1_6_payee_given_but_no_account_on_file_fails(make):
    eligibility = _check(
        make,
        policy=make.policy(insured_bank_account=None),
        report=make.report(payee_account="6222000011112222"),
    )
    assert "no bank account on file" in _only_failure(eligibility, "R-EL-1.6")


def test_r_el_1_several_failures_are_reported_together(make):
    eligibility = _check(
        make,
        customer=make.customer(kind=CustomerKind.CORPORATE),
        history=make.history(prior_claims=2),
        report=make.report(driver_is_insured=False, reporter_is_insured=False, payee_account="1234"),
    )
    assert not eligibility.eligible
    assert [f.rule for f in eligibility.failed] == [
        "R-EL-1.1",
        "R-EL-1.2",
        "R-EL-1.4",
        "R-EL-1.5",
        "R-EL-1.6",
    ]
    assert [f.condition for f in eligibility.failed] == [
        EligibilityCondition.INDIVIDUAL_THREE_YEARS,
        EligibilityCondition.FIRST_CLAIM_IN_PERIOD,
        EligibilityCondition.INSURED_DROVE,
        EligibilityCondition.INSURED_REPORTED,
        EligibilityCondition.PAID_TO_INSURED_ACCOUNT,
    ]


def test_r_el_1_1_lists_every_problem_of_the_condition(make):
    eligibility = _check(
        make,
        customer=make.customer(kind=CustomerKind.CORPORATE, premium_tag="(-1)男性"),
        policy=make.policy(consecutive_commercial_years=1),
    )
    reason = _only_failure(eligibility, "R-EL-1.1")
    assert "corporate" in reason and "1 claim-free year," in reason and "1 year in a row" in reason
