"""Listing claims from Temporal visibility by the custom search attributes (no workflow opened),
and the attributes the claim keeps current as it moves."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from temporalio import activity

from client.claims import drive, report_claim
from dev.scenarios import sample_reports, steps_for
from domain.contracts import ActivityName, PayIndemnityInput, PayIndemnityResult
from domain.models import Track
from domain.rules import Thresholds
from tests.api.conftest import ApiEnv, error_of
from tests.helpers import eventually
from tests.workflows.helpers import running, unique_prefix
from workflows import search_attributes as sa
from workflows.messages import Stage as ClaimStage
from workflows.messages import TrackView, Waiting


def at_stage(wanted: str, response: httpx.Response) -> bool:
    return bool(response.json()["stage"] == wanted)


async def listed(api: ApiEnv, **params: object) -> list[str]:
    response = await api.http.get(
        "/claims", params={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
    )
    assert response.status_code == 200, response.text
    return sorted(c["report_no"] for c in response.json()["claims"])


async def finds(api: ApiEnv, expected: list[str], **params: object) -> None:
    """Visibility is eventually consistent: poll briefly until the listing is exactly `expected`."""

    async def probe() -> list[str]:
        return await listed(api, **params)

    await eventually(probe, lambda got: got == sorted(expected), timeout=15, what=f"listing {params}")


async def test_claims_are_listed_by_search_attribute(api: ApiEnv) -> None:
    """Stage, track, segment, branch, overdue and payment-due filters find exactly the expected
    claims (OPEN-1 segments, R-X-2 report numbers), one page at a time."""
    prefix = unique_prefix()
    samples = sample_reports(prefix, datetime.now(UTC))
    for report in samples.values():
        assert (await api.http.post("/claims", json=report.model_dump(mode="json"))).status_code == 201
    no = {code: r.report_no for code, r in samples.items()}

    async def probe() -> list[str]:
        return await listed(api, report_no_prefix=prefix, stage="awaiting_acceptance")

    # A, B and C offer their service; D's specialist is told at once (R-D-1)
    await eventually(probe, lambda got: got == sorted([no["A"], no["B"], no["C"]]), what="visibility")
    await finds(api, [no["D"]], report_no_prefix=prefix, stage="awaiting_specialist_call")
    await finds(api, [no["C"]], report_no_prefix=prefix, track="C")
    await finds(api, [no["C"]], report_no_prefix=prefix, segment="new_car")
    await finds(api, [no["D"]], report_no_prefix=prefix, segment="premium_female")
    await finds(api, [], report_no_prefix=prefix, branch="NOWHERE")
    await finds(api, sorted(no.values()), report_no_prefix=prefix, overdue=False)
    await finds(api, [], report_no_prefix=prefix, overdue=True)

    # paging: two pages of two, then no token
    first = (await api.http.get("/claims", params={"report_no_prefix": prefix, "page_size": 2})).json()
    assert len(first["claims"]) == 2 and first["next_page_token"]
    second = (
        await api.http.get("/claims", params={"report_no_prefix": prefix, "page_size": 2, "page_token": first["next_page_token"]})
    ).json()
    assert len(second["claims"]) == 2
    assert {c["report_no"] for c in first["claims"] + second["claims"]} == set(no.values())
    summary = next(c for c in first["claims"] + second["claims"] if c["report_no"] == no["C"])
    assert summary["loss_band"] == ">=50000" and summary["tracks"] == ["C"] and summary["status"] == "running"

    # B through acceptance and documents: its payment is due today, so "due before tomorrow" finds it
    b = samples["B"]
    await api.http.post(f"/claims/{no['B']}/tracks/B/steps/accept_offer", json={"accepted": True})

    for stage, step, payload in steps_for(Track.CREDIT, b, photo_sha256="a" * 64)[1:-1]:
        await eventually(
            lambda: api.http.get(f"/claims/{no['B']}/tracks/B"),
            functools.partial(at_stage, stage.value),
            what=stage.value,
        )
        assert (await api.http.post(f"/claims/{no['B']}/tracks/B/steps/{step}", json=payload)).status_code == 200

    async def callback_stage() -> list[str]:
        return await listed(api, report_no_prefix=prefix, stage="awaiting_callback")

    await eventually(callback_stage, lambda got: got == [no["B"]], what="B awaiting callback")
    # paid: no payment is due any more
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    await finds(api, [], report_no_prefix=prefix, payment_due_before=tomorrow)

    response = await api.http.get("/claims", params={"stage": "flying"})
    assert response.status_code == 422 and error_of(response)["code"] == "invalid_request"
    response = await api.http.get("/claims", params={"page_token": "!!!"})
    assert response.status_code == 422 and error_of(response)["code"] == "invalid_page_token"
    for report in samples.values():
        await api.client.get_workflow_handle(f"claim-{report.report_no}").terminate("test done")


async def test_payment_due_is_searchable_while_unpaid(api: ApiEnv) -> None:
    """R-B-5: while the ledger has not paid, PaymentDueAt holds the deadline and the claim is
    found by `payment_due_before`; ClaimStage is then `paying`."""

    gate = asyncio.Event()
    real_pay = api.fakes.pay_indemnity

    # a second worker on another queue with a ledger that waits: the claim sits in `paying`
    @activity.defn(name=ActivityName.PAY_INDEMNITY)
    async def slow_pay(input: PayIndemnityInput) -> PayIndemnityResult:
        await gate.wait()
        return await real_pay(input)

    activities = [a for a in api.fakes.activities() if getattr(a, "__name__", "") != "pay_indemnity"] + [slow_pay]
    prefix = unique_prefix()
    b = sample_reports(prefix, datetime.now(UTC))["B"]

    async with running(api.client, activities) as tq:
        handle, _ = await report_claim(api.client, b, tq)
        await drive(api.client, b.report_no, Track.CREDIT, steps_for(Track.CREDIT, b, photo_sha256="a" * 64)[:-1])
        later = (datetime.now(UTC) + timedelta(days=3)).isoformat()

        async def due() -> list[str]:
            return await listed(api, report_no_prefix=prefix, payment_due_before=later, stage="paying")

        await eventually(due, lambda got: got == [b.report_no], what="payment due listed")
        earlier = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        await finds(api, [], report_no_prefix=prefix, payment_due_before=earlier)
        gate.set()
        await handle.terminate("test done")


def test_claim_stage_is_the_least_advanced_open_track() -> None:
    """`ClaimStage = "awaiting_documents" AND Overdue = true` finds a claim whose slowest track
    waits for documents past its deadline."""

    def view(track: Track, stage: ClaimStage, overdue: bool = False) -> TrackView:
        waiting = Waiting(stage=stage, from_whom="x", due_at=None, rule="R", overdue=overdue)
        return TrackView(track=track, workflow_id="w", stage=stage, waiting=waiting)

    tracks = {
        Track.CREDIT: view(Track.CREDIT, ClaimStage.AWAITING_CALLBACK),
        Track.INJURY: view(Track.INJURY, ClaimStage.AWAITING_DOCUMENTS, overdue=True),
    }
    assert sa.claim_stage(ClaimStage.IN_SERVICE, tracks) is ClaimStage.AWAITING_DOCUMENTS
    assert sa.currently_overdue(tracks)
    assert sa.claim_stage(ClaimStage.CLOSED, tracks) is ClaimStage.CLOSED
    tracks[Track.INJURY] = TrackView(track=Track.INJURY, workflow_id="w", stage=ClaimStage.CLOSED)
    assert sa.claim_stage(ClaimStage.IN_SERVICE, tracks) is ClaimStage.AWAITING_CALLBACK
    assert not sa.currently_overdue(tracks)
    assert [Thresholds().loss_band(None if x is None else Decimal(x)) for x in (None, "3000", "3000.01", "50000")] == [
        "unknown",
        "<=3000",
        "3000-50000",
        ">=50000",
    ]


async def test_issue_23_7_a_time_without_its_offset_is_422_naming_the_field_and_format(api: ApiEnv) -> None:
    """`payment_due_before=2026-12-01` (no offset) reached Temporal and answered 502 temporal_error."""
    for value in ("2026-12-01", "2026-12-01T00:00:00"):
        response = await api.http.get("/claims", params={"payment_due_before": value})
        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["code"] == "invalid_request"
        assert "payment_due_before" in error["message"]
        assert "2026-12-01T00:00:00+08:00" in error["message"]  # the format, by example
