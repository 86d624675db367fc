"""The SMS provider stand-in: HTTP on loopback, as an SMS aggregator's API is, for the tests and
`make run` (issue 22.6). Like the payment gateway beside it, it is someone else's system.

    POST /v1/messages   {"delivery_key": …, "to": "<mobile>", "body": …}
        200 {"message_id": "…", "duplicate": false|true}  taken (a repeat of a key: the first id)
        400 {"message": …}                               refused for good (no key, a bad number)
        503                                              a fault (fail_rate): nothing taken
    GET  /v1/messages   [{"delivery_key", "message_id", "requests"}]: what reached a handset, and
                        how often each key was asked for (the body and the number are not shown)
    GET  /health        200

A key is taken once: the second request with it is answered with the first message id and sends
nothing (`handset` counts what would have reached a phone). Faults for the tests: `fail_rate`
answers 503 at random; `hang_after=N` takes the N-th new message, then holds the answer for
`hang_seconds` (a relay killed meanwhile has had its message taken but not acknowledged).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from activities.sqlite import connection, create_database, to_utc_text, utc_now, write_transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    delivery_key TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    phone        TEXT NOT NULL,
    body         TEXT NOT NULL,
    requests     INTEGER NOT NULL,
    taken_at     TEXT NOT NULL
);
"""
MOBILE = re.compile(r"1[3-9]\d{9}")


class SmsProviderStandIn:
    def __init__(
        self,
        db: Path,
        *,
        fail_rate: float = 0.0,
        seed: int | None = None,
        hang_after: int | None = None,
        hang_seconds: float = 30,
    ) -> None:
        self.db = Path(db)
        create_database(self.db, _SCHEMA)
        self.fail_rate = fail_rate
        self.hang_after = hang_after
        self.hang_seconds = hang_seconds
        self.hung = threading.Event()  # set once the hang_after-th message is taken and its answer held
        self._dice = random.Random(seed)
        self._lock = threading.Lock()
        self._taken = 0

    def take(self, delivery_key: str, phone: str, body: str) -> tuple[int, dict[str, Any]]:
        if not delivery_key or len(delivery_key) > 100:
            return 400, {"message": "a delivery_key of 1 to 100 characters is required"}
        if not MOBILE.fullmatch(phone):
            return 400, {"message": "not a mainland mobile number"}
        with self._lock:
            if self.fail_rate and self._dice.random() < self.fail_rate:
                return 503, {"message": "fault"}

        def write(conn: Any) -> tuple[str, bool]:
            row = conn.execute("SELECT message_id FROM messages WHERE delivery_key = ?", (delivery_key,)).fetchone()
            if row is not None:
                conn.execute("UPDATE messages SET requests = requests + 1 WHERE delivery_key = ?", (delivery_key,))
                return row["message_id"], True
            message_id = "MSG-" + uuid.uuid4().hex[:12]
            conn.execute(
                "INSERT INTO messages (delivery_key, message_id, phone, body, requests, taken_at) VALUES (?, ?, ?, ?, 1, ?)",
                (delivery_key, message_id, phone, body, to_utc_text(utc_now())),
            )
            return message_id, False

        with write_transaction(self.db) as conn:
            message_id, duplicate = write(conn)
        if not duplicate:
            with self._lock:
                self._taken += 1
                hang = self.hang_after is not None and self._taken == self.hang_after
            if hang:
                self.hung.set()
                time.sleep(self.hang_seconds)
        return 200, {"message_id": message_id, "duplicate": duplicate}

    def messages(self) -> list[dict[str, Any]]:
        with connection(self.db) as conn:
            rows = conn.execute("SELECT delivery_key, message_id, requests FROM messages ORDER BY taken_at").fetchall()
        return [dict(row) for row in rows]

    def handset(self) -> list[tuple[str, str]]:
        """(phone, body) of every message that reached a phone, for the tests."""
        with connection(self.db) as conn:
            return [(r["phone"], r["body"]) for r in conn.execute("SELECT phone, body FROM messages ORDER BY taken_at")]


class SmsProviderServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, provider: SmsProviderStandIn, host: str = "127.0.0.1") -> None:
        self.provider = provider
        super().__init__((host, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: SmsProviderServer

    def log_message(self, format: str, *args: Any) -> None:  # the body and number never go to a log
        pass

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._answer(200, {"status": "ok"})
        elif self.path == "/v1/messages":
            self._answer(200, self.server.provider.messages())
        else:
            self._answer(404, {"message": "not found"})

    def do_POST(self) -> None:
        if self.path != "/v1/messages":
            self._answer(404, {"message": "not found"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            key, phone, text = str(body["delivery_key"]), str(body["to"]), str(body["body"])
        except (ValueError, KeyError, TypeError):
            self._answer(400, {"message": "body: {delivery_key, to, body}"})
            return
        status, answer = self.server.provider.take(key, phone, text)
        self._answer(status, answer)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.sms_provider", description="the SMS provider stand-in")
    parser.add_argument("--port", type=int, default=8236)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", type=Path, default=Path("data/run/sms-provider.sqlite3"))
    parser.add_argument("--fail-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = SmsProviderServer(args.port, SmsProviderStandIn(args.db, fail_rate=args.fail_rate), args.host)
    print(f"SMS provider stand-in on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
