"""The content-addressed photo and document store (R-A-3 photos, R-X-5 documents)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.store import FileStore, StoreActivities, StoreRefused
from domain.contracts import FILE_NOT_FOUND, CheckFilesInput

JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]


def leftovers(root: Path) -> list[Path]:
    return list((root / ".tmp").iterdir())


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (JPEG_BYTES, "image/jpeg"),
        (PNG_BYTES, "image/png"),
        (PDF_BYTES, "application/pdf"),
        (JPEG_BYTES, "IMAGE/JPEG; name=a.jpg"),
    ],
)
def test_put_stores_under_the_hash(store: FileStore, data: bytes, declared: str) -> None:
    stored = store.put(data, declared)
    sha = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == sha
    assert stored.size == len(data)
    assert stored.content_type == declared.split(";")[0].lower()
    assert (store.root / sha[:2] / sha[2:4] / sha).read_bytes() == data
    assert store.open(sha) == data
    assert store.info(sha) == stored


def test_same_bytes_are_stored_once(store: FileStore) -> None:
    first = store.put(JPEG_BYTES, "image/jpeg")
    second = store.put(JPEG_BYTES, "image/jpeg")
    assert first == second
    assert len(stored_files(store.root)) == 1
    assert leftovers(store.root) == []


def test_declared_type_must_match_content(store: FileStore) -> None:
    with pytest.raises(StoreRefused, match="declared image/jpeg, but the content is image/png") as caught:
        store.put(PNG_BYTES, "image/jpeg")
    assert caught.value.reason == "type_mismatch"
    assert stored_files(store.root) == []
    assert leftovers(store.root) == []


def test_content_of_no_allowed_type_is_refused(store: FileStore) -> None:
    with pytest.raises(StoreRefused) as caught:
        store.put(b"GIF89a" + b"\x00" * 32, "image/png")
    assert caught.value.reason == "type_not_allowed"
    with pytest.raises(StoreRefused) as caught:
        store.put(b"GIF89a" + b"\x00" * 32, "image/gif")
    assert caught.value.reason == "type_not_allowed"
    assert stored_files(store.root) == []


def test_too_big_is_refused_and_the_limit_itself_is_taken(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files", max_bytes=1024)
    at_limit = PDF_BYTES + b"\n" * (1024 - len(PDF_BYTES))
    assert store.put(at_limit, "application/pdf").size == 1024
    with pytest.raises(StoreRefused) as caught:
        store.put(at_limit + b"\n", "application/pdf")
    assert caught.value.reason == "too_large"
    assert len(stored_files(store.root)) == 1
    assert leftovers(store.root) == []


def test_empty_is_refused(store: FileStore) -> None:
    with pytest.raises(StoreRefused) as caught:
        store.put(b"", "image/jpeg")
    assert caught.value.reason == "empty"
    assert stored_files(store.root) == []
    assert leftovers(store.root) == []


def test_stream_hashes_while_writing_even_when_magic_is_split(store: FileStore) -> None:
    chunks = [JPEG_BYTES[i : i + 1] for i in range(len(JPEG_BYTES))]
    assert store.put_stream(chunks, "image/jpeg") == store.put(JPEG_BYTES, "image/jpeg")
    assert len(stored_files(store.root)) == 1


def test_stream_stops_reading_once_too_big(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files", max_bytes=4096)
    read = 0

    def endless() -> Iterator[bytes]:
        nonlocal read
        yield PDF_BYTES
        while True:
            read += 1
            yield b"\n" * 1024

    with pytest.raises(StoreRefused):
        store.put_stream(endless(), "application/pdf")
    assert read <= 5
    assert leftovers(store.root) == []


def test_stream_refuses_wrong_type_at_the_first_bytes(store: FileStore) -> None:
    read = 0

    def png_then_more() -> Iterator[bytes]:
        nonlocal read
        yield PNG_BYTES
        while True:
            read += 1
            yield b"\x00" * 1024

    with pytest.raises(StoreRefused):
        store.put_stream(png_then_more(), "application/pdf")
    assert read == 0


def test_exists_and_missing(store: FileStore) -> None:
    sha = store.put(PNG_BYTES, "image/png").sha256
    assert store.exists(sha)
    other = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(other)
    assert store.info(other) is None
    with pytest.raises(FileNotFoundError):
        store.open(other)


@pytest.mark.parametrize("bad", ["", "abc", "A" * 64, "../" + "a" * 61, "g" * 64, "a" * 65])
def test_malformed_hashes_are_refused(store: FileStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.exists(bad)
    with pytest.raises(ValueError):
        store.open(bad)


async def test_check_files_reports_the_missing_ones(store: FileStore) -> None:
    present = store.put(JPEG_BYTES, "image/jpeg").sha256
    absent = hashlib.sha256(b"not uploaded").hexdigest()
    result = await ActivityEnvironment().run(
        StoreActivities(store).check_files, CheckFilesInput(sha256=(present, absent, present, absent))
    )
    assert result.missing == (absent,)
    result = await ActivityEnvironment().run(StoreActivities(store).check_files, CheckFilesInput(sha256=(present,)))
    assert result.missing == ()


async def test_check_files_refuses_a_malformed_hash(store: FileStore) -> None:
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(StoreActivities(store).check_files, CheckFilesInput(sha256=("../etc/passwd",)))
    assert caught.value.type == FILE_NOT_FOUND
    assert caught.value.non_retryable


def test_opening_the_store_sweeps_stale_upload_leftovers(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    stale, fresh = store.root / ".tmp" / "put-stale", store.root / ".tmp" / "put-fresh"
    stale.write_bytes(b"half an upload")
    fresh.write_bytes(b"an upload in progress")
    os.utime(stale, (time.time() - 2 * 3600,) * 2)
    FileStore(tmp_path / "files")
    assert not stale.exists() and fresh.exists()
