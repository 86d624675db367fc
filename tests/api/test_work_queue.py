"""The work queue over the API (issue 24): what each role's queue holds, taking, handing back and a
supervisor's reassign as updates on the track (who and when on its timeline), an item untaken by
half its deadline flagged, OPEN-3 escalations in the supervisors' queue, and a step's form page
validating as the API does (errors by field, nothing recorded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import WorkflowHandle

from client.claims import drive, report_claim
from client.workqueue import queue_query, stages_for, work_queue
from client.workqueue import steps_for as queue_steps
from dev.scenarios import steps_for as steps_for_track
from domain.models import Track
from domain.rules import Deadlines, RuleSettings
from security.auth import Principal, Role
from tests.api.conftest import ApiEnv, error_of
from tests.api.operations_seed import SHORT_OFFER
from tests.helpers import eventually
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import reports, running
from workflows.messages import Stage

R = Role
JSON = {"accept": "application/json"}


async def queue_of(api: ApiEnv, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.raw.get("/work", headers=headers | JSON)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["visibility_calls"] == 1
    return body["items"]


def item(items: list[dict[str, Any]], report_no: str) -> dict[str, Any] | None:
    return next((i for i in items if i["report_no"] == report_no), None)


def signed_in(code: str, role: Role, api: ApiEnv) -> dict[str, str]:
    """The headers of a browser signed in to the work pages as `code` with `role`."""
    token = api.tokens.issue(code, frozenset({role}))
    return {"cookie": f"premium_claims_staff={token}", "accept": "text/html", "origin": "http://api.test"}


async def credit_claim_accepted(api: ApiEnv) -> tuple[WorkflowHandle[Any, Any], str]:
    """A track-B claim whose offer the agent has accepted: waiting for documents (R-B-1, R-B-4)."""
    report = reports()["B"]
    handle, _ = await report_claim(api.client, report, api.task_queue)
    accepted = (Stage.AWAITING_ACCEPTANCE, "accept_offer", {"accepted": True, "by": "AG01"})
    await drive(api.client, report.report_no, Track.CREDIT, [accepted])
    return handle, report.report_no


async def test_queue_take_hand_back_reassign_recorded_on_the_track(api: ApiEnv) -> None:
    """R-A-1..R-A-3, OPEN-3: the agent's queue holds the offer, the assessor's the car at the shop
    once the surveyor has estimated; the assessor takes it (held by them, on the timeline), another
    assessor cannot take it, the holder hands it back, a supervisor reassigns it; an assessor may not."""
    report = reports()["A"]
    no = report.report_no
    agent, surveyor = api.as_("AG01", R.AGENT), api.as_("SV01", R.SURVEYOR)
    assessor, other = api.as_("AS01", R.ASSESSOR), api.as_("AS02", R.ASSESSOR)
    supervisor = api.as_("SU01", R.SUPERVISOR)
    assert (await api.raw.post("/claims", json=report.model_dump(mode="json"), headers=agent)).status_code == 201

    # the track's start carries its claim's codes; its own first upsert adds the wait's times and the tag
    offered = await eventually(
        lambda: queue_of(api, agent), lambda items: (item(items, no) or {}).get("due_at") is not None, what="offer queued"
    )
    offer = item(offered, no)
    assert offer is not None and offer["steps"] == ["accept_offer"] and offer["track"] == "A" and offer["held_by"] is None
    assert offer["tag"] == "钻石(-3)" and "claim_free_3" in offer["segments"] and offer["seconds_left"] > 0
    assert item(await queue_of(api, assessor), no) is None  # not the assessor's step yet
    # a token that names the staff's branch shows that branch's claims only (the sample policy's: HQ)
    shanghai = {"Authorization": f"Bearer {api.tokens.issue('AG02', {R.AGENT}, branch='SH')}"}
    head_office = {"Authorization": f"Bearer {api.tokens.issue('AG03', {R.AGENT}, branch='HQ')}"}
    assert item(await queue_of(api, shanghai), no) is None and item(await queue_of(api, head_office), no) is not None

    await drive(
        api.client, no, Track.AUTHORISATION, [(Stage.AWAITING_ACCEPTANCE, "accept_offer", {"accepted": True, "by": "AG01"})]
    )
    await drive(
        api.client,
        no,
        Track.AUTHORISATION,
        [(Stage.AWAITING_SCENE_ESTIMATE, "record_scene_estimate", {"own_loss": "2800.00", "by": "SV01"})],
    )
    mine = await eventually(
        lambda: queue_of(api, assessor),
        lambda items: (i := item(items, no)) is not None and i["stage"] == "awaiting_car_at_shop",
        what="car at shop queued for the assessor",
    )
    assert item(mine, no)["steps"] == ["car_at_shop"]  # type: ignore[index]
    assert item(await queue_of(api, surveyor), no) is None

    base = f"/work/{no}/A"
    taken = await api.raw.post(f"{base}/take", headers=assessor | JSON)
    assert taken.status_code == 200, taken.text
    assert taken.json()["held_by"] == "AS01"
    refused = await api.raw.post(f"{base}/take", headers=other | JSON)
    assert refused.status_code == 409 and "AS01 holds this item" in error_of(refused)["message"]
    assert (await api.raw.post(f"{base}/hand-back", headers=other | JSON)).status_code == 409
    await eventually(lambda: queue_of(api, other), lambda items: (item(items, no) or {}).get("held_by") == "AS01", what="HeldBy")

    back = await api.raw.post(f"{base}/hand-back", headers=assessor | JSON)
    assert back.status_code == 200 and back.json()["held_by"] is None
    forbidden = await api.raw.post(f"{base}/reassign", json={"to": "AS02"}, headers=assessor)
    assert forbidden.status_code == 403 and "supervisor may" in error_of(forbidden)["message"]
    moved = await api.raw.post(f"{base}/reassign", json={"to": "AS03"}, headers=supervisor | JSON)
    assert moved.status_code == 200 and moved.json()["held_by"] == "AS03", moved.text
    timeline = [(e["step"], e["by"]) for e in moved.json()["timeline"]]
    assert [t for t in timeline if t[0] in {"taken", "handed_back", "reassigned"}] == [
        ("taken", "AS01"),
        ("handed_back", "AS01"),
        ("reassigned", "SU01"),
    ]
    # the hold follows the work: AS03 took it by reassign for this stage; once the car is at the shop
    # and the photos are the next step, the reassigned hold (this stage only) is released
    await drive(
        api.client, no, Track.AUTHORISATION, [(Stage.AWAITING_CAR_AT_SHOP, "car_at_shop", {"shop_code": "SHOP-1", "by": "AS03"})]
    )
    view = (await api.raw.get(f"/claims/{no}/tracks/A", headers=assessor)).json()
    assert view["held_by"] is None and view["timeline"][-1]["step"] in {"hold_released", "car_at_shop"}
    await api.client.get_workflow_handle(f"claim-{no}").terminate("test done")


async def test_a_taker_keeps_the_item_through_their_own_stages(api: ApiEnv) -> None:
    """R-A-3, R-A-4: an assessor who took the car at the shop still holds the photos and the
    documents; the hold ends when the track waits for the service centre's callback (R-X-1)."""
    report = reports()["A"]
    no = report.report_no
    assessor = api.as_("AS01", R.ASSESSOR)
    handle, _ = await report_claim(api.client, report, api.task_queue)
    await drive(
        api.client,
        no,
        Track.AUTHORISATION,
        [
            (Stage.AWAITING_ACCEPTANCE, "accept_offer", {"accepted": True, "by": "AG01"}),
            (Stage.AWAITING_SCENE_ESTIMATE, "record_scene_estimate", {"own_loss": "2800.00", "by": "SV01"}),
        ],
    )
    await eventually(
        lambda: api.raw.get(f"/claims/{no}/tracks/A", headers=assessor),
        lambda r: r.json().get("stage") == "awaiting_car_at_shop",
        what="car at shop",
    )
    assert (await api.raw.post(f"/work/{no}/A/take", headers=assessor | JSON)).json()["held_by"] == "AS01"
    view = await drive(
        api.client, no, Track.AUTHORISATION, [(Stage.AWAITING_CAR_AT_SHOP, "car_at_shop", {"shop_code": "S-1", "by": "AS01"})]
    )
    assert view.stage is Stage.AWAITING_PHOTOS and view.held_by == "AS01"
    assert Stage.AWAITING_CALLBACK not in stages_for(frozenset({R.ASSESSOR}))
    await handle.terminate("test done")


