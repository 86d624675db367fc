"""The HTTP API from report to payment and callback, and every error class with its status and
stable code, on the real dev server with fake outside systems."""

from __future__ import annotations

import secrets
from decimal import Decimal

import httpx
import pytest

from activities.store import FileStore
from api import create_app
from dev.scenarios import DEMO_PHOTO, steps_for
from domain.models import Report, Track
from security.auth import LocalTokens, Role
from tests.api.conftest import ApiEnv, error_of
from tests.helpers import eventually
from tests.workflows.helpers import reports
from workflows.messages import STEP_MODELS

EXPECTED_PAYMENT = {"A": ("R-A-6", "2650.00"), "B": ("R-B-5", "2650.00"), "C": ("R-X-4", "76000.00"), "D": ("R-X-4", "12000.00")}


def report_json(report: Report) -> dict:
    return report.model_dump(mode="json")


async def upload_photo(api: ApiEnv) -> str:
    response = await api.http.post("/files", files={"file": ("scene.png", DEMO_PHOTO, "image/png")})
    assert response.status_code == 201, response.text
    return response.json()["sha256"]


async def track_at(api: ApiEnv, report_no: str, track: str, stage: str) -> dict:
    async def probe() -> httpx.Response:
        return await api.http.get(f"/claims/{report_no}/tracks/{track}")

    response = await eventually(
        probe, lambda r: r.status_code == 200 and r.json()["stage"] == stage, what=f"track {track} at {stage}"
    )
    return response.json()


@pytest.mark.parametrize("code", ["A", "B", "C", "D"])
async def test_r_x_1_each_track_through_the_http_api_alone(api: ApiEnv, code: str) -> None:
    """R-A-1..6, R-B-1..5, R-C-1..6, R-D-1..6, R-X-1: one claim per track, reported, stepped,
    paid and called back through HTTP only; the claim view shows why the track was taken."""
    report = reports()[code]
    no = report.report_no
    photo = await upload_photo(api)

    response = await api.http.post("/claims", json=report_json(report))
    assert response.status_code == 201, response.text
    assert response.json()["created"] is True and response.json()["workflow_id"] == f"claim-{no}"
    assert response.headers["location"].endswith(f"/claims/{no}")

    for stage, step, payload in steps_for(Track(code), report, photo_sha256=photo):
        await track_at(api, no, code, stage.value)
        response = await api.http.post(f"/claims/{no}/tracks/{code}/steps/{step}", json=payload)
        assert response.status_code == 200, (step, response.text)
        assert response.json()["track"] == code

    async def claim() -> httpx.Response:
        return await api.http.get(f"/claims/{no}")

    view = (await eventually(claim, lambda r: r.status_code == 200 and r.json()["stage"] == "closed", what="claim closed")).json()
    track = view["tracks"][code]
    rule, amount = EXPECTED_PAYMENT[code]
    assert track["stage"] == "closed" and track["callback_score"] == 5
    assert track["payment"]["rule"] == rule and Decimal(track["payment"]["amount"]) == Decimal(amount)
    assert track["payment"]["paid_at"] and track["payment"]["deadline_met"] is True
    assert [t["track"] for t in view["decision"]["tracks"] if t["applies"]] == [code]
    assert all(t["reason"] for t in view["decision"]["tracks"])  # taken or not, each says why
    assert list(api.fakes.payments) == [f"{no}:{code}:indemnity"]
    # the track has ended: a late step is refused, not lost silently
    response = await api.http.post(f"/claims/{no}/tracks/{code}/steps/record_callback", json={"score": 1})
    assert response.status_code == 409 and error_of(response)["code"] == "track_closed"


async def test_r_x_2_duplicate_report_returns_the_existing_claim(api: ApiEnv) -> None:
    """R-X-2: the same report again: 200 with the same claim, nothing started or looked up twice."""
    report = reports()["B"]
    first = await api.http.post("/claims", json=report_json(report))
    again = await api.http.post("/claims", json=report_json(report))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False and again.json()["workflow_id"] == first.json()["workflow_id"]
    await track_at(api, report.report_no, "B", "awaiting_acceptance")
    assert api.fakes.lookups == 1
    await api.client.get_workflow_handle(f"claim-{report.report_no}").terminate("test done")


