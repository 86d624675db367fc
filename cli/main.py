"""`claims` (alias `premium-claims`): run the service, and report, read, list and drive claims.

    claims run                      dev server + UI + worker + HTTP API (what `make run` starts)
    claims worker                   the worker alone, against PREMIUM_CLAIMS_TEMPORAL_ADDRESS
    claims api                      the HTTP API alone (docs at /docs)
    claims load-policies FILE       load customers and policies into the embedded core system
    claims upload FILE              put a photo or document in the store, print its sha256
    claims report FILE              report a claim from a JSON report
    claims show REPORT_NO           the claim's state (tracks, waits, documents, payments)
    claims list [filters]           claims by stage, track, segment, branch, overdue, payment due
    claims ops [--json]             the operations counts (tracks by stage, overdue, due, breaches)
    claims step REPORT_NO TRACK STEP [JSON] [--by CODE]   record a human step on a track
    claims demo                     drive one claim of each track from report to callback
    claims sample-policies          fresh copies of the sample policies, each good for a first claim
    claims search-attributes        the commands that register the search attributes on a cluster
    claims codec-server             the codec server the Temporal UI decodes claims through
    claims token --subject S --role R   a staff token for the HTTP API (local mode)

Output is a readable table; --json gives JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import mimetypes
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from pydantic import ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities import open_embedded
from activities.core_system import CoreData
from api.app import refusal_message
from api.codec_server import codec_app_from_settings, serve_codec_server
from api.operations import PAGE_PATH as OPERATIONS_PATH
from api.server import api_urls, app_from_settings, serve, temporal_ui_url
from cli.devserver import start_dev_server, wait_until_ready
from cli.ops import add_ops_command, cmd_ops
from cli.ports import PortInUse, check_free
from cli.scenarios import DEMO_PHOTO, SAMPLE_POLICIES, fresh_policies, sample_reports, steps_for
from cli.show import print_answer, print_claim
from client.claims import ReportConflict, ReportRefused, TrackNotTaken, claim_state, drive, report_with_decision, take_step
from client.connect import connect, data_converter_for
from client.listing import ClaimFilters, ClaimPage, list_claims
from client.search_attributes import operator_commands, register
from config.errors import field_errors
from config.logging import configure_logging
from config.settings import ENV_PREFIX, Settings, SettingsError, load_settings
from config.telemetry import runtime_with_prometheus
from domain.models import CODE_RULE, Report, ReportSubmission, Segment, Track, is_code
from security.auth import Role, local_tokens
from security.codec import CodecError
from worker.main import run_until_signalled, worker_from_settings
from workflows.messages import STEP_MODELS, ClaimView, Stage, claim_workflow_id

log = structlog.get_logger("premium_claims")


def load_sample_core(settings: Settings) -> CoreData:
    return CoreData.model_validate_json(settings.sample_core_data.read_bytes())


def cmd_sample_policies(settings: Settings, prefix: str, count: int, tracks: list[Track], load: bool) -> None:
    """`count` fresh copies of the sample policies (cli.scenarios.fresh_policies), printed as a
    core-system file or loaded."""
    if not 0 < count <= 10_000:
        raise ValueError("--count must be between 1 and 10000")
    chosen = [tracks[i % len(tracks)] for i in range(count)]
    core = fresh_policies(load_sample_core(settings), chosen, prefix, datetime.now(UTC).date())
    if not load:
        print(core.model_dump_json(indent=2))
        return
    stats = open_embedded(settings.data_dir).core.load(core)
    for track, policy in zip(chosen, core.policies, strict=True):
        print(f"{policy.policy_no}  track {track.value} (a copy of sample {SAMPLE_POLICIES[track]})")
    print(f"loaded: {stats.model_dump()}")


def load_core(settings: Settings, path: Path) -> None:
    stats = open_embedded(settings.data_dir).core.load_file(path)
    print(f"loaded {path}: {stats.model_dump()}")


async def serve_worker(settings: Settings, client: Client) -> None:
    await run_until_signalled(worker_from_settings(settings, client))


async def serve_worker_and_api(settings: Settings, client: Client) -> None:
    """The worker and the API in one process; SIGINT/SIGTERM stops both (running activities finish)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker_from_settings(settings, client):
        api = asyncio.ensure_future(serve(settings, app_from_settings(settings, client), stop))
        codec = asyncio.ensure_future(serve_codec_server(settings.codec, codec_app(settings), stop))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait([api, codec, stopped], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        await api  # raises if the API could not start
        await codec
        print("stopping: the worker finishes its running activities…", flush=True)


def codec_app(settings: Settings):  # type: ignore[no-untyped-def]
    return codec_app_from_settings(settings.codec, settings.auth, settings.data_dir, settings.ui_port)


def progress(message: str) -> None:
    print(message, end="", flush=True)


async def cmd_run(settings: Settings) -> None:
    check_free(settings)  # never "ready" on a server left behind by an earlier run
    started = time.monotonic()
    progress(f"Starting the Temporal dev server (data in {settings.data_dir})… ")
    server = start_dev_server(
        settings.data_dir,
        settings.dev_server_port,
        settings.ui_port,
        settings.namespace,
        codec_endpoint=settings.codec.endpoint(),  # the UI decodes claims through our codec server
        sqlite_pragmas=settings.dev_server_sqlite_pragmas,
    )
    try:
        address = f"127.0.0.1:{settings.dev_server_port}"
        runtime = runtime_with_prometheus(settings.metrics_bind)
        converter = data_converter_for(settings)
        client = await wait_until_ready(lambda: connect(address, settings.namespace, runtime, converter))
        print(f"ready in {time.monotonic() - started:.1f} s")
        systems = open_embedded(settings.data_dir)
        if not systems.core.count_policies():
            load_core(settings, settings.sample_core_data)
        base, docs = api_urls(settings.model_copy(update={"temporal_address": address}))
        print(f"API docs:      {docs}")
        print(f"API:           {base}  (health {base}/health, ready {base}/ready)")
        if settings.auth.mode == "local":
            print("API tokens:    claims token --subject AG01 --role agent   (send as Authorization: Bearer …)")
        print(f"Temporal UI:   http://localhost:{settings.ui_port}")
        print(
            f"Operations:    {base}{OPERATIONS_PATH}  (staff sign in at {base}{OPERATIONS_PATH}/sign-in; `claims ops` in a terminal)"
        )
        print(
            f"Codec server:  {settings.codec.endpoint()}  (to read claims in the UI: README, *Reading claims in the Temporal UI*)"
        )
        for line in ui_codec_steps(settings):
            print(f"               {line}")
        print(f"Temporal gRPC: {address} (namespace {settings.namespace}, task queue {settings.task_queue})")
        print(f"Other shells:  {exports(settings)}")
        if settings.metrics_bind:
            print(f"Metrics:       http://{settings.metrics_bind}/metrics")
        print(f"Data:          {settings.data_dir}")
        print("Worker and API running; Ctrl-C stops them and the server.", flush=True)
        await serve_worker_and_api(settings.model_copy(update={"temporal_address": address}), client)
    finally:
        server.terminate()
        server.wait(timeout=30)


# The settings another `claims` command needs to reach this run (same server, same keys and data).
SHELL_SETTINGS = ("data_dir", "dev_server_port", "api_port", "ui_port")


def exports(settings: Settings) -> str:
    """What to export in another shell so its `claims` commands reach this run (not :7233)."""
    defaults = Settings()
    moved = [
        f"{ENV_PREFIX}{name.upper()}={getattr(settings, name)}"
        for name in SHELL_SETTINGS
        if getattr(settings, name) != getattr(defaults, name)
    ]
    if settings.codec.port != defaults.codec.port:
        moved.append(f"{ENV_PREFIX}CODEC__PORT={settings.codec.port}")
    return f"export {' '.join(moved)}" if moved else "nothing to export (default ports and data folder)"


def ui_codec_steps(settings: Settings) -> list[str]:
    """The UI's codec set-up, the same steps as the README's (and the browser test's)."""
    endpoint = settings.codec.endpoint()
    return [
        f"1. claims token --subject AG01 --role agent   (a role that sees personal data); sign in at {endpoint}/login with it",
        f"2. in the UI (http://localhost:{settings.ui_port}) click the data-encoder icon at the top, choose",
        f'   "Use my browser setting", keep {endpoint}, tick "Include cross-origin credentials", Apply; reload the page',
    ]


async def cmd_demo(settings: Settings, client: Client, prefix: str) -> None:
    """Report one claim per track and take every human step, printing progress as it goes.

    Each claim is on its own fresh copy of its track's sample policy (`<prefix>-P00000N`), so a
    new prefix always finds first claims (R-EL-1.2) and the sample policies stay unused."""
    systems = open_embedded(settings.data_dir)
    stored = systems.store.put(DEMO_PHOTO, "image/png")
    tracks = list(Track)
    core = fresh_policies(load_sample_core(settings), tracks, f"{prefix}-", datetime.now(UTC).date())
    systems.core.load(core)
    samples = sample_reports(prefix, datetime.now(UTC))
    for track, policy in zip(tracks, core.policies, strict=True):
        code = track.value
        report = samples[code].model_copy(update={"policy_no": policy.policy_no})
        print(f"[{code}] policy {policy.policy_no} (a fresh copy of sample {SAMPLE_POLICIES[track]})")
        # the path `claims report` and the API take: a conflicting report of a known number is refused (R-X-2)
        answer, _ = await report_with_decision(client, report, settings.task_queue, settings.report_answer_seconds)
        started = answer is None or answer.created
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


def read_report(path: Path) -> Report:
    return ReportSubmission.model_validate_json(path.read_text(encoding="utf-8")).to_report()


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


async def cmd_search_attributes(settings: Settings, apply: bool) -> None:
    if not apply:
        print("# Register the claim's search attributes on a cluster, once per namespace:")
        for command in operator_commands(settings.namespace, settings.temporal_address):
            print(command)
        return
    client = await connect(settings.temporal_address, settings.namespace, data_converter=data_converter_for(settings))
    added = await register(client, settings.namespace)
    print(f"added: {', '.join(added)}" if added else "all search attributes were already registered")


def cmd_token(settings: Settings, subject: str, roles: list[Role], ttl_minutes: int | None) -> None:
    """Print a signed staff token (stdout: the token alone, for TOKEN=$(claims token …))."""
    if settings.auth.mode != "local":
        raise ValueError(
            f"auth.mode is {settings.auth.mode!r}: staff tokens come from the identity provider "
            f"({settings.auth.oidc_issuer or 'auth.oidc_issuer'}); `claims token` issues tokens in local mode only"
        )
    if not is_code(subject):
        raise ValueError(f"--subject must be a staff code: {CODE_RULE} (steps are recorded by it)")
    if ttl_minutes is not None and not 0 < ttl_minutes <= 7 * 24 * 60:
        raise ValueError("--ttl-minutes must be between 1 and 10080 (7 days)")
    ttl = timedelta(minutes=ttl_minutes or settings.auth.token_ttl_minutes)
    token = local_tokens(settings.auth, settings.data_dir).issue(subject, set(roles), ttl)
    expires = (datetime.now(UTC) + ttl).isoformat(timespec="seconds")
    print(f"token for {subject} ({', '.join(sorted(r.value for r in roles))}), expires {expires}", file=sys.stderr)
    print(token)


def build_parser(prog: str = "claims") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--settings", type=Path, help="settings TOML file")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="dev server + UI + worker + API")
    sub.add_parser("worker", help="the worker alone")
    sub.add_parser("api", help="the HTTP API alone")
    for name in ("load-policies", "load-core"):
        sub.add_parser(name, help="load customers and policies (shape: data/sample/core.json)").add_argument("file", type=Path)
    sp = sub.add_parser("sample-policies", help="fresh copies of the sample policies, each good for a first claim (R-EL-1.2)")
    sp.add_argument("--prefix", required=True, help="numbers <prefix>C000000 (customers) and <prefix>P000000 (policies)")
    sp.add_argument("--count", type=int, default=4, help="how many (default 4)")
    sp.add_argument(
        "--track",
        choices=[t.value for t in Track],
        action="append",
        help="the track each is a copy for, repeat to mix (default A, B, C, D in turn)",
    )
    sp.add_argument("--load", action="store_true", help="load them now (else print the file, shape data/sample/core.json)")
    up = sub.add_parser("upload", help="put a photo or document in the store")
    up.add_argument("file", type=Path)
    up.add_argument("--type", help="content type (default: from the file name)")
    rep = sub.add_parser("report", help="report a claim from a JSON report")
    rep.add_argument("file", type=Path)
    rep.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one claim")
    show.add_argument("report_no")
    show.add_argument("--json", action="store_true")
    ls = sub.add_parser(
        "list",
        help="claims by search attributes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"stages: {', '.join(s.value for s in Stage)}\nsegments: {', '.join(s.value for s in Segment)}\n"
        f"tracks: {', '.join(f'{t.value} ({t.title})' for t in Track)}",
    )
    ls.add_argument("--stage", type=Stage, choices=list(Stage), metavar="STAGE")
    ls.add_argument("--track", type=Track, choices=list(Track), metavar="A|B|C|D")
    ls.add_argument("--segment", type=Segment, choices=list(Segment), metavar="SEGMENT")
    ls.add_argument("--branch")
    ls.add_argument("--overdue", action="store_const", const=True, default=None)
    ls.add_argument("--not-overdue", dest="overdue", action="store_const", const=False)
    ls.add_argument("--payment-due-before", type=datetime.fromisoformat, metavar="ISO_TIME")
    ls.add_argument("--prefix", help="report numbers starting with")
    ls.add_argument("--page-size", type=int, default=50)
    ls.add_argument("--page-token")
    ls.add_argument("--json", action="store_true")
    step = sub.add_parser(
        "step",
        help="record a human step on a track",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="steps (update names; `claims show` prints the next one with an example body):\n  "
        + "\n  ".join(sorted(STEP_MODELS)),
    )
    step.add_argument("report_no")
    step.add_argument("track", choices=[t.value for t in Track], help="A, B, C or D")
    step.add_argument("step", metavar="STEP", help="the step's name (listed below)")
    step.add_argument("payload", nargs="?", default="{}", help="the step as JSON")
    step.add_argument("--by", help="your staff code, recorded in the timeline (default: setting staff_code)")
    demo = sub.add_parser("demo", help="one claim of each track, every step")
    demo.add_argument("--prefix", default="DEMO2026", help="report number prefix (same prefix: same claims)")
    sub.add_parser("codec-server", help="the codec server alone (the Temporal UI decodes claims through it)")
    sa = sub.add_parser("search-attributes", help="register the search attributes on a cluster")
    sa.add_argument("--apply", action="store_true", help="register them now (else print the commands)")
    tok = sub.add_parser("token", help="a staff token for the HTTP API (local mode)")
    tok.add_argument("--subject", required=True, help="the staff code; steps are recorded as done by it")
    tok.add_argument(
        "--role",
        choices=[r.value for r in Role],
        metavar="ROLE",
        action="append",
        required=True,
        help=f"repeat for several: {', '.join(r.value for r in Role)}",
    )
    tok.add_argument("--ttl-minutes", type=int, help="lifetime (default: auth.token_ttl_minutes)")
    add_ops_command(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "claims"
    args = build_parser(prog if prog in ("claims", "premium-claims") else "claims").parse_args(argv)

    try:
        settings = load_settings(args.settings)
    except (SettingsError, FileNotFoundError) as err:  # names the variable, never its value
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    configure_logging(settings.log_format, settings.log_level)
    error = None
    try:
        asyncio.run(dispatch(args, settings))
    except KeyboardInterrupt:
        pass
    except WorkflowUpdateFailedError as err:
        error = f"refused: {refusal_message(err.cause)}"
    except (ReportConflict, ReportRefused, TrackNotTaken) as err:
        error = f"refused: {err}"
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            error = f"not found: {err.message} (is the report number right, and does that track run?)"
        elif "search attribute" in err.message.lower():
            error = f"Temporal refused the call: {err.message} (register them: claims search-attributes --apply)"
        else:
            error = f"Temporal refused the call: {err.message}"
    except ValidationError as err:  # by field, never the value (a report's fields are personal data)
        error = f"invalid input ({err.title}): {field_errors(err.errors())}"
    except (ValueError, FileNotFoundError, CodecError, PortInUse) as err:  # CodecError: names the missing key
        error = f"error: {err}"
    except RuntimeError as err:
        if "client connect" not in str(err):
            raise
        error = f"cannot reach Temporal at {settings.temporal_address} (is `claims run` or the cluster up?)"
    if error:
        print(error, file=sys.stderr)
    # The work is done (a worker has drained, output is written): leave without interpreter
    # finalization, where the SDK's native threads may still run while Python tears its modules
    # down. Seen once in CI: a worker that drained its payment cleanly then died of SIGSEGV (-11).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1 if error else 0)


async def dispatch(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "run":
        return await cmd_run(settings)
    if args.command in ("load-core", "load-policies"):
        return load_core(settings, args.file)
    if args.command == "sample-policies":
        return cmd_sample_policies(settings, args.prefix, args.count, [Track(t) for t in args.track or Track], args.load)
    if args.command == "upload":
        content_type = args.type or mimetypes.guess_type(args.file.name)[0] or "application/octet-stream"
        stored = open_embedded(settings.data_dir).store.put(args.file.read_bytes(), content_type)
        print(stored.sha256)
        return None
    if args.command == "search-attributes":
        return await cmd_search_attributes(settings, args.apply)
    if args.command == "token":
        return cmd_token(settings, args.subject, [Role(r) for r in args.role], args.ttl_minutes)
    if args.command == "api":
        _, docs = api_urls(settings)
        print(f"API docs: {docs}  (Temporal at {settings.temporal_address})", flush=True)
        return await serve(settings, app_from_settings(settings))
    if args.command == "worker":
        runtime = runtime_with_prometheus(settings.metrics_bind)
        return await serve_worker(
            settings, await connect(settings.temporal_address, settings.namespace, runtime, data_converter_for(settings))
        )
    if args.command == "codec-server":
        print(f"Codec server: {settings.codec.endpoint()} (sign in at /login)", flush=True)
        return await serve_codec_server(settings.codec, codec_app(settings))
    report = read_report(args.file) if args.command == "report" else None  # checked before Temporal is asked
    client = await connect(settings.temporal_address, settings.namespace, data_converter=data_converter_for(settings))
    if report is not None:
        await cmd_report(settings, client, report, args.json)
    elif args.command == "show":
        print_claim(await claim_state(client, args.report_no), args.json)
    elif args.command == "list":
        await cmd_list(client, args)
    elif args.command == "step":
        payload = json.loads(args.payload)
        if not isinstance(payload, dict):
            raise ValueError("the step's JSON must be an object, e.g. '{\"accepted\": true}'")
        by = payload.get("by") or args.by or settings.staff_code
        if not by:
            raise ValueError(f"say who takes the step: --by STAFF_CODE, or set {ENV_PREFIX}STAFF_CODE (it goes in the timeline)")
        if args.by and payload.get("by") not in (None, args.by):
            raise ValueError(f'the body says "by": {payload["by"]!r} but --by is {args.by!r}')
        view = await take_step(client, args.report_no, Track(args.track), args.step, {**payload, "by": by})
        print(f"recorded; track {view.track.value} is now at {view.stage.value}")
    elif args.command == "demo":
        await cmd_demo(settings, client, args.prefix)
    elif args.command == "ops":
        await cmd_ops(client, temporal_ui_url(settings), args)
    return None


if __name__ == "__main__":
    main()
