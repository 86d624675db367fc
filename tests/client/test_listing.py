"""The claim list's visibility query (client/listing.py): built from checked codes only."""

from __future__ import annotations

from client.listing import ClaimFilters, visibility_query
from domain.models import Segment, Track
from workflows.messages import Stage as ClaimStage


def test_visibility_query_uses_only_checked_codes() -> None:
    query = visibility_query(
        ClaimFilters(
            stage=ClaimStage.AWAITING_DOCUMENTS, track=Track.CREDIT, segment=Segment.NEW_CAR, branch="SH01", overdue=True
        )
    )
    assert query == (
        "WorkflowType IN ('Claim', 'SmallClaimAuthorisation', 'SmallClaimCredit', 'LargeClaimExpertTeam', 'InjuryOneToOne') "
        'AND ClaimStage = "awaiting_documents" AND ClaimTracks = "B" '
        'AND Segment = "new_car" AND Branch = "SH01" AND Overdue = true'
    )
    # the claim's own stages and the codes every claim has: claims only
    assert visibility_query(ClaimFilters(stage=ClaimStage.CLOSED, branch="SH01")) == (
        'WorkflowType = \'Claim\' AND ClaimStage = "closed" AND Branch = "SH01"'
    )
