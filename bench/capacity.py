"""Capacity benchmark: throughput against a bare baseline, a catastrophe surge through the API,
open claims held by a worker, history sizes, and one against two worker processes.

    .venv/bin/python -m bench.capacity                # the sizes of issue 6 (long on 2 cores)
    .venv/bin/python -m bench.capacity --quick        # small sizes, a few minutes
    .venv/bin/python -m bench.capacity --claims 200 --surge 2000 --open 4000 --json out.json
    .venv/bin/python -m bench.capacity --only throughput --before HEAD   # and with HEAD's workflows/
    .venv/bin/python -m bench.capacity --only throughput,history

Every section starts its own Temporal dev server (headless, temp folder, free ports) and the
real processes: `premium-claims worker` (one or two), `premium-claims api` for the surge, and
`python -m bench.bare` for the baseline. The load comes from this process. Claims are a mix of
tracks (A 3 : B 4 : C 1 : D 2), each on its own copy of the sample policy for its track, so every
claim is the first on its policy (R-EL-1.2). Human steps are taken as soon as the track takes
them, as client.claims.drive does: a step's answer shows the track's next stage, and the track is
asked (a query, no history) only while it is busy elsewhere (starting, paying).

Prints one table (and writes JSON with --json). Figures depend on the machine: docs/capacity.md has
the latest run with its date and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities import open_embedded
from activities.core_system import CoreData
from bench.bare import BarePlan, child_id
from bench.harness import ROOT, SAMPLE, WorkerProcess, temp_cluster, wait_http
from bench.progress import Progress
from client.claims import drive, report_claim, take_step
from client.connect import connect
from config.settings import ClusterSettings, Settings, load_settings
from dev.cluster import Cluster as RealCluster
from dev.cluster import free_base_port
from dev.devserver import free_port
from dev.processes import stop_process
from dev.scenarios import DEMO_PHOTO, fresh_policies, sample_reports, steps_for
from domain.models import Report, Track
from security.auth import Role, local_tokens
from security.codec import environment_for_child
from workflows.messages import TRACK_WORKFLOW_TYPES, ClaimView, track_workflow_id

MIX = {Track.AUTHORISATION: 3, Track.CREDIT: 4, Track.EXPERT_TEAM: 1, Track.INJURY: 2}

FILL_BATCH = 500  # open claims are started this many at a time, each batch waiting before the next

SIZES = {
    "full": dict(claims=200, surge=10_000, open=20_000),
    "quick": dict(claims=20, surge=200, open=300),
}


# --- claims of the mix ------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    report: Report
    track: Track


def mix(count: int) -> list[Track]:
    wheel = [t for t, n in MIX.items() for _ in range(n)]
    return [wheel[i % len(wheel)] for i in range(count)]


def load_claims(data_dir: Path, tracks: list[Track], prefix: str) -> list[Claim]:
    """One policy and customer per claim, copied from the sample policy of its track, and the
    sample report of that track on it."""
    sample = CoreData.model_validate_json(SAMPLE.read_text(encoding="utf-8"))
    core = fresh_policies(sample, tracks, prefix, date.today())
    now = datetime.now(UTC)
    claims = []
    for i, (track, policy) in enumerate(zip(tracks, core.policies, strict=True)):
        report = sample_reports(f"{prefix}{i:06d}", now)[track.value]
        claims.append(Claim(report.model_copy(update={"report_no": f"{prefix}-{i:06d}", "policy_no": policy.policy_no}), track))
    open_embedded(data_dir).core.load(core)
    return claims


def photo_in_store(data_dir: Path) -> str:
    return open_embedded(data_dir).store.put(DEMO_PHOTO, "image/png").sha256


def claim_steps(claim: Claim, photo: str, single_documents: bool = False) -> list[tuple[Any, str, Any]]:
    """The claim's human steps; with `single_documents` each document is a step of its own
    (receive_document), as workflows before receive_documents take them."""
    steps = steps_for(claim.track, claim.report, photo_sha256=photo)
    if not single_documents:
        return steps
    return [
        one
        for stage, name, payload in steps
        for one in (
            [(stage, "receive_document", {**d, "by": payload.get("by")}) for d in payload["documents"]]
            if name == "receive_documents"
            else [(stage, name, payload)]
        )
    ]


def plan_of(claim: Claim, photo: str, single_documents: bool = False, lookup_activity: bool = False) -> BarePlan:
    """What a claim of this track does, for the bare baseline: its updates, its ordinary activity
    (the payment) and its local ones (rules, policy lookup, file checks, SMS, callback book); with
    `lookup_activity`, the policy lookup is an ordinary activity, as on workflows before the
    decision-in-answer patch."""
    steps = claim_steps(claim, photo, single_documents)
    file_checks = sum(
        1
        for _, _, payload in steps  # one check per step that refers to stored files
        if payload.get("sha256") or any(d.get("sha256") for d in payload.get("documents", ()))
    )
    sms = 1 if claim.track is Track.INJURY else 0
    lookup_local = 0 if lookup_activity else 1
    return BarePlan(updates=len(steps), activities=2 - lookup_local, local_activities=1 + lookup_local + file_checks + 1 + sms)


POLLS = Counter[str]()  # looks at a busy track (is it ready?), per section
# how often the driver looks at a busy track: staff glance at the screen, not 10 times a second;
# fewer looks leave the server to the claims (50 drivers looking every 0.5 s doubled its requests)
PACE = (0.5, 1.0)


async def run_claim(
    client: Client, claim: Claim, task_queue: str, photo: str, single_documents: bool = False, timeout: float = 600
) -> ClaimView:
    handle, _ = await report_claim(client, claim.report, task_queue)
    steps = claim_steps(claim, photo, single_documents)
    await drive(client, claim.report.report_no, claim.track, steps, timeout=timeout, polls=POLLS, pace=PACE)
    return await asyncio.wait_for(handle.result(), timeout)


async def run_bare(client: Client, plan: BarePlan, workflow_id: str, task_queue: str) -> None:
    handle = await client.start_workflow("BareClaim", plan, id=workflow_id, task_queue=task_queue)
    for n in range(plan.updates):
        await handle.execute_update("step", n, result_type=int)
    await handle.result()


async def run_bare_pair(client: Client, plan: BarePlan, workflow_id: str, task_queue: str) -> None:
    """BarePair: the updates go to the child, looked for at the driver's pace until it is there
    (as the driver looks for a track its claim is starting)."""
    parent = await client.start_workflow("BarePair", plan, id=workflow_id, task_queue=task_queue)
    child = client.get_workflow_handle(child_id(workflow_id))
    pause = PACE[0]
    for n in range(plan.updates):
        while True:
            try:
                await child.execute_update("step", n, result_type=int)
                break
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                POLLS["bare pair polls"] += 1
                await asyncio.sleep(pause)
                pause = min(pause * 1.5, PACE[1])
    await parent.result()


async def bounded(items: list[Any], limit: int, work: Callable[[Any], Awaitable[Any]], what: str = "claims") -> list[Any]:
    gate = asyncio.Semaphore(limit)
    progress = Progress(len(items), what)  # on a terminal only

    async def one(item: Any) -> Any:
        async with gate:
            return await progress.counted(work(item))

    return await asyncio.gather(*(one(i) for i in items))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) a process has used so far; this process without `pid`."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(c: Cluster) -> list[int]:
    """What serves the claims: the dev server, or the real cluster's services and PostgreSQL's processes."""
    if c.real is None:
        return [server_pid(c.address)]
    services = [pid for s in c.real.layout.services() if (pid := c.real.pid(s.name)) is not None]
    postgres = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _is_postgres(p)]
    return services + postgres


def _is_postgres(proc: Path) -> bool:
    try:
        return (proc / "comm").read_text().strip() == "postgres"
    except OSError:
        return False


def server_pid(address: str) -> int:
    """The dev server listening on `address` (started by temp_cluster), found by its command line."""
    port = address.rpartition(":")[2]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"start-dev" in args and port.encode() in args:
            return int(proc.name)
    raise RuntimeError(f"no dev server process for {address}")


class CpuMeter:
    """CPU milliseconds per claim of the server, the workers and this load process over one phase:
    where the machine's two cores go (the ratio alone does not say whose work grew)."""

    def __init__(self, server: list[int], workers: list[int]) -> None:
        self.pids: dict[str, list[int | None]] = {"server": list(server), "workers": list(workers), "load": [None]}
        self.start = self._now()

    def _now(self) -> dict[str, float]:
        return {k: sum(_cpu_or_zero(p) for p in pids) for k, pids in self.pids.items()}

    def per_claim(self, claims: int) -> dict[str, int]:
        now = self._now()
        spent = {k: round((now[k] - self.start[k]) * 1000 / claims) for k in now}
        return {**spent, "total": sum(spent.values())}


