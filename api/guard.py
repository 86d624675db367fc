"""The API's front door, before any body is read: who is calling (401), how often (429), how much
they send (413).

A plain ASGI middleware rather than a FastAPI dependency because FastAPI reads and parses a
request's body (a report, a multipart upload) before it runs dependencies: a caller without a
valid token must not make the service read anything. What a known caller may do (403) is decided
by each route's dependency (api/app.py), from security/permissions.py.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.sign_in import cookie_value
from security.auth import Authenticator, AuthUnavailable, Unauthenticated, authenticate_off_loop

log = structlog.get_logger("premium_claims.api")

# A page people open in a browser, which sends no bearer header: there the staff cookie set by
# signing in at SIGN_IN_PATH (api/sign_in.py, HttpOnly, SameSite=Lax) stands for the token,
# on GET only (the page reads; no step is ever taken with the cookie). api/operations.py.
BROWSER_PATHS = frozenset({"/operations"})
BROWSER_COOKIE = "premium_claims_staff"
SIGN_IN_PATH = "/operations/sign-in"
SIGN_OUT_PATH = "/operations/sign-out"
# Open without a token: liveness and readiness probes, the API's own documentation, the sign-in,
# and the icon every browser asks for (a plain 404, not an `api.unauthenticated` line per page view).
PUBLIC_PATHS = frozenset(
    {
        "/health",
        "/ready",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        SIGN_IN_PATH,
        SIGN_OUT_PATH,
        "/favicon.ico",
    }
)
STATIC_PATH = "/static"  # the pages' own stylesheets (api/static/, served by api/app.py)
# the docs pages' scripts and styles (api/docs.py) and the pages' stylesheets: nothing secret
PUBLIC_PREFIXES = ("/docs-assets/", f"{STATIC_PATH}/")
UPLOAD_PATH = "/files"
MULTIPART_OVERHEAD = 64 * 1024  # headers and boundaries around the file in a multipart body


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 64 * 1024  # JSON bodies (reports, steps); uploads have the store's own
    rate_per_minute: float = 240.0  # per caller, sustained
    rate_burst: int = 60  # per caller, at once


class TokenBuckets:
    """One token bucket per caller key: `burst` requests at once, refilled at `rate_per_minute`."""

    MAX_KEYS = 10_000

    def __init__(self, rate_per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_minute <= 0 or burst < 1:
            raise ValueError("the rate limit needs a rate above zero and a burst of at least one")
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go ahead; else the seconds until it may."""
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self._forget_full(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self._rate

    def _forget_full(self, now: float) -> None:
        # many addresses (unauthenticated callers) must not grow the table without bound: a bucket
        # that has refilled is the same as no bucket
        if len(self._buckets) <= self.MAX_KEYS:
            return
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self._rate >= self._burst:
                del self._buckets[key]


class Guard:
    """ASGI middleware: authenticate (401), rate-limit per caller (429), cap the body (413), then
    hand the Principal to the app in `request.state.principal`."""

    def __init__(self, app: ASGIApp, *, authenticator: Authenticator, limits: Limits, upload_max_bytes: int) -> None:
        self.app = app
        self.authenticator = authenticator
        self.limits = limits
        self.upload_max_bytes = upload_max_bytes
        self.buckets = TokenBuckets(limits.rate_per_minute, limits.rate_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS or scope["path"].startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        authorization = headers.get("authorization")
        browser = not authorization and scope["path"] in BROWSER_PATHS and scope["method"] in ("GET", "HEAD")
        if browser:
            cookie = cookie_value(headers.get("cookie"), BROWSER_COOKIE)
            if cookie is None:
                await see_other(send, SIGN_IN_PATH)
                return
            authorization = f"Bearer {cookie}"
        try:
            principal = await authenticate_off_loop(self.authenticator, authorization)
        except Unauthenticated as err:
            if browser:  # an expired or revoked sign-in: sign in again
                await see_other(send, SIGN_IN_PATH)
                return
            client = scope.get("client")
            # failed attempts count against the caller's address, so guessing tokens is slow too
            wait = self.buckets.take(f"addr:{client[0] if client else '-'}")
            if wait:
                await self.rate_limited(send, wait)
                return
            log.info("api.unauthenticated", path=scope["path"], reason=str(err))
            await respond(
                send,
                401,
                "unauthenticated",
                str(err),
                {"WWW-Authenticate": 'Bearer realm="premium-claims", error="invalid_token"'},
            )
            return
        except AuthUnavailable as err:
            log.warning("api.identity_provider_unavailable", reason=str(err))
            await respond(send, 503, "auth_unavailable", "the identity provider does not answer; try again shortly")
            return
        wait = self.buckets.take(f"sub:{principal.subject}")
        if wait:
            log.info("api.rate_limited", path=scope["path"], subject=principal.subject)
            await self.rate_limited(send, wait)
            return
        scope.setdefault("state", {})["principal"] = principal

        upload = scope["path"] == UPLOAD_PATH
        limit = self.upload_max_bytes + MULTIPART_OVERHEAD if upload else self.limits.max_body_bytes
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self.too_large(send, upload, limit)
            return
        if length is None and not upload and scope["method"] not in ("GET", "HEAD"):
            # a chunked body: read it here up to the limit (small: JSON), then hand it on
            body, more = await read_at_most(receive, limit)
            if more:
                await self.too_large(send, upload, limit)
                return
            receive = replay(body, receive)
        # uploads without a length are counted by the store as they stream (413 file_too_large)
        await self.app(scope, receive, send)

    async def rate_limited(self, send: Send, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        await respond(
            send,
            429,
            "rate_limited",
            f"too many requests from this caller (at most {self.limits.rate_burst} at once, "
            f"{self.limits.rate_per_minute:g} a minute); retry in {seconds} s",
            {"Retry-After": str(seconds)},
        )

    async def too_large(self, send: Send, upload: bool, limit: int) -> None:
        if upload:
            await respond(send, 413, "file_too_large", f"file is larger than {self.upload_max_bytes} bytes")
        else:
            await respond(send, 413, "body_too_large", f"the request body is larger than {limit} bytes")


async def read_at_most(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, and whether there was more than `limit` bytes of it (then reading stopped)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(parts), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts), False


def replay(body: bytes, then: Receive) -> Receive:
    """The body read already, then the connection's own messages (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive


async def see_other(send: Send, location: str) -> None:
    """303 to `location`: a browser without a (valid) staff cookie goes to the sign-in page."""
    raw = [(b"location", location.encode("latin-1")), (b"content-length", b"0"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 303, "headers": raw})
    await send({"type": "http.response.body", "body": b""})


async def respond(send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
    """The API's one error shape, {"code", "message"}, sent straight from the middleware."""
    body = json.dumps({"code": code, "message": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
