"""Capacity on the two engines in one run (issue 21.9): the dev server on SQLite and the real
cluster on PostgreSQL, in alternating rounds, because these machines are noisy.

    .venv/bin/python -m bench.engines --rounds 5 --claims 60

Each round runs `bench.capacity`'s throughput section on each engine (a fresh server or cluster
each time, one worker): claims of the mix driven from report to callback, then the bare claim and
the bare parent + child on the same engine. The order of the engines alternates round by round.
Printed: every round's figures, then per engine the median of each with its range, and the
cluster's claims/s as a share of the dev server's in each round (median and range).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.capacity import throughput

ENGINES = ("dev", "cluster")
FIGURES = ("claims_per_s", "bare_per_s", "bare_pair_per_s", "ratio", "ratio_to_pair")


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}]"


def summary(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for engine in ENGINES:
        mine = [r for r in rows if r["engine"] == engine]
        if mine:
            lines.append(
                f"{engine:<8}" + "  ".join(f"{f}={spread([r[f] for r in mine])}" for f in FIGURES) + f"  rounds={len(mine)}"
            )
    pairs = [(a, b) for a, b in zip(rows[0::2], rows[1::2], strict=False) if {a["engine"], b["engine"]} == set(ENGINES)]
    shares = [
        (a if a["engine"] == "cluster" else b)["claims_per_s"] / (b if b["engine"] == "dev" else a)["claims_per_s"]
        for a, b in pairs
    ]
    if shares:
        lines.append(f"cluster/dev claims_per_s per round: {spread(shares)}")
    return lines


async def main_async(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for round_no in range(args.rounds):
        for engine in ENGINES if round_no % 2 == 0 else tuple(reversed(ENGINES)):
            row = await throughput(args.claims, 1, args.concurrency, False, engine=engine, label=f"round {round_no + 1}")
            rows.append(row)
            print(
                f"round {round_no + 1} {engine:<8}"
                + " ".join(f"{f}={row[f]}" for f in FIGURES)
                + f" cpu_ms_per_claim={row['cpu_ms_per_claim']}",
                flush=True,
            )
    for line in summary(rows):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--claims", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=30)
    parser.add_argument("--json", help="write every round's row here")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
