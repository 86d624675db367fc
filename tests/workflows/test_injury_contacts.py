"""R-D-3 and R-D-5 on the real dev server: what the injury specialist's first call must hold, and
every contact recorded from the first call until the case is reported done."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from client.claims import drive, report_claim, take_step, track_state, wait_for_stage
from dev.scenarios import steps_for
from domain.models import Track
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import PHOTO, reports, running
from workflows.messages import Stage

D = Track.INJURY


async def refused(client, no: str, payload: dict) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await take_step(client, no, D, "record_specialist_contact", payload)
    return str(err.value.cause)


async def test_r_d_3_the_first_call_expresses_sympathy_and_asks_about_the_investigator(dev_env: WorkflowEnvironment) -> None:
    """R-D-3: a first call without sympathy, or without asking whether the injury investigator
    has called, is refused with the rule named and nothing recorded; a complete one is recorded
    with the customer's answer about the investigator."""
    report = reports()["D"]
    client, no = dev_env.client, report.report_no
    first_call = steps_for(D, report, photo_sha256=PHOTO)[0][2]
    async with running(client, FakeSystems().activities()) as tq:
        handle, _ = await report_claim(client, report, tq)
        before = await wait_for_stage(client, no, D, Stage.AWAITING_SPECIALIST_CALL)
        no_sympathy = await refused(client, no, {**first_call, "sympathy_expressed": False})
        assert "express sympathy (R-D-3)" in no_sympathy and "investigator" not in no_sympathy
        not_asked = await refused(client, no, {**first_call, "investigator_contacted": None})
        assert "ask whether the injury investigator has called (R-D-3)" in not_asked and "sympathy" not in not_asked
        after = await track_state(client, no, D)
        assert after.stage is Stage.AWAITING_SPECIALIST_CALL and after.timeline == before.timeline

        view = await take_step(client, no, D, "record_specialist_contact", {**first_call, "investigator_contacted": False})
        [call] = [e for e in view.timeline if e.step == "specialist_first_call"]
        assert "sympathy" in call.detail and "injury investigator has not called yet" in call.detail
        assert call.by == "IS01" and view.stage is Stage.AWAITING_DOCUMENTS
        await handle.terminate("test done")


async def test_r_d_5_every_contact_is_recorded_until_the_case_is_done(dev_env: WorkflowEnvironment) -> None:
    """R-D-5: follow-ups are taken from the first call until the specialist reports the case done
    (also after payment, while the case is still open), each recorded in order with who made it
    and what was said; after the report-back no contact is taken."""
    report = reports()["D"]
    client, no = dev_env.client, report.report_no
    steps = steps_for(D, report, photo_sha256=PHOTO)
    first_call, _follow_up, documents, assessment, report_back, callback = steps
    follow = {"kind": "follow_up", "by": "IS01"}
    async with running(client, FakeSystems().activities()) as tq:
        handle, _ = await report_claim(client, report, tq)
        await wait_for_stage(client, no, D, Stage.AWAITING_SPECIALIST_CALL)
        assert "first call before follow-ups (R-D-2)" in await refused(client, no, {**follow, "note": "too early"})
        await drive(client, no, D, [first_call])
        await take_step(client, no, D, "record_specialist_contact", {**follow, "note": "in hospital, stable"})
        await take_step(client, no, D, "record_specialist_contact", {**follow, "note": "discharged"})
        await drive(client, no, D, [documents, assessment])
        await wait_for_stage(client, no, D, Stage.AWAITING_CASE_CLOSURE)
        await take_step(client, no, D, "record_specialist_contact", {**follow, "note": "mediation signed"})
        await drive(client, no, D, [report_back])
        assert "the injury case is done" in await refused(client, no, {**follow, "note": "one more"})
        await drive(client, no, D, [callback])
        view = (await handle.result()).tracks[D]
    contacts = [
        e for e in view.timeline if e.step.startswith("specialist_") and e.step != "specialist_sms_sent" and "contact" in e.detail
    ]
    assert [e.detail.split(":")[0] for e in contacts] == ["contact 1", "contact 2", "contact 3", "contact 4"]
    assert [e.step for e in contacts] == ["specialist_first_call"] + ["specialist_follow_up"] * 3
    assert all(e.by == "IS01" for e in contacts)
    notes = [e.detail.split("note: ")[-1] for e in contacts[1:]]
    assert notes == ["in hospital, stable", "discharged", "mediation signed"]
    timeline = [e.step for e in view.timeline]
    assert (
        timeline.index("paid")
        < timeline.index("specialist_follow_up", timeline.index("paid"))
        < timeline.index("specialist_reported_back")
    )
    assert "one more" not in str(view.timeline)
