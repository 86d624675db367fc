"""The decision in the report's answer (issue 11): POST /claims answers, in the same call, what the
agent tells the customer on the phone (R-ID-2, R-EL-1): the recognised tag and segments, every
track taken or not with its reasons and each failed condition by name, what each track taken
waits for first, and the claim's stage. A report the core system cannot place gets a 4xx at once
and leaves nothing behind, so the number can be reported again (issue 12, point 2)."""

from __future__ import annotations

import asyncio
import secrets

import httpx
from temporalio.client import WorkflowExecutionStatus

from activities.store import FileStore
from api import create_app
from domain.models import Report
from security.auth import LocalTokens
from tests.api.conftest import TEST_LIMITS, ApiEnv, StaffAuth, error_of
from tests.helpers import eventually
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import reports
from worker.main import build_worker


def as_json(report: Report) -> dict:
    return report.model_dump(mode="json")


def track(body: dict, code: str) -> dict:
    return next(t for t in body["decision"]["tracks"] if t["track"] == code)


async def test_r_id_2_r_el_1_the_report_answers_the_decision_with_reasons(api: ApiEnv) -> None:
    """R-ID-2, R-EL-1, R-B-1: 201 with the tag read, the segments, each track with its reason, and
    the first stage of the track taken, before any poll."""
    report = reports()["B"]
    response = await api.http.post("/claims", json=as_json(report))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] is True and body["report_no"] == report.report_no
    assert body["stage"] == "in_service"
    assert body["decision"]["tag"]["recognised"] is True and body["decision"]["tag"]["tag"]["claim_free_years"] == 3
    assert body["decision"]["segments"] == ["claim_free_3"]
    assert track(body, "B")["applies"] is True and track(body, "B")["reason"]
    assert track(body, "A")["applies"] is False and track(body, "A")["reason"]
    assert body["next_stages"] == {"B": "awaiting_acceptance"}  # R-B-1: the customer accepts first
    assert body["claim_url"].endswith(f"/claims/{report.report_no}")
    assert response.headers["location"] == body["claim_url"]
    # the answer was the decision: the claim's track is already there, at that stage
    view = (await api.http.get(f"/claims/{report.report_no}/tracks/B")).json()
    assert view["stage"] == "awaiting_acceptance"


async def test_r_el_1_every_failed_condition_is_named_in_the_answer(api: ApiEnv) -> None:
    """R-EL-1: a corporate customer's report is answered `ordinary` with the failed condition by
    name, so the agent can tell the customer why (R-EL-1.1), and not only `ordinary`."""
    report = reports()["B"].model_copy(update={"policy_no": "P2026000005", "reporter_is_insured": False})
    response = await api.http.post("/claims", json=as_json(report))
    assert response.status_code == 201, response.text
    body = response.json()
    failed = {f["condition"]: f for f in body["decision"]["eligibility"]["failed"]}
    assert {"individual_three_consecutive_years", "insured_reported"} <= set(failed)
    assert failed["insured_reported"]["rule"] == "R-EL-1.5" and failed["insured_reported"]["reason"]
    assert not any(t["applies"] for t in body["decision"]["tracks"])
    assert body["stage"] == "ordinary" and body["next_stages"] == {}


async def test_r_d_1_injury_answer_shows_the_specialist_call_first(api: ApiEnv) -> None:
    """R-D-1/R-D-2: the injury track needs no acceptance; its first wait is the specialist's call."""
    report = reports()["D"]
    body = (await api.http.post("/claims", json=as_json(report))).json()
    assert body["next_stages"] == {"D": "awaiting_specialist_call"}


async def test_r_x_2_the_same_report_again_answers_the_same_decision(api: ApiEnv) -> None:
    """R-X-2: the same report again is 200 with the same decision, `created` false; one claim, one lookup."""
    report = reports()["B"]
    first = await api.http.post("/claims", json=as_json(report))
    again = await api.http.post("/claims", json=as_json(report))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False
    assert again.json()["decision"] == first.json()["decision"]
    assert again.json()["next_stages"] == {"B": "awaiting_acceptance"}
    assert api.fakes.lookups == 1


