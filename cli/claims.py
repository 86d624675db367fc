"""Working claims: `claims upload`, `claims report`, `claims show`, `claims list`, `claims step`
and `claims demo`."""

from __future__ import annotations

import argparse
import asyncio
import json
import mimetypes
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client

from activities import open_stores
from cli.command import Command, parse_json, read_input, read_json_file, time_with_offset, with_client
from cli.show import print_answer, print_claim, print_page
from client.claims import ReportConflict, claim_state, drive, record_step, report_with_decision
from client.connect import connect_with_settings
from client.deliveries import with_deliveries
from client.listing import ClaimFilters, list_claims
from config.settings import ENV_PREFIX, Settings
from dev.scenarios import (
    DEMO_PHOTO,
    DEMO_PREFIX_RULE,
    SAMPLE_POLICIES,
    fresh_policies,
    is_demo_prefix,
    load_sample_core,
    remaining_steps,
    sample_reports,
    steps_for,
)
from domain.models import Report, ReportSubmission, Segment, Track
from workflows.messages import STEP_MODELS, ClaimView, Stage, claim_workflow_id


def read_report(path: Path) -> Report:
    return ReportSubmission.model_validate_json(read_json_file(path)).to_report()


async def cmd_report(settings: Settings, client: Client, report: Report, as_json: bool) -> None:
    answer, handle = await report_with_decision(client, report, settings.task_queue, settings.report_answer_seconds)
    if as_json:
        body = answer.model_dump(mode="json") if answer else {"report_no": report.report_no, "created": True}
        print(json.dumps({**body, "workflow_id": handle.id, "decided": answer is not None}, ensure_ascii=False))
    elif answer is None:
        print(f"{handle.id}: recorded; the decision is not ready yet: claims show {report.report_no}")
    else:
        print_answer(handle.id, answer)


async def cmd_list(client: Client, args: argparse.Namespace) -> None:
    filters = ClaimFilters(
        stage=args.stage,
        track=args.track,
        segment=args.segment,
        branch=args.branch,
        overdue=args.overdue,
        payment_due_before=args.payment_due_before,
        report_no_prefix=args.prefix,
    )
    print_page(await list_claims(client, filters, args.page_size, args.page_token), args.json)


async def cmd_demo(settings: Settings, client: Client, prefix: str) -> None:
    """Report one claim per track and take every human step, printing progress as it goes.

    Each claim is on its own fresh copy of its track's sample policy (`<prefix>-P00000N`), so a
    new prefix always finds first claims (R-EL-1.2) and the sample policies stay unused. The same
    prefix again reaches the same claims (R-X-2) and drives each track on from where it stands,
    so a demo cut short (Ctrl-C, a closed pipe) is finished by running it again."""
    systems = open_stores(settings)
    stored = systems.store.put(DEMO_PHOTO, "image/png")
    tracks = list(Track)
    core = fresh_policies(load_sample_core(settings.sample_core_data), tracks, f"{prefix}-", datetime.now(UTC).date())
    systems.core.load(core)
    samples = sample_reports(prefix, datetime.now(UTC))
    for track, policy in zip(tracks, core.policies, strict=True):
        code = track.value
        report = samples[code].model_copy(update={"policy_no": policy.policy_no})
        print(f"[{code}] policy {policy.policy_no} (a fresh copy of sample {SAMPLE_POLICIES[track]})")
        # the path `claims report` and the API take: a conflicting report of a known number is refused (R-X-2)
        try:
            answer, _ = await report_with_decision(client, report, settings.task_queue, settings.report_answer_seconds)
            started = answer is None or answer.created
        except ReportConflict as conflict:
            if conflict.fields != ["reported_at"]:
                raise
            started = False  # an earlier demo's claim of this number, reported at that run's time
        steps = steps_for(track, report, photo_sha256=stored.sha256)
        left = steps if started else remaining_steps(steps, (await claim_state(client, report.report_no)).tracks.get(track))
        numbered = [(number, taken) for number, taken in enumerate(steps, 1) if taken in left]
        where = "claim started" if started else "claim already exists (R-X-2)"
        if not started and numbered:
            where += f", resuming at step {numbered[0][0]}/{len(steps)}"
        print(f"[{code}] report {report.report_no}: {where}", flush=True)
        for number, (stage, step, payload) in numbered:
            await drive(client, report.report_no, track, [(stage, step, payload)])
            print(f"    step {number}/{len(steps)}: {step}", flush=True)
        view = await client.get_workflow_handle(claim_workflow_id(report.report_no), result_type=ClaimView).result()
        payment = view.tracks[track].payment
        print(f"    done: {view.stage.value}, paid {payment.amount if payment else '-'} CNY", flush=True)