def _cpu_or_zero(pid: int | None) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:  # a PostgreSQL backend that has ended since
        return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- a fresh cluster per section ----------------------------------------------------------------
@dataclass
class Cluster:
    client: Client
    address: str
    work: Path
    data_dir: Path
    task_queue: str
    log: bool
    procs: list[Any] = field(default_factory=list)
    real: RealCluster | None = None  # the real cluster on PostgreSQL (--engine cluster), else the dev server

    def worker(self, cache: int | None = None, code: Path | None = None, pollers: int | None = None) -> WorkerProcess:
        proc = WorkerProcess(
            self.address,
            self.data_dir,
            self.task_queue,
            None,
            log=self.work / f"worker-{len(self.procs)}.log" if self.log else None,
        )
        if cache is not None:
            proc.env["PREMIUM_CLAIMS_MAX_CACHED_WORKFLOWS"] = str(cache)
        if pollers is not None:  # workflow and activity task long polls (SDK default 5 each)
            proc.env["PREMIUM_CLAIMS_WORKFLOW_TASK_POLLERS"] = str(pollers)
            proc.env["PREMIUM_CLAIMS_ACTIVITY_TASK_POLLERS"] = str(pollers)
        if code is not None:  # another version of the workflow code (the "before" of a tuning)
            proc.env["PYTHONPATH"] = str(code)
        proc.start()
        self.procs.append(proc)
        return proc

    def spawn(self, args: list[str], env: dict[str, str] | None = None, name: str = "proc") -> subprocess.Popen:
        out = open(self.work / f"{name}.log", "ab") if self.log else subprocess.DEVNULL
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if isinstance(proc, WorkerProcess):
                proc.stop()
            else:
                stop_process(proc, 15)
        self.procs.clear()


