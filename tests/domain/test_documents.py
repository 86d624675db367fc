"""R-X-5, R-B-2, R-B-3: the document checklist that gates payment."""

from __future__ import annotations

import pytest

from domain.documents import missing_documents, required_documents
from domain.models import AccidentKind, DocumentType, Track

D = DocumentType
VEHICLE = {
    D.CLAIM_FORM,
    D.DRIVING_LICENCE,
    D.VEHICLE_LICENCE,
    D.LOSS_PHOTOS,
    D.REPAIR_LIST,
    D.REPAIR_INVOICE,
    D.PAYEE_BANK_CARD,
}
TWO_PARTY_EXTRAS = {D.POLICE_CERTIFICATE, D.OTHER_VEHICLE_REPAIR_LIST, D.OTHER_VEHICLE_REPAIR_INVOICE}


@pytest.mark.parametrize("track", [Track.AUTHORISATION, Track.CREDIT, Track.EXPERT_TEAM])
def test_r_x_5_single_party_vehicle_claim_needs_the_base_documents(make, track):
    assert required_documents(track, make.report(accident_kind=AccidentKind.SINGLE_PARTY)) == VEHICLE


def test_r_b_2_vehicle_inspection_added_where_required(make):
    required = required_documents(Track.CREDIT, make.report(), vehicle_inspection_required=True)
    assert required == VEHICLE | {D.VEHICLE_INSPECTION}


def test_r_b_3_two_party_adds_police_certificate_and_other_vehicle_repair_papers(make):
    required = required_documents(Track.CREDIT, make.report(accident_kind=AccidentKind.TWO_PARTY))
    assert required == VEHICLE | TWO_PARTY_EXTRAS


def test_r_x_5_injury_track_needs_liability_and_medical_papers_not_repair_papers(make):
    required = required_documents(Track.INJURY, make.report(accident_kind=AccidentKind.TWO_PARTY, injury=True))
    assert required == {
        D.CLAIM_FORM,
        D.DRIVING_LICENCE,
        D.VEHICLE_LICENCE,
        D.PAYEE_BANK_CARD,
        D.LIABILITY_FINDING,
        D.MEDICAL_RECORDS,
        D.MEDICAL_INVOICES,
    }


def test_r_x_5_missing_documents_come_in_checklist_order(make):
    required = required_documents(Track.CREDIT, make.report(accident_kind=AccidentKind.TWO_PARTY))
    received = [D.OTHER_VEHICLE_REPAIR_INVOICE, D.CLAIM_FORM, D.REPAIR_LIST, D.MEDICAL_RECORDS]
    assert missing_documents(required, received) == [
        D.DRIVING_LICENCE,
        D.VEHICLE_LICENCE,
        D.LOSS_PHOTOS,
        D.REPAIR_INVOICE,
        D.PAYEE_BANK_CARD,
        D.POLICE_CERTIFICATE,
        D.OTHER_VEHICLE_REPAIR_LIST,
    ]


def test_r_x_5_nothing_missing_once_every_required_document_is_in(make):
    required = required_documents(Track.AUTHORISATION, make.report())
    assert missing_documents(required, [*required, D.MEDICAL_INVOICES]) == []
    assert missing_documents(required, []) == [d for d in DocumentType if d in VEHICLE]