# --- the commands -------------------------------------------------------------------------------
def upload_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path)
    parser.add_argument("--type", help="content type (default: from the file name)")


async def run_upload(args: argparse.Namespace, settings: Settings) -> None:
    content_type = args.type or mimetypes.guess_type(args.file.name)[0] or "application/octet-stream"
    content = read_input(args.file)
    stored = open_stores(settings).store.put(content, content_type)
    print(stored.sha256)


UPLOAD = Command(help="put a photo or document in the store", run=run_upload, arguments=upload_arguments)


def report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true")


async def run_report(args: argparse.Namespace, settings: Settings) -> None:
    report = read_report(args.file)  # checked before Temporal is asked
    await cmd_report(settings, await connect_with_settings(settings), report, args.json)


REPORT = Command(help="report a claim from a JSON report", run=run_report, arguments=report_arguments)


def show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report_no")
    parser.add_argument("--json", action="store_true")


async def run_show(args: argparse.Namespace, settings: Settings, client: Client) -> None:
    view = await claim_state(client, args.report_no)
    # the SMS about the claim as the relay delivered them, on its timeline (as GET /claims/{no})
    deliveries = await asyncio.to_thread(open_stores(settings).sms.notes_for_report, args.report_no)
    print_claim(with_deliveries(view, deliveries), args.json)


SHOW = Command(help="one claim", run=with_client(run_show), arguments=show_arguments)


def list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", type=Stage, choices=list(Stage), metavar="STAGE")
    parser.add_argument("--track", type=Track, choices=list(Track), metavar="A|B|C|D")
    parser.add_argument("--segment", type=Segment, choices=list(Segment), metavar="SEGMENT")
    parser.add_argument("--branch")
    parser.add_argument("--overdue", action="store_const", const=True, default=None)
    parser.add_argument("--not-overdue", dest="overdue", action="store_const", const=False)
    parser.add_argument("--payment-due-before", type=time_with_offset, metavar="ISO_TIME")
    parser.add_argument("--prefix", help="report numbers starting with")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--page-token")
    parser.add_argument("--json", action="store_true")


async def run_list(args: argparse.Namespace, settings: Settings, client: Client) -> None:
    await cmd_list(client, args)


LIST = Command(
    help="claims by search attributes",
    run=with_client(run_list),
    arguments=list_arguments,
    epilog=f"stages: {', '.join(s.value for s in Stage)}\nsegments: {', '.join(s.value for s in Segment)}\n"
    f"tracks: {', '.join(f'{t.value} ({t.title})' for t in Track)}",
)


def step_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report_no")
    parser.add_argument("track", choices=[t.value for t in Track], help="A, B, C or D")
    parser.add_argument("step", metavar="STEP", help="the step's name (listed below)")
    parser.add_argument("payload", nargs="?", default="{}", help="the step as JSON")
    parser.add_argument("--by", help="your staff code, recorded in the timeline (default: setting staff_code)")


async def run_step(args: argparse.Namespace, settings: Settings) -> None:
    """Record a human step as done by the body's `by`, else --by, else the setting staff_code
    (the body and --by must not disagree); the input is checked before Temporal is asked."""
    payload = parse_json(args.payload, "the step's JSON")
    if not isinstance(payload, dict):
        raise ValueError("the step's JSON must be an object, e.g. '{\"accepted\": true}'")
    by = payload.get("by") or args.by or settings.staff_code
    if not by:
        raise ValueError(f"say who takes the step: --by STAFF_CODE, or set {ENV_PREFIX}STAFF_CODE (it goes in the timeline)")
    if args.by and payload.get("by") not in (None, args.by):
        raise ValueError(f'the body says "by": {payload["by"]!r} but --by is {args.by!r}')
    client = await connect_with_settings(settings)
    view = await record_step(client, args.report_no, Track(args.track), args.step, {**payload, "by": by})
    print(f"recorded; track {view.track.value} is now at {view.stage.value}")


STEP = Command(
    help="record a human step on a track",
    run=run_step,
    arguments=step_arguments,
    epilog="steps (update names; `claims show` prints the next one with an example body):\n  " + "\n  ".join(sorted(STEP_MODELS)),
)


def demo_prefix(text: str) -> str:
    """The demo's --prefix (argparse `type`): checked before anything is reported."""
    if not is_demo_prefix(text):
        raise argparse.ArgumentTypeError(f"a prefix is {DEMO_PREFIX_RULE}")
    return text


def demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prefix", default="DEMO2026", type=demo_prefix, help="report number prefix (same prefix: same claims)")


async def run_demo(args: argparse.Namespace, settings: Settings, client: Client) -> None:
    await cmd_demo(settings, client, args.prefix)


DEMO = Command(help="one claim of each track, every step", run=with_client(run_demo), arguments=demo_arguments)