@asynccontextmanager
async def cluster(name: str, keep: bool, pragmas: dict[str, str] | None = None, engine: str = "dev") -> AsyncIterator[Cluster]:
    """A fresh dev server (its SQLite file takes `pragmas`: None the settings' default, {} SQLite's
    own), or with engine "cluster" a fresh real cluster on PostgreSQL (dev/cluster.py, no TLS so
    the engines compare alike, no UI) in a temporary folder."""
    if engine == "cluster":
        home = Path(tempfile.mkdtemp(prefix=f"capacity-{name}-cluster-"))
        home.chmod(0o711)
        real = RealCluster(
            ClusterSettings(home=home, base_port=free_base_port(), ui=False), say=lambda line: print(line, file=sys.stderr)
        )
        try:
            await asyncio.to_thread(real.up, load_settings())
            client = await connect(real.address)
            data_dir = home / "data"
            data_dir.mkdir()
            c = Cluster(client, real.address, home, data_dir, f"capacity-{name}", keep, real=real)
            try:
                yield c
            finally:
                c.stop_all()
        finally:
            await asyncio.to_thread(real.down)
            if not keep:
                shutil.rmtree(home, ignore_errors=True)
        return
    async with temp_cluster(f"capacity-{name}-", keep, ui=False, sqlite_pragmas=pragmas) as (client, address, work):
        data_dir = work / "data"
        data_dir.mkdir(parents=True)
        c = Cluster(client, address, work, data_dir, f"capacity-{name}", keep)
        try:
            yield c
        finally:
            c.stop_all()


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.5) -> float:
    began = time.monotonic()
    while not await check():
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"not reached within {timeout:.0f}s")
        await asyncio.sleep(every)
    return time.monotonic() - began


async def count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


def decided_query(prefix: str) -> str:
    """Claims whose tracks are decided: the claim's stage has left `deciding` (visibility only)."""
    return f"WorkflowType = 'Claim' AND ReportNo STARTS_WITH '{prefix}' AND ClaimStage != 'deciding'"


# --- sections -----------------------------------------------------------------------------------
Row = dict[str, Any]


