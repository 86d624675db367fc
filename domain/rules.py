"""The business settings: every threshold and deadline of SPEC.md, with its default.

Workflows receive a `RuleSettings` from an activity when a claim starts, so a branch changes a
threshold in its settings file without a deploy; a claim keeps the rules it started under.
"""

from __future__ import annotations

from datetime import date, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import Field, model_validator

from domain.models import Frozen, Money, Segment, Track

# Mainland China has one time zone and no daylight saving.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


# Deadline settings that are no longer read: assessment_working_days (R-A-4's assessment after the
# photos waits for the assessor, with no deadline of its own).
RETIRED_DEADLINES = frozenset({"assessment_working_days"})


class Thresholds(Frozen):
    small_claim_own_max: Money = Decimal("3000.00")  # R-A-2, R-B-2, R-B-3 (inclusive: Civil Code art. 1259)
    small_claim_third_party_max: Money = Decimal("2000.00")  # R-B-3 (inclusive)
    major_loss_min: Money = Decimal("50000.00")  # OPEN-2
    claim_free_years_required: int = Field(default=3, ge=1)  # R-ID-1, R-EL-1.1
    new_car_months: int = Field(default=12, ge=1)  # OPEN-1
    poor_callback_score_max: int = Field(default=2, ge=1, le=5)  # R-X-1: scores 1..5, this or lower is poor

    def loss_band(self, amount: Decimal | None) -> str:
        """R-A-2/R-B-2 small claims (up to small_claim_own_max), OPEN-2 major losses (from
        major_loss_min), the rest between: what operations sort claims by (the LossBand attribute)."""
        small, major = self.small_claim_own_max, self.major_loss_min
        if amount is None:
            return "unknown"
        if amount <= small:
            return f"<={small:.0f}"
        if amount >= major:
            return f">={major:.0f}"
        return f"{small:.0f}-{major:.0f}"


def is_poor_score(score: int, poor_score_max: int) -> bool:
    """R-X-1: scores run 1 (poor) to 5; one at or below `poor_score_max` is poor."""
    return score <= poor_score_max


class Deadlines(Frozen):
    """How long each human step may take before a supervisor is told (OPEN-3)."""

    @model_validator(mode="before")
    @classmethod
    def _without_retired(cls, data: Any) -> Any:
        # Claims keep the rules they started under (recorded in their histories), and settings
        # files outlive a release: a setting no step reads any more is dropped, not refused.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in RETIRED_DEADLINES}
        return data

    offer_response: timedelta = timedelta(hours=2)  # R-A-1, R-B-1, R-C-1: the customer's answer
    scene_estimate: timedelta = timedelta(hours=2)  # R-A-2, R-B-2/3
    car_at_shop: timedelta = timedelta(days=3)  # R-A-3
    photos_upload: timedelta = timedelta(days=1)  # R-A-3
    documents: timedelta = timedelta(days=7)  # R-A-5, R-B-4, R-X-5
    authorisation_payment_working_days: int = Field(default=1, ge=0)  # R-A-6: "within one working day"
    specialist_first_call: timedelta = timedelta(minutes=30)  # OPEN-3, R-D-2
    specialist_follow_up: timedelta = timedelta(days=3)  # R-D-5
    lead_named_working_hours: int = Field(default=2, ge=1)  # R-C-2
    lead_first_contact_working_hours: int = Field(default=4, ge=1)  # OPEN-3, R-C-3
    team_staffed_working_days: int = Field(default=1, ge=0)  # R-C-4
    service_items: timedelta = timedelta(days=15)  # R-C-5
    payee_account: timedelta = timedelta(days=1)  # R-X-3: a corrected account after a refused payee
    callback: timedelta = timedelta(days=3)  # R-X-1
    statutory_decision_days: int = Field(default=30, ge=1)  # R-X-4
    statutory_payment_days: int = Field(default=10, ge=1)  # R-X-4


class CalendarSettings(Frozen):
    """Working days (SPEC §6): the `holidays` data plus local corrections, without a deploy."""

    extra_holidays: tuple[date, ...] = ()  # days off the package does not know
    extra_working_days: tuple[date, ...] = ()  # 调休 weekend days the package does not know
    working_day_start: time = time(9, 0)
    working_day_end: time = time(18, 0)


DEFAULT_SEGMENT_TRACKS: dict[Segment, tuple[Track, ...]] = {
    # SPEC §1 and OPEN-1: fast tracks stay with the claim-free-3-years segment.
    Segment.CLAIM_FREE_3: (Track.AUTHORISATION, Track.CREDIT, Track.EXPERT_TEAM, Track.INJURY),
    Segment.NEW_CAR: (Track.EXPERT_TEAM, Track.INJURY),
    Segment.PREMIUM_FEMALE: (Track.EXPERT_TEAM, Track.INJURY),
}


class RuleSettings(Frozen):
    thresholds: Thresholds = Thresholds()
    deadlines: Deadlines = Deadlines()
    calendar: CalendarSettings = CalendarSettings()
    segment_tracks: dict[Segment, tuple[Track, ...]] = Field(default_factory=lambda: dict(DEFAULT_SEGMENT_TRACKS))

    def tracks_for(self, segments: tuple[Segment, ...] | list[Segment]) -> set[Track]:
        return {track for segment in segments for track in self.segment_tracks.get(segment, ())}
