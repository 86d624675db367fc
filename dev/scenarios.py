"""One sample claim of each track and the human steps that carry it from report to callback.

The demo command drives them against the running service; the workflow tests drive the same
steps, so what the README shows is what the tests check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from activities.core_system import CoreData
from domain.documents import required_documents
from domain.models import REPORT_NO_PATTERN, AccidentKind, DocumentChannel, Report, Track
from domain.rules import CHINA_TZ
from workflows.messages import ContactKind, ExpertRole, Stage, TrackView

# (the stage the track must have reached, the update, its payload)
StepList = list[tuple[Stage, str, dict[str, Any]]]
S = Stage

# A 1x1 PNG: the demo's "scene photo" (the demo, the bench, the recorded histories and the tests
# store it for real in the file store).
DEMO_PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


# The sample policy (data/sample/core.json) each track's sample report is made on, and why it
# takes that track (docs/cli.md, *The sample policies*).
SAMPLE_POLICIES = {
    Track.AUTHORISATION: "P2026000001",  # claim-free 3 years, all coverages; single-party at the scene
    Track.CREDIT: "P2026000002",  # claim-free 3 years (2020 reform); single-party, not at the scene, <= 3000
    Track.EXPERT_TEAM: "P2026000003",  # a new car (first registered at the period's start); loss >= 50,000
    Track.INJURY: "P2026000004",  # premium female customer; an injury reported at the scene
}


def load_sample_core(path: Path) -> CoreData:
    """The sample core data (data/sample/core.json, the settings' `sample_core_data`)."""
    return CoreData.model_validate_json(Path(path).read_bytes())


def fresh_policies(
    sample: CoreData,
    tracks: Sequence[Track],
    prefix: str,
    today: date,
    *,
    account: Callable[[int], str] | None = None,
) -> CoreData:
    """One new customer and policy per entry of `tracks`, each a copy of that track's sample
    policy and its customer under new numbers (`<prefix>C000000`, `<prefix>P000000`, …), its
    period covering `today`. A claim on a fresh copy is the first in its period (R-EL-1.2), so it
    takes its track as the sample did once: loading the same copies again changes nothing.
    With `account`, copy i's insured bank account is account(i) (else the sample's)."""
    policies = {p.policy_no: p for p in sample.policies}
    customers = {c.customer_id: c for c in sample.customers}
    new_customers, new_policies = [], []
    for i, track in enumerate(tracks):
        template = policies[SAMPLE_POLICIES[track]]
        cid, pno = f"{prefix}C{i:06d}", f"{prefix}P{i:06d}"
        new_customers.append(customers[template.customer_id].model_copy(update={"customer_id": cid}))
        new_policies.append(
            template.model_copy(
                update={
                    "policy_no": pno,
                    "customer_id": cid,
                    "period_start": min(template.period_start, today - timedelta(days=30)),
                    "period_end": max(template.period_end, today + timedelta(days=300)),
                    **({"insured_bank_account": account(i)} if account else {}),
                }
            )
        )
    return CoreData(customers=new_customers, policies=new_policies)


def sample_report(track: Track, report_no: str, policy_no: str, reported_at: datetime) -> Report:
    """A report that takes `track` on a policy like that track's sample (SAMPLE_POLICIES)."""
    base: dict[str, Any] = dict(
        report_no=report_no, policy_no=policy_no, reported_at=reported_at, driver_is_insured=True, reporter_is_insured=True
    )
    if track is Track.AUTHORISATION:  # R-A-1: single-party, at the scene, claim-free 3 years
        return Report(accident_kind=AccidentKind.SINGLE_PARTY, at_scene=True, **base)
    if track is Track.CREDIT:  # R-B-2: single-party, not at the scene, estimate under 3000
        return Report(accident_kind=AccidentKind.SINGLE_PARTY, at_scene=False, estimated_own_loss=Decimal("1500.00"), **base)
    if track is Track.EXPERT_TEAM:  # R-C-1, OPEN-1/2: new-car customer, major loss
        return Report(accident_kind=AccidentKind.SINGLE_PARTY, at_scene=False, estimated_own_loss=Decimal("80000.00"), **base)
    # R-D-1: premium female customer, injury, reported at the scene
    return Report(accident_kind=AccidentKind.TWO_PARTY, at_scene=True, injury=True, reporter_phone="13800000104", **base)


# A demo's report numbers are `<prefix>-A` … `<prefix>-D`: the prefix makes them valid report
# numbers (domain.models.REPORT_NO_PATTERN) or the demo is refused before it starts.
DEMO_PREFIX_RULE = (
    "4 to 38 capital letters, digits or '-', starting with a letter or digit (the report numbers are <prefix>-A … -D)"
)


def is_demo_prefix(prefix: str) -> bool:
    """Whether `<prefix>-A` … `-D` are report numbers (DEMO_PREFIX_RULE)."""
    return all(re.fullmatch(REPORT_NO_PATTERN, f"{prefix}-{track.value}") for track in Track)


def sample_reports(prefix: str, reported_at: datetime) -> dict[str, Report]:
    """A report per track on the sample core data (data/sample/core.json), keyed by track letter."""
    return {
        track.value: sample_report(track, f"{prefix}-{track.value}", SAMPLE_POLICIES[track], reported_at)
        for track in SAMPLE_POLICIES
    }


def documents(track: Track, report: Report, channel: DocumentChannel, sha256: str | None = None) -> StepList:
    """The claim's documents, received together in one step (receive_documents)."""
    docs = [
        {"document": doc.value, "channel": channel.value, "sha256": sha256}
        for doc in sorted(required_documents(track, report), key=lambda d: d.value)
    ]
    return [(S.AWAITING_DOCUMENTS, "receive_documents", {"documents": docs, "by": "S100"})]


def steps_for(track: Track, report: Report, *, photo_sha256: str, amount: Decimal = Decimal("2650.00")) -> StepList:
    """Every human step of a track in order, up to and including the callback."""
    assessment = (
        S.AWAITING_DOCUMENTS,
        "issue_assessment",
        {"sheet_no": f"DS-{report.report_no}", "amount": str(amount), "by": "S200"},
    )
    callback = (S.AWAITING_CALLBACK, "record_callback", {"score": 5, "comment": "fast and friendly", "by": "CS01"})
    accept = (S.AWAITING_ACCEPTANCE, "accept_offer", {"accepted": True, "by": "AG01"})
    if track is Track.AUTHORISATION:
        return [
            accept,
            (S.AWAITING_SCENE_ESTIMATE, "record_scene_estimate", {"own_loss": "2800.00", "by": "SV01"}),
            (S.AWAITING_CAR_AT_SHOP, "car_at_shop", {"shop_code": "SHOP-17", "by": "SV01"}),
            (S.AWAITING_PHOTOS, "upload_photos", {"sha256": [photo_sha256], "by": "AS01"}),
            assessment,
            *documents(track, report, DocumentChannel.ASSESSOR_AT_SHOP, photo_sha256),
            callback,
        ]
    if track is Track.CREDIT:
        return [accept, *documents(track, report, DocumentChannel.DOOR_PICKUP), assessment, callback]
    if track is Track.EXPERT_TEAM:
        team = [ExpertRole.LARGE_CASE_ASSESSOR, ExpertRole.LOSS_VERIFICATION]
        return [
            accept,
            (S.AWAITING_EXPERT_LEAD, "name_expert_lead", {"lead_code": "EL07", "by": "AG01"}),
            (S.AWAITING_LEAD_CONTACT, "record_lead_contact", {"by": "EL07", "note": "case understood"}),
            (S.AWAITING_TEAM, "staff_team", {"roles": [r.value for r in team], "by": "EL07"}),
            *[(S.AWAITING_SERVICE_ITEMS, "complete_service_item", {"role": r.value, "by": "EL07"}) for r in team],
            (S.AWAITING_SERVICE_ITEMS, "report_back", {"by": "EL07"}),
            *documents(track, report, DocumentChannel.SELF),
            (
                S.AWAITING_DOCUMENTS,
                "issue_assessment",
                {"sheet_no": f"DS-{report.report_no}", "amount": "76000.00", "by": "S200"},
            ),
            callback,
        ]
    first_call = {
        "kind": ContactKind.FIRST_CALL.value,
        "identity_explained": True,
        "process_explained": True,
        "sympathy_expressed": True,
        "investigator_contacted": False,
        # in China time, as every time people read (the views, `claims show`'s example bodies)
        "surveyor_eta": (report.reported_at + timedelta(minutes=40)).astimezone(CHINA_TZ).isoformat()
        if report.at_scene
        else None,
        "scene_advice_given": report.at_scene,
        "by": "IS01",
    }
    return [
        (S.AWAITING_SPECIALIST_CALL, "record_specialist_contact", first_call),
        (
            S.AWAITING_DOCUMENTS,
            "record_specialist_contact",
            {"kind": ContactKind.FOLLOW_UP.value, "note": "discharged", "by": "IS01"},
        ),
        *documents(track, report, DocumentChannel.DELEGATE),
        (S.AWAITING_DOCUMENTS, "issue_assessment", {"sheet_no": f"DS-{report.report_no}", "amount": "12000.00", "by": "S300"}),
        (S.AWAITING_CASE_CLOSURE, "report_back", {"by": "IS01"}),
        callback,
    ]


# The order a track passes its stages in (workflows.messages.Stage lists them so); after the
# callback the track has ended.
_STAGE_ORDER = list(Stage)
_DOCUMENT_STEPS = frozenset({"receive_document", "receive_documents"})


def remaining_steps(steps: StepList, view: TrackView | None) -> StepList:
    """The steps of `steps` still to take on a track that stands at `view` (None: not started
    yet, all of them), so a demo cut short resumes where its claim stands: the steps of the stages
    it has passed are done; at its stage, documents already complete and an assessment already
    issued are not sent again (the track would refuse them); an ended track has none left."""
    if view is None:
        return steps
    at = _STAGE_ORDER.index(view.stage)
    if at > _STAGE_ORDER.index(Stage.AWAITING_CALLBACK):
        return []
    done_here = {
        *(_DOCUMENT_STEPS if not view.documents_missing else ()),
        *(("issue_assessment",) if view.assessment_amount is not None else ()),
    }
    return [
        (stage, step, payload)
        for stage, step, payload in steps
        if _STAGE_ORDER.index(stage) > at or (_STAGE_ORDER.index(stage) == at and step not in done_here)
    ]