async def test_r_x_2_the_same_report_at_once_is_one_claim(api: ApiEnv) -> None:
    """R-X-2: five identical reports at the same moment: one 201, four 200, one lookup."""
    report = reports()["B"]
    answers = await asyncio.gather(*(api.http.post("/claims", json=as_json(report)) for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 200, 201]
    assert len({r.json()["workflow_id"] for r in answers}) == 1
    assert api.fakes.lookups == 1


async def test_r_x_2_other_content_for_a_known_number_is_still_409(api: ApiEnv) -> None:
    """R-X-2: other content for the number: 409 report_conflict naming the field, not its value."""
    report = reports()["B"]
    assert (await api.http.post("/claims", json=as_json(report))).status_code == 201
    other = report.model_copy(update={"reporter_phone": "13900000001"})
    response = await api.http.post("/claims", json=as_json(other))
    assert response.status_code == 409
    body = error_of(response)
    assert body["code"] == "report_conflict" and "reporter_phone" in body["message"]
    assert "13900000001" not in body["message"]


async def test_an_unknown_policy_is_refused_at_once_and_leaves_nothing(api: ApiEnv) -> None:
    """Issue 12.2: an unknown policy gets 422 policy_not_found naming the policy number; no claim
    is left running or listed; the number can then be reported with the right policy."""
    report = reports()["B"]
    wrong = report.model_copy(update={"policy_no": "P2099999999"})
    response = await api.http.post("/claims", json=as_json(wrong))
    assert response.status_code == 422, response.text
    body = error_of(response)
    assert body["code"] == "policy_not_found" and "P2099999999" in body["message"]
    assert (await api.http.get(f"/claims/{report.report_no}")).status_code == 404
    prefix = report.report_no.rsplit("-", 1)[0]
    query = f"ReportNo = '{report.report_no}'"
    await eventually(lambda: api.client.count_workflows(query), lambda c: c.count == 0, what="the refused report unlisted")
    listed = await api.http.get("/claims", params={"report_no_prefix": prefix})
    assert listed.json()["claims"] == []
    # the agent corrects the policy number: the claim starts as for any report
    right = await api.http.post("/claims", json=as_json(report))
    assert right.status_code == 201, right.text
    assert right.json()["next_stages"] == {"B": "awaiting_acceptance"}


async def test_a_number_registered_on_another_policy_is_refused_at_once(api: ApiEnv) -> None:
    """Issue 12.2, R-X-2: a report number the core system has on another policy: 409
    report_on_other_policy, nothing kept; the report on the registered policy then starts."""
    report = reports()["B"]
    api.fakes.registered[report.report_no] = "P2026000007"
    response = await api.http.post("/claims", json=as_json(report))
    assert response.status_code == 409, response.text
    body = error_of(response)
    assert body["code"] == "report_on_other_policy" and "P2026000007" in body["message"]
    assert (await api.http.get(f"/claims/{report.report_no}")).status_code == 404
    on_registered = report.model_copy(update={"policy_no": "P2026000007"})
    assert (await api.http.post("/claims", json=as_json(on_registered))).status_code == 201


async def test_a_slow_decision_answers_202_and_the_report_is_kept(dev_env, tmp_path) -> None:
    """No worker answers within the setting: 202 with the receipt and the claim's address; the
    claim exists (never lost), and once a worker runs it decides; the same report then answers 200."""
    fakes = FakeSystems()
    tokens = LocalTokens(secrets.token_bytes(32))
    task_queue = "slow-" + secrets.token_hex(4)
    app = create_app(
        dev_env.client,
        task_queue=task_queue,
        store=FileStore(tmp_path / "files"),
        authenticator=tokens,
        limits=TEST_LIMITS,
        answer_seconds=0.5,
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    report = reports()["B"]
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=30, auth=StaffAuth(tokens)) as http:
        response = await http.post("/claims", json=as_json(report))
        assert response.status_code == 202, response.text
        assert response.json()["claim_url"].endswith(f"/claims/{report.report_no}")
        handle = dev_env.client.get_workflow_handle(f"claim-{report.report_no}")
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        async with build_worker(dev_env.client, task_queue, fakes.activities(), max_cached_workflows=10):
            again = await eventually(
                lambda: http.post("/claims", json=as_json(report)),
                lambda r: r.status_code == 200,
                what="the decision once a worker runs",
            )
            assert again.json()["created"] is False and again.json()["next_stages"] == {"B": "awaiting_acceptance"}
            await handle.terminate("test done")
    assert fakes.lookups == 1


async def test_r_x_2_a_report_of_an_ended_claim_answers_its_decision_or_409(api: ApiEnv) -> None:
    """R-X-2: a claim that has ended (no dedicated track: ordinary) is never started again; the
    same report answers 200 with its decision, another report for the number 409."""
    report = reports()["B"].model_copy(update={"policy_no": "P2026000005"})
    first = await api.http.post("/claims", json=as_json(report))
    assert first.status_code == 201 and first.json()["stage"] == "ordinary"
    handle = api.client.get_workflow_handle(f"claim-{report.report_no}")
    await handle.result()
    again = await api.http.post("/claims", json=as_json(report))
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False and again.json()["decision"] == first.json()["decision"]
    other = await api.http.post("/claims", json=as_json(report.model_copy(update={"at_scene": True})))
    assert other.status_code == 409 and error_of(other)["code"] == "report_conflict"
    assert "at_scene" in error_of(other)["message"]
