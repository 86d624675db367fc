"""Photo and document store (R-A-3 photos, R-X-5 documents): content-addressed files on disk.

A file is named by the SHA-256 of its bytes and kept at root/ab/cd/<sha256>: the same bytes are
stored once, a name can never point to other bytes, and the workflow history carries only the
hash. Writes go to a temporary file first and are moved into place with os.replace, so a reader
never sees half a file. Only JPEG, PNG and PDF are taken, recognised by their first bytes; the
declared type must agree with the content.

`FileStore` is the embedded default, one host's folder; `activities.object_store.ObjectStore` keeps
the same files, encrypted, in an S3-compatible bucket every host shares (`Documents` is what both do).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import structlog
from temporalio import activity

from activities.errors import refusal
from domain.contracts import FILE_NOT_FOUND, ActivityName, CheckFilesInput, CheckFilesResult
from domain.models import Frozen

log = structlog.get_logger(__name__)

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MIB
STALE_TEMP_SECONDS = 3600

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
ALLOWED_TYPES = (JPEG, PNG, PDF)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"%PDF-", PDF),
)
_HEAD_BYTES = max(len(magic) for magic, _ in _MAGIC)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class StoreRefused(ValueError):
    """The store will not take these bytes. `reason` is a code for callers, the message for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "empty", "too_large", "type_not_allowed", "type_mismatch"


class StoredFile(Frozen):
    sha256: str
    size: int
    content_type: str


def is_sha256(value: str) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def sniff(head: bytes) -> str | None:
    """The content type the first bytes show, or None if not an allowed type."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def declared_type_of(declared_type: str) -> str:
    """The declared content type, normalised, if it is one the store takes; else StoreRefused."""
    # "image/JPEG; name=x.jpg" -> "image/jpeg"
    content_type = declared_type.split(";", 1)[0].strip().lower()
    if content_type not in ALLOWED_TYPES:
        raise StoreRefused("type_not_allowed", f"type {content_type or '(none)'} is not taken; send JPEG, PNG or PDF")
    return content_type


def check_type(head: bytes, declared: str) -> None:
    """StoreRefused unless the first bytes show an allowed type, and the declared one."""
    actual = sniff(head)
    if actual is None:
        raise StoreRefused("type_not_allowed", f"declared {declared}, but the content is not JPEG, PNG or PDF")
    if actual != declared:
        raise StoreRefused("type_mismatch", f"declared {declared}, but the content is {actual}")


def within_limit(chunks: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    """The non-empty chunks, refusing (too_large) as soon as their sum passes `max_bytes`, before
    the rest is read: each store's put_stream takes its chunks through this."""
    size = 0
    for chunk in chunks:
        if not chunk:
            continue
        size += len(chunk)
        if size > max_bytes:
            raise StoreRefused("too_large", f"file is larger than {max_bytes} bytes")
        yield chunk


class DocumentStore(Protocol):
    def exists(self, sha256: str) -> bool: ...


class Documents(DocumentStore, Protocol):
    """What the API and the CLI use of a store: the local folder or the object store."""

    max_bytes: int

    def put(self, data: bytes, declared_type: str) -> StoredFile: ...

    def put_stream(self, chunks: Iterable[bytes], declared_type: str) -> StoredFile: ...

    def open(self, sha256: str) -> bytes: ...

    def info(self, sha256: str) -> StoredFile | None: ...


class FileStore:
    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._tmp = self.root / ".tmp"  # inside root: os.replace stays on one file system
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._sweep_temp_files()

    def _sweep_temp_files(self) -> None:
        # Leftovers of a process killed mid-upload; an hour is far longer than any upload.
        cutoff = time.time() - STALE_TEMP_SECONDS
        for leftover in self._tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    def path_of(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError("not a SHA-256 (64 lowercase hex digits)")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes, declared_type: str) -> StoredFile:
        return self.put_stream((data,), declared_type)

    def put_stream(self, chunks: Iterable[bytes], declared_type: str) -> StoredFile:
        """Store the chunks' bytes, hashing while writing; refuse early when size or type is wrong."""
        declared = declared_type_of(declared_type)
        digest = hashlib.sha256()
        size = 0
        head = b""
        type_checked = False
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in within_limit(chunks, self.max_bytes):
                    size += len(chunk)
                    if not type_checked:
                        head += bytes(chunk[: _HEAD_BYTES - len(head)])
                        if len(head) >= _HEAD_BYTES:
                            check_type(head, declared)
                            type_checked = True
                    digest.update(chunk)
                    out.write(chunk)
                if size == 0:
                    raise StoreRefused("empty", "file is empty")
                if not type_checked:  # shorter than the longest magic
                    check_type(head, declared)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path_of(sha)
            if target.exists():
                tmp.unlink()
                log.info("store.file_already_stored", sha256=sha, size=size)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
                log.info("store.file_stored", sha256=sha, size=size, content_type=declared)
            return StoredFile(sha256=sha, size=size, content_type=declared)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def open(self, sha256: str) -> bytes:
        path = self.path_of(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"no stored file {sha256}") from None

    def info(self, sha256: str) -> StoredFile | None:
        path = self.path_of(sha256)
        try:
            with path.open("rb") as f:
                head = f.read(_HEAD_BYTES)
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        return StoredFile(sha256=sha256, size=size, content_type=sniff(head) or "application/octet-stream")


class StoreActivities:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    @activity.defn(name=ActivityName.CHECK_FILES)
    async def check_files(self, input: CheckFilesInput) -> CheckFilesResult:
        """The files of the input that are not in the store (in input order, each once)."""
        bad = [value for value in input.sha256 if not is_sha256(value)]
        if bad:
            raise refusal(f"{len(bad)} file reference(s) are not SHA-256 hashes", FILE_NOT_FOUND)
        wanted = list(dict.fromkeys(input.sha256))

        def missing() -> tuple[str, ...]:
            return tuple(sha for sha in wanted if not self._store.exists(sha))

        result = CheckFilesResult(missing=await asyncio.to_thread(missing))
        log.info("store.files_checked", checked=len(wanted), missing=len(result.missing))
        return result
