"""Each track from report to payment and callback, with human steps as updates, on the real
dev server (the time-skipping server has no updates). Outside systems are fakes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from client.claims import report_claim, take_step, wait_for_stage
from domain.models import AccidentKind, Track
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import reports, run_claim, running
from workflows.messages import Stage


def assert_paid_once(fakes: FakeSystems, view, track: Track, rule: str, amount: str) -> None:
    track_view = view.tracks[track]
    assert track_view.stage is Stage.CLOSED
    assert track_view.payment is not None
    assert track_view.payment.rule == rule
    assert track_view.payment.amount == Decimal(amount)
    assert track_view.payment.deadline_met is True
    assert track_view.payment.paid_at is not None
    keys = [k for k in fakes.payments if k.startswith(f"{view.report_no}:{track.value}:")]
    assert keys == [f"{view.report_no}:{track.value}:indemnity"]
    assert track_view.callback_score == 5


async def test_r_a_track_a_from_report_to_callback(dev_env: WorkflowEnvironment) -> None:
    """R-A-1..R-A-6, R-X-1: authorisation runs report → estimate → shop → photos → assessment →
    documents → payment within one working day → callback."""
    fakes = FakeSystems()
    report = reports()["A"]
    async with running(dev_env.client, fakes.activities()) as tq:
        view = await run_claim(dev_env.client, tq, report, [Track.AUTHORISATION])
    assert view.stage is Stage.CLOSED
    assert list(view.tracks) == [Track.AUTHORISATION]
    assert_paid_once(fakes, view, Track.AUTHORISATION, "R-A-6", "2650.00")
    steps = [e.step for e in view.tracks[Track.AUTHORISATION].timeline]
    for expected in (
        "offer_accepted",
        "customer_may_leave_scene",
        "car_at_shop",
        "photos_uploaded",
        "assessment_issued",
        "documents_complete",
        "paid",
        "callback_recorded",
    ):
        assert expected in steps


async def test_r_b_track_b_from_report_to_callback(dev_env: WorkflowEnvironment) -> None:
    """R-B-1..R-B-5: credit goes straight to documents (door pickup, R-B-4) and pays the same day."""
    fakes = FakeSystems()
    report = reports()["B"]
    async with running(dev_env.client, fakes.activities()) as tq:
        view = await run_claim(dev_env.client, tq, report, [Track.CREDIT])
    assert_paid_once(fakes, view, Track.CREDIT, "R-B-5", "2650.00")
    assert set(view.tracks[Track.CREDIT].documents_received.values()) == {"door_pickup"}


async def test_r_c_track_c_from_report_to_callback(dev_env: WorkflowEnvironment) -> None:
    """R-C-1..R-C-6, OPEN-2: a new-car customer's 80,000 CNY loss gets the expert team."""
    fakes = FakeSystems()
    report = reports()["C"]
    async with running(dev_env.client, fakes.activities()) as tq:
        view = await run_claim(dev_env.client, tq, report, [Track.EXPERT_TEAM])
    assert_paid_once(fakes, view, Track.EXPERT_TEAM, "R-X-4", "76000.00")
    steps = [e.step for e in view.tracks[Track.EXPERT_TEAM].timeline]
    assert steps.index("expert_lead_named") < steps.index("lead_contacted_customer") < steps.index("team_staffed")
    assert steps.count("service_item_done") == 2 and "lead_reported_back" in steps
    # the lead's note (dev/scenarios.py: "case understood") is kept in the timeline with the step
    contact = next(e for e in view.tracks[Track.EXPERT_TEAM].timeline if e.step == "lead_contacted_customer")
    assert contact.detail == "dedicated service channel entered; note: case understood" and contact.by == "EL07"


async def test_r_d_track_d_from_report_to_callback(dev_env: WorkflowEnvironment) -> None:
    """R-D-1..R-D-6: the specialist gets an SMS with report number, insured and phone, calls,
    follows up, the claim pays, the specialist reports back, the customer is called back."""
    fakes = FakeSystems()
    report = reports()["D"]
    async with running(dev_env.client, fakes.activities()) as tq:
        view = await run_claim(dev_env.client, tq, report, [Track.INJURY])
    assert_paid_once(fakes, view, Track.INJURY, "R-X-4", "12000.00")
    [sms] = [m for m in fakes.sms if m.kind == "injury_specialist"]
    assert sms.report_no == report.report_no
    assert sms.fields == {"insured_name": "测试客户四", "contact_phone": "13800000104"}
    steps = [e.step for e in view.tracks[Track.INJURY].timeline]
    assert steps.index("paid") < steps.index("specialist_reported_back") < steps.index("callback_recorded")


