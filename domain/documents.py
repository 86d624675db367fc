"""The claim-document checklist that gates payment (R-X-5, R-B-2, R-B-3)."""

from __future__ import annotations

from collections.abc import Iterable, Set

from domain.models import AccidentKind, DocumentChannel, DocumentType, Report, Track

# The channels a document may come through, per track: R-A-5 (the assessor at the shop) and R-B-4
# (the credit track takes documents from the customer, a delegate or a door-to-door pickup).
ALLOWED_CHANNELS: dict[Track, frozenset[DocumentChannel]] = {
    Track.AUTHORISATION: frozenset(DocumentChannel),
    Track.CREDIT: frozenset({DocumentChannel.SELF, DocumentChannel.DELEGATE, DocumentChannel.DOOR_PICKUP}),
    Track.EXPERT_TEAM: frozenset(DocumentChannel),
    Track.INJURY: frozenset(DocumentChannel),
}

_D = DocumentType
_VEHICLE = frozenset(
    {
        _D.CLAIM_FORM,
        _D.DRIVING_LICENCE,
        _D.VEHICLE_LICENCE,
        _D.LOSS_PHOTOS,
        _D.REPAIR_LIST,
        _D.REPAIR_INVOICE,
        _D.PAYEE_BANK_CARD,
    }
)
# R-B-3: both vehicles' repair papers, and the police certificate of who was at fault.
_TWO_PARTY = frozenset({_D.POLICE_CERTIFICATE, _D.OTHER_VEHICLE_REPAIR_LIST, _D.OTHER_VEHICLE_REPAIR_INVOICE})
# Track D pays people, not repairs, so it needs no repair papers.
_INJURY = frozenset(
    {
        _D.CLAIM_FORM,
        _D.DRIVING_LICENCE,
        _D.VEHICLE_LICENCE,
        _D.PAYEE_BANK_CARD,
        _D.LIABILITY_FINDING,
        _D.MEDICAL_RECORDS,
        _D.MEDICAL_INVOICES,
    }
)


def required_documents(track: Track, report: Report, *, vehicle_inspection_required: bool = False) -> frozenset[DocumentType]:
    """The documents a claim on `track` needs, from the track and the report's facts (R-X-5, R-B-2, R-B-3)."""
    if track is Track.INJURY:
        return _INJURY
    required = set(_VEHICLE)
    if vehicle_inspection_required:  # 需验标 (R-B-2)
        required.add(_D.VEHICLE_INSPECTION)
    if report.accident_kind is AccidentKind.TWO_PARTY:
        required |= _TWO_PARTY
    return frozenset(required)


def missing_documents(required: Set[DocumentType], received: Iterable[DocumentType]) -> list[DocumentType]:
    """The required documents not yet received, in the checklist's (enum) order (R-X-5)."""
    have = set(received)
    return [document for document in DocumentType if document in required and document not in have]
