"""The payment ledger under concurrent workers (issue 22.2): N claim-tracks, each paid by every one
of W worker processes at once under the same idempotency key (a retried activity, a second worker
picking up the task), and some under a second key too (a bug that would pay a claim-track twice).

    python -m bench.ledger_concurrency --workers 4 --claims 2000            # PostgreSQL started here (dev/postgres.py)
    python -m bench.ledger_concurrency --database-url postgresql://…/db     # a database of yours
    python -m bench.ledger_concurrency --sqlite /tmp/ledger.sqlite3         # the embedded engine

Prints payments per second (claim-tracks paid / wall time from the start signal to the last
answer), calls per second, the serialization retries, and checks: exactly one payment per
claim-track, every other call answered with the first receipt or refused as a duplicate.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import random
import shutil
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from activities.database import Database
from domain.contracts import PayIndemnityInput, indemnity_key
from domain.models import Track
from gateway.ledger import SqlPaymentLedger

ACCOUNT = "6222000000000017"


def claims(count: int) -> list[PayIndemnityInput]:
    tracks = list(Track)
    return [
        PayIndemnityInput(
            idempotency_key=indemnity_key(f"RB{n // len(tracks):07d}", tracks[n % len(tracks)]),
            report_no=f"RB{n // len(tracks):07d}",
            track=tracks[n % len(tracks)],
            amount=Decimal("2650.00"),
            payee_account=ACCOUNT,
            insured_account=ACCOUNT,
        )
        for n in range(count)
    ]


def open_ledger(target: dict[str, str], pool: int) -> SqlPaymentLedger:
    if "sqlite" in target:
        return SqlPaymentLedger(Database.sqlite(Path(target["sqlite"])))
    return SqlPaymentLedger(Database.postgres(target["url"], pool_size=pool, max_overflow=0))


def quiet() -> None:
    """No log line per payment: the benchmark measures the ledger, not the terminal."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


def worker(n: int, target: dict[str, str], count: int, second_key_share: float, start: Any, out: Any) -> None:
    quiet()
    ledger = open_ledger(target, pool=1)
    work = claims(count)
    rng = random.Random(n)
    rng.shuffle(work)
    seconds = [
        c.model_copy(update={"idempotency_key": c.idempotency_key + ":again"}) for c in work if rng.random() < second_key_share
    ]
    outcomes: Counter[str] = Counter()
    start.wait()
    for item in [*work, *seconds]:
        try:
            outcomes["already_paid" if ledger.pay(item).already_paid else "paid"] += 1
        except Exception as err:  # a refusal: ApplicationError with its type
            outcomes[getattr(err, "type", None) or type(err).__name__] += 1
    outcomes["retries"] = ledger.db.retries
    out.put((n, time.monotonic(), dict(outcomes)))


def run(target: dict[str, str], workers: int, count: int, second_key_share: float) -> dict[str, Any]:
    open_ledger(target, pool=1).db.dispose()  # migrated once before the clock starts
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(n, target, count, second_key_share, start, out)) for n in range(workers)]
    for p in procs:
        p.start()
    time.sleep(3)  # every process imported and connected
    began = time.monotonic()
    start.set()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(30)
    elapsed = max(r[1] for r in results) - began
    totals: Counter[str] = Counter()
    for _, _, outcome in results:
        totals.update(outcome)
    ledger = open_ledger(target, pool=1)
    rows = ledger.payments()
    per_track = Counter((p.report_no, p.track) for p in rows)
    calls = sum(v for k, v in totals.items() if k != "retries")
    return {
        "engine": "sqlite" if "sqlite" in target else "postgresql",
        "isolation": "BEGIN IMMEDIATE" if "sqlite" in target else "SERIALIZABLE",
        "workers": workers,
        "claim_tracks": count,
        "calls": calls,
        "seconds": round(elapsed, 2),
        "payments_per_second": round(len(rows) / elapsed, 1),
        "calls_per_second": round(calls / elapsed, 1),
        "payments": len(rows),
        "duplicates": sum(n - 1 for n in per_track.values() if n > 1),
        "outcomes": dict(totals),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--claims", type=int, default=2000, help="claim-tracks to pay")
    parser.add_argument("--second-key-share", type=float, default=0.1)
    parser.add_argument("--database-url")
    parser.add_argument("--sqlite", type=Path)
    parser.add_argument("--port", type=int, default=17480, help="for the PostgreSQL started here")
    args = parser.parse_args(argv)
    quiet()
    home = None
    server = None
    if args.sqlite:
        target = {"sqlite": str(args.sqlite)}
    elif args.database_url:
        target = {"url": args.database_url}
    else:
        from dev.postgres import ensure_started

        home = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
        home.chmod(0o711)
        server = ensure_started(home / "pg", args.port)
        target = {"url": server.url("postgres")}
    try:
        print(json.dumps(run(target, args.workers, args.claims, args.second_key_share), indent=2))
    finally:
        if server is not None:
            server.stop("immediate")
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
