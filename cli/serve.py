"""Running the service: `claims run` (dev server + UI + worker + API + codec server in one
process), `claims worker`, `claims api` and `claims codec-server`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import time

from fastapi import FastAPI
from temporalio.client import Client

from activities import open_stores
from api.codec_server import codec_app_from_settings, serve_codec_server
from api.operations import PAGE_PATH as OPERATIONS_PATH
from api.server import api_urls, app_from_settings, serve
from cli.admin import load_core
from cli.cluster import run_on_cluster
from cli.command import Command
from cli.ports import check_free
from client.connect import connect, connect_with_settings, data_converter_for
from config.settings import ENV_PREFIX, Settings
from config.telemetry import runtime_with_prometheus
from dev.devserver import start_dev_server, wait_until_ready
from worker.main import run_until_signalled, worker_from_settings


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


def codec_app(settings: Settings) -> FastAPI:
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
        systems = open_stores(settings)
        if not systems.core.count_policies():
            load_core(settings, settings.sample_core_data)
        base, docs = api_urls(settings.model_copy(update={"temporal_address": address}))
        print(f"API docs:      {docs}")
        print(f"API:           {base}  (health {base}/health, ready {base}/ready)")
        if settings.auth.mode == "local":
            print("API tokens:    claims token --subject AG01 --role agent   (send as Authorization: Bearer …)")
        print(f"Temporal UI:   {settings.ui_url()}")
        print(
            f"Operations:    {base}{OPERATIONS_PATH}  (staff sign in at {base}{OPERATIONS_PATH}/sign-in; `claims ops` in a terminal)"
        )
        print(
            f"Codec server:  {settings.codec.endpoint()}  (to read claims in the UI: docs/operations.md, *Reading claims in the UI*)"
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
    """The UI's codec set-up, the same steps as docs/operations.md's (and the browser test's)."""
    endpoint = settings.codec.endpoint()
    return [
        f"1. claims token --subject AG01 --role agent   (a role that sees personal data); sign in at {endpoint}/login with it",
        f"2. in the UI ({settings.ui_url()}) click the data-encoder icon at the top, choose",
        f'   "Use my browser setting", keep {endpoint}, tick "Include cross-origin credentials", Apply; reload the page',
    ]


# --- the commands -------------------------------------------------------------------------------
def run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="on the real Temporal cluster on PostgreSQL (claims cluster up) instead of the dev server; "
        "PREMIUM_CLAIMS_RUN_WORKERS and PREMIUM_CLAIMS_RUN_API_PROCESSES say how many of each",
    )


async def run_all(args: argparse.Namespace, settings: Settings) -> None:
    if args.cluster:
        await run_on_cluster(settings)
    else:
        await cmd_run(settings)


async def run_worker(args: argparse.Namespace, settings: Settings) -> None:
    runtime = runtime_with_prometheus(settings.metrics_bind)
    await serve_worker(settings, await connect_with_settings(settings, runtime))


async def run_api(args: argparse.Namespace, settings: Settings) -> None:
    _, docs = api_urls(settings)
    print(f"API docs: {docs}  (Temporal at {settings.temporal_address})", flush=True)
    await serve(settings, app_from_settings(settings))


async def run_codec_server(args: argparse.Namespace, settings: Settings) -> None:
    print(f"Codec server: {settings.codec.endpoint()} (sign in at /login)", flush=True)
    await serve_codec_server(settings.codec, codec_app(settings))


RUN = Command(help="dev server + UI + worker + API (--cluster: on the real cluster)", run=run_all, arguments=run_arguments)
WORKER = Command(help="the worker alone", run=run_worker)
API = Command(help="the HTTP API alone", run=run_api)
CODEC_SERVER = Command(help="the codec server alone (the Temporal UI decodes claims through it)", run=run_codec_server)