async def test_untaken_past_half_is_flagged_and_escalations_reach_supervisors(api: ApiEnv) -> None:
    """OPEN-3: an item nobody took by half its deadline is flagged; a track past its deadline is
    overdue and escalated in the supervisors' queue, ahead of what is not overdue."""
    agent = Principal(subject="AG01", roles=frozenset({R.AGENT}), expires_at=datetime.now(UTC) + timedelta(hours=1))
    report = reports()["B"]
    no = report.report_no
    handle, _ = await report_claim(api.client, report, api.task_queue)
    found = await eventually(
        lambda: work_queue(api.client, agent, now=datetime.now(UTC) + timedelta(hours=1, minutes=5)),
        lambda q: any(i.report_no == no and i.due_at is not None for i in q.items),
        what="offer in the agent's queue",
    )
    offer = next(i for i in found.items if i.report_no == no)
    assert offer.unclaimed_past_half and not offer.overdue  # 65 min into a 2 h answer window, untaken
    now = await work_queue(api.client, agent)
    assert not next(i for i in now.items if i.report_no == no).unclaimed_past_half

    late = reports()["B"]
    async with running(api.client, FakeSystems(rules=SHORT_OFFER).activities()) as short:
        late_handle, _ = await report_claim(api.client, late, short)
        supervisor = api.as_("SU01", R.SUPERVISOR)
        items = await eventually(
            lambda: queue_of(api, supervisor),
            lambda items: (item(items, late.report_no) or {}).get("escalated") is True,
            what="escalation in the supervisors' queue",
        )
        escalated = item(items, late.report_no)
        assert escalated is not None and escalated["overdue"] and escalated["seconds_left"] <= 0
        assert all(i["overdue"] for i in items[: items.index(escalated)])  # overdue first
        query = queue_query(frozenset({R.SUPERVISOR}), "HQ", datetime.now(UTC))
        assert "Overdue = true" in query and "Branch = 'HQ'" in query and "ClaimStage IN" not in query
        # what needs no supervisor is not in their queue: the offer of the first claim, in time and early
        assert item(items, no) is None
        await late_handle.terminate("test done")

    # an item nobody took by half its deadline reaches the supervisors before it is late
    soon = reports()["B"]
    half_minute = RuleSettings(deadlines=Deadlines(offer_response=timedelta(seconds=20)))
    async with running(api.client, FakeSystems(rules=half_minute).activities()) as tq:
        soon_handle, _ = await report_claim(api.client, soon, tq)
        items = await eventually(
            lambda: queue_of(api, supervisor),
            lambda items: (item(items, soon.report_no) or {}).get("unclaimed_past_half") is True,
            what="an untaken item past half its deadline in the supervisors' queue",
        )
        at_risk = item(items, soon.report_no)
        assert at_risk is not None and not at_risk["overdue"] and not at_risk["escalated"] and at_risk["seconds_left"] > 0
        await soon_handle.terminate("test done")
    await handle.terminate("test done")


