"""The API's one error shape: {"code": "<stable code>", "message": "<for people>"}.

No stack trace leaves the process, and a log line carries the error's type, never its message
(a message could carry a report's personal data); validation errors name the field, never the value.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from config.errors import error_message
from domain.models import Frozen

log = structlog.get_logger("premium_claims.api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class ErrorBody(Frozen):
    code: str
    message: str


# Every operation may answer these, in the error shape (the app's OpenAPI document says so).
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (401, 403, 404, 409, 413, 415, 422, 429, 503)
}

# Temporal cannot be reached: the caller may try again shortly (503), it is not their request's fault.
UNREACHABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


def describe(errors: Any) -> str:
    """pydantic's errors as one sentence, by field; never the submitted values (personal data)."""
    parts = []
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {error_message(e)}")
    return "; ".join(parts) or "invalid request"


def not_found(err: RPCError, code: str, message: str) -> Exception:
    """`err` as a 404 `code` when Temporal knows no such workflow; any other failure as it is."""
    if err.status == RPCStatusCode.NOT_FOUND:
        return ApiError(404, code, message)
    return err


def install_error_handlers(app: FastAPI) -> None:
    """Every failure in the one shape, with a stable code."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, err: ApiError) -> JSONResponse:
        return JSONResponse({"code": err.code, "message": err.message}, status_code=err.status, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse({"code": "invalid_request", "message": describe(err.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = err.detail if isinstance(err.detail, str) else "request refused"
        return JSONResponse({"code": codes.get(err.status_code, "http_error"), "message": message}, status_code=err.status_code)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, err: RPCError) -> JSONResponse:
        log.warning("api.temporal_error", path=request.url.path, status=err.status.name if err.status else None)
        if "search attribute" in (err.message or "").lower():
            message = "the claim's search attributes are not registered on this namespace: run `claims search-attributes --apply`"
            return JSONResponse({"code": "search_attributes_missing", "message": message}, status_code=503)
        if err.status in UNREACHABLE:
            return JSONResponse({"code": "temporal_unavailable", "message": "Temporal does not answer"}, status_code=503)
        return JSONResponse({"code": "temporal_error", "message": "Temporal refused the call"}, status_code=502)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        # the type only: a message or traceback could carry a report's personal data
        log.error("api.unexpected_error", path=request.url.path, error=type(err).__name__)
        return JSONResponse({"code": "internal_error", "message": "the request failed; it has been logged"}, status_code=500)