async def test_r_x_2_conflicting_report_is_refused_not_merged(api: ApiEnv) -> None:
    """R-X-2: a report of a known number with other content is refused with 409; the recorded
    claim keeps its report; the message names the fields, never their values."""
    report = reports()["B"]
    assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
    other = report.model_copy(update={"estimated_own_loss": Decimal("2999.00"), "reporter_phone": "13900000000"})
    response = await api.http.post("/claims", json=report_json(other))
    assert response.status_code == 409
    body = error_of(response)
    assert body["code"] == "report_conflict"
    assert "estimated_own_loss" in body["message"] and "reporter_phone" in body["message"]
    assert "13900000000" not in body["message"] and "2999" not in body["message"]
    handle = api.client.get_workflow_handle(f"claim-{report.report_no}")
    recorded = await eventually(lambda: handle.query("report", result_type=Report), lambda r: r is not None)
    assert recorded == report
    await handle.terminate("test done")


async def test_errors_have_a_status_and_a_stable_code(api: ApiEnv) -> None:
    """422 malformed, 404 unknown claim/track/step, 409 wrong state, as {"code", "message"}."""
    report = reports()["B"]
    no = report.report_no
    # 422: a malformed report, a malformed step, a body that is not JSON
    bad = report_json(report) | {"report_no": "lower case!", "estimated_own_loss": "-1"}
    response = await api.http.post("/claims", json=bad)
    assert response.status_code == 422 and error_of(response)["code"] == "invalid_request"
    assert "report_no" in response.json()["message"] and "lower case!" not in response.json()["message"]
    # 404: no such claim, for reading and for a step
    response = await api.http.get("/claims/NOSUCH000001")
    assert response.status_code == 404 and error_of(response)["code"] == "claim_not_found"
    response = await api.http.post("/claims/NOSUCH000001/tracks/B/steps/accept_offer", json={"accepted": True})
    assert response.status_code == 404 and error_of(response)["code"] == "claim_not_found"

    assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
    await track_at(api, no, "B", "awaiting_acceptance")
    for path, code in [
        (f"/claims/{no}/tracks/E/steps/accept_offer", "track_not_found"),  # no such track
        (f"/claims/{no}/tracks/A/steps/accept_offer", "track_not_found"),  # a track this claim does not run
        (f"/claims/{no}/tracks/B/steps/fly_away", "unknown_step"),
    ]:
        response = await api.http.post(path, json={"accepted": True})
        assert response.status_code == 404 and error_of(response)["code"] == code, (path, response.text)
        if "/tracks/A/" in path:  # issue 23.7: a track not taken is refused with the claim's decision
            assert f"track A of {no} was not taken (claim stage" in error_of(response)["message"], response.text
    response = await api.http.get(f"/claims/{no}/tracks/A")
    assert response.status_code == 404 and error_of(response)["code"] == "track_not_found"

    response = await api.http.post(f"/claims/{no}/tracks/B/steps/issue_assessment", json={"sheet_no": "X1", "amount": "0"})
    assert response.status_code == 422 and "more than zero" in error_of(response)["message"]
    response = await api.http.post(
        f"/claims/{no}/tracks/B/steps/accept_offer", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and error_of(response)["code"] == "invalid_request"
    # 409: a step that does not fit the claim now; the reason comes from the workflow's validator
    response = await api.http.post(f"/claims/{no}/tracks/B/steps/record_callback", json={"score": 5})
    assert response.status_code == 409
    body = error_of(response)
    assert body["code"] == "step_refused" and "belongs to stage awaiting_callback" in body["message"]
    view = await track_at(api, no, "B", "awaiting_acceptance")
    assert "callback_recorded" not in [e["step"] for e in view["timeline"]]
    # an unknown route and method are JSON errors too
    response = await api.http.get("/nowhere")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    response = await api.http.delete(f"/claims/{no}")
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"
    await api.client.get_workflow_handle(f"claim-{no}").terminate("test done")


async def test_uploads_are_checked_and_stored_once(api: ApiEnv) -> None:
    """R-A-3/R-X-5 files: JPEG, PNG or PDF only (415), up to the store's size (413); the same
    bytes twice are stored once, under their sha256."""
    first = await api.http.post("/files", files={"file": ("a.png", DEMO_PHOTO, "image/png")})
    second = await api.http.post("/files", files={"file": ("b.png", DEMO_PHOTO, "image/png")})
    assert first.status_code == second.status_code == 201
    sha = first.json()["sha256"]
    assert second.json()["sha256"] == sha and first.json()["size"] == len(DEMO_PHOTO)
    assert api.store.exists(sha)
    stored = [p for p in api.store.root.rglob("*") if p.is_file() and ".tmp" not in p.parts]
    assert [p.name for p in stored] == [sha]

    response = await api.http.post("/files", files={"file": ("notes.txt", b"hello", "text/plain")})
    assert response.status_code == 415 and error_of(response)["code"] == "unsupported_file_type"
    response = await api.http.post("/files", files={"file": ("fake.pdf", DEMO_PHOTO, "application/pdf")})
    assert response.status_code == 415 and error_of(response)["code"] == "file_type_mismatch"
    big = DEMO_PHOTO + b"\0" * (api.store.max_bytes + 1)
    response = await api.http.post("/files", files={"file": ("big.png", big, "image/png")})
    assert response.status_code == 413 and error_of(response)["code"] == "file_too_large"
    huge = DEMO_PHOTO + b"\0" * (api.store.max_bytes + 200 * 1024)  # refused on its Content-Length alone
    response = await api.http.post("/files", files={"file": ("huge.png", huge, "image/png")})
    assert response.status_code == 413 and error_of(response)["code"] == "file_too_large"
    response = await api.http.post("/files", files={"file": ("empty.png", b"", "image/png")})
    assert response.status_code == 422 and error_of(response)["code"] == "empty_file"
    response = await api.http.post("/files", data={"nofile": "x"})
    assert response.status_code == 422 and error_of(response)["code"] == "invalid_request"


async def test_a_step_naming_a_file_not_in_the_store_is_refused(api: ApiEnv) -> None:
    """R-A-3: photos must be in the store before a step refers to them (409 file_not_in_store)."""
    report = reports()["A"]
    no = report.report_no
    missing = "b" * 64
    api.fakes.missing_files.add(missing)
    assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
    steps = steps_for(Track.AUTHORISATION, report, photo_sha256=missing)
    for stage, step, payload in steps[:3]:
        await track_at(api, no, "A", stage.value)
        assert (await api.http.post(f"/claims/{no}/tracks/A/steps/{step}", json=payload)).status_code == 200
    stage, step, payload = steps[3]
    await track_at(api, no, "A", stage.value)
    response = await api.http.post(f"/claims/{no}/tracks/A/steps/{step}", json=payload)
    assert response.status_code == 409 and error_of(response)["code"] == "file_not_in_store"
    await api.client.get_workflow_handle(f"claim-{no}").terminate("test done")


async def test_health_and_readiness(api: ApiEnv, tmp_path) -> None:
    """/health answers while the process is up; /ready only when Temporal answers."""
    assert (await api.http.get("/health")).json() == {"status": "ok"}
    assert (await api.http.get("/ready")).status_code == 200

    async def unreachable():
        raise ConnectionRefusedError("no Temporal here")

    app = create_app(store=FileStore(tmp_path / "f2"), authenticator=api.tokens, connect=unreachable)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        assert (await http.get("/health")).status_code == 200
        response = await http.get("/ready")
        assert response.status_code == 503 and error_of(response)["code"] == "temporal_unavailable"
        response = await http.get("/claims/R20260000001", headers=api.as_("OP01", Role.OPERATIONS))
        assert response.status_code == 503 and error_of(response)["code"] == "temporal_unavailable"


async def test_openapi_documents_every_route(api: ApiEnv) -> None:
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    steps = [f"/claims/{{report_no}}/tracks/{{track}}/steps/{step}" for step in STEP_MODELS]
    for path in ["/claims", "/claims/{report_no}", *steps, "/files", "/health", "/ready", "/calendar/due"]:
        assert path in paths
    assert (await api.http.get("/docs")).status_code == 200


async def test_unregistered_search_attributes_are_named_not_hidden(tmp_path) -> None:
    """A namespace without the claim's search attributes refuses to start claims; the API says
    what to run instead of a bare 502 (the time-skipping server, nothing registered)."""
    import sys
    from pathlib import Path

    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).with_name("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )
    async with env:
        tokens = LocalTokens(secrets.token_bytes(32))
        app = create_app(env.client, task_queue="nobody", store=FileStore(tmp_path / "files"), authenticator=tokens)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
            agent = {"Authorization": f"Bearer {tokens.issue('AG01', {Role.AGENT})}"}
            response = await http.post("/claims", json=report_json(reports()["B"]), headers=agent)
    assert response.status_code == 503
    body = error_of(response)
    assert body["code"] == "search_attributes_missing" and "claims search-attributes --apply" in body["message"]
