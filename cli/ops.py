"""`claims ops [--since ISO] [--due-before ISO] [--prefix P] [--branch B] [--json]`: the
operations counts (client/operations.py counts them, for the API's page and for this command) as a table."""

from __future__ import annotations

import argparse
from datetime import datetime

from temporalio.client import Client

from cli.command import Command, time_with_offset, with_client
from cli.show import china
from client.operations import OperationsSummary, TemporalUi, operations_summary
from client.visibility import VisibilityBudget
from config.settings import Settings


def ops_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=time_with_offset, metavar="ISO_TIME", help="period start (default: a day ago)")
    parser.add_argument("--due-before", type=time_with_offset, metavar="ISO_TIME", help="default: end of today, China time")
    parser.add_argument("--prefix", help="report numbers starting with")
    parser.add_argument("--branch")
    parser.add_argument("--json", action="store_true")


def minute(at: datetime) -> str:
    """A time in the table: China time, to the minute, as `claims show` reads its times."""
    return china(at)[:16]


def summary_table(summary: OperationsSummary) -> str:
    """The summary as a terminal reads it: tracks, stages, due payments, overdue tracks."""
    lines = [
        f"operations at {minute(summary.at)}; period since {minute(summary.since)};"
        f" payments due before {minute(summary.due_before)}   (times in China time, UTC+08:00)",
        "",
        f"{'track':<6}{'open':>6}{'overdue':>9}{'missed':>8}{'paid ok':>9}{'late':>6}{'in time':>9}",
    ]
    for t in summary.tracks:
        share = f"{t.in_time_share:.0%}" if t.in_time_share is not None else "-"
        lines.append(
            f"{t.track.value:<6}{t.open.count:>6}{t.overdue.count:>9}{t.deadlines_missed.count:>8}"
            f"{t.paid_in_time.count:>9}{t.paid_late.count:>6}{share:>9}"
        )
    lines += ["", f"{'track':<6}{'stage':<28}{'open':>6}{'overdue':>9}"]
    lines += [f"{c.track.value:<6}{c.stage.value:<28}{c.open.count:>6}{c.overdue.count:>9}" for c in summary.stages]
    lines += ["", f"payments due: {summary.payments_due.count} (late: {summary.payments_late.count})"]
    lines += [f"  {r.report_no:<24}{r.track:<3}{minute(r.at)}" for r in summary.due if r.at]
    lines += [f"overdue tracks, oldest first: {len(summary.overdue)}"]
    lines += [
        f"  {r.report_no:<24}{r.track:<3}{r.stage or '-':<28}since {minute(r.at)}"
        if r.at
        else f"  {r.report_no:<24}{r.track:<3}{r.stage or '-'}"
        for r in summary.overdue
    ]
    return "\n".join(lines)


async def cmd_ops(client: Client, ui_url: str, args: argparse.Namespace, budget: VisibilityBudget | None = None) -> None:
    summary = await operations_summary(
        client,
        TemporalUi(ui_url, client.namespace),
        since=args.since,
        due_before=args.due_before,
        report_no_prefix=args.prefix,
        branch=args.branch,
        budget=budget,
    )
    print(summary.model_dump_json(indent=2) if args.json else summary_table(summary))


async def run_ops(args: argparse.Namespace, settings: Settings, client: Client) -> None:
    budget = VisibilityBudget(settings.visibility_calls_per_second, settings.visibility_burst)
    await cmd_ops(client, settings.ui_url(), args, budget)


OPS = Command(
    help="the operations counts: tracks by stage, overdue, due payments, breaches",
    run=with_client(run_ops),
    arguments=ops_arguments,
)
