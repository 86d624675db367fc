"""The payment gateway: HTTP on loopback over its own ledger (gateway/ledger.py, R-X-3: a SQLite
file, or PostgreSQL with --database-url), and told how to fail.

    POST /v1/payments        body: PayIndemnityInput JSON; header Idempotency-Key
        200 the receipt (PayIndemnityResult; already_paid on a repeat of the key)
        422 {"type": "PaymentDeclined" | "PayeeNotInsured", "message": ...}  a decline
        409 {"type": "DuplicatePayment" | "IdempotencyConflict", "message": ...}
        500/503, a timeout or a dropped connection: transient (faults)
    GET  /health             200
    GET  /stats              requests, in-flight calls, fault and outcome counts
    POST /admin/accounts     {"account": ..., "closed": true|false}: the bank closes/reopens an account

Declines (the bank's business answers, never retried by the caller):
- an account on the closed list (--closed-account, or /admin/accounts): "account closed";
- an account whose digits end in 4040 (a test marker): "name does not match the account";
- an amount over --max-amount: "over the single-payment limit".
A repeat of an already booked key always gets its receipt, whatever the account's state now.

Faults (--fail-rate R --seed S): a share R of payment calls fail, evenly one of
- timeout: sleep --hang-seconds (past the client's timeout), then book the payment anyway;
  (a booked repeat of a key in the timeout fault is recorded as "timeout", not "repeat")
- 5xx: answer 503 without booking;
- drop: book the payment, then close the connection without answering.
Every call is written to the `attempts` table (key, outcome), so runs can count attempts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from temporalio.exceptions import ApplicationError

from activities.database import Database
from activities.sqlite import to_utc_text, utc_now
from domain.contracts import PAYEE_NOT_INSURED, PAYMENT_DECLINED, PayIndemnityInput
from gateway.ledger import SqlPaymentLedger, normalise_account

FAULTS = ("timeout", "5xx", "drop")
DATABASE_URL_ENV = "GATEWAY_DATABASE_URL"  # the gateway's own database: the bank's, not the service's
NAME_MISMATCH_MARKER = "4040"


class Gateway:
    """The gateway's state: ledger, decline rules, fault dice, counters. Thread-safe."""

    def __init__(
        self,
        db: Path | Database,
        *,
        fail_rate: float = 0.0,
        seed: int | None = None,
        hang_seconds: float = 25.0,
        latency: tuple[float, float] = (0.0, 0.0),
        max_amount: Decimal | None = None,
        closed_accounts: set[str] | None = None,
        faults: tuple[str, ...] = FAULTS,
    ) -> None:
        self.db = db if isinstance(db, Database) else Database.sqlite(Path(db))
        self.ledger = SqlPaymentLedger(self.db)  # its migrations make the attempts table too
        self.fail_rate = fail_rate
        self.hang_seconds = hang_seconds
        self.latency = latency
        self.max_amount = max_amount
        self.faults = faults
        self.closed = {normalise_account(a) for a in closed_accounts or ()}
        self._dice = random.Random(seed)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.requests = 0
        self.outcomes: Counter[str] = Counter()

    # --- decisions ------------------------------------------------------------------------------
    def roll(self) -> tuple[str | None, float]:
        """The fault for this call (or None) and its latency, from the seeded dice."""
        with self._lock:
            fault = self._dice.choice(self.faults) if self._dice.random() < self.fail_rate else None
            delay = self._dice.uniform(*self.latency) if self.latency[1] > 0 else 0.0
        return fault, delay

    def decline_reason(self, order: PayIndemnityInput) -> str | None:
        account = normalise_account(order.payee_account)
        with self._lock:
            closed = account in self.closed
        if closed:
            return "account closed"
        if account.endswith(NAME_MISMATCH_MARKER):
            return "name does not match the account"
        if self.max_amount is not None and order.amount > self.max_amount:
            return f"over the single-payment limit of {self.max_amount:.2f}"
        return None

    def set_closed(self, account: str, closed: bool) -> None:
        with self._lock:
            (self.closed.add if closed else self.closed.discard)(normalise_account(account))

    def record(self, key: str, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
        self.db.write(
            lambda conn: conn.execute(
                text("INSERT INTO attempts (idempotency_key, outcome, at) VALUES (:key, :outcome, :at)"),
                {"key": key, "outcome": outcome, "at": to_utc_text(utc_now())},
            )
        )

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "in_flight": self.in_flight,
                "outcomes": dict(self.outcomes),
                "payments": self.ledger.count(),
            }


def attempts_by_key(db: Path | Database) -> dict[str, list[str]]:
    """Every recorded call's outcome, per idempotency key, in order (for fault runs)."""
    database = db if isinstance(db, Database) else Database.sqlite(Path(db))
    try:
        with database.reading() as conn:
            rows = conn.execute(text("SELECT idempotency_key, outcome FROM attempts ORDER BY seq")).all()
    except DBAPIError:  # no gateway has opened this database yet
        return {}
    result: dict[str, list[str]] = {}
    for key, outcome in rows:
        result.setdefault(key, []).append(outcome)
    return result


class Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the attempts table is the log
        pass

    def _answer(self, status: int, body: dict[str, Any] | str) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path == "/health":
            return self._answer(200, {"ok": True})
        if self.path == "/stats":
            return self._answer(200, self.server.gateway.stats())
        return self._answer(404, {"type": "NotFound", "message": self.path})

    def do_POST(self) -> None:
        gateway = self.server.gateway
        if self.path == "/admin/accounts":
            body = json.loads(self._body() or b"{}")
            gateway.set_closed(str(body["account"]), bool(body.get("closed", True)))
            return self._answer(200, {"ok": True})
        if self.path != "/v1/payments":
            return self._answer(404, {"type": "NotFound", "message": self.path})
        with gateway._lock:
            gateway.requests += 1
            gateway.in_flight += 1
        try:
            self._pay(gateway)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller went away (killed worker, client timeout): its retry gets the receipt
        finally:
            with gateway._lock:
                gateway.in_flight -= 1

    def _pay(self, gateway: Gateway) -> None:
        raw = self._body()
        try:
            order = PayIndemnityInput.model_validate_json(raw)
        except ValidationError as err:
            gateway.record(self.headers.get("Idempotency-Key") or "", "bad_request")
            return self._answer(400, {"type": "BadRequest", "message": str(err.errors()[:3])})
        key = order.idempotency_key
        fault, delay = gateway.roll()
        time.sleep(delay / 2)  # the latency, half before booking and half after
        if fault == "5xx":
            gateway.record(key, "5xx")
            return self._answer(503, {"type": "Unavailable", "message": "try again"})
        if fault == "timeout":
            time.sleep(gateway.hang_seconds)  # the caller has given up by now
        # a key already booked gets its receipt, whatever the account's state now
        reason = None if gateway.ledger.is_paid(key) else gateway.decline_reason(order)
        if reason is not None:
            # after a timeout fault the caller has gone: it never sees this answer
            gateway.record(key, "timeout:declined" if fault == "timeout" else "declined")
            return self._answer(
                422, {"type": PAYMENT_DECLINED, "message": f"report {order.report_no}: declined by the bank: {reason}"}
            )
        try:
            receipt = gateway.ledger.pay(order)
        except ApplicationError as err:
            status = 422 if err.type in (PAYEE_NOT_INSURED, PAYMENT_DECLINED) else 409
            gateway.record(key, "refused" if err.type != PAYMENT_DECLINED else "declined")
            return self._answer(status, {"type": err.type or "", "message": err.message})
        gateway.record(key, fault or ("repeat" if receipt.already_paid else "paid"))
        time.sleep(delay / 2)
        if fault == "drop":
            # booked, but the answer never leaves: close the socket without a byte
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        return self._answer(200, receipt.model_dump_json())


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, gateway: Gateway, host: str = "127.0.0.1") -> None:
        self.gateway = gateway
        super().__init__((host, port), Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="payment gateway (loopback by default)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 only inside a private network (compose)"
    )
    where = parser.add_mutually_exclusive_group(required=not os.environ.get(DATABASE_URL_ENV))
    where.add_argument("--db", type=Path, help="the ledger in this SQLite file")
    where.add_argument(
        "--database-url",
        default=os.environ.get(DATABASE_URL_ENV),
        help=f"the ledger in PostgreSQL, postgresql://… (default: ${DATABASE_URL_ENV}, which keeps the password off the command line)",
    )
    parser.add_argument("--pool-size", type=int, default=10, help="PostgreSQL connections (the server answers calls in threads)")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of payment calls that fail")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"which faults, of {','.join(FAULTS)}")
    parser.add_argument("--hang-seconds", type=float, default=25.0, help="how long a 'timeout' fault sleeps")
    parser.add_argument("--latency", default="0,0", help="MIN,MAX seconds every payment call takes")
    parser.add_argument("--max-amount", type=Decimal, default=None, help="decline payments over this amount (CNY)")
    parser.add_argument("--closed-account", action="append", default=[], help="decline payments to this account")
    args = parser.parse_args(argv)
    faults = tuple(f for f in args.faults.split(",") if f)
    if not set(faults) <= set(FAULTS) or not faults:
        parser.error(f"--faults: choose from {', '.join(FAULTS)}")
    low, high = (float(x) for x in args.latency.split(","))
    ledger_db = Database.sqlite(args.db) if args.db else Database.postgres(args.database_url, pool_size=args.pool_size)
    gateway = Gateway(
        ledger_db,
        fail_rate=args.fail_rate,
        seed=args.seed,
        hang_seconds=args.hang_seconds,
        latency=(low, high),
        max_amount=args.max_amount,
        closed_accounts=set(args.closed_account),
        faults=faults,
    )
    server = GatewayServer(args.port, gateway, args.host)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"payment gateway on http://{args.host}:{args.port} (ledger {ledger_db.name}, fail rate {args.fail_rate})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)
