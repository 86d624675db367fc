"""Issue 12 through the HTTP API: where a claim leaves the program (declined, over the scene limit),
the insured's new account after a closed one, deadlines an outside system can check, and an
OpenAPI document a client can be generated from."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from activities.core_system import CoreData, CoreSystemActivities, SqlCoreSystem
from activities.database import Database
from activities.payments import HttpPaymentGateway, PaymentActivities
from dev.scenarios import steps_for
from domain.models import AccidentKind, Track
from gateway.server import Gateway, attempts_by_key
from security.auth import Role
from tests.api.conftest import ApiEnv, error_of, serving_api
from tests.api.test_api_claims import report_json, track_at, upload_photo
from tests.helpers import eventually
from tests.workflows.fakes import SAMPLE, FakeSystems
from tests.workflows.helpers import reports
from workflows.messages import STEP_MODELS

BIN = Path(sys.executable).parent


async def claim_when(api: ApiEnv, no: str, stage: str) -> dict:
    async def probe() -> httpx.Response:
        return await api.http.get(f"/claims/{no}")

    response = await eventually(probe, lambda r: r.status_code == 200 and r.json()["stage"] == stage, what=f"claim {stage}")
    return response.json()


async def listed(api: ApiEnv, stage: str, prefix: str) -> list[str]:
    response = await api.http.get("/claims", params={"stage": stage, "report_no_prefix": prefix})
    assert response.status_code == 200, response.text
    return [c["report_no"] for c in response.json()["claims"]]


# --- 1. leaving the program without payment hands the claim to the ordinary process ------------


async def test_r_c_1_a_declined_expert_team_hands_the_claim_to_the_ordinary_process(api: ApiEnv) -> None:
    """R-C-1: the customer does not want the expert team. The claim is not `closed`: it is
    `ordinary` (listed by stage=ordinary), and its view and timeline say why."""
    report = reports()["C"]
    no = report.report_no
    assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
    await track_at(api, no, "C", "awaiting_acceptance")
    response = await api.http.post(f"/claims/{no}/tracks/C/steps/accept_offer", json={"accepted": False, "by": "AG01"})
    assert response.status_code == 200, response.text
    assert response.json()["stage"] == "declined"
    assert "ordinary claim process" in response.json()["handed_to_ordinary"]

    view = await claim_when(api, no, "ordinary")
    assert "track C" in view["ordinary"] and "declined" in view["ordinary"]
    assert view["timeline"][-1]["step"] == "handed_to_ordinary" and "ordinary" in view["timeline"][-1]["detail"]
    assert "claim_closed" not in [e["step"] for e in view["timeline"]]
    prefix = no.rsplit("-", 1)[0]
    found = await eventually(lambda: listed(api, "ordinary", prefix), lambda rows: no in rows, what="listed as ordinary")
    assert found == [no]
    assert no not in await listed(api, "closed", prefix)


async def test_r_a_2_over_the_scene_limit_the_claim_goes_on_as_an_ordinary_claim(api: ApiEnv) -> None:
    """R-A-2: an estimate over 3000 CNY: the customer waits for the on-site survey, an ordinary
    claim. The track ends `transferred`, the claim `ordinary` with the reason, never `closed`."""
    report = reports()["A"]
    no = report.report_no
    assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
    await track_at(api, no, "A", "awaiting_acceptance")
    assert (
        await api.http.post(f"/claims/{no}/tracks/A/steps/accept_offer", json={"accepted": True, "by": "AG01"})
    ).status_code == 200
    response = await api.http.post(
        f"/claims/{no}/tracks/A/steps/record_scene_estimate", json={"own_loss": "4200.00", "by": "SV01"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["stage"] == "transferred"

    view = await claim_when(api, no, "ordinary")
    assert "track A" in view["ordinary"] and "R-A-2" in view["ordinary"] and "ordinary process" in view["ordinary"]
    assert view["tracks"]["A"]["payment"] is None
    assert view["timeline"][-1]["step"] == "handed_to_ordinary"


async def test_r_b_3_a_credit_claim_over_its_limit_stays_owed_an_ordinary_claim_after_its_injury_track(api: ApiEnv) -> None:
    """R-B-3 (SPEC §3, last line): a two-party claim whose third-party loss is over the 2000 CNY
    limit takes no credit track, only the injury one (R-D-1). Once the injury track is paid and
    called back, the claim is `ordinary`, not `closed`: the cars are the ordinary process's."""
    report = reports()["A"].model_copy(
        update={
            "accident_kind": AccidentKind.TWO_PARTY,
            "at_scene": False,
            "injury": True,
            "estimated_own_loss": Decimal("2000.00"),
            "estimated_third_party_loss": Decimal("2500.00"),
            "reporter_phone": "13800000999",
        }
    )
    no = report.report_no
    assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
    for stage, step, payload in steps_for(Track.INJURY, report, photo_sha256="a" * 64):
        await track_at(api, no, "D", stage.value)
        assert (await api.http.post(f"/claims/{no}/tracks/D/steps/{step}", json=payload)).status_code == 200, step
    view = await claim_when(api, no, "ordinary")
    assert [t["track"] for t in view["decision"]["tracks"] if t["applies"]] == ["D"]
    assert view["tracks"]["D"]["stage"] == "closed" and view["tracks"]["D"]["payment"]["paid_at"]
    assert "track B" in view["ordinary"] and "R-B-3" in view["ordinary"] and "track D" not in view["ordinary"]


