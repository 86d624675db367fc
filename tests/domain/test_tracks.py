"""R-A-1, R-A-2, R-B-2, R-B-3, R-C-1, OPEN-2, R-D-1, R-X-2: which tracks a report takes, and why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.models import AccidentKind, Decision, Gender, Segment, Track, TrackDecision
from domain.rules import RuleSettings, Thresholds
from domain.tracks import decide, small_claim_estimate_ok

A, B, C, D = Track.AUTHORISATION, Track.CREDIT, Track.EXPERT_TEAM, Track.INJURY
SINGLE, TWO = AccidentKind.SINGLE_PARTY, AccidentKind.TWO_PARTY


def _decide(make, customer=None, policy=None, history=None, settings=None, **report_facts) -> Decision:
    return decide(
        make.report(**report_facts),
        customer or make.customer(),
        policy or make.policy(),
        history or make.history(),
        settings or RuleSettings(),
    )


def _applying(decision: Decision) -> set[Track]:
    return {t.track for t in decision.applying()}


def _track(decision: Decision, track: Track) -> TrackDecision:
    return next(t for t in decision.tracks if t.track is track)


def test_r_x_2_every_track_is_decided_in_enum_order(make):
    decision = _decide(make)
    assert [t.track for t in decision.tracks] == [A, B, C, D]
    assert all(t.reason for t in decision.tracks)


def test_r_a_1_eligible_single_party_at_scene_takes_authorisation(make):
    decision = _decide(make, accident_kind=SINGLE, at_scene=True)
    assert _applying(decision) == {A}
    assert decision.segments == (Segment.CLAIM_FREE_3,)
    authorisation = _track(decision, A)
    assert authorisation.needs_acceptance
    assert "R-A-1" in authorisation.rules
    assert "for authorisation" in _track(decision, B).reason


def test_r_a_2_estimate_exactly_3000_may_leave_scene(make):
    authorisation = _track(_decide(make, estimated_own_loss=Decimal("3000")), A)
    assert authorisation.applies
    assert "may leave the scene" in authorisation.reason


@pytest.mark.parametrize("estimate", [None, Decimal("1500")])
def test_r_a_1_r_a_2_offer_says_what_happens_next_not_that_the_customer_may_leave(make, estimate):
    """Issue 12.6: before the customer accepted (R-A-1) and before the surveyor's estimate (R-A-2),
    the reason says what happens next, never "may leave the scene at once"."""
    reason = _track(_decide(make, estimated_own_loss=estimate), A).reason
    assert "at once" not in reason
    assert "if you accept and the estimate is ≤ 3,000.00 CNY, you may leave the scene" in reason
    assert "R-A-2" in reason


def test_r_a_2_estimate_3000_01_waits_for_surveyor_and_leaves_fast_track(make):
    decision = _decide(make, estimated_own_loss=Decimal("3000.01"))
    assert _applying(decision) == set()  # B does not take at-scene single-party claims either
    reason = _track(decision, A).reason
    assert "surveyor" in reason and "ordinary process" in reason and "3,000.01 CNY" in reason


@pytest.mark.parametrize(
    ("facts", "words"),
    [
        ({"accident_kind": TWO}, "single-party"),
        ({"at_scene": False}, "at the scene"),
        ({"driver_is_insured": False}, "the insured did not drive the car"),
    ],
)
def test_r_a_1_authorisation_needs_single_party_at_scene_insured_driving(make, facts, words):
    authorisation = _track(_decide(make, estimated_own_loss=Decimal("1000"), **facts), A)
    assert not authorisation.applies
    assert words in authorisation.reason


def test_r_el_1_ineligible_customer_gets_no_small_claim_track_and_is_told_why(make):
    decision = _decide(make, at_scene=False, reporter_is_insured=False, estimated_own_loss=Decimal("500"))
    assert _applying(decision) == set()
    for track in (A, B):
        reason = _track(decision, track).reason
        assert "R-EL-1" in reason and "not reported by the insured" in reason


def test_r_b_2_single_party_not_at_scene_within_3000_takes_credit(make):
    decision = _decide(make, at_scene=False, estimated_own_loss=Decimal("3000.00"))
    assert _applying(decision) == {B}
    credit = _track(decision, B)
    assert credit.needs_acceptance
    assert "R-B-2" in credit.rules


def test_r_b_2_single_party_over_3000_leaves_fast_track(make):
    credit = _track(_decide(make, at_scene=False, estimated_own_loss=Decimal("3000.01")), B)
    assert not credit.applies
    assert "ordinary process" in credit.reason and "R-B-2" in credit.reason


def test_r_b_2_credit_needs_a_confirmed_estimate(make):
    credit = _track(_decide(make, at_scene=False), B)
    assert not credit.applies
    assert "No loss estimate confirmed" in credit.reason


@pytest.mark.parametrize("at_scene", [True, False])
def test_r_b_3_two_party_third_party_exactly_2000_takes_credit(make, at_scene):
    decision = _decide(
        make,
        accident_kind=TWO,
        at_scene=at_scene,
        estimated_own_loss=Decimal("3000"),
        estimated_third_party_loss=Decimal("2000"),
    )
    assert _applying(decision) == {B}
    assert "R-B-3" in _track(decision, B).rules


@pytest.mark.parametrize(
    ("own", "third", "words"),
    [
        ("3000", "2000.01", "third-party vehicle loss of 2,000.01 CNY is over"),
        ("3000.01", "2000", "own-vehicle loss of 3,000.01 CNY is over"),
        ("3000", None, "no third-party loss estimate"),
    ],
)
def test_r_b_3_two_party_over_a_limit_leaves_fast_track(make, own, third, words):
    credit = _track(
        _decide(
            make,
            accident_kind=TWO,
            estimated_own_loss=Decimal(own),
            estimated_third_party_loss=None if third is None else Decimal(third),
        ),
        B,
    )
    assert not credit.applies
    assert words.lower() in credit.reason.lower() and "ordinary process" in credit.reason


def test_r_x_2_two_party_small_claim_with_injury_takes_credit_and_injury(make):
    decision = _decide(
        make,
        accident_kind=TWO,
        estimated_own_loss=Decimal("1500"),
        estimated_third_party_loss=Decimal("800"),
        injury=True,
    )
    assert _applying(decision) == {B, D}
    assert _track(decision, D).needs_acceptance is False


@pytest.mark.parametrize(("own", "third"), [(Decimal("50000"), None), (Decimal("40000"), Decimal("10000"))])
def test_open_2_estimated_loss_of_50000_is_major_and_offers_expert_team(make, own, third):
    decision = _decide(make, estimated_own_loss=own, estimated_third_party_loss=third, accident_kind=TWO)
    assert _applying(decision) == {C}
    expert = _track(decision, C)
    assert expert.needs_acceptance
    assert "50,000.00 CNY" in expert.reason


def test_open_2_loss_just_below_50000_is_not_major(make):
    expert = _track(_decide(make, estimated_own_loss=Decimal("49999.99")), C)
    assert not expert.applies
    assert expert.reason.startswith("Not a major loss")


@pytest.mark.parametrize(("facts", "words"), [({"deaths": 1}, "1 person(s) died"), ({"hospitalised": 2}, "2 person(s)")])
def test_r_c_1_open_2_death_or_hospitalisation_is_major_and_injury(make, facts, words):
    decision = _decide(make, **facts)
    assert {C, D} <= _applying(decision)
    assert words in _track(decision, C).reason


def test_r_d_1_injury_report_takes_injury_track_without_offer(make):
    injury = _track(_decide(make, injury=True), D)
    assert injury.applies and not injury.needs_acceptance
    assert injury.rules == ("R-D-1",)
    assert not _track(_decide(make), D).applies


def test_r_id_1_non_premium_customer_gets_no_track_with_a_reason(make):
    decision = _decide(make, customer=make.customer(premium_tag=None), deaths=1, injury=True)
    assert decision.segments == ()
    assert _applying(decision) == set()
    assert all(t.reason.startswith("Not a premium customer") for t in decision.tracks)


def test_open_1_new_car_segment_gets_expert_team_and_injury_but_not_small_claims(make):
    decision = _decide(
        make,
        customer=make.customer(premium_tag="(0)男性"),
        policy=make.policy(vehicle_first_registered=date(2026, 1, 5)),
        estimated_own_loss=Decimal("60000"),
        injury=True,
    )
    assert decision.segments == (Segment.NEW_CAR,)
    assert _applying(decision) == {C, D}
    assert "new_car do not include this track" in _track(decision, A).reason


def test_open_1_premium_female_segment_is_found_from_the_tag(make):
    decision = _decide(make, customer=make.customer(premium_tag="金(0)女性", gender=Gender.FEMALE), deaths=1)
    assert decision.segments == (Segment.PREMIUM_FEMALE,)
    assert _applying(decision) == {C, D}


@pytest.mark.parametrize(("registered", "segments"), [(date(2025, 6, 10), (Segment.NEW_CAR,)), (date(2025, 6, 9), ())])
def test_open_1_segments_are_judged_on_the_china_date_of_the_report(make, registered, segments):
    """00:30 on 10 June in Beijing is still 9 June in UTC; 9 June 2025 is over 12 months before 10 June 2026."""
    decision = _decide(
        make,
        customer=make.customer(premium_tag=None),
        policy=make.policy(vehicle_first_registered=registered),
        reported_at=datetime(2026, 6, 9, 16, 30, tzinfo=UTC),
    )
    assert decision.segments == segments


def test_r_a_2_limits_come_from_settings(make):
    settings = RuleSettings(thresholds=Thresholds(small_claim_own_max=Decimal("5000")))
    assert _applying(_decide(make, settings=settings, estimated_own_loss=Decimal("4000"))) == {A}
    assert _applying(_decide(make, estimated_own_loss=Decimal("4000"))) == set()


# --- small_claim_estimate_ok: the estimate confirmed after the report -----------------------------


@pytest.mark.parametrize(("own", "ok"), [("3000", True), ("3000.01", False)])
def test_r_a_2_confirmed_estimate_for_authorisation(own, ok):
    result, reason = small_claim_estimate_ok(A, SINGLE, Decimal(own), None, Thresholds())
    assert result is ok
    assert "R-A-2" in reason
    assert ("may leave the scene" in reason) is ok


def test_r_a_1_confirmed_estimate_of_two_party_accident_is_not_authorisation():
    ok, reason = small_claim_estimate_ok(A, TWO, Decimal("100"), Decimal("100"), Thresholds())
    assert not ok and "single-party" in reason


@pytest.mark.parametrize(
    ("kind", "own", "third", "ok", "rule"),
    [
        (SINGLE, "3000", None, True, "R-B-2"),
        (SINGLE, "3000.01", None, False, "R-B-2"),
        (TWO, "3000", "2000", True, "R-B-3"),
        (TWO, "3000", "2000.01", False, "R-B-3"),
        (TWO, "3000.01", "0", False, "R-B-3"),
        (TWO, "100", None, False, "R-B-3"),
    ],
)
def test_r_b_2_r_b_3_confirmed_estimate_for_credit(kind, own, third, ok, rule):
    third_party = None if third is None else Decimal(third)
    result, reason = small_claim_estimate_ok(B, kind, Decimal(own), third_party, Thresholds())
    assert result is ok
    assert rule in reason
    assert ("ordinary process" in reason) is not ok


@pytest.mark.parametrize("track", [C, D])
def test_small_claim_estimate_is_only_for_tracks_a_and_b(track):
    with pytest.raises(ValueError, match="no small-claim estimate"):
        small_claim_estimate_ok(track, SINGLE, Decimal("100"), None, Thresholds())


@pytest.mark.parametrize(
    ("facts", "track", "over"),
    [
        ({"estimated_own_loss": Decimal("3000.01")}, "A", True),  # R-A-2
        ({"estimated_own_loss": Decimal("3000")}, "A", False),
        ({"at_scene": False, "estimated_own_loss": Decimal("3000.01")}, "B", True),  # R-B-2
        (
            {
                "at_scene": False,
                "accident_kind": "two_party",
                "estimated_own_loss": Decimal("100"),
                "estimated_third_party_loss": Decimal("2000.01"),
            },
            "B",
            True,
        ),  # R-B-3
        ({"at_scene": False, "estimated_own_loss": None}, "B", False),  # no estimate: not over a limit
    ],
)
def test_r_a_2_r_b_2_r_b_3_over_a_limit_is_marked_for_the_ordinary_process(make, facts, track, over):
    """SPEC §3, last line: a small-claim track not taken because an estimate is over its limit is
    marked, so the claim knows that part goes to the ordinary process (issue 12.1)."""
    decision = _track(_decide(make, **facts), Track(track))
    assert not decision.applies or not over
    assert decision.over_limit is over
