"""`claims cluster up|down|status`: the real Temporal cluster on this machine (dev/cluster.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys

from activities import open_stores
from cli.admin import load_core
from cli.command import Command
from config.settings import ENV_PREFIX, Settings
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
        for name, value in target.temporal_tls.environment().items():
            print(f"  export {name}={value}")


async def _up(cluster: Cluster, settings: Settings) -> None:
    # up() runs its own event loop for the namespace job, so it runs beside this one, not in it
    await asyncio.to_thread(cluster.up, settings)


CLUSTER = Command(
    help="the real Temporal cluster on PostgreSQL on this machine (up | down | status)",
    run=run_cluster,
    arguments=cluster_arguments,
)


async def run_on_cluster(settings: Settings) -> None:
    """`claims run --cluster`: the cluster up (idempotent), then the service against it as separate
    processes, as hosts would run them: `run_workers` workers, `run_api_processes` APIs on ports
    from api_port up, and the codec server. Ctrl-C stops the service; the cluster keeps running."""
    cluster = Cluster(settings.cluster, _say)
    await asyncio.to_thread(cluster.up, settings)
    target = cluster.client_settings(settings)
    if not open_stores(settings).core.count_policies():
        load_core(settings, settings.sample_core_data)
    env = {**os.environ, **settings_environment(target)}
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    claims = [sys.executable, "-m", "cli.main"]
    try:
        for i in range(settings.run_workers):
            metrics = _shift_port(settings.metrics_bind, i) if settings.metrics_bind else ""
            children.append(
                (f"worker {i + 1}", subprocess.Popen([*claims, "worker"], env={**env, f"{ENV_PREFIX}METRICS_BIND": metrics}))
            )
        for i in range(settings.run_api_processes):
            port = settings.api_port + i
            children.append((f"API :{port}", subprocess.Popen([*claims, "api"], env={**env, f"{ENV_PREFIX}API_PORT": str(port)})))
            print(f"API:           http://{settings.api_host}:{port}/docs")
        children.append(("codec server", subprocess.Popen([*claims, "codec-server"], env=env)))
        print(f"Temporal:      {target.temporal_address} (the cluster; `claims cluster status`)")
        print(
            f"Service:       {settings.run_workers} worker(s), {settings.run_api_processes} API process(es); Ctrl-C stops them",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        while not stop.is_set():
            for name, child in children:
                if child.poll() is not None:
                    raise RuntimeError(f"{name} stopped (exit {child.returncode}); see its output above")
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass
    finally:
        for _, child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for _, child in children:
            try:
                child.wait(timeout=settings.graceful_shutdown_seconds + 10)
            except subprocess.TimeoutExpired:
                child.kill()


def settings_environment(settings: Settings) -> dict[str, str]:
    """The variables that give a child process these settings' Temporal connection."""
    env = {f"{ENV_PREFIX}TEMPORAL_ADDRESS": settings.temporal_address, f"{ENV_PREFIX}NAMESPACE": settings.namespace}
    env.update(settings.temporal_tls.environment())
    return env


def _shift_port(bind: str, by: int) -> str:
    host, _, port = bind.rpartition(":")
    return f"{host}:{int(port) + by}"
