"""What every service track shares: offers, deadlines that escalate, documents, assessment,
payment, the satisfaction callback (R-X-1), and the view the claim and its staff read.

A track workflow subclasses `TrackWorkflow`, writes its own steps in `_service()`, and inherits
the shared human steps, which the SDK collects from the base class. How it calls outside systems
is workflows/calls.py, how it shows where it stands workflows/publication.py, and every patch ID
workflows/versioning.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.calendar import WorkingCalendar, decision_deadline, payment_deadline
    from domain.contracts import (
        FILE_NOT_FOUND,
        PAYEE_NOT_INSURED,
        PAYMENT_DECLINED,
        ActivityName,
        CheckFilesInput,
        CheckFilesResult,
        InsuredAccountInput,
        InsuredAccountResult,
        PayIndemnityInput,
        PayIndemnityResult,
        RecordCallbackInput,
        RecordCallbackResult,
        SendSmsInput,
        SmsKind,
        escalation_sms_key,
        indemnity_key,
    )
    from domain.documents import ALLOWED_CHANNELS, missing_documents, required_documents
    from domain.models import DocumentChannel, DocumentType, Track, TrackDecision
    from workflows.calls import PAYMENT_CALL, quick_call
    from workflows.messages import (
        STEP_REFUSED,
        WAITING_ON,
        AcceptOffer,
        Callback,
        CorrectPayeeAccount,
        DocumentIn,
        IssueAssessment,
        PaymentView,
        ReceiveDocument,
        ReceiveDocuments,
        Stage,
        TimelineEntry,
        TrackInput,
        TrackView,
        Waiting,
    )
    from workflows.publication import TrackPublication
    from workflows.versioning import (
        OPERATIONS_INDEX_PATCH,
        ORDINARY_PATCH,
        PAYEE_FROM_CORE_PATCH,
        TRACK_INDEX_PATCH,
        WORK_QUEUE_PATCH,
    )
    from workflows.work import WorkAssignment

# Stages in which the documents and the assessment may arrive (they may come early).
SETTLEMENT_OPEN = frozenset(
    {
        Stage.AWAITING_CAR_AT_SHOP,
        Stage.AWAITING_PHOTOS,
        Stage.AWAITING_EXPERT_LEAD,
        Stage.AWAITING_LEAD_CONTACT,
        Stage.AWAITING_TEAM,
        Stage.AWAITING_SERVICE_ITEMS,
        Stage.AWAITING_SPECIALIST_CALL,
        Stage.AWAITING_DOCUMENTS,
    }
)


class StepRefused(ApplicationError):
    """A human step that does not fit the claim now; the caller sees the message, nothing is kept.

    An ApplicationError, so a handler may raise it too: validators of updates that arrive in the
    same workflow task all run before their handlers, so handlers that must not be applied twice
    check again.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, type=STEP_REFUSED, non_retryable=True)


