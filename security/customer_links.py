"""The customer's link to their own claim (issue 24): no account and no password, a token signed
with the service's key, bound to one report number, and expiring.

    /customer/<report number>?t=<expiry>.<signature>

The signature is HMAC-SHA256 over the report number and the expiry (Unix seconds), so a token
shown for one claim opens no other, and an altered expiry or number breaks it. The key is a
secret file under the data folder (like the staff-token key), made once; the worker signs the
link it puts in the SMS (activities/sms.py) and the API checks it (api/customer.py). Rotating the
key makes every link sent so far refuse: the customer then asks 95500 for a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path

from security.secret_files import read_or_create_secret

PURPOSE = b"premium-claims customer link v1\0"
PATH_PREFIX = "/customer/"
DEFAULT_TTL = timedelta(days=60)  # R-X-4: 30 days to decide, 10 to pay, then the callback (R-X-1)


class LinkRefused(Exception):
    """A forged, altered, malformed or expired link: the customer sees a plain refusal, no data."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class CustomerLinks:
    def __init__(self, secret: bytes, ttl: timedelta = DEFAULT_TTL) -> None:
        if len(secret) < 32:
            raise ValueError("the customer-link key must be at least 32 bytes")
        self._secret = secret
        self.ttl = ttl

    def _signature(self, report_no: str, expires: int) -> str:
        message = PURPOSE + report_no.encode("utf-8") + b"\0" + str(expires).encode("ascii")
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def token(self, report_no: str, now: datetime | None = None, ttl: timedelta | None = None) -> str:
        expires = int(((now or datetime.now(UTC)) + (ttl or self.ttl)).timestamp())
        return f"{expires}.{self._signature(report_no, expires)}"

    def path(self, report_no: str, now: datetime | None = None) -> str:
        return f"{PATH_PREFIX}{report_no}?t={self.token(report_no, now)}"

    def check(self, report_no: str, token: str | None, now: datetime | None = None) -> datetime:
        """When the link expires; raises LinkRefused for any link this service did not sign for
        this report number, or one past its expiry."""
        expires_text, _, signature = (token or "").partition(".")
        if not expires_text.isdigit() or len(expires_text) > 12 or not signature:
            raise LinkRefused("not a link to a claim")
        expires = int(expires_text)
        if not hmac.compare_digest(signature, self._signature(report_no, expires)):
            raise LinkRefused("not a link to this claim")
        at = datetime.fromtimestamp(expires, UTC)
        if (now or datetime.now(UTC)) >= at:
            raise LinkRefused("the link has expired")
        return at


def customer_links(data_dir: Path, secret_file: Path | None = None, ttl: timedelta = DEFAULT_TTL) -> CustomerLinks:
    """The service's link signer: its key from (or made once in) `secret_file`, by default
    <data_dir>/secrets/customer-link.key, shared by the worker and the API."""
    return CustomerLinks(read_or_create_secret(secret_file or data_dir / "secrets" / "customer-link.key"), ttl)
