"""Track D — injury one-to-one (SPEC §5, R-D-1..R-D-6, OPEN-3)."""

from __future__ import annotations

from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contracts import ActivityName, SendSmsInput, SmsKind, specialist_sms_key
    from domain.models import Track
    from workflows.calls import quick_call
    from workflows.messages import TRACK_WORKFLOW_TYPES, ContactKind, ReportBack, SpecialistContact, Stage, TrackInput, TrackView
    from workflows.track_base import StepRefused, TrackWorkflow

CLOSED_STAGES = frozenset({Stage.CLOSED, Stage.DECLINED, Stage.TRANSFERRED, Stage.AWAITING_CALLBACK})


@workflow.defn(name=TRACK_WORKFLOW_TYPES[Track.INJURY])
class InjuryOneToOneWorkflow(TrackWorkflow):
    track = Track.INJURY
    opening_stage = Stage.AWAITING_SPECIALIST_CALL
    stage_rules: ClassVar[dict[Stage, str]] = {
        **TrackWorkflow.stage_rules,
        Stage.AWAITING_SPECIALIST_CALL: "R-D-2/OPEN-3",
        Stage.AWAITING_CASE_CLOSURE: "R-D-6",
    }

    def __init__(self) -> None:
        super().__init__()
        self._first_call = False
        self._contacts = 0
        self._case_done = False

    @workflow.run
    async def run(self, input: TrackInput) -> TrackView:
        return await self._run(input)

    async def _service(self) -> bool:
        report, customer = self.report, self._input_or_fail().lookup.customer
        # R-D-1: report number, insured, and the phone of the driver or else of the reporter.
        contact_phone = report.driver_phone or report.reporter_phone or customer.mobile or ""
        await quick_call(
            ActivityName.SEND_SMS,
            SendSmsInput(
                idempotency_key=specialist_sms_key(report.report_no),
                kind=SmsKind.INJURY_SPECIALIST,
                report_no=report.report_no,
                recipient_role="injury_specialist",
                fields={"insured_name": customer.name, "contact_phone": contact_phone},
            ),
            current=self._current,
            summary="SMS to the injury service specialist (R-D-1)",
        )
        self._note("specialist_sms_sent")
        await self._wait(
            Stage.AWAITING_SPECIALIST_CALL,
            lambda: self._first_call,
            self.now + self.rules.deadlines.specialist_first_call,
        )
        return True

    async def _after_payment(self) -> None:
        await self._wait(
            Stage.AWAITING_CASE_CLOSURE, lambda: self._case_done, self.now + self.rules.deadlines.specialist_follow_up
        )

    @workflow.update(name="record_specialist_contact")
    async def record_specialist_contact(self, step: SpecialistContact) -> TrackView:
        if step.kind is ContactKind.FIRST_CALL:
            self._first_call = True
        self._contacts += 1
        facts = [
            name
            for name, done in (
                ("identity", step.identity_explained),
                ("process", step.process_explained),
                ("sympathy", step.sympathy_expressed),
                ("scene advice", step.scene_advice_given),
            )
            if done
        ]
        if step.investigator_contacted is not None:  # R-D-3: the customer's answer is part of the record
            facts.append("injury investigator " + ("has called" if step.investigator_contacted else "has not called yet"))
        if step.note:  # R-D-5: what was said, for every contact
            facts.append(f"note: {step.note}")
        self._note(f"specialist_{step.kind.value}", step.by, f"contact {self._contacts}: {', '.join(facts)}")
        return await self._answer()

    @record_specialist_contact.validator
    def _check_specialist_contact(self, step: SpecialistContact) -> None:
        if step.kind is ContactKind.FIRST_CALL:
            self._require_stage(Stage.AWAITING_SPECIALIST_CALL)
            missing = [
                what
                for what, ok in (
                    ("say who they are (R-D-2)", step.identity_explained),
                    ("explain the whole process (R-D-2)", step.process_explained),
                    ("express sympathy (R-D-3)", step.sympathy_expressed),
                    ("ask whether the injury investigator has called (R-D-3)", step.investigator_contacted is not None),
                )
                if not ok
            ]
            if self.report.at_scene:
                if step.surveyor_eta is None:
                    missing.append("tell the customer when the injury surveyor arrives (R-D-4)")
                if not step.scene_advice_given:
                    missing.append("advise protecting the scene and calling 110/122 and 120 (R-D-4)")
            if missing:
                raise StepRefused("the first call must " + "; ".join(missing))
        else:
            # R-D-5: follow-ups are recorded from the first call until the case is reported done
            if not self._first_call:
                raise StepRefused("record the first call before follow-ups (R-D-2)")
            if self._case_done or self._stage in CLOSED_STAGES:
                raise StepRefused("the injury case is done; no more follow-ups are recorded")

    @workflow.update(name="report_back")
    async def report_back(self, step: ReportBack) -> TrackView:
        self._case_done = True
        self._note("specialist_reported_back", step.by, "95500 agent told the case is done (R-D-6)", step.note)
        return await self._answer()

    @report_back.validator
    def _check_report_back(self, step: ReportBack) -> None:
        self._require_stage(Stage.AWAITING_CASE_CLOSURE)
