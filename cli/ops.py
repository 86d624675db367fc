"""`claims ops [--since ISO] [--due-before ISO] [--prefix P] [--branch B] [--json]`: the
operations counts (api/operations.py counts them, for the page and for this command)."""

from __future__ import annotations

import argparse
from datetime import datetime

from temporalio.client import Client

from api.operations import TemporalUi, operations_summary, summary_table
from api.server import temporal_ui_url
from cli.command import Command, with_client
from config.settings import Settings


def ops_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=datetime.fromisoformat, metavar="ISO_TIME", help="period start (default: a day ago)")
    parser.add_argument("--due-before", type=datetime.fromisoformat, metavar="ISO_TIME", help="default: end of today, China time")
    parser.add_argument("--prefix", help="report numbers starting with")
    parser.add_argument("--branch")
    parser.add_argument("--json", action="store_true")


async def cmd_ops(client: Client, ui_url: str, args: argparse.Namespace) -> None:
    summary = await operations_summary(
        client,
        TemporalUi(ui_url, client.namespace),
        since=args.since,
        due_before=args.due_before,
        report_no_prefix=args.prefix,
        branch=args.branch,
    )
    print(summary.model_dump_json(indent=2) if args.json else summary_table(summary))


async def run_ops(args: argparse.Namespace, settings: Settings, client: Client) -> None:
    await cmd_ops(client, temporal_ui_url(settings), args)


OPS = Command(
    help="the operations counts: tracks by stage, overdue, due payments, breaches",
    run=with_client(run_ops),
    arguments=ops_arguments,
)
