"""Typed vocabulary of the claim program (SPEC.md §1–§8). Pure data, no I/O."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.identifiers import BankAccount, CnMobile

# Report numbers are the claim's identity (R-X-2) and appear in workflow IDs, so they may only
# hold codes: letters, digits and dashes, never personal data.
REPORT_NO_PATTERN = r"^[A-Z0-9][A-Z0-9-]{5,39}$"
REPORT_NO_PREFIX_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,39}$"  # the start of one, to list claims by

# The codes staff and partners are known by (the staff member who records a step, a repair shop,
# an assessment sheet, an expert lead) and a branch's code.
CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"
CODE_RULE = "letters, digits, _ . -, up to 40"
BRANCH_PATTERN = r"^[A-Za-z0-9_.-]{1,20}$"


def is_code(value: str) -> bool:
    """Whether `value` is a staff (or shop, sheet, lead) code: CODE_PATTERN."""
    return re.fullmatch(CODE_PATTERN, value) is not None


def _money(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("an amount of money cannot be negative")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]  # exponent is a str only for NaN or Infinity
        raise ValueError("an amount of money has at most two decimal places (fen)")
    return value.quantize(Decimal("0.01"))


# Money is yuan with two places, never float (STYLE.md).
Money = Annotated[Decimal, Field(max_digits=14), AfterValidator(_money)]
ReportNo = Annotated[str, Field(pattern=REPORT_NO_PATTERN)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Segment(StrEnum):
    """The three premium segments (SPEC §1)."""

    CLAIM_FREE_3 = "claim_free_3"
    NEW_CAR = "new_car"
    PREMIUM_FEMALE = "premium_female"


class Track(StrEnum):
    """The four dedicated service tracks; the values are the short codes used in IDs."""

    AUTHORISATION = "A"  # small-claim authorisation, SPEC §2
    CREDIT = "B"  # small-claim credit, SPEC §3
    EXPERT_TEAM = "C"  # large claim, expert team, SPEC §4
    INJURY = "D"  # injury one-to-one, SPEC §5

    @property
    def title(self) -> str:  # type: ignore[override]  # the track's name, not str.title()
        return TRACK_TITLES[self]


TRACK_TITLES = {
    Track.AUTHORISATION: "small-claim authorisation",
    Track.CREDIT: "small-claim credit",
    Track.EXPERT_TEAM: "large-claim expert team",
    Track.INJURY: "injury one-to-one",
}


class CustomerKind(StrEnum):
    INDIVIDUAL = "individual"
    CORPORATE = "corporate"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class Coverage(StrEnum):
    """Policy coverages named by R-EL-1.3."""

    COMPULSORY = "compulsory"  # 交强险
    VEHICLE_DAMAGE = "vehicle_damage"  # 车损险
    THIRD_PARTY = "third_party"  # 三者险
    WAIVER_VEHICLE_DAMAGE = "waiver_vehicle_damage"  # 不计免赔 (车损)
    WAIVER_THIRD_PARTY = "waiver_third_party"  # 不计免赔 (三者)


class AccidentKind(StrEnum):
    SINGLE_PARTY = "single_party"  # 单方事故
    TWO_PARTY = "two_party"  # 双方事故


class DocumentType(StrEnum):
    """Claim documents of R-X-5 (and R-B-2/3)."""

    CLAIM_FORM = "claim_form"  # 索赔申请书
    DRIVING_LICENCE = "driving_licence"  # 驾驶证
    VEHICLE_LICENCE = "vehicle_licence"  # 行驶证
    LOSS_PHOTOS = "loss_photos"  # 损失照片
    VEHICLE_INSPECTION = "vehicle_inspection"  # 验标
    REPAIR_LIST = "repair_list"  # 维修清单
    REPAIR_INVOICE = "repair_invoice"  # 发票
    PAYEE_BANK_CARD = "payee_bank_card"  # 银行卡 / 转账授权
    POLICE_CERTIFICATE = "police_certificate"  # 交警事故证明
    OTHER_VEHICLE_REPAIR_LIST = "other_vehicle_repair_list"
    OTHER_VEHICLE_REPAIR_INVOICE = "other_vehicle_repair_invoice"
    LIABILITY_FINDING = "liability_finding"  # 责任认定书 / 调解书
    MEDICAL_RECORDS = "medical_records"
    MEDICAL_INVOICES = "medical_invoices"


class DocumentChannel(StrEnum):
    """How a document reached us (R-B-4)."""

    SELF = "self"  # 自己递交
    DELEGATE = "delegate"  # 委托他人递交
    DOOR_PICKUP = "door_pickup"  # 上门收单
    ASSESSOR_AT_SHOP = "assessor_at_shop"  # R-A-5: the assessor collects them at the shop


class CustomerTag(Frozen):
    """A parsed premium-customer tag (R-ID-1), e.g. 钻石(-3)成功男士."""

    raw: str
    tier: str | None = None  # 钻石, 白金, 金, … ; None when the tag has no tier word
    claim_free_years: int  # the claim-count part read as years without a claim: "-3" -> 3
    persona: str  # 男性, 成功男士, 女性, …


class TagReading(Frozen):
    """The result of reading a tag: recognised with its parts, or unrecognised with why."""

    raw: str | None
    recognised: bool
    tag: CustomerTag | None = None
    reason: str | None = None


class Customer(Frozen):
    """A customer as the core system holds them. Personal fields never reach IDs or logs."""

    customer_id: str
    name: str
    kind: CustomerKind
    gender: Gender = Gender.UNKNOWN
    premium_tag: str | None = None
    mobile: str | None = None
    id_number: str | None = None


class Policy(Frozen):
    policy_no: str
    customer_id: str  # the insured
    period_start: date
    period_end: date
    coverages: frozenset[Coverage]
    reform_2020: bool = False  # written under the 2020 reform: deductible waiver built in
    consecutive_commercial_years: int = 0
    vehicle_first_registered: date | None = None
    plate: str | None = None
    insured_bank_account: str | None = None
    branch: str = "HQ"


class Report(Frozen):
    """First notice of loss (报案) as the 95500 agent records it."""

    report_no: ReportNo
    policy_no: str = Field(min_length=1, max_length=40)
    reported_at: datetime
    accident_kind: AccidentKind
    at_scene: bool  # reported at the scene (现场报案)
    driver_is_insured: bool  # R-EL-1.4
    reporter_is_insured: bool  # R-EL-1.5
    payee_account: str | None = Field(default=None, max_length=40)  # where the indemnity is to go
    estimated_own_loss: Money | None = None
    estimated_third_party_loss: Money | None = None
    injury: bool = False
    deaths: int = Field(default=0, ge=0)
    hospitalised: int = Field(default=0, ge=0)
    reporter_phone: str | None = Field(default=None, max_length=20)
    driver_phone: str | None = Field(default=None, max_length=20)
    branch: str | None = Field(default=None, max_length=20)


class ReportSubmission(Report):
    """A report as it arrives from outside (the API's POST /claims, `claims report FILE`): the
    personal identifiers are checked and normalised (domain/identifiers.py). Workflows receive
    the plain `Report` (`to_report()`): recorded histories hold values that would not pass."""

    payee_account: BankAccount | None = None
    reporter_phone: CnMobile | None = None
    driver_phone: CnMobile | None = None

    def to_report(self) -> Report:
        return Report.model_validate(self.model_dump())


class ClaimHistory(Frozen):
    """What the core system knows about earlier claims on the policy (R-EL-1.2)."""

    prior_claims_this_period: int = Field(ge=0)


class EligibilityCondition(StrEnum):
    """The six conditions of R-EL-1, by name."""

    INDIVIDUAL_THREE_YEARS = "individual_three_consecutive_years"  # R-EL-1.1
    FIRST_CLAIM_IN_PERIOD = "first_claim_in_period"  # R-EL-1.2
    REQUIRED_COVERAGES = "required_coverages_with_waiver"  # R-EL-1.3
    INSURED_DROVE = "insured_drove"  # R-EL-1.4
    INSURED_REPORTED = "insured_reported"  # R-EL-1.5
    PAID_TO_INSURED_ACCOUNT = "paid_to_insured_account"  # R-EL-1.6


class FailedCondition(Frozen):
    condition: EligibilityCondition
    rule: str  # e.g. "R-EL-1.3"
    reason: str  # a sentence the agent can read to the customer


class Eligibility(Frozen):
    eligible: bool
    failed: tuple[FailedCondition, ...] = ()


class TrackDecision(Frozen):
    """Whether one track applies to a report, and why (or why not)."""

    track: Track
    applies: bool
    needs_acceptance: bool = False  # R-A-1, R-B-1, R-C-1: offered; runs only if the customer accepts
    rules: tuple[str, ...] = ()  # the rule IDs behind the decision
    reason: str
    # not taken only because an estimate is over a small-claim limit (R-A-2, R-B-2/3): that part of
    # the claim goes to the ordinary process (SPEC §3, last line)
    over_limit: bool = False


class Decision(Frozen):
    """Everything the claim workflow decides at report time."""

    tag: TagReading
    segments: tuple[Segment, ...]
    eligibility: Eligibility
    tracks: tuple[TrackDecision, ...]  # one entry per Track, taken or not

    def applying(self) -> list[TrackDecision]:
        return [t for t in self.tracks if t.applies]


class Deadline(Frozen):
    due_at: datetime
    rule: str  # the rule the deadline comes from, e.g. "R-A-6"
