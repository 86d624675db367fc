"""`claims show`: one claim as a readable page, every time in China time (labelled), the whole
timeline, and for each waiting track the step to take next with an example body. Also the
report's answer (`claims report`) and the table of claims (`claims list`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from client.listing import ClaimPage
from dev.scenarios import sample_report, steps_for
from domain.models import Decision, Track
from domain.rules import CHINA_TZ
from workflows.messages import ClaimView, ReportAnswer, Stage, TrackView

# R-EL-1 (the six eligibility conditions) is a condition of the small-claim tracks only.
NEEDS_ELIGIBILITY = frozenset({Track.AUTHORISATION, Track.CREDIT})
# The only step of a stage that no sample scenario reaches (a refused payee).
EXTRA_STEPS = {Stage.AWAITING_PAYEE_ACCOUNT: [("correct_payee_account", {"account": "<the insured's own account>"})]}


def china(at: datetime) -> str:
    """One format for every time on the page: China time, to the second."""
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def next_steps(track: Track, view: TrackView) -> list[tuple[str, dict[str, Any]]]:
    """The steps the track takes at its stage, each with an example body (from dev.scenarios,
    the steps the demo and the workflow tests take), `by` left out (the CLI records --by)."""
    sample = sample_report(track, "EXAMPLE", "EXAMPLE", datetime.now(UTC))
    found: list[tuple[str, dict[str, Any]]] = list(EXTRA_STEPS.get(view.stage, []))
    for stage, step, payload in steps_for(track, sample, photo_sha256="<sha256 from claims upload>"):
        if stage != view.stage or step in [s for s, _ in found]:
            continue
        body = {k: v for k, v in payload.items() if k != "by"}
        if step == "receive_documents":
            body = {"documents": [{"document": d.value, "channel": "self"} for d in view.documents_missing]}
        if step == "issue_assessment":
            body = {"sheet_no": f"DS-{view.workflow_id}", "amount": "1480.00"}
        found.append((step, body))
    return found


def print_decision(decision: Decision, next_stages: Mapping[Track, Stage] | None = None) -> None:
    """The tag, segments, failed conditions and each track taken or not and why (R-ID-2, R-EL-1),
    with what each track taken waits for first when the report's answer says."""
    tag = decision.tag
    print(
        f"  tag: {'recognised' if tag.recognised else 'unrecognised'}   segments: "
        f"{', '.join(s.value for s in decision.segments) or 'none'}"
    )
    if decision.eligibility.failed:
        print("  eligibility for tracks A and B (R-EL-1; tracks C and D do not need it):")
    for failed in decision.eligibility.failed:
        print(f"    not eligible ({failed.rule}): {failed.reason}")
    for t in decision.tracks:
        first = f"  -> waits for: {next_stages[t.track].value}" if next_stages and t.track in next_stages else ""
        print(f"  track {t.track.value} {'TAKEN' if t.applies else 'not taken'}: {t.reason}{first}")


def print_answer(workflow_id: str, answer: ReportAnswer) -> None:
    """A report's answer as the agent tells it on the phone."""
    print(
        f"{workflow_id}: {'started' if answer.created else 'already reported (R-X-2), same claim'}   stage: {answer.stage.value}"
    )
    if answer.decision is not None:
        print_decision(answer.decision, answer.next_stages)


def print_claim(view: ClaimView, as_json: bool) -> None:
    if as_json:
        print(view.model_dump_json(indent=2))
        return
    print(
        f"Report {view.report_no}   stage: {view.stage.value}{'   OVERDUE' if view.overdue else ''}"
        "   (times in China time, UTC+08:00)"
    )
    if view.refusal:
        print(f"  {view.refusal}")
    if view.decision:
        print_decision(view.decision)
    for track, tv in view.tracks.items():
        print(f"\n  [{track.value}] {track.title}: {tv.stage.value}{'  OVERDUE' if tv.overdue else ''}")
        if tv.waiting:
            due = china(tv.waiting.due_at) if tv.waiting.due_at else "no deadline"
            print(f"    waiting for {tv.waiting.from_whom} by {due} ({tv.waiting.rule})")
        if tv.documents_missing:
            print(f"    documents missing: {', '.join(d.value for d in tv.documents_missing)}")
        if tv.payment:
            p = tv.payment
            state = f"paid {china(p.paid_at)} ({p.payment_id})" if p.paid_at else "not paid"
            met = "" if p.deadline_met is None else ("  deadline met" if p.deadline_met else "  DEADLINE MISSED")
            print(f"    payment {p.amount} CNY due {china(p.due_at)} ({p.rule}): {state}{met}")
        for step, body in next_steps(track, tv) if tv.waiting else []:
            print(
                f"    next: claims step {view.report_no} {track.value} {step} '{json.dumps(body, ensure_ascii=False)}' --by YOUR_CODE"
            )
        print(f"    timeline ({len(tv.timeline)} entries):")
        for entry in tv.timeline:
            print(f"      {china(entry.at)} {entry.step} {entry.by or '-'} {entry.detail}".rstrip())


def print_page(page: ClaimPage, as_json: bool) -> None:
    if as_json:
        print(page.model_dump_json(indent=2))
        return
    header = ("REPORT NO", "STAGE", "TRACKS", "SEGMENTS", "BRANCH", "LOSS", "PAYMENT DUE", "OVERDUE", "STATUS")
    rows = [
        (
            c.report_no + (f" (track {c.track})" if c.track else ""),
            c.stage or "-",
            ",".join(c.tracks) or "-",
            ",".join(c.segments) or "-",
            c.branch or "-",
            c.loss_band or "-",
            f"{c.payment_due_at:%Y-%m-%d %H:%M}" if c.payment_due_at else "-",
            "yes" if c.overdue else "no",
            c.status,
        )
        for c in page.claims
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        print("(no claims match)")
    if page.next_page_token:
        print(f"\nmore: --page-token {page.next_page_token}")