async def test_r_x_2_two_party_small_claim_with_injury_runs_b_and_d(dev_env: WorkflowEnvironment) -> None:
    """R-X-2: one report, two tracks (B for the cars, D for the injury), each paid once."""
    fakes = FakeSystems()
    report = reports()["A"].model_copy(
        update={
            "accident_kind": AccidentKind.TWO_PARTY,
            "at_scene": False,
            "injury": True,
            "estimated_own_loss": Decimal("2000.00"),
            "estimated_third_party_loss": Decimal("1500.00"),
            "reporter_phone": "13800000999",
        }
    )
    async with running(dev_env.client, fakes.activities()) as tq:
        view = await run_claim(dev_env.client, tq, report, [Track.CREDIT, Track.INJURY])
    assert set(view.tracks) == {Track.CREDIT, Track.INJURY}
    assert sorted(fakes.payments) == [f"{report.report_no}:B:indemnity", f"{report.report_no}:D:indemnity"]
    assert "police_certificate" in view.tracks[Track.CREDIT].documents_required


@pytest.mark.parametrize(("estimate", "stays"), [("3000.00", True), ("3000.01", False)])
async def test_r_a_2_scene_estimate_edge(dev_env: WorkflowEnvironment, estimate: str, stays: bool) -> None:
    """R-A-2: at 3000 exactly the customer may leave; at 3000.01 the claim waits for a survey."""
    fakes = FakeSystems()
    report = reports()["A"]
    async with running(dev_env.client, fakes.activities()) as tq:
        handle, _ = await report_claim(dev_env.client, report, tq)
        await wait_for_stage(dev_env.client, report.report_no, Track.AUTHORISATION, Stage.AWAITING_ACCEPTANCE)
        await take_step(dev_env.client, report.report_no, Track.AUTHORISATION, "accept_offer", {"accepted": True})
        await wait_for_stage(dev_env.client, report.report_no, Track.AUTHORISATION, Stage.AWAITING_SCENE_ESTIMATE)
        view = await take_step(
            dev_env.client, report.report_no, Track.AUTHORISATION, "record_scene_estimate", {"own_loss": estimate}
        )
        if stays:
            view = await wait_for_stage(dev_env.client, report.report_no, Track.AUTHORISATION, Stage.AWAITING_CAR_AT_SHOP)
            await handle.terminate("test done")
        else:
            claim = await handle.result()
            view = claim.tracks[Track.AUTHORISATION]
            assert view.stage is Stage.TRANSFERRED
            assert "R-A-2" in (view.outcome or "") and "3,000.01" in (view.outcome or "")
            assert not fakes.payments


async def test_declined_offer_ends_track_without_payment(dev_env: WorkflowEnvironment) -> None:
    """R-C-1: the expert team is assigned only if the customer wants it."""
    fakes = FakeSystems()
    report = reports()["C"]
    async with running(dev_env.client, fakes.activities()) as tq:
        handle, _ = await report_claim(dev_env.client, report, tq)
        await wait_for_stage(dev_env.client, report.report_no, Track.EXPERT_TEAM, Stage.AWAITING_ACCEPTANCE)
        await take_step(dev_env.client, report.report_no, Track.EXPERT_TEAM, "accept_offer", {"accepted": False})
        view = await handle.result()
    assert view.tracks[Track.EXPERT_TEAM].stage is Stage.DECLINED
    assert view.stage is Stage.ORDINARY and "declined" in (view.ordinary or "")  # issue 12.1: owed an ordinary claim
    assert not fakes.payments and not fakes.callbacks