async def test_step_form_shows_errors_by_field_and_records_nothing(api: ApiEnv) -> None:
    """R-A-2 on the page: a scene estimate without an amount is 422 with the error on its field,
    and the track is still waiting for it; a valid one is recorded by the signed-in surveyor and
    the page shows the next stage."""
    report = reports()["A"]
    no = report.report_no
    handle, _ = await report_claim(api.client, report, api.task_queue)
    await drive(
        api.client, no, Track.AUTHORISATION, [(Stage.AWAITING_ACCEPTANCE, "accept_offer", {"accepted": True, "by": "AG01"})]
    )
    page = signed_in("SV07", R.SURVEYOR, api)
    await eventually(
        lambda: api.raw.get(f"/work/{no}/A", headers=page), lambda r: "step-record_scene_estimate" in r.text, what="form"
    )
    bad = await api.raw.post(f"/work/{no}/A/steps/record_scene_estimate", data={"own_loss": "lots"}, headers=page)
    assert bad.status_code == 422 and 'id="record_scene_estimate-own_loss-error"' in bad.text
    assert "content-security-policy" in bad.headers and "script-src 'none'" in bad.headers["content-security-policy"]
    view = (await api.raw.get(f"/claims/{no}/tracks/A", headers=api.as_("SV07", R.SURVEYOR))).json()
    assert view["stage"] == "awaiting_scene_estimate" and "scene_estimate_recorded" not in [e["step"] for e in view["timeline"]]
    # a form posted from another site gets no cookie: 401, nothing recorded
    elsewhere = page | {"origin": "http://evil.example"}
    assert (
        await api.raw.post(f"/work/{no}/A/steps/record_scene_estimate", data={"own_loss": "1"}, headers=elsewhere)
    ).status_code == 401

    good = await api.raw.post(
        f"/work/{no}/A/steps/record_scene_estimate", data={"own_loss": "2800.00", "photos_taken": "true"}, headers=page
    )
    assert good.status_code == 303 and good.headers["location"] == f"/work/{no}/A?done=record_scene_estimate"
    after = await api.raw.get(good.headers["location"], headers=page)
    assert 'id="recorded"' in after.text and "awaiting_car_at_shop" in after.text
    view = (await api.raw.get(f"/claims/{no}/tracks/A", headers=api.as_("SV07", R.SURVEYOR))).json()
    assert [e["by"] for e in view["timeline"] if e["step"] == "scene_estimate_recorded"] == ["SV07"]
    await handle.terminate("test done")


