"""Which premium segments a customer belongs to (R-ID-1, OPEN-1)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.models import Customer, CustomerKind, Gender, Policy, Segment, TagReading
from domain.rules import Thresholds


def segments_of(customer: Customer, policy: Policy, tag: TagReading, on: date, thresholds: Thresholds) -> tuple[Segment, ...]:
    """The customer's segments on date `on`, in enum order (R-ID-1, OPEN-1)."""
    found = {
        Segment.CLAIM_FREE_3: _claim_free(tag, thresholds),
        Segment.NEW_CAR: _new_car(policy, on, thresholds),
        Segment.PREMIUM_FEMALE: (
            customer.kind is CustomerKind.INDIVIDUAL
            and customer.gender is Gender.FEMALE
            and tag.tag is not None
            and tag.tag.tier is not None
        ),
    }
    return tuple(segment for segment in Segment if found[segment])


def _claim_free(tag: TagReading, thresholds: Thresholds) -> bool:
    """R-ID-1: the tag's claim count shows enough claim-free years."""
    return tag.tag is not None and tag.tag.claim_free_years >= thresholds.claim_free_years_required


def _new_car(policy: Policy, on: date, thresholds: Thresholds) -> bool:
    """OPEN-1: first registered within the last `new_car_months` calendar months, both ends included."""
    registered = policy.vehicle_first_registered
    return registered is not None and _months_before(on, thresholds.new_car_months) <= registered <= on


def _months_before(d: date, months: int) -> date:
    """The same day `months` calendar months earlier, clamped to the month's end (31 Mar - 1 = 28/29 Feb)."""
    year, month_index = divmod(d.year * 12 + d.month - 1 - months, 12)
    month = month_index + 1
    days_in_month = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, days_in_month))
