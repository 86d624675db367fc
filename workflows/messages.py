"""Inputs, step payloads and views of the claim and track workflows (one model per message).

Staff codes, report numbers, document types and amounts only: the personal data a claim needs
travels in the workflow input (Report, Customer, Policy), never in these views' step names.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from domain.contracts import LookupPolicyResult
from domain.models import (
    CODE_PATTERN,
    Decision,
    DocumentChannel,
    DocumentType,
    Frozen,
    Money,
    Report,
    Track,
    TrackDecision,
)
from domain.rules import CHINA_TZ, RuleSettings


def in_china_time(at: datetime) -> datetime:
    """The same instant in China time (+08:00): every time in a view is read in one zone."""
    return at.astimezone(CHINA_TZ) if at.utcoffset() is not None else at


# A time in a view: whatever zone it was made in (workflow.now() is UTC), it reads as China time.
ChinaTime = Annotated[datetime, AfterValidator(in_china_time)]

SHA256_PATTERN = r"^[0-9a-f]{64}$"
STAFF_CODE = Field(default=None, pattern=CODE_PATTERN)


def claim_workflow_id(report_no: str) -> str:
    """R-X-2: the report number is the claim's identity, so it is the workflow ID."""
    return f"claim-{report_no}"


def track_workflow_id(report_no: str, track: Track) -> str:
    return f"claim-{report_no}-{track.value}"


CLAIM_WORKFLOW_TYPE = "Claim"
# The workflow type of each track, as its @workflow.defn names it.
TRACK_WORKFLOW_TYPES: dict[Track, str] = {
    Track.AUTHORISATION: "SmallClaimAuthorisation",
    Track.CREDIT: "SmallClaimCredit",
    Track.EXPERT_TEAM: "LargeClaimExpertTeam",
    Track.INJURY: "InjuryOneToOne",
}


class Stage(StrEnum):
    """Where a track (or the claim) stands; each value names what it waits for."""

    DECIDING = "deciding"
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # R-A-1, R-B-1, R-C-1
    AWAITING_SCENE_ESTIMATE = "awaiting_scene_estimate"  # R-A-2
    AWAITING_CAR_AT_SHOP = "awaiting_car_at_shop"  # R-A-3
    AWAITING_PHOTOS = "awaiting_photos"  # R-A-3
    AWAITING_EXPERT_LEAD = "awaiting_expert_lead"  # R-C-2
    AWAITING_LEAD_CONTACT = "awaiting_lead_contact"  # R-C-3
    AWAITING_TEAM = "awaiting_team"  # R-C-4
    AWAITING_SERVICE_ITEMS = "awaiting_service_items"  # R-C-5
    AWAITING_SPECIALIST_CALL = "awaiting_specialist_call"  # R-D-2
    AWAITING_DOCUMENTS = "awaiting_documents"  # R-A-5, R-B-4, R-X-5 (documents and the assessment)
    PAYING = "paying"  # R-A-6, R-B-5, R-X-4
    AWAITING_PAYEE_ACCOUNT = "awaiting_payee_account"  # R-X-3: the ledger refused the payee
    AWAITING_CASE_CLOSURE = "awaiting_case_closure"  # R-D-5, R-D-6
    AWAITING_CALLBACK = "awaiting_callback"  # R-X-1
    IN_SERVICE = "in_service"  # the claim: its tracks are running
    ORDINARY = "ordinary"  # no dedicated track applies: the ordinary claim process takes it
    DECLINED = "declined"  # the customer did not want the offered service
    TRANSFERRED = "transferred"  # over a threshold: left the fast track for the ordinary process
    REFUSED = "refused"  # the report conflicts with the one recorded for its number (R-X-2)
    CLOSED = "closed"


# Who answers each wait: the people of SPEC.md.
WAITING_ON: dict[Stage, str] = {
    Stage.AWAITING_ACCEPTANCE: "customer via 95500 agent",
    Stage.AWAITING_SCENE_ESTIMATE: "surveyor",
    Stage.AWAITING_CAR_AT_SHOP: "customer",
    Stage.AWAITING_PHOTOS: "loss assessor",
    Stage.AWAITING_EXPERT_LEAD: "branch expert team",
    Stage.AWAITING_LEAD_CONTACT: "expert lead",
    Stage.AWAITING_TEAM: "expert lead",
    Stage.AWAITING_SERVICE_ITEMS: "expert team",
    Stage.AWAITING_SPECIALIST_CALL: "injury service specialist",
    Stage.AWAITING_DOCUMENTS: "customer and loss assessor",
    Stage.PAYING: "payment system",
    Stage.AWAITING_PAYEE_ACCOUNT: "95500 agent",
    Stage.AWAITING_CASE_CLOSURE: "injury service specialist",
    Stage.AWAITING_CALLBACK: "customer service centre",
}


