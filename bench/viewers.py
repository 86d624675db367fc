"""Viewers of the operations page against the real cluster's visibility limit (issue 21.5).

    .venv/bin/python -m bench.viewers --viewers 20 --seconds 95

Brings up the cluster of dev/cluster.py in a folder of its own (or --home), starts the real API
(`premium-claims api`) against it, and lets `--viewers` people keep `/operations` open: each
loads it when it starts (spread over the first refresh period) and again every 30 s, as the page
reloads itself. Twice in one run: first as the service runs (one summary shared by every viewer,
each call from the process's budget), then as before (each viewer computing its own summary, no
budget). The rates come from the frontend's own metrics (`service_requests` and
`service_errors_resource_exhausted` for CountWorkflowExecutions and ListWorkflowExecutions in the
namespace), read every second: the mean, the largest count in any one second, and the refusals.
The limit is `frontend.namespaceRPS.visibility` (deploy/temporal/dynamicconfig.yaml: 10/s).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import shutil
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.harness import ApiProcess
from config.settings import ClusterSettings, load_settings
from dev.cluster import Cluster
from security.auth import Role

VISIBILITY = ("CountWorkflowExecutions", "ListWorkflowExecutions")
LIMIT = 10  # frontend.namespaceRPS.visibility in deploy/temporal/dynamicconfig.yaml
SHARED = {"VISIBILITY_CALLS_PER_SECOND": "4", "VISIBILITY_BURST": "4", "OPERATIONS_SHARE_SECONDS": "30"}
UNSHARED = {"VISIBILITY_CALLS_PER_SECOND": "1000", "VISIBILITY_BURST": "1000", "OPERATIONS_SHARE_SECONDS": "0"}


@dataclass
class ViewerRun:
    mode: str
    viewers: int
    seconds: float
    pages: int  # pages answered 200
    failed_pages: int
    calls: int  # visibility calls the frontend counted
    mean_per_second: float
    max_in_one_second: int
    refused: int  # ResourceExhausted answers of the frontend

    @property
    def within_limit(self) -> bool:
        return self.refused == 0 and self.max_in_one_second <= LIMIT and self.failed_pages == 0

    def line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in asdict(self).items()) + f" within_limit={self.within_limit}"


def visibility_counters(metrics_url: str, namespace: str = "default") -> tuple[int, int]:
    """(visibility calls, of them refused) as the frontend counts them so far."""
    text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    calls = refused = 0
    for line in text.splitlines():
        if line.startswith("#") or f'namespace="{namespace}"' not in line:
            continue
        if not any(f'operation="{op}"' in line for op in VISIBILITY):
            continue
        value = int(float(line.rsplit(" ", 1)[1]))
        if line.startswith("service_requests{"):
            calls += value
        elif re.match(r"service_errors_resource_exhausted\{", line):
            refused += value
    return calls, refused


async def view(
    cluster: Cluster, work: Path, *, mode: str, viewers: int, seconds: float, refresh: float = 30, seed: int = 1
) -> ViewerRun:
    settings = SHARED if mode == "shared" else UNSHARED
    api = ApiProcess(
        cluster.address, work / mode, "viewers", tls=cluster.client_tls(), settings=settings, log=work / f"api-{mode}.log"
    )
    api.start()
    metrics = f"http://127.0.0.1:{cluster.layout.service('frontend').metrics_port}/metrics"
    rng = random.Random(seed)
    token = api.tokens.issue("OP01", {Role.OPERATIONS})
    pages = failed = 0
    samples: list[tuple[float, int, int]] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            calls, refused = await asyncio.to_thread(visibility_counters, metrics)
            samples.append((time.monotonic(), calls, refused))
            await asyncio.sleep(1.0)

    async def viewer(http: httpx.AsyncClient, began: float) -> None:
        nonlocal pages, failed
        await asyncio.sleep(rng.uniform(0, refresh))
        while time.monotonic() - began < seconds:
            response = await http.get("/operations")
            pages += response.status_code == 200
            failed += response.status_code != 200
            await asyncio.sleep(refresh)

    try:
        sampler = asyncio.create_task(sample())
        await asyncio.sleep(1.5)
        began = time.monotonic()
        async with httpx.AsyncClient(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
            await asyncio.gather(*(viewer(http, began) for _ in range(viewers)))
        elapsed = time.monotonic() - began
        await asyncio.sleep(1.5)
        stop.set()
        await sampler
    finally:
        api.stop()
    calls = samples[-1][1] - samples[0][1]
    refused = samples[-1][2] - samples[0][2]
    per_second = [b[1] - a[1] for a, b in itertools.pairwise(samples)]
    return ViewerRun(
        mode, viewers, round(elapsed, 1), pages, failed, calls, round(calls / elapsed, 2), max(per_second, default=0), refused
    )


async def main_async(args: argparse.Namespace) -> int:
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="viewers-"))
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)
    cluster = Cluster(
        ClusterSettings(home=home, base_port=args.base_port, mtls=True, ui=False), say=lambda line: print(line, file=sys.stderr)
    )
    await asyncio.to_thread(cluster.up, load_settings())
    work = Path(tempfile.mkdtemp(prefix="viewers-work-"))
    runs = []
    try:
        for mode in ("shared", "unshared") if not args.shared_only else ("shared",):
            run = await view(cluster, work, mode=mode, viewers=args.viewers, seconds=args.seconds)
            print(run.line(), flush=True)
            runs.append(run)
            await asyncio.sleep(2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.home:
            cluster.down()
            shutil.rmtree(home, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in runs], indent=2))
    return 0 if runs[0].within_limit else 1


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.viewers", description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=95, help="how long the viewers keep the page open")
    parser.add_argument("--home", help="the cluster's folder (reused, left running)")
    parser.add_argument("--base-port", type=int, default=7700)
    parser.add_argument("--shared-only", action="store_true", help="skip the run as before (each viewer its own summary)")
    parser.add_argument("--json", help="write the runs' figures here")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
