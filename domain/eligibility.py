"""Eligibility for the small-claim tracks A and B (R-EL-1): every failed condition, by name."""

from __future__ import annotations

from domain.models import (
    ClaimHistory,
    Coverage,
    Customer,
    CustomerKind,
    Eligibility,
    EligibilityCondition,
    FailedCondition,
    Policy,
    Report,
    TagReading,
)
from domain.rules import Thresholds

COVERAGE_NAMES = {
    Coverage.COMPULSORY: "compulsory traffic insurance (交强险)",
    Coverage.VEHICLE_DAMAGE: "vehicle damage (车损险)",
    Coverage.THIRD_PARTY: "third-party liability (三者险)",
    Coverage.WAIVER_VEHICLE_DAMAGE: "deductible waiver for vehicle damage (不计免赔·车损)",
    Coverage.WAIVER_THIRD_PARTY: "deductible waiver for third-party liability (不计免赔·三者)",
}
_BASE_COVERAGES = frozenset({Coverage.COMPULSORY, Coverage.VEHICLE_DAMAGE, Coverage.THIRD_PARTY})
_WAIVERS = frozenset({Coverage.WAIVER_VEHICLE_DAMAGE, Coverage.WAIVER_THIRD_PARTY})


def check_eligibility(
    customer: Customer,
    policy: Policy,
    tag: TagReading,
    history: ClaimHistory,
    report: Report,
    thresholds: Thresholds,
) -> Eligibility:
    """Evaluate all six conditions of R-EL-1 and report every one that fails (never only the first)."""
    checks = {
        EligibilityCondition.INDIVIDUAL_THREE_YEARS: _individual_three_years(customer, policy, tag, thresholds),
        EligibilityCondition.FIRST_CLAIM_IN_PERIOD: _first_claim(history),
        EligibilityCondition.REQUIRED_COVERAGES: _coverages(policy),
        EligibilityCondition.INSURED_DROVE: (None if report.driver_is_insured else "the insured did not drive the car"),
        EligibilityCondition.INSURED_REPORTED: (
            None if report.reporter_is_insured else "the claim was not reported by the insured themself"
        ),
        EligibilityCondition.PAID_TO_INSURED_ACCOUNT: _payee(policy, report),
    }
    # The enum lists the conditions in the order of R-EL-1, so its position is the rule number.
    failed = tuple(
        FailedCondition(condition=condition, rule=f"R-EL-1.{number}", reason=reason)
        for number, condition in enumerate(EligibilityCondition, start=1)
        if (reason := checks[condition]) is not None
    )
    return Eligibility(eligible=not failed, failed=failed)


# Each check returns None when the condition holds, else the reason it fails.


def _individual_three_years(customer: Customer, policy: Policy, tag: TagReading, thresholds: Thresholds) -> str | None:
    """R-EL-1.1: an individual with the claim-free tag, insured commercially N years in a row."""
    required = thresholds.claim_free_years_required
    problems = []
    if customer.kind is not CustomerKind.INDIVIDUAL:
        problems.append(f"the customer is a {customer.kind.value} customer, not an individual")
    if tag.tag is None:
        problems.append(f"the premium-customer tag is not recognised ({tag.reason})")
    elif tag.tag.claim_free_years < required:
        years = _years(tag.tag.claim_free_years, "claim-free ")
        problems.append(f"the premium-customer tag shows {years}, fewer than the {required} required")
    if policy.consecutive_commercial_years < required:
        years = _years(policy.consecutive_commercial_years)
        problems.append(f"commercial insurance with us {years} in a row, fewer than the {required} required")
    return "; ".join(problems) or None


def _first_claim(history: ClaimHistory) -> str | None:
    """R-EL-1.2: the first claim in the current policy period."""
    prior = history.prior_claims_this_period
    if prior == 0:
        return None
    return f"this is claim number {prior + 1} in the policy period; the service is for the first claim only"


def _coverages(policy: Policy) -> str | None:
    """R-EL-1.3: the three base coverages and both waivers; 2020-reform policies have the waivers built in."""
    required = _BASE_COVERAGES if policy.reform_2020 else _BASE_COVERAGES | _WAIVERS
    missing = [COVERAGE_NAMES[c] for c in Coverage if c in required and c not in policy.coverages]
    if not missing:
        return None
    return "the policy does not carry " + ", ".join(missing)


def _payee(policy: Policy, report: Report) -> str | None:
    """R-EL-1.6: the indemnity goes to the insured's own account (no payee given means the one on file)."""
    if report.payee_account is None:
        return None
    if policy.insured_bank_account is None:
        return "a payee account was given but the insured has no bank account on file to check it against"
    if _account(report.payee_account) != _account(policy.insured_bank_account):
        return "the indemnity would be paid to an account that is not the insured's own"
    return None


def _account(number: str) -> str:
    # Agents type account numbers in groups of four; the spaces are not part of the number.
    return "".join(number.split())


def _years(n: int, kind: str = "") -> str:
    return f"{n} {kind}year{'' if n == 1 else 's'}"