async def test_the_offer_form_asks_yes_or_no_and_an_unanswered_one_declines_nothing(api: ApiEnv) -> None:
    """R-A-1 on the page: the customer's answer to the offer is a required yes/no choice with
    neither chosen, not a checkbox whose blank means "declined"; sent unanswered, the form says
    the field is required and the track still waits for the answer (the service is not lost)."""
    report = reports()["A"]
    no = report.report_no
    handle, _ = await report_claim(api.client, report, api.task_queue)
    page = signed_in("AG07", R.AGENT, api)
    shown = await eventually(
        lambda: api.raw.get(f"/work/{no}/A", headers=page), lambda r: "step-accept_offer" in r.text, what="the offer form"
    )
    field = shown.text[shown.text.index('id="accept_offer-accepted"') - 30 :].split("</select>")[0]
    assert "<select" in field and 'type="checkbox"' not in field and "required" in field
    assert '<option value="">choose…</option>' in field and "selected" not in field
    unanswered = await api.raw.post(f"/work/{no}/A/steps/accept_offer", data={}, headers=page)
    assert unanswered.status_code == 422 and 'id="accept_offer-accepted-error"' in unanswered.text
    view = (await api.raw.get(f"/claims/{no}/tracks/A", headers=api.as_("AG07", R.AGENT))).json()
    assert view["stage"] == "awaiting_acceptance", view["stage"]
    declined = await api.raw.post(f"/work/{no}/A/steps/accept_offer", data={"accepted": "false"}, headers=page)
    assert declined.status_code == 303  # "no", chosen, is the customer's decline
    view = (await api.raw.get(f"/claims/{no}/tracks/A", headers=api.as_("AG07", R.AGENT))).json()
    assert view["stage"] == "declined" and [e["by"] for e in view["timeline"] if e["step"] == "offer_declined"] == ["AG07"]
    await handle.result()  # the claim ends: its one track was declined


