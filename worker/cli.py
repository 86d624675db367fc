"""`premium-claims`: run the service, and report and drive claims from a terminal.

    premium-claims run                 dev server + UI + worker (what `make run` starts)
    premium-claims worker              the worker alone, against PREMIUM_CLAIMS_TEMPORAL_ADDRESS
    premium-claims load-core FILE      load customers and policies into the embedded core system
    premium-claims upload FILE         put a photo or document in the store, print its sha256
    premium-claims report FILE         report a claim from a JSON report
    premium-claims show REPORT_NO      the claim's state (tracks, waits, documents, payments)
    premium-claims step REPORT_NO TRACK STEP [JSON]   record a human step on a track
    premium-claims demo                drive one claim of each track from report to callback
"""

from __future__ import annotations

import argparse
import asyncio
import json
import mimetypes
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from pydantic import ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities import build_activities, open_embedded
from domain.models import Report, Track
from worker.client import claim_state, connect, drive, report_claim, take_step
from worker.devserver import start_dev_server, wait_until_ready
from worker.logging import configure_logging
from worker.main import build_worker, run_until_signalled
from worker.scenarios import sample_reports, steps_for
from worker.settings import Settings, load_settings
from workflows.messages import ClaimView, claim_workflow_id

log = structlog.get_logger("premium_claims")

# A 1x1 PNG: the demo's "scene photo", stored for real in the file store.
DEMO_PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def load_core(settings: Settings, path: Path) -> None:
    stats = open_embedded(settings.data_dir).core.load_file(path)
    print(f"loaded {path}: {stats.model_dump()}")


async def serve_worker(settings: Settings, client: Client) -> None:
    activities = build_activities(settings.data_dir, settings.current_rules)
    worker = build_worker(
        client,
        settings.task_queue,
        activities,
        max_cached_workflows=settings.max_cached_workflows,
        graceful_shutdown=timedelta(seconds=settings.graceful_shutdown_seconds),
    )
    await run_until_signalled(worker)


async def cmd_run(settings: Settings) -> None:
    server = start_dev_server(settings.data_dir, settings.dev_server_port, settings.ui_port, settings.namespace)
    try:
        address = f"127.0.0.1:{settings.dev_server_port}"
        client = await wait_until_ready(lambda: connect(address, settings.namespace))
        systems = open_embedded(settings.data_dir)
        if not systems.core.count_policies():
            load_core(settings, settings.sample_core_data)
        print(f"Temporal UI:   http://localhost:{settings.ui_port}")
        print(f"Temporal gRPC: {address} (namespace {settings.namespace}, task queue {settings.task_queue})")
        print(f"Data:          {settings.data_dir}")
        print("Worker running; Ctrl-C stops it and the server.", flush=True)
        await serve_worker(settings, client)
    finally:
        server.terminate()
        server.wait(timeout=30)


def print_claim(view: ClaimView, as_json: bool) -> None:
    if as_json:
        print(view.model_dump_json(indent=2))
        return
    print(f"Report {view.report_no}   stage: {view.stage.value}{'   OVERDUE' if view.overdue else ''}")
    if view.refusal:
        print(f"  {view.refusal}")
    if view.decision:
        tag = view.decision.tag
        print(f"  tag: {'recognised' if tag.recognised else 'unrecognised'}   segments: "
              f"{', '.join(s.value for s in view.decision.segments) or 'none'}")
        for failed in view.decision.eligibility.failed:
            print(f"  not eligible ({failed.rule}): {failed.reason}")
        for t in view.decision.tracks:
            print(f"  track {t.track.value} {'TAKEN' if t.applies else 'not taken'}: {t.reason}")
    for track, tv in view.tracks.items():
        print(f"\n  [{track.value}] {track.title}: {tv.stage.value}{'  OVERDUE' if tv.overdue else ''}")
        if tv.waiting:
            due = tv.waiting.due_at.isoformat() if tv.waiting.due_at else "no deadline"
            print(f"    waiting for {tv.waiting.from_whom} by {due} ({tv.waiting.rule})")
        if tv.documents_missing:
            print(f"    documents missing: {', '.join(d.value for d in tv.documents_missing)}")
        if tv.payment:
            p = tv.payment
            state = f"paid {p.paid_at.isoformat()} ({p.payment_id})" if p.paid_at else "not paid"
            met = "" if p.deadline_met is None else ("  deadline met" if p.deadline_met else "  DEADLINE MISSED")
            print(f"    payment {p.amount} CNY due {p.due_at.isoformat()} ({p.rule}): {state}{met}")
        for entry in tv.timeline[-5:]:
            print(f"    {entry.at:%Y-%m-%d %H:%M:%S} {entry.step} {entry.by or ''} {entry.detail}")