# --- 3. the insured's new account, checked against the core system as it is now -----------------


OLD_ACCOUNT = "6222000000000025"  # sample policy P2026000002 (track B's claim): closed at the bank
NEW_ACCOUNT = "6222000000000108"  # the insured's new account, recorded in the core system later
STRANGER = "6222000000000017"  # another customer's account (policy P2026000001)


def load_policies(data_dir: Path, file: Path) -> None:
    """`claims load-policies FILE`, the command an operator runs, into the worker's core system."""
    env = {**os.environ, "PREMIUM_CLAIMS_DATA_DIR": str(data_dir)}
    done = subprocess.run([str(BIN / "claims"), "load-policies", str(file)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


async def test_r_x_3_r_el_1_6_the_insureds_new_account_is_checked_in_the_core_system_and_paid_once(
    dev_env: WorkflowEnvironment, bank: tuple[Gateway, str], tmp_path: Path
) -> None:
    """R-X-3, R-EL-1.6: the bank declines the payment (the insured's account is closed); the claim
    waits for the payee account. Before the core system knows a new account, the new account is
    refused; once `claims load-policies` records it, it is accepted, checked by an activity
    against the core system as it is now, and paid exactly once. Another person's account, and
    the old account no longer on the policy, stay refused."""
    gateway, url = bank
    gateway.set_closed(OLD_ACCOUNT, True)
    data_dir = tmp_path / "data"
    await asyncio.to_thread(load_policies, data_dir, SAMPLE)
    core = CoreSystemActivities(SqlCoreSystem(Database.sqlite(data_dir / "core.sqlite3")))
    fakes = FakeSystems()
    replaced = {"lookup_policy", "insured_account", "pay_indemnity"}
    activities = [a for a in fakes.activities() if a.__name__ not in replaced] + [
        core.lookup_policy,
        core.insured_account,
        PaymentActivities(HttpPaymentGateway(url, 5), heartbeat_seconds=1).pay_indemnity,
    ]
    report = reports()["B"]
    no, key = report.report_no, f"{report.report_no}:B:indemnity"
    steps = steps_for(Track.CREDIT, report, photo_sha256="a" * 64)
    async with serving_api(dev_env.client, fakes, activities, tmp_path) as api:
        assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
        for stage, step, payload in steps[:-1]:
            await track_at(api, no, "B", stage.value)
            assert (await api.http.post(f"/claims/{no}/tracks/B/steps/{step}", json=payload)).status_code == 200
        view = await track_at(api, no, "B", "awaiting_payee_account")
        assert "account closed" in view["payment"]["refused_reason"]

        async def correct(account: str) -> httpx.Response:
            return await api.http.post(
                f"/claims/{no}/tracks/B/steps/correct_payee_account", json={"account": account, "by": "AG01"}
            )

        for account in (NEW_ACCOUNT, STRANGER):  # the core system does not know the new one yet
            response = await correct(account)
            assert response.status_code == 409 and error_of(response)["code"] == "step_refused", response.text
            assert "insured's own account" in response.json()["message"]

        data = CoreData.model_validate_json(SAMPLE.read_text(encoding="utf-8"))
        policy = next(p for p in data.policies if p.policy_no == report.policy_no)
        updated = tmp_path / "updated.json"
        updated.write_text(
            json.dumps({"policies": [policy.model_copy(update={"insured_bank_account": NEW_ACCOUNT}).model_dump(mode="json")]}),
            encoding="utf-8",
        )
        await asyncio.to_thread(load_policies, data_dir, updated)

        for account in (OLD_ACCOUNT, STRANGER):  # no longer the insured's / never the insured's
            response = await correct(account)
            assert response.status_code == 409 and error_of(response)["code"] == "step_refused", response.text
        assert "payee_account_corrected" not in [
            e["step"] for e in (await track_at(api, no, "B", "awaiting_payee_account"))["timeline"]
        ]

        response = await correct(NEW_ACCOUNT)
        assert response.status_code == 200, response.text
        stage, step, payload = steps[-1]
        await track_at(api, no, "B", stage.value)
        assert (await api.http.post(f"/claims/{no}/tracks/B/steps/{step}", json=payload)).status_code == 200
        view = await claim_when(api, no, "closed")
    [row] = gateway.ledger.payments()
    assert row.payee_account == NEW_ACCOUNT and row.idempotency_key == key
    assert attempts_by_key(gateway.db) == {key: ["declined", "paid"]}
    payment = view["tracks"]["B"]["payment"]
    assert payment["payment_id"] == row.payment_id and payment["refused_reason"] is None
    assert OLD_ACCOUNT not in json.dumps(view) and NEW_ACCOUNT not in json.dumps(view)


# --- 4 and 5. deadlines in one time zone, and the calendar an outside system can ask ------------


async def test_spec_6_r_a_6_calendar_due_skips_new_years_day_2027_and_says_why(api: ApiEnv) -> None:
    """R-A-6 across the year end: documents complete late on 2026-12-31 are due on Monday
    2027-01-04 (not New Year's Day, a statutory holiday, nor the weekend), in China time, with the
    days skipped and why, and the year without the State Council's notice named."""
    response = await api.http.get("/calendar/due", params={"track": "A", "complete_at": "2026-12-31T15:30:00Z"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rule"] == "R-A-6"
    assert body["due_at"] == "2027-01-04T23:59:59+08:00"
    assert body["complete_at"] == "2026-12-31T23:30:00+08:00"
    skipped = {s["day"]: s["reason"] for s in body["skipped"]}
    assert list(skipped) == ["2027-01-01", "2027-01-02", "2027-01-03"]
    assert "New Year's Day" in skipped["2027-01-01"] and skipped["2027-01-02"] == "Saturday"
    assert body["years_without_official_data"] == [2027]

    same_day = await api.http.get("/calendar/due", params={"track": "B", "complete_at": "2026-10-01T10:00:00+08:00"})
    assert same_day.status_code == 200 and same_day.json()["rule"] == "R-B-5"
    assert same_day.json()["due_at"] == "2026-10-08T23:59:59+08:00"  # National Day week, official plan
    assert "National Day" in same_day.json()["skipped"][0]["reason"]

    naive = await api.http.get("/calendar/due", params={"track": "A", "complete_at": "2026-12-31T23:30:00"})
    assert naive.status_code == 422 and error_of(naive)["code"] == "invalid_request"
    for role in Role:  # any staff role may read the calendar
        answer = await api.raw.get(
            "/calendar/due", params={"track": "C", "complete_at": "2026-12-31T15:30:00Z"}, headers=api.as_("S01", role)
        )
        assert answer.status_code == 200, (role, answer.text)
    assert (await api.raw.get("/calendar/due", params={"track": "A", "complete_at": "2026-12-31T15:30:00Z"})).status_code == 401


async def test_spec_6_every_time_in_a_claim_view_is_china_time(api: ApiEnv) -> None:
    """SPEC §6 (one time zone): the waits' and the payment's deadlines, the payment time and
    the timeline all read +08:00 in the track view and the claim view."""
    report = reports()["B"]
    no = report.report_no
    assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
    waiting = await track_at(api, no, "B", "awaiting_acceptance")
    assert waiting["waiting"]["due_at"].endswith("+08:00")
    photo = await upload_photo(api)
    for stage, step, payload in steps_for(Track.CREDIT, report, photo_sha256=photo):
        await track_at(api, no, "B", stage.value)
        assert (await api.http.post(f"/claims/{no}/tracks/B/steps/{step}", json=payload)).status_code == 200
    view = await claim_when(api, no, "closed")
    track = view["tracks"]["B"]
    times = [
        track["payment"]["due_at"],
        track["payment"]["paid_at"],
        *(e["at"] for e in track["timeline"]),
        *(e["at"] for e in view["timeline"]),
    ]
    assert times and all(t.endswith("+08:00") for t in times), times
    assert all(datetime.fromisoformat(t).utcoffset() == timedelta(hours=8) for t in times)


# --- 6. an API an outside system can code against -----------------------------------------------


async def test_openapi_has_one_operation_per_step_with_its_body_schema(api: ApiEnv) -> None:
    """Issue 12.6: every step is an operation of its own whose request body is that step's
    schema, so a client generated from /openapi.json knows what each step takes."""
    document = (await api.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    ids = set()
    for step, model in STEP_MODELS.items():
        operation = document["paths"][f"/claims/{{report_no}}/tracks/{{track}}/steps/{step}"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{model.__name__}"}, step
        assert set(model.model_fields) - {"by"} <= set(schemas[model.__name__]["properties"]), step
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/TrackView"
        }
        ids.add(operation["operationId"])
    assert len(ids) == len(STEP_MODELS)
    assert "/claims/{report_no}/tracks/{track}/steps/{step}" not in document["paths"]
    assert "/calendar/due" in document["paths"]


async def test_error_messages_are_for_people_and_codes_stay(api: ApiEnv) -> None:
    """Issue 12.6: a refused step says the reason only (no "StepRefused: "), a bad body the
    validator's words (no pydantic "Value error, "); the codes are those of docs/api.md."""
    report = reports()["B"]
    no = report.report_no
    assert (await api.http.post("/claims", json=report_json(report))).status_code == 201
    await track_at(api, no, "B", "awaiting_acceptance")
    response = await api.http.post(f"/claims/{no}/tracks/B/steps/record_callback", json={"score": 5})
    body = error_of(response)
    assert (response.status_code, body["code"]) == (409, "step_refused")
    assert body["message"] == "this step belongs to stage awaiting_callback; the track is at awaiting_acceptance"
    response = await api.http.post(f"/claims/{no}/tracks/B/steps/issue_assessment", json={"sheet_no": "X1", "amount": "0"})
    body = error_of(response)
    assert (response.status_code, body["code"]) == (422, "invalid_request")
    assert body["message"] == "amount: the assessed amount must be more than zero"
    response = await api.http.post(f"/claims/{no}/tracks/B/steps/fly_away", json={})
    assert (response.status_code, error_of(response)["code"]) == (404, "unknown_step")
    await api.client.get_workflow_handle(f"claim-{no}").terminate("test done")
