"""`claims cluster up|down|status`: the real Temporal cluster on this machine (dev/cluster.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from cli.command import Command
from config.settings import Settings
from dev.cluster import Cluster
from dev.gobuild import TEMPORAL_SERVER_VERSION


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cluster_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=["up", "down", "status"], help="up: build, start and set up (idempotent); down: stop, data kept"
    )


async def run_cluster(args: argparse.Namespace, settings: Settings) -> None:
    cluster = Cluster(settings.cluster, _say)
    if args.action == "up":
        await _up(cluster, settings)
    elif args.action == "down":
        cluster.down()
    for what, state in cluster.status():
        print(f"{what:<12} {state}")
    if args.action != "down":
        print(f"\nTemporal server {TEMPORAL_SERVER_VERSION} on PostgreSQL, data in {cluster.home}. Point the service at it:")
        target = cluster.client_settings(settings)
        print(f"  export PREMIUM_CLAIMS_TEMPORAL_ADDRESS={target.temporal_address}")
        tls = target.temporal_tls
        for key, value in (
            ("CA_FILE", tls.ca_file),
            ("CERT_FILE", tls.cert_file),
            ("KEY_FILE", tls.key_file),
            ("SERVER_NAME", tls.server_name),
        ):
            if value is not None:
                print(f"  export PREMIUM_CLAIMS_TEMPORAL_TLS__{key}={value}")


async def _up(cluster: Cluster, settings: Settings) -> None:
    # up() runs its own event loop for the namespace job, so it runs beside this one, not in it
    await asyncio.to_thread(cluster.up, settings)


CLUSTER = Command(
    help="the real Temporal cluster on PostgreSQL on this machine (up | down | status)",
    run=run_cluster,
    arguments=cluster_arguments,
)