async def cmd_demo(settings: Settings, client: Client, prefix: str) -> None:
    """Report one claim per track and take every human step, printing progress as it goes."""
    stored = open_embedded(settings.data_dir).store.put(DEMO_PHOTO, "image/png")
    samples = sample_reports(prefix, datetime.now(UTC))
    for code, report in samples.items():
        track = Track(code)
        _, started = await report_claim(client, report, settings.task_queue)
        print(f"[{code}] report {report.report_no}: {'claim started' if started else 'claim already exists (R-X-2)'}")
        if not started:
            continue
        steps = steps_for(track, report, photo_sha256=stored.sha256)
        for number, (stage, step, payload) in enumerate(steps, 1):
            await drive(client, report.report_no, track, [(stage, step, payload)])
            print(f"    step {number}/{len(steps)}: {step}", flush=True)
        view = await client.get_workflow_handle(claim_workflow_id(report.report_no), result_type=ClaimView).result()
        payment = view.tracks[track].payment
        print(f"    done: {view.stage.value}, paid {payment.amount if payment else '-'} CNY")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="premium-claims", description=__doc__.split("\n")[0])
    parser.add_argument("--settings", type=Path, help="settings TOML file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run")
    sub.add_parser("worker")
    sub.add_parser("load-core").add_argument("file", type=Path)
    up = sub.add_parser("upload")
    up.add_argument("file", type=Path)
    up.add_argument("--type", help="content type (default: from the file name)")
    sub.add_parser("report").add_argument("file", type=Path)
    show = sub.add_parser("show")
    show.add_argument("report_no")
    show.add_argument("--json", action="store_true")
    step = sub.add_parser("step")
    step.add_argument("report_no")
    step.add_argument("track", choices=[t.value for t in Track])
    step.add_argument("step")
    step.add_argument("payload", nargs="?", default="{}", help="the step as JSON")
    demo = sub.add_parser("demo")
    demo.add_argument("--prefix", default="DEMO2026", help="report number prefix (same prefix: same claims)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    settings = load_settings(args.settings)
    configure_logging(settings.log_format, settings.log_level)
    error = None
    try:
        asyncio.run(dispatch(args, settings))
    except KeyboardInterrupt:
        pass
    except WorkflowUpdateFailedError as err:
        error = f"refused: {err.cause}"
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            error = f"not found: {err.message} (is the report number right, and does that track run?)"
        else:
            error = f"Temporal refused the call: {err.message}"
    except ValidationError as err:
        error = f"invalid input: {err}"
    except (ValueError, FileNotFoundError) as err:
        error = f"error: {err}"
    # exit outside the handler: a traceback still holding the Temporal client crashes finalization
    if error:
        sys.exit(error)


async def dispatch(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "run":
        return await cmd_run(settings)
    if args.command == "load-core":
        return load_core(settings, args.file)
    if args.command == "upload":
        content_type = args.type or mimetypes.guess_type(args.file.name)[0] or "application/octet-stream"
        stored = open_embedded(settings.data_dir).store.put(args.file.read_bytes(), content_type)
        print(stored.sha256)
        return None
    client = await connect(settings.temporal_address, settings.namespace)
    if args.command == "worker":
        return await serve_worker(settings, client)
    if args.command == "report":
        report = Report.model_validate_json(args.file.read_text(encoding="utf-8"))
        handle, started = await report_claim(client, report, settings.task_queue)
        print(f"{handle.id}: {'started' if started else 'already reported (R-X-2), same claim'}")
    elif args.command == "show":
        print_claim(await claim_state(client, args.report_no), args.json)
    elif args.command == "step":
        view = await take_step(client, args.report_no, Track(args.track), args.step, json.loads(args.payload))
        print(f"recorded; track {view.track.value} is now at {view.stage.value}")
    elif args.command == "demo":
        await cmd_demo(settings, client, args.prefix)
    return None


if __name__ == "__main__":
    main()