async def throughput(
    claims: int,
    processes: int,
    concurrency: int,
    keep: bool,
    code: Path | None = None,
    label: str = "",
    pollers: int | None = None,
    pragmas: dict[str, str] | None = None,
    engine: str = "dev",
) -> Row:
    """`claims` claims of the mix driven to callback, then as many bare workflows, same server."""
    POLLS.clear()
    async with cluster(f"throughput{processes}", keep, pragmas, engine) as c:
        prefix = "T" + uuid.uuid4().hex[:6].upper()
        batch = load_claims(c.data_dir, mix(claims), prefix)
        photo = photo_in_store(c.data_dir)
        workers = [c.worker(code=code, pollers=pollers) for _ in range(processes)]
        await asyncio.sleep(2)  # the workers connect and poll
        server = server_pids(c)
        meter = CpuMeter(server, [w.proc.pid for w in workers if w.proc])
        began = time.monotonic()
        single = code is not None  # workflows of another commit: documents one at a time, as they all take them
        views = await bounded(batch, concurrency, lambda cl: run_claim(c.client, cl, c.task_queue, photo, single))
        claim_s = time.monotonic() - began
        cpu = {"claims": meter.per_claim(claims)}
        paid = sum(1 for v in views for t in v.tracks.values() if t.payment and t.payment.payment_id)
        rss = [round(rss_mb(w.proc.pid)) for w in workers if w.proc]
        for w in workers:
            w.stop()
        bare_tq = c.task_queue + "-bare"
        bare_workers = [
            c.spawn([sys.executable, "-m", "bench.bare", "--address", c.address, "--task-queue", bare_tq], name=f"bare-{i}")
            for i in range(processes)
        ]
        await asyncio.sleep(2)
        plans = [(plan_of(cl, photo, single, lookup_activity=single), f"bare-{prefix}-{i}") for i, cl in enumerate(batch)]
        meter = CpuMeter(server, [p.pid for p in bare_workers])
        began = time.monotonic()
        await bounded(plans, concurrency, lambda p: run_bare(c.client, p[0], p[1], bare_tq), "bare claims")
        bare_s = time.monotonic() - began
        cpu["bare"] = meter.per_claim(claims)
        meter = CpuMeter(server, [p.pid for p in bare_workers])
        began = time.monotonic()
        await bounded(plans, concurrency, lambda p: run_bare_pair(c.client, p[0], "pair-" + p[1], bare_tq), "bare pairs")
        pair_s = time.monotonic() - began
        cpu["bare pair"] = meter.per_claim(claims)
        histories = await history_sizes(c.client, batch, bare=[p[1] for p in plans])
    per_s, bare_per_s, pair_per_s = claims / claim_s, claims / bare_s, claims / pair_s
    return dict(
        section="throughput",
        label=label,
        engine=engine,
        processes=processes,
        polls=POLLS["polls"],
        bare_pair_polls=POLLS["bare pair polls"],
        claims=claims,
        tracks=dict(Counter(cl.track.value for cl in batch)),
        paid=paid,
        seconds=round(claim_s, 1),
        claims_per_s=round(per_s, 2),
        bare_seconds=round(bare_s, 1),
        bare_per_s=round(bare_per_s, 2),
        ratio=round(per_s / bare_per_s, 2),
        bare_pair_seconds=round(pair_s, 1),
        bare_pair_per_s=round(pair_per_s, 2),
        ratio_to_pair=round(per_s / pair_per_s, 2),
        cpu_ms_per_claim=cpu,
        worker_rss_mb=rss,
        history=histories,
    )


async def history_sizes(client: Client, batch: list[Claim], per_track: int = 5, bare: list[str] | None = None) -> dict[str, Any]:
    """Events per workflow type, over a few closed claims of each track; per claim (claim and
    track together) also by event type and in bytes, beside the bare workflows of the same claims
    (`bare`: their IDs, in the order of `batch`)."""
    picked: dict[Track, list[int]] = {}
    for i, cl in enumerate(batch):
        picked.setdefault(cl.track, [])
        if len(picked[cl.track]) < per_track:
            picked[cl.track].append(i)
    sizes: dict[str, list[int]] = {}
    tasks: dict[str, list[int]] = {}
    types: dict[str, Counter[str]] = {"claim+track (all)": Counter(), "bare (same claims)": Counter()}
    size_bytes: dict[str, list[int]] = {"claim+track (all)": [], "bare (same claims)": []}
    for track, indexes in picked.items():
        for i in indexes:
            cl = batch[i]
            workflows = [
                (f"Claim ({track.value})", "claim+track (all)", f"claim-{cl.report.report_no}"),
                (f"track {track.value}", "claim+track (all)", track_workflow_id(cl.report.report_no, track)),
            ]
            if bare:
                workflows.append(("bare", "bare (same claims)", bare[i]))
            per_claim_bytes: Counter[str] = Counter()
            for kind, whole, wid in workflows:
                history = await client.get_workflow_handle(wid).fetch_history()
                sizes.setdefault(kind, []).append(len(history.events))
                tasks.setdefault(kind, []).append(
                    sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
                )
                types[whole].update(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events)
                per_claim_bytes[whole] += sum(e.ByteSize() for e in history.events)
            for whole, n in per_claim_bytes.items():
                size_bytes[whole].append(n)
    out: dict[str, dict[str, Any]] = {
        k: dict(mean=round(statistics.mean(v), 1), max=max(v), tasks=round(statistics.mean(tasks[k]), 1))
        for k, v in sorted(sizes.items())
    }
    per_claim = [sizes[f"Claim ({t.value})"][i] + sizes[f"track {t.value}"][i] for t in picked for i in range(len(picked[t]))]
    tasks_per_claim = [
        tasks[f"Claim ({t.value})"][i] + tasks[f"track {t.value}"][i] for t in picked for i in range(len(picked[t]))
    ]
    out["claim+track (all)"] = dict(
        mean=round(statistics.mean(per_claim), 1), max=max(per_claim), tasks=round(statistics.mean(tasks_per_claim), 1)
    )
    picked_n = sum(len(v) for v in picked.values())
    for whole, counted in types.items():
        if size_bytes[whole]:
            out.setdefault(whole, {})
            out[whole]["bytes"] = round(statistics.mean(size_bytes[whole]))
            out[whole]["by_type"] = {k: round(n / picked_n, 1) for k, n in counted.most_common()}
    return out