class TrackWorkflow(TrackPublication, WorkAssignment):
    track: Track
    opening_stage: Stage  # what the track's own service waits for first, once any offer is accepted
    # the rule behind each stage's deadline, for the view
    stage_rules: ClassVar[dict[Stage, str]] = {
        Stage.AWAITING_ACCEPTANCE: "R-A-1/R-B-1/R-C-1",
        Stage.AWAITING_DOCUMENTS: "R-X-5",
        Stage.AWAITING_PAYEE_ACCOUNT: "R-X-3",
        Stage.AWAITING_CALLBACK: "R-X-1",
    }

    @classmethod
    def first_stage(cls, decision: TrackDecision) -> Stage:
        """What a track taken by `decision` waits for first: the customer's acceptance of the offer
        (R-A-1, R-B-1, R-C-1), else its own service's first step."""
        return Stage.AWAITING_ACCEPTANCE if decision.needs_acceptance else cls.opening_stage

    def __init__(self) -> None:
        self._input: TrackInput | None = None
        self._stage = Stage.DECIDING
        self._waiting: Waiting | None = None
        self._overdue = False
        self._escalated: set[str] = set()
        self._timeline: list[TimelineEntry] = []
        self._accepted: bool | None = None
        self._documents: dict[DocumentType, DocumentChannel] = {}
        self._required: frozenset[DocumentType] = frozenset()
        self._assessment: IssueAssessment | None = None
        self._payment: PaymentView | None = None
        self._payee_account: str | None = None
        self._callback: Callback | None = None
        self._follow_up = False
        self._outcome: str | None = None
        self._dirty = False
        self._publishing = False
        self._current = False  # TRACK_INDEX_PATCH: set once the run starts
        self._blocked_on: Callable[[], bool] | None = None  # what the run waits for now
        self._paying = False
        self._payee_from_core = False  # PAYEE_FROM_CORE_PATCH: set when a payment is first refused
        self._insured_account: str | None = None  # as the core system last gave it (R-X-3)
        self._handed_to_ordinary: str | None = None  # ORDINARY_PATCH: why the ordinary process takes it
        self._operations_index = False  # OPERATIONS_INDEX_PATCH, on runs that index themselves

    # --- the shape of every track ---------------------------------------------------------------
    async def _run(self, input: TrackInput) -> TrackView:
        # New runs record one marker (WORK_QUEUE_PATCH holds OPERATIONS_INDEX_PATCH's path, which holds
        # TRACK_INDEX_PATCH's, as each
        # marker costs two history events and a visibility write); runs from before it replay theirs.
        self._work_queue = workflow.patched(WORK_QUEUE_PATCH)
        self._operations_index = self._work_queue or workflow.patched(OPERATIONS_INDEX_PATCH)
        self._current = self._operations_index or workflow.patched(TRACK_INDEX_PATCH)
        self._input = input
        self._calendar = WorkingCalendar(input.rules.calendar)
        self._required = required_documents(self.track, input.report)
        self._payee_account = input.report.payee_account or input.lookup.policy.insured_bank_account
        self._publisher_task = asyncio.ensure_future(self._publisher())
        self._note("track_started", detail=input.decision.reason)
        if input.decision.needs_acceptance and not await self._offer():
            return await self._leave_program(Stage.DECLINED, "the customer declined the service")
        if not await self._service():
            return self.view()  # the track handed the claim to the ordinary process
        await self._settle()
        await self._after_payment()
        await self._satisfaction_callback()
        return await self._finish(Stage.CLOSED, "paid and called back")

    async def _service(self) -> bool:
        """The track's own steps before settlement; False when the track ended early."""
        raise NotImplementedError

    async def _leave_program(self, stage: Stage, why: str) -> TrackView:
        """End without paying: the customer is still owed an ordinary claim, and the track says so."""
        if workflow.patched(ORDINARY_PATCH):
            self._handed_to_ordinary = why if "ordinary process" in why else f"{why}; the ordinary claim process takes the claim"
            self._note("handed_to_ordinary", detail=self._handed_to_ordinary)
            return await self._finish(stage, self._handed_to_ordinary)
        return await self._finish(stage, why)

    async def _after_payment(self) -> None:
        """Steps between payment and the callback (the injury track's report-back)."""

    # --- offer (R-A-1, R-B-1, R-C-1) ------------------------------------------------------------
    async def _offer(self) -> bool:
        deadline = self.now + self.rules.deadlines.offer_response
        await self._wait(Stage.AWAITING_ACCEPTANCE, lambda: self._accepted is not None, deadline)
        return bool(self._accepted)

    @workflow.update(name="accept_offer")
    async def accept_offer(self, step: AcceptOffer) -> TrackView:
        self._accepted = step.accepted
        self._note("offer_accepted" if step.accepted else "offer_declined", step.by)
        return await self._answer()

    @accept_offer.validator
    def _check_accept_offer(self, step: AcceptOffer) -> None:
        self._require_stage(Stage.AWAITING_ACCEPTANCE)

    # --- documents and assessment (R-X-5, R-A-4, R-A-5, R-B-4) ----------------------------------
    @workflow.update(name="receive_document")
    async def receive_document(self, step: ReceiveDocument) -> TrackView:
        return await self._take_documents((step,), step.by, lambda: self._check_receive_document(step))

    @receive_document.validator
    def _check_receive_document(self, step: ReceiveDocument) -> None:
        self._require_settlement_open()
        self._check_document(step.document, step.channel)

    def _check_document(self, document: DocumentType, channel: DocumentChannel) -> None:
        if document not in self._required:
            raise StepRefused(f"{document.value} is not a document this claim needs")
        if document in self._documents:
            raise StepRefused(f"{document.value} was already received")
        if channel not in ALLOWED_CHANNELS[self.track]:
            raise StepRefused(f"this track does not take documents via {channel.value} (R-B-4)")

    @workflow.update(name="receive_documents")
    async def receive_documents(self, step: ReceiveDocuments) -> TrackView:
        """Several documents at once: one file check, one step in the history; all or none."""
        return await self._take_documents(step.documents, step.by, lambda: self._check_receive_documents(step))

    async def _take_documents(
        self, documents: Sequence[ReceiveDocument | DocumentIn], by: str | None, check: Callable[[], None]
    ) -> TrackView:
        files = tuple(dict.fromkeys(d.sha256 for d in documents if d.sha256))
        if files:
            await self._require_files(files)
        check()  # again after the file check: another step may have taken effect meanwhile
        for d in documents:
            self._documents[d.document] = d.channel
            self._note("document_received", by, f"{d.document.value} via {d.channel.value}")
        if not self._missing():
            self._note("documents_complete")
        return await self._answer()

    @receive_documents.validator
    def _check_receive_documents(self, step: ReceiveDocuments) -> None:
        self._require_settlement_open()
        for d in step.documents:
            self._check_document(d.document, d.channel)

    @workflow.update(name="issue_assessment")
    async def issue_assessment(self, step: IssueAssessment) -> TrackView:
        self._check_issue_assessment(step)
        self._assessment = step
        self._note("assessment_issued", step.by, f"sheet {step.sheet_no}, {step.amount} CNY")
        return await self._answer()

    @issue_assessment.validator
    def _check_issue_assessment(self, step: IssueAssessment) -> None:
        self._require_settlement_open()
        if self._assessment is not None:
            raise StepRefused(f"assessment sheet {self._assessment.sheet_no} was already issued")
        self._check_assessment(step)

    def _check_assessment(self, step: IssueAssessment) -> None:
        """Track-specific conditions on the assessment (R-A-4 wants the photos first)."""

    # --- settlement and payment (R-A-6, R-B-5, R-X-3, R-X-4) ------------------------------------
    async def _settle(self) -> None:
        statutory = decision_deadline(self.report.reported_at, self.rules.deadlines)
        due = min(self.now + self.rules.deadlines.documents, statutory.due_at)
        await self._wait(Stage.AWAITING_DOCUMENTS, lambda: not self._missing() and self._assessment is not None, due)
        assert self._assessment is not None
        agreed_at = self._at_of("assessment_issued")
        complete_at = self._at_of("documents_complete")
        deadline = payment_deadline(self.track, complete_at, agreed_at, self._calendar, self.rules.deadlines)
        self._payment = PaymentView(amount=self._assessment.amount, due_at=deadline.due_at, rule=deadline.rule)
        while not await self._pay(deadline.due_at, deadline.rule):
            self._payee_from_core = self._payee_from_core or workflow.patched(PAYEE_FROM_CORE_PATCH)
            await self._wait(
                Stage.AWAITING_PAYEE_ACCOUNT,
                lambda: self._payee_account is not None,
                self.now + self.rules.deadlines.payee_account,
            )

    async def _pay(self, due_at: datetime, rule: str) -> bool:
        """One payment attempt chain; False when the payee was refused (R-X-3) or the bank declined
        the payment (account closed, name mismatch, over a limit): the claim then waits for a
        corrected payee account, which may only be the insured's own."""
        assert self._payment is not None and self._payee_account is not None
        self._set_waiting(Stage.PAYING, due_at, rule)
        policy = self._input_or_fail().lookup.policy
        call = workflow.execute_activity(
            ActivityName.PAY_INDEMNITY,
            PayIndemnityInput(
                idempotency_key=indemnity_key(self.report.report_no, self.track),
                report_no=self.report.report_no,
                track=self.track,
                amount=self._payment.amount,
                payee_account=self._payee_account,
                insured_account=self._insured_account or policy.insured_bank_account or "",
            ),
            result_type=PayIndemnityResult,
            summary=f"pay indemnity {self._payment.amount} CNY ({rule})",
            **PAYMENT_CALL,
        )
        paying = asyncio.ensure_future(call)
        self._paying = True
        try:
            done, _ = await workflow.wait([paying], timeout=max((due_at - self.now).total_seconds(), 1.0))
            if not done:
                await self._escalate(Stage.PAYING, due_at)
            receipt = await paying
        except ActivityError as err:
            self._paying = False
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in (PAYEE_NOT_INSURED, PAYMENT_DECLINED):
                self._payment = self._payment.model_copy(update={"refused_reason": cause.message})
                self._payee_account = None
                self._note("payment_refused", detail=cause.message)
                return False
            raise
        self._paying = False
        self._payment = self._payment.model_copy(
            update={
                "payment_id": receipt.payment_id,
                "paid_at": receipt.paid_at,
                # workflow time, so the deadline is judged on the claim's own clock
                "deadline_met": self.now <= due_at,
                "refused_reason": None,
            }
        )
        self._note("paid", detail=f"{receipt.amount} CNY, {receipt.payment_id}, due {due_at.isoformat()}")
        return True

    @workflow.update(name="correct_payee_account")
    async def correct_payee_account(self, step: CorrectPayeeAccount) -> TrackView:
        account = step.account.replace(" ", "")
        if self._payee_from_core:
            # the insured's account as the core system holds it now: a new one recorded since the
            # report is the insured's own (R-EL-1.6); any other stays refused (R-X-3)
            now = await quick_call(
                ActivityName.INSURED_ACCOUNT,
                InsuredAccountInput(report_no=self.report.report_no, policy_no=self.report.policy_no),
                current=self._current,
                result_type=InsuredAccountResult,
                summary="the insured's account in the core system now (R-X-3)",
            )
            # again after the call: another correction may have been taken meanwhile
            self._require_stage(Stage.AWAITING_PAYEE_ACCOUNT)
            if self._payee_account is not None:
                raise StepRefused("a corrected account was already taken; the payment is under way")
            if account != (now.insured_account or "").replace(" ", ""):
                raise StepRefused(
                    "the indemnity is paid only to the insured's own account as the core system holds it now (R-X-3)"
                )
            self._insured_account = account
        self._payee_account = account
        self._note("payee_account_corrected", step.by)
        return await self._answer()

    @correct_payee_account.validator
    def _check_correct_payee_account(self, step: CorrectPayeeAccount) -> None:
        self._require_stage(Stage.AWAITING_PAYEE_ACCOUNT)
        if self._payee_from_core:
            return  # the handler asks the core system (a validator may not call an activity)
        insured = (self._input_or_fail().lookup.policy.insured_bank_account or "").replace(" ", "")
        if step.account.replace(" ", "") != insured:
            raise StepRefused("the indemnity is paid only to the insured's own account (R-X-3)")

    # --- satisfaction callback (R-X-1) ----------------------------------------------------------
    async def _satisfaction_callback(self) -> None:
        await self._wait(Stage.AWAITING_CALLBACK, lambda: self._callback is not None, self.now + self.rules.deadlines.callback)
        assert self._callback is not None
        result = await quick_call(
            ActivityName.RECORD_CALLBACK,
            RecordCallbackInput(
                report_no=self.report.report_no,
                track=self.track,
                score=self._callback.score,
                comment=self._callback.comment,
                poor_score_max=self.rules.thresholds.poor_callback_score_max,
            ),
            current=self._current,
            result_type=RecordCallbackResult,
        )
        self._follow_up = result.follow_up_opened
        if result.follow_up_opened:
            self._note("supervisor_follow_up_opened", detail=result.follow_up_id or "")

    @workflow.update(name="record_callback")
    async def record_callback(self, step: Callback) -> TrackView:
        self._callback = step
        self._note("callback_recorded", step.by, f"score {step.score}")
        return await self._answer()

    @record_callback.validator
    def _check_record_callback(self, step: Callback) -> None:
        self._require_stage(Stage.AWAITING_CALLBACK)

    # --- the view -------------------------------------------------------------------------------
    @workflow.query(name="state")
    def state(self) -> TrackView:
        return self.view()

    def view(self) -> TrackView:
        report_no = self._input.report.report_no if self._input else ""
        return TrackView(
            track=self.track,
            workflow_id=workflow.info().workflow_id if report_no else "",
            stage=self._stage,
            waiting=self._waiting,
            overdue=self._overdue,
            documents_required=tuple(sorted(self._required, key=list(DocumentType).index)),
            documents_received=dict(self._documents),
            documents_missing=tuple(self._missing()),
            assessment_amount=self._assessment.amount if self._assessment else None,
            payment=self._payment,
            callback_score=self._callback.score if self._callback else None,
            follow_up_opened=self._follow_up,
            outcome=self._outcome,
            handed_to_ordinary=self._handed_to_ordinary,
            held_by=self._held_by,
            held_since=self._held_since,
            timeline=tuple(self._timeline),
        )

    # --- shared machinery -----------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        return workflow.now()

    @property
    def report(self):
        return self._input_or_fail().report

    @property
    def rules(self):
        return self._input_or_fail().rules

    def _input_or_fail(self) -> TrackInput:
        if self._input is None:
            raise StepRefused("the track has not started yet")
        return self._input

    def _missing(self) -> list[DocumentType]:
        return missing_documents(self._required, self._documents)

    def _at_of(self, step: str) -> datetime:
        return next(e.at for e in reversed(self._timeline) if e.step == step)

    def _require_stage(self, *stages: Stage) -> None:
        if self._stage not in stages:
            wanted = " or ".join(s.value for s in stages)
            raise StepRefused(f"this step belongs to stage {wanted}; the track is at {self._stage.value}")

    def _require_settlement_open(self) -> None:
        if self._stage not in SETTLEMENT_OPEN:
            raise StepRefused(f"documents and the assessment are not taken at stage {self._stage.value}")

    async def _require_files(self, sha256: tuple[str, ...]) -> None:
        """Refer only to files the store holds; raising here keeps the step out of the claim."""
        result = await quick_call(
            ActivityName.CHECK_FILES, CheckFilesInput(sha256=sha256), current=self._current, result_type=CheckFilesResult
        )
        if result.missing:
            raise ApplicationError(f"{len(result.missing)} file(s) are not in the store; upload them first", type=FILE_NOT_FOUND)

    def _note(self, step: str, by: str | None = None, detail: str = "", note: str = "") -> None:
        """One timeline entry; a step's own `note` (the staff member's words) follows the detail."""
        if note:
            detail = f"{detail}; note: {note}" if detail else f"note: {note}"
        self._timeline.append(TimelineEntry(at=self.now, step=step, by=by, detail=detail))
        self._publish()

    def _set_waiting(self, stage: Stage, due_at: datetime | None, rule: str | None = None) -> None:
        self._stage = stage
        self._waiting = Waiting(
            stage=stage,
            from_whom=WAITING_ON.get(stage, ""),
            due_at=due_at,
            rule=rule or self.stage_rules.get(stage, ""),
            since=self.now,
        )
        self._hold_follows(stage)
        self._publish()

    async def _wait(self, stage: Stage, done: Callable[[], bool], due_at: datetime | None, rule: str | None = None) -> None:
        """Wait for a human step; at its deadline tell a supervisor once, then keep waiting (OPEN-3)."""
        self._set_waiting(stage, due_at, rule)
        self._blocked_on = done
        if due_at is not None:
            try:
                await workflow.wait_condition(
                    done,
                    timeout=max(due_at - self.now, timedelta(seconds=1)),
                    timeout_summary=f"{stage.value} deadline",
                )
            except TimeoutError:
                await self._escalate(stage, due_at)
        await workflow.wait_condition(done)
        self._blocked_on = None
        self._waiting = None

    async def _escalate(self, stage: Stage, due_at: datetime) -> None:
        if stage.value in self._escalated:
            return
        self._escalated.add(stage.value)
        self._overdue = True
        self._waiting = self._waiting.model_copy(update={"overdue": True}) if self._waiting else None
        await quick_call(
            ActivityName.SEND_SMS,
            SendSmsInput(
                idempotency_key=escalation_sms_key(self.report.report_no, self.track, stage.value),
                kind=SmsKind.SUPERVISOR_ESCALATION,
                report_no=self.report.report_no,
                recipient_role="supervisor",
                fields={"track": self.track.value, "step": stage.value, "due_at": due_at.isoformat()},
            ),
            current=self._current,
        )
        self._note("deadline_missed", detail=f"{stage.value} was due {due_at.isoformat()}; supervisor told")

    async def _finish(self, stage: Stage, outcome: str) -> TrackView:
        self._stage = stage
        self._waiting = None
        self._outcome = outcome
        self._note("track_ended", detail=outcome)
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._dirty and not self._publishing)
        return self.view()

    async def _answer(self) -> TrackView:
        """A step's answer. On current runs it waits until the track has moved on (TRACK_INDEX_PATCH),
        within the same workflow task, so the answer shows the next stage or the payment under way."""
        if self._current:
            await workflow.wait_condition(self._settled)
        return self.view()

    def _settled(self) -> bool:
        """The run waits for a step it does not have yet, is paying, or has ended."""
        blocked = self._blocked_on
        return self._outcome is not None or self._paying or (blocked is not None and not blocked())
