"""Track C — large claim, expert team (SPEC §4, R-C-1..R-C-6, OPEN-2, OPEN-3)."""

from __future__ import annotations

from typing import ClassVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import Track
    from workflows.messages import (
        TRACK_WORKFLOW_TYPES,
        ExpertRole,
        LeadContact,
        NameExpertLead,
        ReportBack,
        ServiceItemDone,
        StaffTeam,
        Stage,
        TrackInput,
        TrackView,
    )
    from workflows.track_base import StepRefused, TrackWorkflow


@workflow.defn(name=TRACK_WORKFLOW_TYPES[Track.EXPERT_TEAM])
class LargeClaimExpertTeamWorkflow(TrackWorkflow):
    track = Track.EXPERT_TEAM
    opening_stage = Stage.AWAITING_EXPERT_LEAD
    stage_rules: ClassVar[dict[Stage, str]] = {
        **TrackWorkflow.stage_rules,
        Stage.AWAITING_EXPERT_LEAD: "R-C-2",
        Stage.AWAITING_LEAD_CONTACT: "R-C-3/OPEN-3",
        Stage.AWAITING_TEAM: "R-C-4",
        Stage.AWAITING_SERVICE_ITEMS: "R-C-5",
    }

    def __init__(self) -> None:
        super().__init__()
        self._lead: NameExpertLead | None = None
        self._contacted = False
        self._team: frozenset[ExpertRole] = frozenset()
        self._items_done: set[ExpertRole] = set()
        self._reported_back = False

    @workflow.run
    async def run(self, input: TrackInput) -> TrackView:
        return await self._run(input)

    async def _service(self) -> bool:
        d, cal = self.rules.deadlines, self._calendar
        await self._wait(
            Stage.AWAITING_EXPERT_LEAD,
            lambda: self._lead is not None,
            cal.add_working_hours(self.now, d.lead_named_working_hours),
        )
        await self._wait(
            Stage.AWAITING_LEAD_CONTACT,
            lambda: self._contacted,
            cal.add_working_hours(self.now, d.lead_first_contact_working_hours),
        )
        await self._wait(
            Stage.AWAITING_TEAM,
            lambda: bool(self._team),
            cal.due_within_working_days(self.now, d.team_staffed_working_days),
        )
        await self._wait(Stage.AWAITING_SERVICE_ITEMS, lambda: self._reported_back, self.now + d.service_items)
        return True

    @workflow.update(name="name_expert_lead")
    async def name_expert_lead(self, step: NameExpertLead) -> TrackView:
        self._lead = step
        self._note("expert_lead_named", step.by, f"lead {step.lead_code}")
        return await self._answer()

    @name_expert_lead.validator
    def _check_name_expert_lead(self, step: NameExpertLead) -> None:
        self._require_stage(Stage.AWAITING_EXPERT_LEAD)

    @workflow.update(name="record_lead_contact")
    async def record_lead_contact(self, step: LeadContact) -> TrackView:
        self._contacted = True
        self._note("lead_contacted_customer", step.by, "dedicated service channel entered", step.note)
        return await self._answer()

    @record_lead_contact.validator
    def _check_record_lead_contact(self, step: LeadContact) -> None:
        self._require_stage(Stage.AWAITING_LEAD_CONTACT)
        assert self._lead is not None
        if step.by is not None and step.by != self._lead.lead_code:
            raise StepRefused(f"only the named lead {self._lead.lead_code} records the first contact (R-C-3)")

    @workflow.update(name="staff_team")
    async def staff_team(self, step: StaffTeam) -> TrackView:
        self._team = step.roles
        self._note("team_staffed", step.by, ", ".join(sorted(r.value for r in step.roles)))
        return await self._answer()

    @staff_team.validator
    def _check_staff_team(self, step: StaffTeam) -> None:
        self._require_stage(Stage.AWAITING_TEAM)

    @workflow.update(name="complete_service_item")
    async def complete_service_item(self, step: ServiceItemDone) -> TrackView:
        self._items_done.add(step.role)
        self._note("service_item_done", step.by, step.role.value)
        return await self._answer()

    @complete_service_item.validator
    def _check_complete_service_item(self, step: ServiceItemDone) -> None:
        self._require_stage(Stage.AWAITING_SERVICE_ITEMS)
        if step.role not in self._team:
            raise StepRefused(f"{step.role.value} is not on this claim's expert team")
        if step.role in self._items_done:
            raise StepRefused(f"{step.role.value}'s service item was already completed")

    @workflow.update(name="report_back")
    async def report_back(self, step: ReportBack) -> TrackView:
        self._reported_back = True
        self._note("lead_reported_back", step.by, "customer service centre told (R-C-5)", step.note)
        return await self._answer()

    @report_back.validator
    def _check_report_back(self, step: ReportBack) -> None:
        self._require_stage(Stage.AWAITING_SERVICE_ITEMS)
        left = sorted(r.value for r in self._team - self._items_done)
        if left:
            raise StepRefused(f"service items still open: {', '.join(left)} (R-C-5)")