async def surge(
    reports: int,
    concurrency: int,
    agents: int,
    keep: bool,
    rate: float | None = None,
    pragmas: dict[str, str] | None = None,
    cache: int | None = None,
    engine: str = "dev",
    api_processes: int = 1,
) -> Row:
    """`reports` POST /claims, each answered with its claim's decision, taken by `agents` 95500
    agents, each with a staff token of its own (the API limits requests per caller: a 429 counts
    as not accepted); at most `concurrency` in flight, and with `rate` at most that many started
    per second (an open-loop arrival rate: latency at a sustained rate, not under a queue).

    Then, from visibility alone: every accepted report is one claim (lost: accepted with no claim;
    duplicated: a number with more than one claim or a track started twice), and the time from
    the surge's start until every claim has left `deciding`."""
    async with cluster("surge", keep, pragmas, engine) as c:
        prefix = "S" + uuid.uuid4().hex[:6].upper()
        batch = load_claims(c.data_dir, mix(reports), prefix)
        settings = Settings(data_dir=c.data_dir)
        issuer = local_tokens(settings.auth, settings.data_dir)
        tokens = [issuer.issue(f"AG{i:04d}", {Role.AGENT}) for i in range(agents)]
        bases = await _start_apis(c, api_processes)
        c.worker(cache)
        await asyncio.sleep(2)  # the worker connects and polls
        agent_of = {cl.report.report_no: tokens[i % agents] for i, cl in enumerate(batch)}
        base_of = {cl.report.report_no: bases[i % len(bases)] for i, cl in enumerate(batch)}
        answers = await _post_reports(batch, agent_of, base_of, concurrency, rate)
        latencies, statuses, slow, accept_s = answers.latencies, answers.statuses, answers.slow, answers.seconds
        with_decision, accepted_nos = answers.with_decision, answers.accepted
        accepted = len(accepted_nos)
        print(f"surge: {dict(statuses)} in {accept_s:.1f} s; waiting for every claim's tracks to be decided", flush=True)
        decided_s = await wait_for(lambda: _all(c.client, decided_query(prefix), accepted), timeout=max(600, reports))
        decided_s += accept_s
        claims_seen = await count(c.client, f"WorkflowType = 'Claim' AND ReportNo STARTS_WITH '{prefix}'")
        types = ", ".join(f"'{t}'" for t in TRACK_WORKFLOW_TYPES.values())
        tracks_seen = await count(c.client, f"WorkflowType IN ({types}) AND ReportNo STARTS_WITH '{prefix}'")
    # every claim of the mix takes exactly one track
    return dict(
        section="surge",
        engine=engine,
        api_processes=api_processes,
        reports=reports,
        concurrency=concurrency,
        agents=agents,
        rate=rate,
        accepted=accepted,
        statuses={str(k): v for k, v in sorted(statuses.items())},
        with_decision=with_decision,
        accept_seconds=round(accept_s, 1),
        accepted_per_s=round(accepted / accept_s, 1),
        p50_ms=round(pct(latencies, 0.5) * 1000),
        p90_ms=round(pct(latencies, 0.9) * 1000),
        p95_ms=round(pct(latencies, 0.95) * 1000),
        p99_ms=round(pct(latencies, 0.99) * 1000),
        max_ms=round(max(latencies) * 1000) if latencies else None,
        slow_by_10s={str(k): v for k, v in sorted(slow.items())},
        all_decided_s=round(decided_s, 1),
        claims=claims_seen,
        tracks=tracks_seen,
        lost=max(0, accepted - claims_seen),
        duplicated=max(0, claims_seen - accepted) + max(0, tracks_seen - accepted),
    )