class ExpertRole(StrEnum):
    """R-C-4: who the lead may staff the team with."""

    LARGE_CASE_ASSESSOR = "large_case_assessor"  # 大案定损人员
    ACCIDENT_INVESTIGATOR = "accident_investigator"  # 事故调查人员
    LEGAL = "legal"  # 法务人员
    LOSS_VERIFICATION = "loss_verification_expert"  # 核损专家
    CLAIM_VERIFICATION = "claim_verification_expert"  # 核赔专家


class ContactKind(StrEnum):
    FIRST_CALL = "first_call"  # R-D-2, R-D-3, R-D-4
    FOLLOW_UP = "follow_up"  # R-D-5


# --- workflow inputs ----------------------------------------------------------------------------
class ClaimInput(Frozen):
    report: Report
    # the report call that started the claim (update-with-start): its decision answer says
    # "created" only to that call, so a repeated report answers 200 (R-X-2)
    request_id: str | None = None


class TrackInput(Frozen):
    report: Report
    lookup: LookupPolicyResult
    decision: TrackDecision
    rules: RuleSettings
    claim_workflow_id: str


# --- the report's answer (update-with-start on the claim) ---------------------------------------
DECISION_UPDATE = "decision"
# The decision update's refusal of a report whose content differs from its claim's (R-X-2).
REPORT_CONTENT_CONFLICT = "ReportContentConflict"
# A track's refusal of a human step that does not fit the claim now (the caller sees its message).
STEP_REFUSED = "StepRefused"


def report_digest(report: Report) -> str:
    """A fingerprint of a report's content: a later report of the number must carry the same one
    (R-X-2), or its claim refuses it without recording anything."""
    return hashlib.sha256(report.model_dump_json().encode("utf-8")).hexdigest()


class DecisionAsk(Frozen):
    """The agent's report call asks its claim for the decision (R-ID-2, R-EL-1)."""

    request_id: str = Field(min_length=1, max_length=64)
    report_digest: str = Field(pattern=SHA256_PATTERN)


class ReportAnswer(Frozen):
    """What the agent tells the customer during the call: the recognised tag and segments, each
    track taken or not with its reasons and failed conditions, the first stage of each track
    taken, the claim's stage; or why the core system could not place the report."""

    report_no: str
    created: bool  # this call started the claim; False: the same report was already recorded
    stage: Stage
    decision: Decision | None = None
    next_stages: dict[Track, Stage] = Field(default_factory=dict)  # the tracks taken: what each waits for first
    refusal: str | None = None
    refusal_code: str | None = None  # domain.contracts: POLICY_NOT_FOUND, REPORT_CONFLICT


# --- human steps (updates) ----------------------------------------------------------------------
class Step(Frozen):
    by: str | None = STAFF_CODE  # the staff member recording the step


class AcceptOffer(Step):
    accepted: bool


class SceneEstimate(Step):
    """R-A-2: the surveyor helped the customer photograph the scene and estimate the loss."""

    own_loss: Money
    photos_taken: bool = True


class CarAtShop(Step):
    shop_code: str = Field(pattern=CODE_PATTERN)


class UploadPhotos(Step):
    sha256: tuple[str, ...] = Field(min_length=1, max_length=100)

    @field_validator("sha256")
    @classmethod
    def _hex(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        import re

        bad = [v for v in values if not re.fullmatch(SHA256_PATTERN, v)]
        if bad:
            raise ValueError(f"{len(bad)} photo reference(s) are not sha256 hex digests")
        return values


class IssueAssessment(Step):
    """R-A-4 (and the agreed indemnity of every track): the loss assessment sheet."""

    sheet_no: str = Field(pattern=CODE_PATTERN)
    amount: Money

    @field_validator("amount")
    @classmethod
    def _positive(cls, value):
        if value <= 0:
            raise ValueError("the assessed amount must be more than zero")
        return value


class ReceiveDocument(Step):
    """R-X-5 document received, with how it reached us (R-B-4)."""

    document: DocumentType
    channel: DocumentChannel
    sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)


class DocumentIn(Frozen):
    """One document of a set received together."""

    document: DocumentType
    channel: DocumentChannel
    sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)