async def test_a_document_ticked_without_how_it_came_is_asked_for_and_nothing_recorded(api: ApiEnv) -> None:
    """R-B-4 on the page: each ticked document says how it came (self, a delegate, the door
    pickup); no channel is chosen for it in advance, so a row sent without one is named in the
    error, what was chosen stays chosen, and no document is recorded."""
    handle, no = await credit_claim_accepted(api)
    page = signed_in("AG07", R.AGENT, api)
    shown = await eventually(
        lambda: api.raw.get(f"/work/{no}/B", headers=page), lambda r: "step-receive_documents" in r.text, what="the form"
    )
    assert 'aria-label="how claim_form came"><option value="">how?</option>' in shown.text
    form = {
        "documents.claim_form": "true",
        "documents.driving_licence": "true",
        "documents.driving_licence.channel": "delegate",
    }
    sent = await api.raw.post(f"/work/{no}/B/steps/receive_documents", data=form, headers=page)
    assert sent.status_code == 422, sent.status_code
    error = sent.text.split('id="receive_documents-documents-error"')[1].split("</div>")[0]
    assert "say how claim_form came" in error and "driving_licence" not in error
    assert "<option selected>delegate</option>" in sent.text  # the channel chosen stays chosen
    view = (await api.raw.get(f"/claims/{no}/tracks/B", headers=api.as_("AG07", R.AGENT))).json()
    assert view["documents_received"] == {}, view["documents_received"]
    await handle.terminate("test done")


async def test_a_step_already_done_is_not_offered_again(api: ApiEnv) -> None:
    """R-X-5: once the assessment sheet is issued the assessor's page offers the documents still
    missing, not a second sheet (the track refuses one)."""
    handle, no = await credit_claim_accepted(api)
    page = signed_in("AS07", R.ASSESSOR, api)
    before = await eventually(
        lambda: api.raw.get(f"/work/{no}/B", headers=page), lambda r: "step-issue_assessment" in r.text, what="the form"
    )
    assert "step-receive_documents" in before.text
    sheet = {"sheet_no": "DS-7", "amount": "1200.00"}
    issued = await api.raw.post(f"/work/{no}/B/steps/issue_assessment", data=sheet, headers=page)
    assert issued.status_code == 303, issued.text[-500:]
    after = await api.raw.get(f"/work/{no}/B", headers=page)
    assert "step-issue_assessment" not in after.text and "step-receive_documents" in after.text
    await handle.terminate("test done")


async def test_the_specialist_records_a_follow_up_while_documents_are_awaited_R_D_5(api: ApiEnv) -> None:
    """R-D-5 on the page: after the first call, while track D waits for documents, the specialist's
    page offers the follow-up (only on track D), recorded as done by the signed-in specialist."""
    report = reports()["D"]
    no = report.report_no
    handle, _ = await report_claim(api.client, report, api.task_queue)
    first_call = steps_for_track(Track.INJURY, report, photo_sha256="0" * 64)[0]
    await drive(api.client, no, Track.INJURY, [first_call])
    page = signed_in("IS07", R.INJURY_SPECIALIST, api)
    shown = await eventually(
        lambda: api.raw.get(f"/work/{no}/D", headers=page),
        lambda r: "step-receive_documents" in r.text,
        what="track D awaiting documents",
    )
    assert "step-record_specialist_contact" in shown.text
    contact = {"kind": "follow_up", "note": "called: recovering at home"}
    sent = await api.raw.post(f"/work/{no}/D/steps/record_specialist_contact", data=contact, headers=page)
    assert sent.status_code == 303, sent.text[-500:]
    view = (await api.raw.get(f"/claims/{no}/tracks/D", headers=api.as_("IS07", R.INJURY_SPECIALIST))).json()
    assert [e["by"] for e in view["timeline"] if e["step"] == "specialist_follow_up"] == ["IS07"]
    assert view["stage"] == "awaiting_documents"
    assert not {"record_specialist_contact"} & set(
        queue_steps(frozenset({R.INJURY_SPECIALIST}), Track.CREDIT, Stage.AWAITING_DOCUMENTS)
    )
    await handle.terminate("test done")


async def test_browser_without_sign_in_is_sent_to_the_work_sign_in(api: ApiEnv) -> None:
    response = await api.raw.get("/work", headers={"accept": "text/html"})
    assert (response.status_code, response.headers.get("location")) == (303, "/work/sign-in")
    sign_in = await api.raw.get("/work/sign-in")
    assert sign_in.status_code == 200 and "Staff token" in sign_in.text
    assert isinstance(response, httpx.Response)
