"""Deadlines and decisions with the time-skipping test server: days pass in milliseconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from client.claims import claim_state, report_claim, track_state
from domain.contracts import POLICY_NOT_FOUND, REPORT_CONFLICT, ActivityName, LookupPolicyInput, LookupPolicyResult
from domain.models import Track
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import reports, running
from workflows.messages import Stage


async def test_open_3_missed_first_call_escalates_once(time_env: WorkflowEnvironment) -> None:
    """OPEN-3, R-D-2: no specialist call within 30 minutes of the SMS: the supervisor is told once,
    the claim is marked overdue and says so in its timeline; days more pass, still one escalation."""
    fakes = FakeSystems()
    report = reports()["D"]
    async with running(time_env.client, fakes.activities()) as tq:
        handle, _ = await report_claim(time_env.client, report, tq)
        await time_env.sleep(timedelta(minutes=29))
        view = await track_state(time_env.client, report.report_no, Track.INJURY)
        assert view.stage is Stage.AWAITING_SPECIALIST_CALL and not view.overdue
        assert fakes.sms_kinds()["supervisor_escalation"] == 0
        await time_env.sleep(timedelta(minutes=2))
        view = await track_state(time_env.client, report.report_no, Track.INJURY)
        assert view.overdue and view.waiting is not None and view.waiting.overdue
        assert [e.step for e in view.timeline].count("deadline_missed") == 1
        await time_env.sleep(timedelta(days=3))
        assert fakes.sms_kinds()["supervisor_escalation"] == 1
        [escalation] = [m for m in fakes.sms if m.kind == "supervisor_escalation"]
        assert escalation.fields["step"] == "awaiting_specialist_call"
        claim = await claim_state(time_env.client, report.report_no)
        assert claim.overdue and claim.tracks[Track.INJURY].overdue
        await handle.terminate("test done")


async def test_open_3_unanswered_offer_escalates(time_env: WorkflowEnvironment) -> None:
    """R-A-1 with OPEN-3: an offer nobody answers is escalated when its deadline passes."""
    fakes = FakeSystems()
    report = reports()["A"]
    async with running(time_env.client, fakes.activities()) as tq:
        handle, _ = await report_claim(time_env.client, report, tq)
        await time_env.sleep(fakes.rules.deadlines.offer_response + timedelta(minutes=1))
        view = await track_state(time_env.client, report.report_no, Track.AUTHORISATION)
        assert view.stage is Stage.AWAITING_ACCEPTANCE and view.overdue
        assert fakes.sms_kinds()["supervisor_escalation"] == 1
        await handle.terminate("test done")


async def test_r_x_2_duplicate_report_reaches_the_same_claim(time_env: WorkflowEnvironment) -> None:
    """R-X-2: reporting the same number again starts no second claim, before or after it closed."""
    fakes = FakeSystems()
    report = reports()["A"].model_copy(update={"policy_no": "P2026000006"})  # no fast track: closes at once
    async with running(time_env.client, fakes.activities()) as tq:
        first, started = await report_claim(time_env.client, report, tq)
        again, started_again = await report_claim(time_env.client, report, tq)
        assert started and not started_again
        assert again.id == first.id
        view = await first.result()
        _, started_after_close = await report_claim(time_env.client, report, tq)
        assert not started_after_close
    assert fakes.lookups == 1
    assert view.stage is Stage.ORDINARY


async def test_r_el_1_non_eligible_customer_gets_no_fast_track_and_reasons(time_env: WorkflowEnvironment) -> None:
    """R-EL-1, R-X-2: a -3 customer without third-party cover reporting an injury gets track D only;
    the claim shows why A was not taken, naming the failed condition."""
    fakes = FakeSystems()
    report = reports()["A"].model_copy(update={"policy_no": "P2026000006", "injury": True})
    async with running(time_env.client, fakes.activities()) as tq:
        handle, _ = await report_claim(time_env.client, report, tq)
        await time_env.sleep(timedelta(minutes=1))
        claim = await claim_state(time_env.client, report.report_no)
        await handle.terminate("test done")
    assert claim.decision is not None
    assert [c.condition.value for c in claim.decision.eligibility.failed] == ["required_coverages_with_waiver"]
    taken = {t.track: t for t in claim.decision.tracks}
    assert taken[Track.INJURY].applies and not taken[Track.AUTHORISATION].applies
    assert list(claim.tracks) == [Track.INJURY]


async def test_unknown_policy_fails_the_claim_and_frees_the_number(time_env: WorkflowEnvironment) -> None:
    """R-ID-2, R-X-2: a report on a policy the core system does not know decides nothing; with no
    report call to remove it (the API does, at once), the claim fails after its grace period, naming
    the policy, and the number can then be reported with the right policy."""
    fakes = FakeSystems()
    right = reports()["A"]
    report = right.model_copy(update={"policy_no": "P0000000000"})
    async with running(time_env.client, fakes.activities()) as tq:
        handle, _ = await report_claim(time_env.client, report, tq)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == POLICY_NOT_FOUND
        assert "P0000000000" in cause.message
        again, started = await report_claim(time_env.client, right, tq)
        assert started
        assert (await claim_state(time_env.client, right.report_no)).decision is not None
        await again.terminate("test done")


async def test_r_x_2_report_number_on_another_policy_is_refused(time_env: WorkflowEnvironment) -> None:
    """R-X-2: the core system refuses a report number already registered on another policy; the
    claim records the refusal and runs no track."""
    fakes = FakeSystems()
    report = reports()["A"]

    @activity.defn(name=ActivityName.LOOKUP_POLICY)
    async def conflicting_lookup(input: LookupPolicyInput) -> LookupPolicyResult:
        raise ApplicationError("report already registered on policy P2026000002", type=REPORT_CONFLICT, non_retryable=True)

    activities = [a for a in fakes.activities() if a.__name__ != "lookup_policy"] + [conflicting_lookup]
    async with running(time_env.client, activities) as tq:
        handle, _ = await report_claim(time_env.client, report, tq)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == REPORT_CONFLICT
    assert "P2026000002" in cause.message
