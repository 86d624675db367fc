"""Test doubles for the outside systems, registered under the real activity names."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.core_system import CoreData
from domain.contracts import (
    PAYEE_NOT_INSURED,
    POLICY_NOT_FOUND,
    REPORT_CONFLICT,
    ActivityName,
    CheckFilesInput,
    CheckFilesResult,
    InsuredAccountInput,
    InsuredAccountResult,
    LoadRulesInput,
    LookupPolicyInput,
    LookupPolicyResult,
    PayIndemnityInput,
    PayIndemnityResult,
    RecordCallbackInput,
    RecordCallbackResult,
    SendSmsInput,
    SendSmsResult,
)
from domain.models import ClaimHistory
from domain.rules import RuleSettings

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "core.json"


class FakeSystems:
    """In-memory core system, store, ledger, SMS outbox and callback book; they count every call."""

    def __init__(self, rules: RuleSettings | None = None, prior_claims: int = 0) -> None:
        data = CoreData.model_validate_json(SAMPLE.read_text(encoding="utf-8"))
        self.customers = {c.customer_id: c for c in data.customers}
        self.policies = {p.policy_no: p for p in data.policies}
        self.rules = rules or RuleSettings()
        self.prior_claims = prior_claims
        self.missing_files: set[str] = set()
        self.payments: dict[str, PayIndemnityResult] = {}
        self.pay_attempts = 0
        self.sms: list[SendSmsInput] = []
        self.callbacks: list[RecordCallbackInput] = []
        self.lookups = 0
        self.registered: dict[str, str] = {}  # report number -> the policy the core system has it on

    def activities(self) -> list:
        return [
            self.load_rules,
            self.lookup_policy,
            self.insured_account,
            self.check_files,
            self.pay_indemnity,
            self.send_sms,
            self.record_callback,
        ]

    def sms_kinds(self) -> Counter[str]:
        return Counter(m.kind for m in self.sms)

    @activity.defn(name=ActivityName.LOAD_RULES)
    async def load_rules(self, input: LoadRulesInput) -> RuleSettings:
        return self.rules

    @activity.defn(name=ActivityName.LOOKUP_POLICY)
    async def lookup_policy(self, input: LookupPolicyInput) -> LookupPolicyResult:
        self.lookups += 1
        policy = self.policies.get(input.policy_no)
        if policy is None:
            raise ApplicationError(f"no policy {input.policy_no}", type=POLICY_NOT_FOUND, non_retryable=True)
        registered = self.registered.setdefault(input.report_no, input.policy_no)
        if registered != input.policy_no:
            message = f"report {input.report_no} is registered on policy {registered}, not {input.policy_no}"
            raise ApplicationError(message, type=REPORT_CONFLICT, non_retryable=True)
        return LookupPolicyResult(
            customer=self.customers[policy.customer_id],
            policy=policy,
            history=ClaimHistory(prior_claims_this_period=self.prior_claims),
        )

    @activity.defn(name=ActivityName.INSURED_ACCOUNT)
    async def insured_account(self, input: InsuredAccountInput) -> InsuredAccountResult:
        policy = self.policies.get(input.policy_no)
        if policy is None:
            raise ApplicationError(f"no policy {input.policy_no}", type=POLICY_NOT_FOUND, non_retryable=True)
        return InsuredAccountResult(insured_account=policy.insured_bank_account)

    @activity.defn(name=ActivityName.CHECK_FILES)
    async def check_files(self, input: CheckFilesInput) -> CheckFilesResult:
        return CheckFilesResult(missing=tuple(s for s in input.sha256 if s in self.missing_files))

    @activity.defn(name=ActivityName.PAY_INDEMNITY)
    async def pay_indemnity(self, input: PayIndemnityInput) -> PayIndemnityResult:
        self.pay_attempts += 1
        if input.payee_account.replace(" ", "") != input.insured_account.replace(" ", ""):
            raise ApplicationError("payee is not the insured", type=PAYEE_NOT_INSURED, non_retryable=True)
        if input.idempotency_key in self.payments:
            return self.payments[input.idempotency_key].model_copy(update={"already_paid": True})
        receipt = PayIndemnityResult(
            payment_id=f"PAY-{uuid.uuid4().hex[:16]}",
            idempotency_key=input.idempotency_key,
            amount=input.amount,
            paid_at=datetime.now(UTC),
        )
        self.payments[input.idempotency_key] = receipt
        return receipt

    @activity.defn(name=ActivityName.SEND_SMS)
    async def send_sms(self, input: SendSmsInput) -> SendSmsResult:
        duplicate = any(m.idempotency_key == input.idempotency_key for m in self.sms)
        if not duplicate:
            self.sms.append(input)
        return SendSmsResult(message_id=input.idempotency_key, duplicate=duplicate)

    @activity.defn(name=ActivityName.RECORD_CALLBACK)
    async def record_callback(self, input: RecordCallbackInput) -> RecordCallbackResult:
        self.callbacks.append(input)
        poor = input.score <= input.poor_score_max
        return RecordCallbackResult(follow_up_opened=poor, follow_up_id=f"FU-{input.report_no}" if poor else None)
