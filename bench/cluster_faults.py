"""Fault runs on the real cluster (issue 21.4): the claims go on when a part of it dies.

    .venv/bin/python -m bench.cluster_faults --fault history --claims 40
    .venv/bin/python -m bench.cluster_faults --fault postgres --claims 40 --kills 2
    .venv/bin/python -m bench.cluster_faults --fault worker --claims 40 --kills 20

Brings up the cluster of dev/cluster.py in a folder of its own (mTLS on; --home reuses one),
then runs the dev server's fault runs against it with another target struck:
- history: SIGKILL one of the two history hosts while claims are reported and driven; it stays
  dead for the run, so the other host must take its shards (it is started again at the end);
- postgres: `pg_ctl restart -m immediate` (a crash: no checkpoint, recovery at start) mid-run;
- worker: SIGKILL the worker while payments are in flight at the gateway (bench.kill_worker).
Each prints the counts line: every acknowledged claim paid exactly once and closed
(duplicates=0 lost=0), and for history and postgres how long claims stood still after a strike.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from bench import kill_server, kill_worker
from bench.harness import Counts
from client.connect import connect
from config.settings import ClusterSettings, TemporalTLS, load_settings
from dev.cluster import Cluster

FAULTS = ("history", "postgres", "worker")


class HistoryHost:
    """SIGKILL history host `name` once; recovery is the surviving host taking its shards."""

    def __init__(self, cluster: Cluster, name: str = "history-1") -> None:
        self.cluster, self.name = cluster, name
        self.address = cluster.address
        self.tls: TemporalTLS | None = cluster.client_tls()
        self.starts = 0

    def start(self) -> None:
        self.starts += 1  # the cluster is up; after the strike the other host serves

    def kill(self) -> None:
        self.cluster.kill(self.name)

    def stop(self) -> None:
        self.cluster.start(self.name)  # whole again for whatever runs next


class PostgresCrash:
    """`pg_ctl restart -m immediate` under the cluster: every connection dropped, recovery at start."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.address = cluster.address
        self.tls: TemporalTLS | None = cluster.client_tls()
        self.starts = 0

    def start(self) -> None:
        self.starts += 1

    def kill(self) -> None:
        self.cluster.postgres.restart("immediate")

    def stop(self) -> None:
        pass


async def run_fault(cluster: Cluster, fault: str, work: Path, *, claims: int, kills: int, seed: int, log: bool = False) -> Counts:
    if fault == "worker":
        client = await connect(cluster.address, tls=cluster.client_tls())
        return await kill_worker.run(
            client, cluster.address, work, claims=claims, kills=kills, seed=seed, log=log, tls=cluster.client_tls()
        )
    target: kill_server.Target = HistoryHost(cluster) if fault == "history" else PostgresCrash(cluster)
    return await kill_server.run(work, claims=claims, kills=kills, seed=seed, log=log, target=target)


async def main_async(args: argparse.Namespace) -> int:
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="cluster-faults-"))
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)
    cluster = Cluster(
        ClusterSettings(home=home, base_port=args.base_port, mtls=True), say=lambda line: print(line, file=sys.stderr)
    )
    await asyncio.to_thread(cluster.up, load_settings())
    failed = 0
    try:
        for fault in FAULTS if args.fault == "all" else (args.fault,):
            work = Path(tempfile.mkdtemp(prefix=f"cluster-fault-{fault}-"))
            kills = args.kills if args.kills is not None else {"history": 1, "postgres": 2, "worker": 20}[fault]
            counts = await run_fault(cluster, fault, work, claims=args.claims, kills=kills, seed=args.seed, log=args.keep)
            print(f"{fault}: {counts.line()}", flush=True)
            failed += not counts.ok
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if not args.home:
            cluster.down()
            shutil.rmtree(home, ignore_errors=True)
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster_faults", description=__doc__.split("\n")[0])
    parser.add_argument("--fault", choices=[*FAULTS, "all"], default="all")
    parser.add_argument("--claims", type=int, default=40)
    parser.add_argument("--kills", type=int, help="strikes (default: history 1, postgres 2, worker 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--home", help="the cluster's folder (reused and left running); default a temp one, taken down after")
    parser.add_argument("--base-port", type=int, default=7600)
    parser.add_argument("--keep", action="store_true", help="keep each run's folder with the gateway and worker logs")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
