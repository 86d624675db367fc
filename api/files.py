"""POST /files: a photo or document into the store, streamed (the guard has refused a body over the
store's limit before it is read)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, File, UploadFile
from starlette.concurrency import run_in_threadpool

from activities.store import Documents, StoredFile, StoreRefused
from api.access import allowed
from api.errors import ApiError
from security.permissions import Action

log = structlog.get_logger("premium_claims.api")

UPLOAD_CHUNK = 64 * 1024

# The store's refusal (StoreRefused.reason) as the API answers it.
REFUSALS = {
    "too_large": (413, "file_too_large"),
    "type_not_allowed": (415, "unsupported_file_type"),
    "type_mismatch": (415, "file_type_mismatch"),
    "empty": (422, "empty_file"),
}


def files_router(store: Documents) -> APIRouter:
    router = APIRouter(tags=["files"])

    @router.post("/files", status_code=201, dependencies=[Depends(allowed(Action.UPLOAD))])
    async def upload(file: Annotated[UploadFile, File(description="JPEG, PNG or PDF")]) -> StoredFile:
        """Put a photo or document in the store (by sha256: the same bytes are kept once). Refer
        to it by the returned sha256 in upload_photos and receive_document."""
        declared = file.content_type or "application/octet-stream"

        def chunks() -> Iterator[bytes]:
            while chunk := file.file.read(UPLOAD_CHUNK):
                yield chunk

        try:
            stored = await run_in_threadpool(store.put_stream, chunks(), declared)
        except StoreRefused as err:
            status, code = REFUSALS.get(err.reason, (422, "file_refused"))
            raise ApiError(status, code, str(err)) from None
        log.info("api.file_stored", sha256=stored.sha256, size=stored.size)
        return stored

    return router
