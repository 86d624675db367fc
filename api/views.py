"""The claim and track views as a caller may see them: personal data masked for the roles that do
not phone or pay the customer (security/permissions.FULL_PERSONAL_DATA).

What the views can carry: they hold codes, stages, amounts and staff codes by design
(workflows/messages.py), so personal data reaches them only as free text: timeline details,
reasons (a bank's decline message may quote an account, a refusal a phone), and the
premium-customer tag, whose persona part (女性, 成功男士) profiles the customer. Free text gets
every mobile number, ID number, account number and plate masked (security/masking.scrub_text);
the tag keeps its tier and claim-free count and loses its persona. Names, mobiles, ID numbers,
accounts and plates are never fields of the views, so nothing else needs masking; the list
(GET /claims) shows search attributes only (codes), the same for every role.
"""

from __future__ import annotations

from domain.models import Decision, TagReading
from security.masking import MASK, scrub_text
from workflows.messages import ClaimView, PaymentView, TimelineEntry, TrackView


def _text(value: str | None) -> str | None:
    return scrub_text(value) if value else value


def _timeline(entries: tuple[TimelineEntry, ...]) -> tuple[TimelineEntry, ...]:
    return tuple(e.model_copy(update={"detail": scrub_text(e.detail)}) if e.detail else e for e in entries)


def _payment(payment: PaymentView | None) -> PaymentView | None:
    if payment is None:
        return None
    return payment.model_copy(update={"refused_reason": _text(payment.refused_reason)})


def masked_tag(reading: TagReading) -> TagReading:
    """钻石(-3)成功男士 -> 钻石(-3)****: tier and claim-free years stay, the persona goes; a tag that
    did not parse is masked whole (its reason quotes it)."""
    if reading.raw is None:
        return reading
    if reading.tag is not None:
        persona = reading.tag.persona
        hidden = MASK * len(persona)
        raw = reading.raw.replace(persona, hidden) if persona else reading.raw
        tag = reading.tag.model_copy(update={"raw": raw, "persona": hidden})
        return reading.model_copy(update={"raw": raw, "tag": tag, "reason": _text(reading.reason)})
    raw = MASK * len(reading.raw)
    reason = reading.reason.replace(reading.raw.strip(), MASK * len(reading.raw.strip())) if reading.reason else None
    return reading.model_copy(update={"raw": raw, "reason": _text(reason)})


def _decision(decision: Decision | None) -> Decision | None:
    if decision is None:
        return None
    failed = tuple(f.model_copy(update={"reason": scrub_text(f.reason)}) for f in decision.eligibility.failed)
    return decision.model_copy(
        update={
            "tag": masked_tag(decision.tag),
            "eligibility": decision.eligibility.model_copy(update={"failed": failed}),
            "tracks": tuple(t.model_copy(update={"reason": scrub_text(t.reason)}) for t in decision.tracks),
        }
    )


def masked_track(view: TrackView) -> TrackView:
    return view.model_copy(
        update={
            "timeline": _timeline(view.timeline),
            "payment": _payment(view.payment),
            "outcome": _text(view.outcome),
            "handed_to_ordinary": _text(view.handed_to_ordinary),
        }
    )


def masked_claim(view: ClaimView) -> ClaimView:
    return view.model_copy(
        update={
            "decision": _decision(view.decision),
            "refusal": _text(view.refusal),
            "ordinary": _text(view.ordinary),
            "tracks": {track: masked_track(tv) for track, tv in view.tracks.items()},
            "timeline": _timeline(view.timeline),
        }
    )