async def _start_apis(c: Cluster, count: int) -> list[str]:
    """`count` API processes (`premium-claims api`) on the cluster, each on a port of its own; their base URLs."""
    (c.work / "no-settings.toml").write_text("")
    bases = []
    mine = load_settings()  # the keyring of this process's clients, as WorkerProcess passes it on
    for n in range(count):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREMIUM_CLAIMS_")}
        env.update(
            PREMIUM_CLAIMS_TEMPORAL_ADDRESS=c.address,
            PREMIUM_CLAIMS_DATA_DIR=str(c.data_dir),
            PREMIUM_CLAIMS_TASK_QUEUE=c.task_queue,
            PREMIUM_CLAIMS_API_PORT=str(port),
            PREMIUM_CLAIMS_API_HOST="127.0.0.1",
            PREMIUM_CLAIMS_LOG_LEVEL="WARNING",
            PREMIUM_CLAIMS_SETTINGS=str(c.work / "no-settings.toml"),
        )
        env.update(environment_for_child(mine.codec, mine.data_dir))
        api = subprocess.Popen(
            [*_cli(), "api"],
            cwd=ROOT,
            env=env,
            stdout=open(c.work / f"api-{n}.log", "ab") if c.log else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        c.procs.append(api)
        bases.append(f"http://127.0.0.1:{port}")
        await asyncio.to_thread(wait_http, bases[-1] + "/ready", api, 60)
    return bases


@dataclass
class SurgeAnswers:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    slow: Counter[int] = field(default_factory=Counter)  # answers over 1 s, by the 10 s window they were asked in
    accepted: set[str] = field(default_factory=set)  # report numbers answered 200, 201 or 202
    with_decision: int = 0
    seconds: float = 0.0


async def _post_reports(
    batch: list[Claim], agent_of: dict[str, str], base_of: dict[str, str], concurrency: int, rate: float | None
) -> SurgeAnswers:
    """Every report POSTed by its agent to its API, at most `concurrency` at once and, with `rate`,
    started at most that many per second; what came back."""
    answers = SurgeAnswers()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers={"content-type": "application/json"}, limits=limits, timeout=120) as http:

        async def post(cl: Claim) -> None:
            t0 = time.monotonic()
            try:
                r = await http.post(
                    base_of[cl.report.report_no] + "/claims",
                    content=cl.report.model_dump_json(),
                    headers={"authorization": f"Bearer {agent_of[cl.report.report_no]}"},
                )
                answers.statuses[r.status_code] += 1
                if r.status_code in (200, 201, 202):
                    answers.accepted.add(cl.report.report_no)
                if r.status_code in (200, 201) and r.json().get("decision") is not None:
                    answers.with_decision += 1
            except httpx.HTTPError:
                answers.statuses[0] += 1
            answers.latencies.append(time.monotonic() - t0)
            if answers.latencies[-1] > 1.0:
                answers.slow[int((t0 - began) // 10) * 10] += 1

        began = time.monotonic()
        gate = asyncio.Semaphore(concurrency)
        progress = Progress(len(batch), "reports posted")  # on a terminal only

        async def paced(i: int, cl: Claim) -> None:
            if rate:
                await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
            async with gate:
                await progress.counted(post(cl))

        await asyncio.gather(*(paced(i, cl) for i, cl in enumerate(batch)))
        answers.seconds = time.monotonic() - began
    return answers


async def _all(client: Client, query: str, wanted: int) -> bool:
    return await count(client, query) >= wanted


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("premium-claims")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


async def open_claims(total: int, cache: int, small_cache: int, concurrency: int, keep: bool, probes: int = 20) -> Row:
    """`total` track-B claims left waiting for the customer's acceptance (R-B-1): the worker's RSS
    at half and all of them, the latency of one step among them, then the same with a small cache."""
    async with cluster("open", keep) as c:
        prefix = "O" + uuid.uuid4().hex[:6].upper()
        batch = load_claims(c.data_dir, [Track.CREDIT] * total, prefix)
        worker = c.worker(cache)
        await asyncio.sleep(2)
        assert worker.proc is not None
        rss: dict[str, float] = {"idle": round(rss_mb(worker.proc.pid))}
        began = time.monotonic()
        half = total // 2
        # each track keeps its own stage (TRACK_INDEX_PATCH)
        waiting = (
            f"WorkflowType = '{TRACK_WORKFLOW_TYPES[Track.CREDIT]}' AND ReportNo STARTS_WITH '{prefix}' "
            "AND ClaimStage = 'awaiting_acceptance'"
        )
        started = 0
        for label, upto in (("half", half), ("all", total)):
            # in batches: claims pile up waiting for people, not in the server's task queues
            while started < upto:
                chunk = batch[started : min(upto, started + FILL_BATCH)]
                await bounded(chunk, concurrency, lambda cl: report_claim(c.client, cl.report, c.task_queue))
                started += len(chunk)
                # open: each track has told its claim it waits for the customer (visibility only)
                await wait_for(functools.partial(_all, c.client, waiting, started), timeout=max(900, total))
            rss[label] = round(rss_mb(worker.proc.pid))
            print(
                f"open: {half if label == 'half' else total} claims waiting after {time.monotonic() - began:.0f} s, "
                f"worker RSS {rss[label]} MB",
                flush=True,
            )
        fill_s = time.monotonic() - began
        running = await count(c.client, "WorkflowType = 'SmallClaimCredit' AND ExecutionStatus = 'Running'")
        rng = random.Random(7)
        probe = rng.sample(batch, min(probes * 2, len(batch)))
        step_ms = await _probe_steps(c.client, probe[:probes])
        rss["after_steps"] = round(rss_mb(worker.proc.pid))
        worker.terminate()  # a drained worker gives its sticky queues back: no wait for a dead one
        c.procs.remove(worker)
        small = c.worker(small_cache)
        await asyncio.sleep(2)
        assert small.proc is not None
        small_ms = await _probe_steps(c.client, probe[probes:])
        small_rss = round(rss_mb(small.proc.pid))
    return dict(
        section="open",
        claims=total,
        running_tracks=running,
        fill_seconds=round(fill_s, 1),
        cache=cache,
        rss_mb=rss,
        step_p50_ms=round(pct(step_ms, 0.5)),
        step_max_ms=round(max(step_ms)),
        small_cache=small_cache,
        small_rss_mb=small_rss,
        small_step_p50_ms=round(pct(small_ms, 0.5)),
        small_step_max_ms=round(max(small_ms)),
    )


async def _probe_steps(client: Client, claims: list[Claim]) -> list[float]:
    """One step at a time (accept_offer), each on a claim among the open ones: its latency in ms."""
    out = []
    for cl in claims:
        t0 = time.monotonic()
        await take_step(client, cl.report.report_no, Track.CREDIT, "accept_offer", {"accepted": True, "by": "AG01"})
        out.append((time.monotonic() - t0) * 1000)
    return out


def before_code(into: Path, ref: str) -> None:
    """The project as it is, but with the workflow code of git `ref`: the "before" of a change to
    the workflows, run by the same worker, client and settings (reads git, changes nothing)."""
    for package in ("domain", "workflows", "activities", "worker", "api", "security", "gateway", "data"):
        if (ROOT / package).exists():
            shutil.copytree(ROOT / package, into / package, ignore=shutil.ignore_patterns("__pycache__", "run"))
    shutil.rmtree(into / "workflows")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "workflows"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


# --- the table ----------------------------------------------------------------------------------
def table(rows: list[Row]) -> str:
    lines = [f"{'benchmark':<34} {'measured':<62}", "-" * 97]
    for r in rows:
        s = r["section"]
        if s == "throughput":
            lines.append(
                f"{'throughput, ' + str(r['processes']) + ' worker process(es)' + r['label']:<34} "
                f"{r['claims']} claims {r['tracks']}: {r['claims_per_s']} claims/s ({r['seconds']} s); "
                f"bare {r['bare_per_s']}/s; ratio {r['ratio']}; {r['polls']} polls; worker RSS {r['worker_rss_mb']} MB"
            )
            if "bare_pair_per_s" in r:
                lines.append(
                    f"{'  bare as parent + child':<34} {r['bare_pair_per_s']}/s ({r['bare_pair_seconds']} s); "
                    f"ratio to it {r['ratio_to_pair']}"
                )
            for phase, ms in r.get("cpu_ms_per_claim", {}).items():
                lines.append(
                    f"{'  CPU ms per claim, ' + phase:<34} server {ms['server']}, workers {ms['workers']}, "
                    f"load {ms['load']}: {ms['total']}"
                )
        elif s == "surge":
            pace = f", offered {r['rate']}/s" if r.get("rate") else ""
            lines.append(
                f"{'surge, POST /claims' + r.get('label', ''):<34} {r['accepted']}/{r['reports']} accepted at "
                f"{r['accepted_per_s']}/s ({r['agents']} agents, {r['concurrency']} at once{pace}); "
                f"{r['with_decision']} answered with the decision; p50 {r['p50_ms']} ms, p90 {r.get('p90_ms')} ms, p99 {r['p99_ms']} ms; "
                f"all decided after {r['all_decided_s']} s; lost {r['lost']}, duplicated {r['duplicated']}"
            )
        elif s == "open":
            lines.append(
                f"{'open claims, cache ' + str(r['cache']):<34} {r['claims']} waiting: worker RSS "
                f"{r['rss_mb']['half']} MB at {r['claims'] // 2}, {r['rss_mb']['all']} MB at {r['claims']} "
                f"(idle {r['rss_mb']['idle']}); one step p50 {r['step_p50_ms']} ms, max {r['step_max_ms']} ms"
            )
            lines.append(
                f"{'open claims, cache ' + str(r['small_cache']):<34} worker RSS {r['small_rss_mb']} MB; "
                f"one step p50 {r['small_step_p50_ms']} ms, max {r['small_step_max_ms']} ms"
            )
        elif s == "history":
            for kind, v in r["sizes"].items():
                if "mean" in v:
                    tasks = f", {v['tasks']} workflow tasks" if "tasks" in v else ""
                    size = f", {v['bytes']} bytes" if "bytes" in v else ""
                    lines.append(f"{'history, ' + kind + r['label']:<34} {v['mean']} events (max {v['max']}){tasks}{size}")
                if "by_type" in v:
                    by_type = ", ".join(f"{k} {n}" for k, n in v["by_type"].items())
                    lines.append(f"{'  by event type, ' + kind:<34} {by_type}")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    sizes = SIZES["quick" if args.quick else "full"]
    claims = args.claims or sizes["claims"]
    surge_n = args.surge or sizes["surge"]
    open_n = args.open or sizes["open"]
    only = set(args.only.split(",")) if args.only else {"throughput", "scaling", "surge", "open", "history"}
    rows: list[Row] = []

    def show(row: Row) -> None:
        rows.append(row)
        print(table([row]).splitlines()[-1] if row["section"] != "open" else "\n".join(table([row]).splitlines()[2:]), flush=True)

    print(f"capacity run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs", flush=True)
    if only & {"throughput", "history"}:
        row = await throughput(claims, 1, args.concurrency, args.keep)
        show(row)
        rows.append(dict(section="history", label="", sizes=row["history"]))
    if args.before:
        with tempfile.TemporaryDirectory(prefix="capacity-before-") as code:
            before_code(Path(code), args.before)
            row = await throughput(claims, 1, args.concurrency, args.keep, Path(code), f" (workflows of {args.before})")
        show(row)
        rows.append(dict(section="history", label=f" (workflows of {args.before})", sizes=row["history"]))
    for n in (int(p) for p in args.pollers.split(",")) if args.pollers else ():
        show(await throughput(claims, 1, args.concurrency, args.keep, label=f" (pollers {n})", pollers=n))
    if "scaling" in only:
        show(await throughput(claims, 2, args.concurrency, args.keep))
    if args.sqlite_defaults and only & {"throughput", "history"}:
        row = await throughput(claims, 1, args.concurrency, args.keep, label=" (SQLite defaults)", pragmas={})
        show(row)
        rows.append(dict(section="history", label=" (SQLite defaults)", sizes=row["history"]))
    if "surge" in only:
        show(
            await surge(
                surge_n,
                args.surge_concurrency,
                args.agents,
                args.keep,
                args.surge_rate,
                cache=args.cache,
                engine=args.engine,
                api_processes=args.api_processes,
            )
        )
    if "open" in only:
        show(await open_claims(open_n, args.cache, args.small_cache, args.concurrency, args.keep))
    print()
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--claims", type=int, help="claims driven to payment for throughput (full: 200)")
    parser.add_argument("--surge", type=int, help="reports in the surge (full: 10000)")
    parser.add_argument("--open", type=int, help="claims left open on a human step (full: 20000)")
    parser.add_argument("--concurrency", type=int, default=32, help="claims driven at once")
    parser.add_argument("--surge-concurrency", type=int, default=64, help="POST /claims in flight at once")
    parser.add_argument("--agents", type=int, default=100, help="agents (staff tokens) sending the surge")
    parser.add_argument("--surge-rate", type=float, help="reports started per second at most (default: as fast as answered)")
    parser.add_argument(
        "--sqlite-defaults",
        action="store_true",
        help="also run throughput on a dev server with SQLite's own journal and sync (the engine before tuning)",
    )
    parser.add_argument(
        "--engine",
        choices=["dev", "cluster"],
        default="dev",
        help="the surge on the dev server or the real cluster on PostgreSQL",
    )
    parser.add_argument("--api-processes", type=int, default=1, help="API processes the surge's reports go to, round-robin")
    parser.add_argument("--cache", type=int, default=Settings().max_cached_workflows, help="worker workflow cache")
    parser.add_argument("--small-cache", type=int, default=100, help="the smaller cache to compare with")
    parser.add_argument(
        "--before", metavar="GIT_REF", help="also run throughput with the workflows/ of this commit (e.g. HEAD), the rest as now"
    )
    parser.add_argument(
        "--pollers", metavar="N[,N…]", help="also run throughput with N workflow and N activity task pollers (default 5)"
    )
    parser.add_argument("--only", help="comma list of throughput,scaling,surge,open,history")
    parser.add_argument("--json", help="write the rows as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp folders and the process logs")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
