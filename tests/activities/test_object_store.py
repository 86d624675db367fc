"""Photos and documents in an S3-compatible object store (issue 22.3; R-A-3 photos, R-X-5
documents), against a real SeaweedFS: the local store's contract (content-addressed by SHA-256,
the type and size checks) holds, and what the server keeps is ciphertext under the payload key."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.testing import ActivityEnvironment

from activities.object_store import ObjectStore, ObjectStoreError
from activities.store import StoreActivities, StoreRefused
from dev.seaweedfs import SeaweedFS
from domain.contracts import CheckFilesInput
from tests.activities.test_file_store import JPEG_BYTES, PDF_BYTES, PNG_BYTES
from tests.helpers.objectstore import object_store

KEYS = {"k1": os.urandom(32)}
# a photo with something a person could read in it: must not reach the server in clear
PHOTO = PNG_BYTES + "京A·F0001 测试客户一 13800000001".encode() * 8


@pytest.fixture
def store(seaweedfs: SeaweedFS) -> ObjectStore:
    return object_store(seaweedfs, KEYS)


@pytest.mark.parametrize(("data", "declared"), [(JPEG_BYTES, "image/jpeg"), (PHOTO, "image/png"), (PDF_BYTES, "application/pdf")])
def test_put_keeps_the_bytes_under_their_sha256_R_A_3(store: ObjectStore, data: bytes, declared: str) -> None:
    stored = store.put(data, declared)
    sha = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, stored.content_type) == (sha, len(data), declared)
    assert store.exists(sha) and store.open(sha) == data
    assert store.info(sha) == stored
    assert list(store.raw_objects()) == [f"documents/{sha[:2]}/{sha[2:4]}/{sha}"]


def test_objects_are_ciphertext_under_the_payload_key(seaweedfs: SeaweedFS, store: ObjectStore) -> None:
    sha = store.put(PHOTO, "image/png").sha256
    [raw] = store.raw_objects().values()
    for clear in (PHOTO, PNG_BYTES, "测试客户一".encode(), b"13800000001", "京A·F0001".encode()):
        assert clear not in raw
    assert raw.startswith(b"PCD1")
    another_key = object_store(seaweedfs, {"k1": os.urandom(32)}, bucket=store.bucket)
    with pytest.raises(InvalidTag):  # the GCM tag does not verify under another key
        another_key.open(sha)


def test_same_bytes_are_one_object(store: ObjectStore) -> None:
    assert store.put(JPEG_BYTES, "image/jpeg") == store.put(JPEG_BYTES, "image/jpeg")
    assert len(store.raw_objects()) == 1


def test_a_rotated_key_still_opens_what_the_old_one_sealed(seaweedfs: SeaweedFS) -> None:
    old = object_store(seaweedfs, {"k1": KEYS["k1"]})
    sha = old.put(PDF_BYTES, "application/pdf").sha256
    rotated = object_store(seaweedfs, {"k2": os.urandom(32), "k1": KEYS["k1"]}, bucket=old.bucket)
    assert rotated.open(sha) == PDF_BYTES
    without_old = object_store(seaweedfs, {"k3": os.urandom(32)}, bucket=old.bucket)
    with pytest.raises(ObjectStoreError, match="'k1', which is not in the keyring"):
        without_old.open(sha)


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [(b"", "image/png", "empty"), (b"GIF89a....", "image/gif", "type_not_allowed"), (PNG_BYTES, "image/jpeg", "type_mismatch")],
)
def test_refusals_are_the_local_stores_and_store_nothing(store: ObjectStore, data: bytes, declared: str, reason: str) -> None:
    with pytest.raises(StoreRefused) as caught:
        store.put(data, declared)
    assert caught.value.reason == reason
    assert store.raw_objects() == {}


def test_too_large_is_refused(seaweedfs: SeaweedFS) -> None:
    small = object_store(seaweedfs, KEYS, max_bytes=64)
    with pytest.raises(StoreRefused) as caught:
        small.put_stream([JPEG_BYTES[:40], JPEG_BYTES[40:]], "image/jpeg")
    assert caught.value.reason == "too_large" and small.raw_objects() == {}


def test_unknown_hash_is_missing(store: ObjectStore) -> None:
    sha = "0" * 64
    assert not store.exists(sha) and store.info(sha) is None
    with pytest.raises(FileNotFoundError):
        store.open(sha)


async def test_check_files_activity_over_the_object_store_R_X_5(store: ObjectStore) -> None:
    present = store.put(JPEG_BYTES, "image/jpeg").sha256
    absent = hashlib.sha256(b"never uploaded").hexdigest()
    result = await ActivityEnvironment().run(StoreActivities(store).check_files, CheckFilesInput(sha256=(present, absent)))
    assert result.missing == (absent,)


def test_processes_starting_together_may_both_create_the_bucket(seaweedfs: SeaweedFS) -> None:
    """Two API processes or workers with object_store_create_bucket, starting at once: both open."""
    from concurrent.futures import ThreadPoolExecutor

    bucket = "together-" + os.urandom(4).hex()
    with ThreadPoolExecutor(max_workers=4) as pool:
        stores = list(pool.map(lambda _: object_store(seaweedfs, KEYS, bucket=bucket), range(4)))
    assert {s.bucket for s in stores} == {bucket}
    sha = stores[0].put(JPEG_BYTES, "image/jpeg").sha256
    assert stores[3].open(sha) == JPEG_BYTES