class ReceiveDocuments(Step):
    """R-X-5 several documents received at once (the customer's set at the shop, a door pickup,
    a delegate's envelope): all are taken, or none."""

    documents: tuple[DocumentIn, ...] = Field(min_length=1, max_length=len(DocumentType))

    @field_validator("documents")
    @classmethod
    def _once_each(cls, values: tuple[DocumentIn, ...]) -> tuple[DocumentIn, ...]:
        names = [d.document for d in values]
        twice = sorted({n.value for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"each document once per step: {', '.join(twice)} given twice")
        return values


class NameExpertLead(Step):
    """R-C-2: the branch's expert team names a responsible lead."""

    lead_code: str = Field(pattern=CODE_PATTERN)


class LeadContact(Step):
    """R-C-3: the lead contacted the customer; the claim enters the dedicated channel."""

    note: str = Field(default="", max_length=500)


class StaffTeam(Step):
    """R-C-4."""

    roles: frozenset[ExpertRole] = Field(min_length=1)


class ServiceItemDone(Step):
    """R-C-5: one staffed role's service to the customer is complete."""

    role: ExpertRole


class ReportBack(Step):
    """R-C-5 / R-D-6: the lead or specialist reports back (service centre / 95500 agent)."""

    note: str = Field(default="", max_length=500)


class SpecialistContact(Step):
    """R-D-2..R-D-5: one recorded contact of the injury specialist with the customer."""

    kind: ContactKind
    identity_explained: bool = False  # R-D-2
    process_explained: bool = False  # R-D-2
    sympathy_expressed: bool = False  # R-D-3
    investigator_contacted: bool | None = None  # R-D-3: asked whether the investigator called
    surveyor_eta: datetime | None = None  # R-D-4, at-scene reports
    scene_advice_given: bool = False  # R-D-4: protect the scene, call 110/122, 120
    note: str = Field(default="", max_length=500)


class CorrectPayeeAccount(Step):
    """R-X-3: after a refused payment, the insured's own account to pay."""

    account: str = Field(min_length=8, max_length=40, pattern=r"^[0-9 ]+$")


class Callback(Step):
    """R-X-1: the customer service centre's satisfaction callback, scored 1 (poor) to 5."""

    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=500)


# --- views (queries) ----------------------------------------------------------------------------
class TimelineEntry(Frozen):
    at: ChinaTime
    step: str
    by: str | None = None
    detail: str = ""


class Waiting(Frozen):
    stage: Stage
    from_whom: str
    due_at: ChinaTime | None
    rule: str
    overdue: bool = False
    since: ChinaTime | None = None  # when the track began to wait for it (the work queue's half-deadline flag)


class PaymentView(Frozen):
    amount: Money
    due_at: ChinaTime
    rule: str
    payment_id: str | None = None
    paid_at: ChinaTime | None = None
    deadline_met: bool | None = None
    refused_reason: str | None = None


class TrackView(Frozen):
    track: Track
    workflow_id: str
    stage: Stage
    waiting: Waiting | None = None
    overdue: bool = False
    documents_required: tuple[DocumentType, ...] = ()
    documents_received: dict[DocumentType, DocumentChannel] = Field(default_factory=dict)
    documents_missing: tuple[DocumentType, ...] = ()
    assessment_amount: Money | None = None
    payment: PaymentView | None = None
    callback_score: int | None = None
    follow_up_opened: bool = False
    outcome: str | None = None
    handed_to_ordinary: str | None = None  # the track left the program unpaid: why the ordinary process takes it
    held_by: str | None = None  # the staff code who took the pending step from the work queue (workflows/work.py)
    held_since: ChinaTime | None = None
    timeline: tuple[TimelineEntry, ...] = ()


class ClaimView(Frozen):
    report_no: str
    stage: Stage
    decision: Decision | None = None
    refusal: str | None = None  # why no decision could be made (e.g. unknown policy)
    ordinary: str | None = None  # stage `ordinary` after tracks ran: why the ordinary process takes the claim
    tracks: dict[Track, TrackView] = Field(default_factory=dict)
    overdue: bool = False
    timeline: tuple[TimelineEntry, ...] = ()


# Every human step by its update name: callers validate a payload before sending it, so staff
# read pydantic's reason instead of the worker's "failed decoding arguments".
STEP_MODELS: dict[str, type[Step]] = {
    "accept_offer": AcceptOffer,
    "record_scene_estimate": SceneEstimate,
    "car_at_shop": CarAtShop,
    "upload_photos": UploadPhotos,
    "issue_assessment": IssueAssessment,
    "receive_document": ReceiveDocument,
    "receive_documents": ReceiveDocuments,
    "name_expert_lead": NameExpertLead,
    "record_lead_contact": LeadContact,
    "staff_team": StaffTeam,
    "complete_service_item": ServiceItemDone,
    "report_back": ReportBack,
    "record_specialist_contact": SpecialistContact,
    "correct_payee_account": CorrectPayeeAccount,
    "record_callback": Callback,
}
