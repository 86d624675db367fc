"""The order the programme puts on some human steps, refused on the dev server when it is broken:
the assessment comes after the photos (R-A-4), only the named lead records the first contact
(R-C-3), and the lead reports back only once every staffed role's item is done (R-C-5). Until
these, the rules were cited only by the permission matrix and the happy-path drives."""

from __future__ import annotations

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from client.claims import report_claim, take_step, wait_for_stage
from domain.models import Track
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import PHOTO, reports, running
from workflows.messages import Stage


async def refused(client: Client, report_no: str, track: Track, step: str, payload: dict) -> str:
    """Take a step that must be refused; the workflow's reason."""
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await take_step(client, report_no, track, step, payload)
    return str(err.value.cause)


async def test_r_a_4_the_assessment_waits_for_the_customers_photos(dev_env: WorkflowEnvironment) -> None:
    """R-A-4: the assessor assesses from the photos with the car, so an assessment sheet issued
    before the photos are uploaded is refused, at the shop and before it; after them it is taken."""
    fakes = FakeSystems()
    report = reports()["A"]
    client, no, a = dev_env.client, report.report_no, Track.AUTHORISATION
    assessment = {"sheet_no": "DS-1", "amount": "1200.00", "by": "AS01"}
    async with running(client, fakes.activities()) as tq:
        await report_claim(client, report, tq)
        await wait_for_stage(client, no, a, Stage.AWAITING_ACCEPTANCE)
        await take_step(client, no, a, "accept_offer", {"accepted": True, "by": "AG01"})
        await wait_for_stage(client, no, a, Stage.AWAITING_SCENE_ESTIMATE)
        await take_step(client, no, a, "record_scene_estimate", {"own_loss": "1200.00", "by": "SV01"})
        await wait_for_stage(client, no, a, Stage.AWAITING_CAR_AT_SHOP)
        assert "R-A-4" in await refused(client, no, a, "issue_assessment", assessment)
        await take_step(client, no, a, "car_at_shop", {"shop_code": "SHOP01", "by": "AS01"})
        await wait_for_stage(client, no, a, Stage.AWAITING_PHOTOS)
        assert "R-A-4" in await refused(client, no, a, "issue_assessment", assessment)
        await take_step(client, no, a, "upload_photos", {"sha256": [PHOTO], "by": "AS01"})
        await wait_for_stage(client, no, a, Stage.AWAITING_DOCUMENTS)
        view = await take_step(client, no, a, "issue_assessment", assessment)
        assert view.assessment_amount is not None
        steps = [e.step for e in view.timeline]
        assert steps.count("assessment_issued") == 1
        assert steps.index("photos_uploaded") < steps.index("assessment_issued")


async def test_r_c_3_and_r_c_5_the_named_lead_contacts_and_reports_back_when_every_item_is_done(
    dev_env: WorkflowEnvironment,
) -> None:
    """R-C-3: only the lead the branch named records the first contact with the customer.
    R-C-5: the lead reports back to the service centre only when every staffed role's service
    item is complete; with one open, the report back is refused and names it."""
    fakes = FakeSystems()
    report = reports()["C"]
    client, no, c = dev_env.client, report.report_no, Track.EXPERT_TEAM
    async with running(client, fakes.activities()) as tq:
        await report_claim(client, report, tq)
        await wait_for_stage(client, no, c, Stage.AWAITING_ACCEPTANCE)
        await take_step(client, no, c, "accept_offer", {"accepted": True, "by": "AG01"})
        await wait_for_stage(client, no, c, Stage.AWAITING_EXPERT_LEAD)
        await take_step(client, no, c, "name_expert_lead", {"lead_code": "EL07", "by": "AG01"})
        await wait_for_stage(client, no, c, Stage.AWAITING_LEAD_CONTACT)
        assert "R-C-3" in await refused(client, no, c, "record_lead_contact", {"note": "called", "by": "EL99"})
        await take_step(client, no, c, "record_lead_contact", {"note": "called", "by": "EL07"})
        await wait_for_stage(client, no, c, Stage.AWAITING_TEAM)
        await take_step(client, no, c, "staff_team", {"roles": ["legal", "accident_investigator"], "by": "EL07"})
        await wait_for_stage(client, no, c, Stage.AWAITING_SERVICE_ITEMS)
        await take_step(client, no, c, "complete_service_item", {"role": "legal", "by": "EL07"})
        reason = await refused(client, no, c, "report_back", {"by": "EL07"})
        assert "R-C-5" in reason and "accident_investigator" in reason
        await take_step(client, no, c, "complete_service_item", {"role": "accident_investigator", "by": "EL07"})
        view = await take_step(client, no, c, "report_back", {"by": "EL07"})
        assert view.stage is not Stage.AWAITING_SERVICE_ITEMS
        steps = [e.step for e in view.timeline]
        assert steps.count("lead_contacted_customer") == 1 and steps.count("lead_reported_back") == 1
