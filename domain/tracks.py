"""Which service tracks a report takes, and why (R-A-1, R-A-2, R-B-2, R-B-3, R-C-1, OPEN-2, R-D-1).

Every track is decided on its own, so one report can take several at once (R-X-2): a two-party
small claim with a minor injury takes B and D.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from domain.eligibility import check_eligibility
from domain.models import (
    AccidentKind,
    ClaimHistory,
    Customer,
    Decision,
    Eligibility,
    Policy,
    Report,
    Segment,
    TagReading,
    Track,
    TrackDecision,
)
from domain.rules import CHINA_TZ, RuleSettings, Thresholds
from domain.segments import segments_of
from domain.tags import read_tag

# R-A-1, R-B-1, R-C-1: these are offered and run only if the customer accepts; R-D-1 just starts.
_NEEDS_ACCEPTANCE = {
    Track.AUTHORISATION: True,
    Track.CREDIT: True,
    Track.EXPERT_TEAM: True,
    Track.INJURY: False,
}
_ORDINARY = "the claim leaves the fast track for the ordinary process"  # SPEC §3, last line
_CLAIM_DIRECTLY = "the customer claims directly with the documents"  # R-B-2


class _Verdict(NamedTuple):
    applies: bool
    rules: tuple[str, ...]
    reason: str
    over_limit: bool = False  # not taken only because an estimate is over a small-claim limit


def decide(report: Report, customer: Customer, policy: Policy, history: ClaimHistory, rules: RuleSettings) -> Decision:
    """Read the tag, find the segments, check R-EL-1 and decide every track, with reasons."""
    thresholds = rules.thresholds
    tag = read_tag(customer.premium_tag)
    segments = segments_of(customer, policy, tag, _report_date(report), thresholds)
    eligibility = check_eligibility(customer, policy, tag, history, report, thresholds)
    verdicts = {
        Track.AUTHORISATION: _authorisation(report, eligibility, thresholds),
        Track.CREDIT: _credit(report, eligibility, thresholds),
        Track.EXPERT_TEAM: _expert_team(report, thresholds),
        Track.INJURY: _injury(report),
    }
    open_tracks = rules.tracks_for(segments)
    decisions = tuple(_decision(track, verdicts[track] if track in open_tracks else _closed(segments, tag)) for track in Track)
    return Decision(tag=tag, segments=segments, eligibility=eligibility, tracks=decisions)


def small_claim_estimate_ok(
    track: Track,
    accident_kind: AccidentKind,
    own: Decimal,
    third_party: Decimal | None,
    thresholds: Thresholds,
) -> tuple[bool, str]:
    """Whether a confirmed estimate keeps the claim on small-claim track A or B, and why.

    R-A-2 for A, R-B-2 (single-party) and R-B-3 (two-party) for B. The limits are inclusive:
    Chinese 以内/以下 include the number (Civil Code art. 1259).
    """
    own_limit = _limit("the estimated own-vehicle loss", own, thresholds.small_claim_own_max)
    if track is Track.AUTHORISATION:
        if accident_kind is not AccidentKind.SINGLE_PARTY:
            return False, "Small-claim authorisation covers single-party accidents only (R-A-1)."
        over = f"the customer waits for the surveyor to survey on site, and {_ORDINARY}"
        return _judge([own_limit], "R-A-2", ok="the customer may leave the scene at once", over=over)
    if track is Track.CREDIT:
        if accident_kind is AccidentKind.SINGLE_PARTY:
            return _judge([own_limit], "R-B-2", ok=_CLAIM_DIRECTLY, over=_ORDINARY)
        if third_party is None:
            return False, _sentence(f"no third-party loss estimate confirmed (R-B-3): {_ORDINARY}")
        third_max = thresholds.small_claim_third_party_max
        third_limit = _limit("the third-party vehicle loss", third_party, third_max)
        return _judge([own_limit, third_limit], "R-B-3", ok=_CLAIM_DIRECTLY, over=_ORDINARY)
    raise ValueError(f"track {track.value} ({track.title}) has no small-claim estimate")


def _limit(what: str, amount: Decimal, limit: Decimal) -> tuple[bool, str]:
    within = amount <= limit
    return within, f"{what} of {_cny(amount)} is {'within' if within else 'over'} the {_cny(limit)} limit"


def _judge(limits: list[tuple[bool, str]], rule: str, *, ok: str, over: str) -> tuple[bool, str]:
    failures = [phrase for within, phrase in limits if not within]
    if failures:
        return False, _sentence(f"{' and '.join(failures)} ({rule}): {over}")
    return True, _sentence(f"{' and '.join(phrase for _, phrase in limits)} ({rule}): {ok}")


def _authorisation(report: Report, eligibility: Eligibility, thresholds: Thresholds) -> _Verdict:
    """Track A: an eligible single-party report at the scene, the insured driving (R-A-1, R-A-2)."""
    rules = ("R-EL-1", "R-A-1", "R-A-2")
    if not eligibility.eligible:  # includes R-EL-1.4, the insured driving
        return _Verdict(False, rules, _not_eligible(eligibility))
    if report.accident_kind is not AccidentKind.SINGLE_PARTY:
        return _Verdict(False, rules, "Authorisation covers single-party accidents only (R-A-1).")
    if not report.at_scene:
        return _Verdict(False, rules, "Authorisation needs a report made at the scene (R-A-1).")
    offer = "Eligible single-party accident reported at the scene: offer small-claim authorisation."
    # Said before the customer has accepted and before the surveyor's estimate: what happens next.
    limit = _cny(thresholds.small_claim_own_max)
    next_ = (
        f"if you accept and the estimate is ≤ {limit}, you may leave the scene; "
        "above it the surveyor comes to survey on site (R-A-2)"
    )
    if report.estimated_own_loss is None:
        return _Verdict(True, rules, f"{offer} The surveyor helps estimate the loss: {next_}.")
    within, why = small_claim_estimate_ok(Track.AUTHORISATION, report.accident_kind, report.estimated_own_loss, None, thresholds)
    if not within:
        return _Verdict(False, rules, why, over_limit=True)
    reported = _limit("the estimated own-vehicle loss reported", report.estimated_own_loss, thresholds.small_claim_own_max)[1]
    return _Verdict(True, rules, f"{offer} {_sentence(f'{reported}: {next_}')}")


def _credit(report: Report, eligibility: Eligibility, thresholds: Thresholds) -> _Verdict:
    """Track B: eligible single-party reports not at the scene, and two-party ones (R-B-2, R-B-3)."""
    single = report.accident_kind is AccidentKind.SINGLE_PARTY
    rules = ("R-EL-1", "R-B-1", "R-B-2" if single else "R-B-3")
    if not eligibility.eligible:
        return _Verdict(False, rules, _not_eligible(eligibility))
    if single and report.at_scene:
        # Track A takes these; over A's limit they go to the ordinary surveyed process, not to B.
        why = "A single-party accident reported at the scene is for authorisation (R-A-1), not credit."
        return _Verdict(False, rules, why)
    if report.estimated_own_loss is None:
        why = "No loss estimate confirmed: small-claim credit needs the customer's estimate."
        return _Verdict(False, rules, why)
    within, why = small_claim_estimate_ok(
        Track.CREDIT,
        report.accident_kind,
        report.estimated_own_loss,
        report.estimated_third_party_loss,
        thresholds,
    )
    return _Verdict(within, rules, f"Offer small-claim credit. {why}" if within else why, over_limit=not within)


def _expert_team(report: Report, thresholds: Thresholds) -> _Verdict:
    """Track C: a major loss, a large estimate or any death or hospitalisation (R-C-1, OPEN-2)."""
    rules = ("R-C-1", "OPEN-2")
    estimates = [e for e in (report.estimated_own_loss, report.estimated_third_party_loss) if e is not None]
    total = sum(estimates, Decimal("0.00")) if estimates else None
    threshold = _cny(thresholds.major_loss_min)
    grounds = []
    if total is not None and total >= thresholds.major_loss_min:
        grounds.append(f"the estimated loss of {_cny(total)} reaches the {threshold} threshold")
    if report.deaths:
        grounds.append(f"{report.deaths} person(s) died")
    if report.hospitalised:
        grounds.append(f"{report.hospitalised} person(s) were hospitalised")
    if grounds:
        return _Verdict(True, rules, _sentence(f"major loss: {'; '.join(grounds)}: offer the expert team"))
    loss = f"the estimated loss of {_cny(total)} is below {threshold}" if total is not None else "no estimate yet"
    return _Verdict(False, rules, _sentence(f"not a major loss: {loss}, and nobody died or was hospitalised"))


def _injury(report: Report) -> _Verdict:
    """Track D: any injury, death or hospitalisation (R-D-1); it starts without an offer."""
    if report.injury or report.deaths or report.hospitalised:
        why = "The report involves injury: text the injury service specialist to start the service."
        return _Verdict(True, ("R-D-1",), why)
    return _Verdict(False, ("R-D-1",), "No injury was reported.")


def _closed(segments: tuple[Segment, ...], tag: TagReading) -> _Verdict:
    """The customer's segments do not open this track (R-ID-1, OPEN-1)."""
    rules = ("R-ID-1", "OPEN-1")
    if not segments:
        why = f" ({tag.reason})" if tag.reason else ""
        return _Verdict(False, rules, f"Not a premium customer: the customer is in no premium segment{why}.")
    names = ", ".join(segment.value for segment in segments)
    return _Verdict(False, rules, f"Customer segment(s) {names} do not include this track.")


def _decision(track: Track, verdict: _Verdict) -> TrackDecision:
    return TrackDecision(
        track=track,
        applies=verdict.applies,
        needs_acceptance=_NEEDS_ACCEPTANCE[track],
        rules=verdict.rules,
        reason=verdict.reason,
        over_limit=verdict.over_limit,
    )


def _not_eligible(eligibility: Eligibility) -> str:
    reasons = "; ".join(failed.reason for failed in eligibility.failed)
    return _sentence(f"not eligible for the small-claim service (R-EL-1): {reasons}")


def _report_date(report: Report) -> date:
    # Segments are judged on the customer's calendar day, which is China's, whatever zone the time is in.
    at = report.reported_at
    return at.astimezone(CHINA_TZ).date() if at.tzinfo is not None else at.date()


def _cny(amount: Decimal) -> str:
    return f"{amount:,.2f} CNY"


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."