async def test_bad_steps_are_refused_with_a_reason_and_nothing_recorded(dev_env: WorkflowEnvironment) -> None:
    """Validators: a step at the wrong time, an unneeded document, a channel track B does not take
    (R-B-4), an incomplete first specialist call (R-D-2..4) are refused; the timeline is unchanged."""
    fakes = FakeSystems()
    report = reports()["A"].model_copy(
        update={
            "accident_kind": AccidentKind.TWO_PARTY,
            "at_scene": True,
            "injury": True,
            "estimated_own_loss": Decimal("1000.00"),
            "estimated_third_party_loss": Decimal("500.00"),
        }
    )
    client, no = dev_env.client, report.report_no
    async with running(client, fakes.activities()) as tq:
        handle, _ = await report_claim(client, report, tq)
        before = await wait_for_stage(client, no, Track.CREDIT, Stage.AWAITING_ACCEPTANCE)
        refusals = {
            (Track.CREDIT, "record_callback", '{"score": 5}'): "belongs to stage awaiting_callback",
            (Track.CREDIT, "issue_assessment", '{"sheet_no": "X1", "amount": "10.00"}'): "not taken at stage awaiting_acceptance",
        }
        for (track, step, payload), reason in refusals.items():
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await take_step(client, no, track, step, __import__("json").loads(payload))
            assert reason in str(err.value.cause)
        await take_step(client, no, Track.CREDIT, "accept_offer", {"accepted": True})
        await wait_for_stage(client, no, Track.CREDIT, Stage.AWAITING_DOCUMENTS)
        for document, reason in [
            ({"document": "medical_records", "channel": "self"}, "not a document this claim needs"),
            ({"document": "claim_form", "channel": "assessor_at_shop"}, "R-B-4"),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await take_step(client, no, Track.CREDIT, "receive_document", document)
            assert reason in str(err.value.cause)
        with pytest.raises(ValidationError, match="more than zero"):
            await take_step(client, no, Track.CREDIT, "issue_assessment", {"sheet_no": "X1", "amount": "0"})
        # sent past the client's check, the worker refuses the payload too
        with pytest.raises(WorkflowUpdateFailedError):
            await client.get_workflow_handle(f"claim-{no}-B").execute_update(
                "issue_assessment", {"sheet_no": "X1", "amount": "-5"}
            )
        await wait_for_stage(client, no, Track.INJURY, Stage.AWAITING_SPECIALIST_CALL)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await take_step(
                client,
                no,
                Track.INJURY,
                "record_specialist_contact",
                {
                    "kind": "first_call",
                    "identity_explained": True,
                    "process_explained": True,
                    "sympathy_expressed": True,
                    "investigator_contacted": True,
                },
            )
        assert "R-D-4" in str(err.value.cause)
        credit = await wait_for_stage(client, no, Track.CREDIT, Stage.AWAITING_DOCUMENTS)
        injury = await wait_for_stage(client, no, Track.INJURY, Stage.AWAITING_SPECIALIST_CALL)
        assert credit.documents_received == {} and credit.assessment_amount is None
        assert [e.step for e in credit.timeline] == [e.step for e in before.timeline] + [
            "offer_accepted",
            "customer_need_not_wait",
        ]
        assert all(not e.step.startswith("specialist_first") for e in injury.timeline)
        await handle.terminate("test done")


async def test_r_x_3_refused_payee_waits_for_insured_account(dev_env: WorkflowEnvironment) -> None:
    """R-X-3: the ledger refuses a payee who is not the insured; the claim waits for the insured's
    own account (anything else is refused), then pays once."""
    fakes = FakeSystems()
    report = reports()["C"].model_copy(update={"payee_account": "6222999999999999"})
    client, no, track = dev_env.client, report.report_no, Track.EXPERT_TEAM
    async with running(client, fakes.activities()) as tq:
        handle, _ = await report_claim(client, report, tq)
        from client.claims import drive
        from dev.scenarios import steps_for

        steps = steps_for(track, report, photo_sha256="a" * 64)
        await drive(client, no, track, steps[:-1])
        view = await wait_for_stage(client, no, track, Stage.AWAITING_PAYEE_ACCOUNT)
        assert view.payment is not None and view.payment.refused_reason
        with pytest.raises(WorkflowUpdateFailedError):
            await take_step(client, no, track, "correct_payee_account", {"account": "6222888888888888"})
        await take_step(client, no, track, "correct_payee_account", {"account": "6222 0000 0000 0033"})
        await drive(client, no, track, steps[-1:])
        result = await handle.result()
    assert result.tracks[track].payment.payment_id is not None
    assert list(fakes.payments) == [f"{no}:C:indemnity"]


async def test_r_x_1_poor_score_opens_supervisor_follow_up(dev_env: WorkflowEnvironment) -> None:
    """R-X-1: a callback score at or under the poor mark opens a supervisor follow-up."""
    fakes = FakeSystems()
    report = reports()["B"]
    client, no, track = dev_env.client, report.report_no, Track.CREDIT
    from client.claims import drive
    from dev.scenarios import steps_for

    steps = steps_for(track, report, photo_sha256="a" * 64)
    stage, name, _ = steps[-1]
    async with running(client, fakes.activities()) as tq:
        handle, _ = await report_claim(client, report, tq)
        await drive(client, no, track, [*steps[:-1], (stage, name, {"score": 2, "comment": "slow"})])
        result = await handle.result()
    assert result.tracks[track].follow_up_opened is True
    assert [c.score for c in fakes.callbacks] == [2]


async def test_concurrent_same_step_is_recorded_once(dev_env: WorkflowEnvironment) -> None:
    """Assessors answering at the same moment: one assessment counts and the others are refused,
    so the amount to pay cannot change underneath the claim; a document sent thrice counts once."""
    import asyncio

    fakes = FakeSystems()
    report = reports()["B"]
    client, no, track = dev_env.client, report.report_no, Track.CREDIT
    async with running(client, fakes.activities()) as tq:
        handle, _ = await report_claim(client, report, tq)
        await wait_for_stage(client, no, track, Stage.AWAITING_ACCEPTANCE)
        await take_step(client, no, track, "accept_offer", {"accepted": True})
        await wait_for_stage(client, no, track, Stage.AWAITING_DOCUMENTS)
        results = await asyncio.gather(
            *[
                take_step(client, no, track, "issue_assessment", {"sheet_no": f"S{i}", "amount": f"{1000 + i}.00"})
                for i in range(4)
            ],
            *[take_step(client, no, track, "receive_document", {"document": "claim_form", "channel": "self"}) for _ in range(3)],
            return_exceptions=True,
        )
        view = await wait_for_stage(client, no, track, Stage.AWAITING_DOCUMENTS)
        await handle.terminate("test done")
    assessments, documents = results[:4], results[4:]
    assert sum(not isinstance(r, Exception) for r in assessments) == 1
    assert sum(not isinstance(r, Exception) for r in documents) == 1
    assert all(isinstance(r, WorkflowUpdateFailedError) for r in results if isinstance(r, Exception))
    assert [e.step for e in view.timeline].count("assessment_issued") == 1
    assert [e.step for e in view.timeline].count("document_received") == 1


async def test_r_x_5_documents_together_all_or_none_and_answers_show_the_next_stage(dev_env: WorkflowEnvironment) -> None:
    """R-X-5, R-B-4: a set of documents is one step: a set with one document the claim does not
    need, by a channel the track does not take, or already received is refused whole; a good set
    is taken whole. Each step's answer shows where the track went next."""
    fakes = FakeSystems()
    report = reports()["B"]
    client, no, track = dev_env.client, report.report_no, Track.CREDIT
    async with running(client, fakes.activities()) as tq:
        handle, _ = await report_claim(client, report, tq)
        await wait_for_stage(client, no, track, Stage.AWAITING_ACCEPTANCE)
        answer = await take_step(client, no, track, "accept_offer", {"accepted": True})
        assert answer.stage is Stage.AWAITING_DOCUMENTS  # not awaiting_acceptance: the track moved on
        required = answer.documents_required
        assert len(required) >= 2
        good = [{"document": d.value, "channel": "door_pickup"} for d in required]
        for bad, reason in [
            ([*good, {"document": "medical_records", "channel": "self"}], "not a document this claim needs"),
            ([{**good[0], "channel": "assessor_at_shop"}, *good[1:]], "R-B-4"),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await take_step(client, no, track, "receive_documents", {"documents": bad})
            assert reason in str(err.value.cause)
        with pytest.raises(ValidationError, match="given twice"):
            await take_step(client, no, track, "receive_documents", {"documents": [good[0], good[0]]})
        assert (await wait_for_stage(client, no, track, Stage.AWAITING_DOCUMENTS)).documents_received == {}

        answer = await take_step(client, no, track, "receive_documents", {"documents": good[:1]})
        assert list(answer.documents_received) == [required[0]]
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await take_step(client, no, track, "receive_documents", {"documents": good[:2]})
        assert "already received" in str(err.value.cause)
        answer = await take_step(client, no, track, "receive_documents", {"documents": good[1:]})
        assert answer.documents_missing == () and answer.stage is Stage.AWAITING_DOCUMENTS  # no assessment yet
        assert [e.step for e in answer.timeline].count("documents_complete") == 1
        answer = await take_step(client, no, track, "issue_assessment", {"sheet_no": "DS-1", "amount": "1200.00"})
        assert answer.stage in (Stage.PAYING, Stage.AWAITING_CALLBACK)  # the payment is under way or done
        await handle.terminate("test done")
