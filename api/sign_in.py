"""Signing staff in from a browser, which cannot attach a bearer token: a page that takes a staff
token once and keeps it in an HttpOnly, SameSite=Lax cookie (page scripts never read it; other
sites' pages do not send it on their forms), and a sign-out that clears it.

Used by the codec server (the Temporal UI decodes claims through it) and by the API's operations
page (api/operations.py); each names its own cookie, paths, page text and who may sign in.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from security.auth import Authenticator, AuthUnavailable, Principal, Role, Unauthenticated, authenticate_off_loop

log = structlog.get_logger("premium_claims.sign_in")

PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}


@dataclass(frozen=True)
class SignIn:
    """One browser sign-in: its cookie, its paths, who may sign in, and how its page reads."""

    cookie: str
    roles: frozenset[Role]
    title: str  # the page's <title> and <h1>
    after_form: str = ""  # HTML below the form: what to do once signed in
    sign_in_path: str = "/login"
    sign_out_path: str = "/logout"
    log_event: str = "sign_in"  # "<log_event>" and "<log_event>_refused" in the logs

    def page(self, message: str, status: int = 200) -> HTMLResponse:
        body = f"""<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(self.title)}</title>
<style>body{{font:15px system-ui;max-width:44em;margin:3em auto}}textarea{{width:100%}}.error{{color:#b00}}.ok{{color:#060}}</style>
</head><body><h1>{html.escape(self.title)}</h1>{message}
<form method=post action="{html.escape(self.sign_in_path)}"><p><label>Staff token (<code>claims token</code>, or your identity provider's)<br>
<textarea name=token rows=4 autocomplete=off required></textarea></label></p><button>Sign in</button></form>
{self.after_form}</body></html>"""
        return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)

    def signed_in(self, principal: Principal) -> str:
        roles = ", ".join(sorted(r.value for r in principal.roles))
        until = principal.expires_at.isoformat(timespec="minutes")
        return (
            f"<p class=ok>Signed in as <b>{html.escape(principal.subject)}</b> ({html.escape(roles)}) until {until}.</p>"
            f'<form method=post action="{html.escape(self.sign_out_path)}"><button>Sign out</button></form>'
        )


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """The value of cookie `name` in a Cookie header, if any."""
    if not cookie_header:
        return None
    try:
        jar = SimpleCookie(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


def same_origin_form(request: Request) -> bool:
    """Sign-in and sign-out forms are posted from the server's own page, never from another site."""
    origin = request.headers.get("origin")
    return not origin or origin == "null" or origin.rstrip("/") == str(request.base_url).rstrip("/")


def sign_in_router(
    sign_in: SignIn,
    auth: Authenticator,
    cross_origin: Callable[[], Exception],
    *,
    signed_in_extra: Callable[[Principal], str] = lambda _: "",
) -> APIRouter:
    """GET and POST `sign_in_path` (the form, and taking a token into the cookie) and POST
    `sign_out_path`; `cross_origin()` is raised for a form posted from another site."""
    router = APIRouter()

    async def principal_of(request: Request) -> Principal | None:
        token = request.cookies.get(sign_in.cookie)
        if not token:
            return None
        try:
            principal = await authenticate_off_loop(auth, f"Bearer {token}")
        except (Unauthenticated, AuthUnavailable):
            return None
        return principal if principal.has_any(sign_in.roles) else None

    def signed_in(principal: Principal) -> str:
        return sign_in.signed_in(principal) + signed_in_extra(principal)

    @router.get(sign_in.sign_in_path, response_class=HTMLResponse, include_in_schema=False)
    async def sign_in_page(request: Request) -> HTMLResponse:
        principal = await principal_of(request)
        return sign_in.page(signed_in(principal) if principal else "")

    @router.post(sign_in.sign_in_path, response_class=HTMLResponse, include_in_schema=False)
    async def take_token(request: Request, token: Annotated[str, Form(max_length=8192)]) -> HTMLResponse:
        if not same_origin_form(request):
            raise cross_origin()
        try:
            principal = await authenticate_off_loop(auth, f"Bearer {token.strip()}")
        except (Unauthenticated, AuthUnavailable) as err:
            log.info(sign_in.log_event + "_refused", reason=str(err))
            status = 401 if isinstance(err, Unauthenticated) else 503
            return sign_in.page(f"<p class=error>Not signed in: {html.escape(str(err))}</p>", status=status)
        if not principal.has_any(sign_in.roles):
            roles = ", ".join(r.value for r in Role if r in sign_in.roles)
            return sign_in.page(f"<p class=error>Not signed in: this page is for {html.escape(roles)}.</p>", status=403)
        response = sign_in.page(signed_in(principal))
        seconds = int((principal.expires_at - datetime.now(UTC)).total_seconds())
        response.set_cookie(
            sign_in.cookie,
            token.strip(),
            max_age=max(seconds, 0),
            httponly=True,  # page scripts (the UI's included) never read it
            samesite="lax",  # sent from the same site (localhost:8233 to :8234), not from other sites' forms
            secure=request.url.scheme == "https",
            path="/",
        )
        log.info(sign_in.log_event, subject=principal.subject)
        return response

    @router.post(sign_in.sign_out_path, response_class=HTMLResponse, include_in_schema=False)
    async def sign_out(request: Request) -> HTMLResponse:
        if not same_origin_form(request):
            raise cross_origin()
        response = sign_in.page("<p>Signed out.</p>")
        response.delete_cookie(sign_in.cookie, path="/", httponly=True, samesite="lax")
        return response

    return router
