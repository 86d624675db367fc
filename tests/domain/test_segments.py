"""R-ID-1 and OPEN-1: which premium segments a customer is in."""

from __future__ import annotations

from datetime import date

import pytest

from domain.models import CustomerKind, Gender, Segment
from domain.rules import Thresholds
from domain.segments import segments_of
from domain.tags import read_tag

ON = date(2026, 6, 10)


def _segments(make, on: date = ON, thresholds: Thresholds | None = None, **facts) -> tuple[Segment, ...]:
    customer_facts = {k: facts.pop(k) for k in ("kind", "gender", "premium_tag") if k in facts}
    customer = make.customer(**customer_facts)
    policy = make.policy(**facts)
    return segments_of(customer, policy, read_tag(customer.premium_tag), on, thresholds or Thresholds())


def test_r_id_1_minus_3_tag_is_claim_free_3(make):
    assert _segments(make, premium_tag="(-3)男性") == (Segment.CLAIM_FREE_3,)


@pytest.mark.parametrize("tag", ["(-2)男性", "(0)男性", "钻石-3成功男士", None])
def test_r_id_1_fewer_years_or_unrecognised_tag_is_not_claim_free_3(make, tag):
    assert _segments(make, premium_tag=tag) == ()


def test_r_id_1_required_years_is_a_setting(make):
    assert _segments(make, premium_tag="(-2)男性", thresholds=Thresholds(claim_free_years_required=2)) == (Segment.CLAIM_FREE_3,)


def test_open_1_new_car_registered_exactly_12_months_ago(make):
    assert Segment.NEW_CAR in _segments(make, premium_tag=None, vehicle_first_registered=date(2025, 6, 10))


@pytest.mark.parametrize("registered", [date(2025, 6, 9), date(2025, 5, 10)])  # 12 months + 1 day, 13 months
def test_open_1_car_older_than_12_months_is_not_new(make, registered):
    assert _segments(make, premium_tag=None, vehicle_first_registered=registered) == ()


def test_open_1_new_car_counts_calendar_months_to_the_end_of_a_short_month(make):
    """One calendar month before 31 March is 28 February, not 365/12 days."""
    one_month = Thresholds(new_car_months=1)
    on = date(2026, 3, 31)
    assert _segments(make, on, one_month, premium_tag=None, vehicle_first_registered=date(2026, 2, 28))
    assert not _segments(make, on, one_month, premium_tag=None, vehicle_first_registered=date(2026, 2, 27))


def test_open_1_unknown_registration_is_not_new_car(make):
    assert _segments(make, premium_tag=None, vehicle_first_registered=None) == ()


def test_open_1_female_individual_with_tier_is_premium_female(make):
    assert _segments(make, premium_tag="金(0)女性", gender=Gender.FEMALE) == (Segment.PREMIUM_FEMALE,)


@pytest.mark.parametrize(
    ("kind", "gender", "tag"),
    [
        (CustomerKind.INDIVIDUAL, Gender.FEMALE, "(0)女性"),  # no tier
        (CustomerKind.INDIVIDUAL, Gender.MALE, "金(0)男性"),
        (CustomerKind.INDIVIDUAL, Gender.UNKNOWN, "金(0)女性"),
        (CustomerKind.CORPORATE, Gender.FEMALE, "金(0)女性"),
        (CustomerKind.INDIVIDUAL, Gender.FEMALE, "金0女性"),  # unrecognised
    ],
)
def test_open_1_not_premium_female(make, kind, gender, tag):
    assert Segment.PREMIUM_FEMALE not in _segments(make, kind=kind, gender=gender, premium_tag=tag)


def test_r_id_1_open_1_all_segments_come_in_enum_order(make):
    found = _segments(make, premium_tag="钻石(-3)女性", gender=Gender.FEMALE, vehicle_first_registered=date(2026, 1, 1))
    assert found == (Segment.CLAIM_FREE_3, Segment.NEW_CAR, Segment.PREMIUM_FEMALE)
