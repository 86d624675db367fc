"""The codec server: the Temporal UI (and `temporal --codec-endpoint`) decode claims through it, so
authorised staff read them while the server and its database see only ciphertext.

Protocol (Temporal's remote codec): POST …/encode and POST …/decode with a `Payloads` message in
protobuf JSON, `{"payloads": [{"metadata": {"encoding": "<base64>", …}, "data": "<base64>"}]}`,
answered in the same form; only the last part of the path counts; the UI sends `X-Namespace`.

Only staff get through: a signed staff token (security/auth.py) either as `Authorization: Bearer …`
(the `temporal` CLI's --codec-auth, scripts) or, for the dev server's Web UI, which cannot attach a
token, as an HttpOnly, SameSite=Lax cookie set by signing in once at /login with the token. The UI
sends it when "Include cross-origin credentials" is on in its codec settings; localhost:8233 and
localhost:8234 are the same site, so Lax lets it through. Only the roles that see personal data
in the API's views may decode (DECODE_ROLES); assessor, operations and admin are refused (403),
as the API masks for them. Every call is logged with who, the namespace and how many payloads,
never what they hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from temporalio.api.common.v1 import Payload, Payloads

from api.sign_in import SignIn, sign_in_router
from config.serving import serve_until, uvicorn_config
from security.auth import (
    Authenticator,
    AuthSettings,
    AuthUnavailable,
    Principal,
    Unauthenticated,
    authenticate_off_loop,
    authenticator,
)
from security.codec import CodecError, CodecSettings, EncryptionCodec
from security.permissions import FULL_PERSONAL_DATA, role_list

log = structlog.get_logger("premium_claims.codec_server")

COOKIE = "premium_claims_codec"
# Staff who may read decoded claims: the roles that see personal data in full in the API's views
# (security/permissions.FULL_PERSONAL_DATA). A decoded payload is the claim in clear, which the
# API masks for assessor, operations and admin; so the codec server refuses them.
DECODE_ROLES = FULL_PERSONAL_DATA
NOT_DECODING = (
    "claims are decoded only for the roles that see personal data in full: "
    + role_list(DECODE_ROLES)
    + " (the API masks it for the others)"
)
SIGN_IN = SignIn(
    cookie=COOKIE,
    roles=DECODE_ROLES,
    title="Decode claims in the Temporal UI",
    after_form="""<p>Then, in the Temporal UI, open the codec server settings (the data-encoder icon), choose your browser's
setting, set the endpoint to this server and tick <i>Include cross-origin credentials</i>.</p>""",
    log_event="codec.login",
)
MAX_BODY_BYTES = 16 * 1024 * 1024  # the UI decodes a history page at a time
ALLOWED_HEADERS = ["Content-Type", "X-Namespace", "Authorization", "Authorization-Extras"]


class CodecServerError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def create_codec_app(codec: EncryptionCodec, auth: Authenticator, *, ui_origins: Sequence[str]) -> FastAPI:
    app = FastAPI(title="premium-claims codec server", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(CodecServerError)
    async def _error(_: Request, err: CodecServerError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
        return JSONResponse({"code": err.code, "message": err.message}, status_code=err.status, headers=headers)

    async def caller(request: Request) -> Principal:
        header = request.headers.get("authorization")
        cookie = request.cookies.get(COOKIE)
        try:
            principal = await authenticate_off_loop(auth, header if header or not cookie else f"Bearer {cookie}")
        except Unauthenticated as err:
            raise CodecServerError(401, "unauthenticated", f"sign in with a staff token: {err}") from None
        except AuthUnavailable as err:
            raise CodecServerError(503, "auth_unavailable", str(err)) from None
        if not principal.has_any(DECODE_ROLES):
            raise CodecServerError(403, "forbidden", NOT_DECODING)
        return principal

    async def apply(request: Request, operation: str, fn: Callable[[Sequence[Payload]], Awaitable[list[Payload]]]) -> Response:
        principal = await caller(request)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise CodecServerError(413, "too_large", f"at most {MAX_BODY_BYTES} bytes of payloads per call")
        try:
            payloads = json_format.Parse(body or b"{}", Payloads())
        except json_format.ParseError:
            raise CodecServerError(400, "invalid_payloads", 'the body must be {"payloads": [...]} in protobuf JSON') from None
        try:
            result = Payloads(payloads=await fn(payloads.payloads))
        except CodecError as err:  # names the key, never the content
            log.warning("codec.failed", operation=operation, subject=principal.subject, error=str(err))
            raise CodecServerError(422, "undecodable_payload", str(err)) from None
        log.info(
            "codec." + operation,
            subject=principal.subject,
            namespace=request.headers.get("x-namespace"),
            payloads=len(payloads.payloads),
        )
        return Response(json_format.MessageToJson(result), media_type="application/json", headers={"Cache-Control": "no-store"})

    # Only the last part of the path counts (protocol): …/decode, /default/decode, /decode.
    @app.post("/encode")
    @app.post("/{prefix:path}/encode")
    async def encode(request: Request) -> Response:
        return await apply(request, "encode", codec.encode)

    @app.post("/decode")
    @app.post("/{prefix:path}/decode")
    async def decode(request: Request) -> Response:
        return await apply(request, "decode", codec.decode)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(
        sign_in_router(
            SIGN_IN, auth, lambda: CodecServerError(403, "cross_origin_form", "sign in on the codec server's own page")
        )
    )

    # Outermost, so refusals (401, 422) carry CORS headers too and the UI can say why.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(ui_origins),
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=ALLOWED_HEADERS,
        max_age=600,
    )
    return app


async def serve_codec_server(settings: CodecSettings, app: FastAPI, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM, or until `stop` is set (`claims run` owns the signals)."""
    server = uvicorn.Server(uvicorn_config(app, host=settings.host, port=settings.port, lifespan="off"))
    await serve_until(server, stop, f"the codec server on {settings.host}:{settings.port}")


def codec_app_from_settings(codec: CodecSettings, auth_settings: AuthSettings, data_dir: Path, ui_port: int = 8233) -> FastAPI:
    """The codec server over the settings' keyring and token verifier, open to the UI's origins."""
    return create_codec_app(
        EncryptionCodec.from_settings(codec, data_dir),
        authenticator(auth_settings, data_dir),
        ui_origins=codec.origins(ui_port),
    )
