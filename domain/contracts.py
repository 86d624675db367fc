"""The contract between workflows and activities: names and one input and one result model each.

Workflows call activities by these names (they import no activity code); activities/ implements
them. The names are part of the running system's contract: never rename one.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from domain.models import ClaimHistory, Customer, DocumentType, Frozen, Money, Policy, ReportNo, Track
from domain.rules import RuleSettings

# Business refusals: non-retryable ApplicationError types (STYLE.md).
POLICY_NOT_FOUND = "PolicyNotFound"
PAYEE_NOT_INSURED = "PayeeNotInsured"
PAYMENT_DECLINED = "PaymentDeclined"
FILE_NOT_FOUND = "FileNotFound"
DUPLICATE_PAYMENT = "DuplicatePayment"  # R-X-3: this claim-track was already paid under another key
IDEMPOTENCY_CONFLICT = "IdempotencyConflict"  # the same idempotency key for a different payment
BAD_SMS = "BadSms"  # an SMS that cannot be rendered (unknown kind, missing field)
REPORT_CONFLICT = "ReportConflict"  # R-X-2: the report number is registered on another policy
NON_RETRYABLE = [
    POLICY_NOT_FOUND,
    PAYEE_NOT_INSURED,
    PAYMENT_DECLINED,
    FILE_NOT_FOUND,
    DUPLICATE_PAYMENT,
    IDEMPOTENCY_CONFLICT,
    BAD_SMS,
    REPORT_CONFLICT,
]


# Idempotency keys: made from the claim and the step, never from a run ID, so a retried or re-run
# activity reaches the same ledger or outbox row. Claims running now hold these exact strings.
def indemnity_key(report_no: str, track: Track) -> str:
    return f"{report_no}:{track.value}:indemnity"


def escalation_sms_key(report_no: str, track: Track, stage: str) -> str:
    return f"{report_no}:{track.value}:{stage}:escalation"


def specialist_sms_key(report_no: str) -> str:
    return f"{report_no}:{Track.INJURY.value}:specialist_sms"  # R-D-1


def customer_link_sms_key(report_no: str) -> str:
    return f"{report_no}:customer-link"  # issue 24: one SMS per claim; later steps send none


def follow_up_sms_key(report_no: str, track: Track) -> str:
    return f"{report_no}:{track.value}:callback-follow-up"  # R-X-1


def sms_key_track(key: str) -> Track | None:
    """The track an SMS key above names (`<report>:<track>:…`), or None."""
    parts = key.split(":")
    try:
        return Track(parts[1]) if len(parts) > 2 else None
    except ValueError:
        return None


class DeliveryNote(Frozen):
    """An SMS's delivery as a claim's timeline shows it (issue 22.6): the relay's status in words,
    never the message body; `idempotency_key` names the track it belongs to (sms_key_track)."""

    idempotency_key: str
    at: datetime
    step: str
    by: str
    detail: str


class ActivityName:
    LOAD_RULES = "rules.load"
    LOOKUP_POLICY = "core.lookup_policy"
    INSURED_ACCOUNT = "core.insured_account"
    CHECK_FILES = "store.check_files"
    PAY_INDEMNITY = "payments.pay_indemnity"
    SEND_SMS = "sms.send"
    RECORD_CALLBACK = "callbacks.record"


# --- rules.load ---------------------------------------------------------------------------------
class LoadRulesInput(Frozen):
    branch: str | None = None


# result: domain.rules.RuleSettings


# --- core.lookup_policy -------------------------------------------------------------------------
class LookupPolicyInput(Frozen):
    report_no: ReportNo
    policy_no: str
    reported_at: datetime


class LookupPolicyResult(Frozen):
    customer: Customer
    policy: Policy
    history: ClaimHistory  # claims on the policy this period before this report (R-EL-1.2)


# --- core.insured_account -----------------------------------------------------------------------
class InsuredAccountInput(Frozen):
    """R-X-3, R-EL-1.6: the insured's own account as the core system holds it now (the insured may
    have recorded a new one since the report)."""

    report_no: ReportNo
    policy_no: str


class InsuredAccountResult(Frozen):
    insured_account: str | None = None  # None: the policy has no account on record


# --- store.check_files --------------------------------------------------------------------------
class CheckFilesInput(Frozen):
    sha256: tuple[str, ...]


class CheckFilesResult(Frozen):
    missing: tuple[str, ...] = ()


# --- payments.pay_indemnity ---------------------------------------------------------------------
class PayIndemnityInput(Frozen):
    idempotency_key: str  # from claim and step ("R2026...:B:indemnity"), never from a run ID
    report_no: ReportNo
    track: Track
    amount: Money
    payee_account: str
    insured_account: str  # R-X-3: the ledger refuses any other payee


class PayIndemnityResult(Frozen):
    payment_id: str
    idempotency_key: str
    amount: Money
    paid_at: datetime
    already_paid: bool = False  # the key was paid before: this is the original receipt


# --- sms.send -----------------------------------------------------------------------------------
class SmsKind:
    INJURY_SPECIALIST = "injury_specialist"  # R-D-1
    SUPERVISOR_ESCALATION = "supervisor_escalation"  # OPEN-3
    SUPERVISOR_FOLLOW_UP = "supervisor_follow_up"  # R-X-1 poor score
    CUSTOMER_LINK = "customer_link"  # issue 24: the customer's link to their own claim's page, once, on report


class SendSmsInput(Frozen):
    idempotency_key: str  # one message per key, however often the activity is retried
    kind: str
    report_no: ReportNo
    recipient_role: str  # "injury_specialist", "supervisor"
    fields: dict[str, str] = Field(default_factory=dict)  # the message's content; may hold personal data


class SendSmsResult(Frozen):
    message_id: str
    duplicate: bool = False


# --- callbacks.record ---------------------------------------------------------------------------
class RecordCallbackInput(Frozen):
    report_no: ReportNo
    track: Track
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=500)
    poor_score_max: int = Field(ge=1, le=5)


class RecordCallbackResult(Frozen):
    follow_up_opened: bool  # R-X-1: a poor score opens a supervisor follow-up
    follow_up_id: str | None = None


__all__ = ["DocumentType", "RuleSettings"]
