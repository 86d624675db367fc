"""Which bank the payment activity reaches: the gateway over HTTP when the settings name one
(the bank's in production, `python -m gateway` here), else the stand-in's ledger in-process (the
embedded default, a file under the data folder). The worker wires it (worker/main.py); the
activity sees only the interface (activities/payments.py)."""

from __future__ import annotations

from pathlib import Path

from activities.payments import AsyncPaymentGateway, HttpPaymentGateway, PaymentLedger
from gateway.ledger import SqlPaymentLedger

LEDGER_FILE = "payments.sqlite3"


def open_bank(data_dir: Path, url: str | None = None, timeout_seconds: float = 20.0) -> PaymentLedger | AsyncPaymentGateway:
    """The gateway at `url` over HTTP, or without one the embedded ledger under `data_dir`."""
    if url:
        return HttpPaymentGateway(url, timeout_seconds)
    return SqlPaymentLedger.sqlite(Path(data_dir) / LEDGER_FILE)
