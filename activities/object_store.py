"""Photos and documents in an S3-compatible object store (issue 22.3): what every host's API and
workers share, where the local folder (activities/store.py) is one host's.

The same contract as `FileStore`: content-addressed by the SHA-256 of the bytes as uploaded (the
workflow history carries only that hash), JPEG, PNG and PDF only, recognised by their first bytes,
a size limit. An object is named `<prefix>ab/cd/<sha256>`, so the same bytes are stored once.

The bytes are personal data (photos of plates and faces, ID cards, bank cards), so they are
encrypted in this process before they leave it: AES-256-GCM with the payload key (the codec's
keyring: a second host decrypts with the same keys), a fresh 96-bit nonce per object, and the
object's name (its SHA-256) as associated data, so an object copied under another name does not
decrypt. The object is `PCD1 | len(key id) | key id | nonce | ciphertext`; its metadata holds
only the plaintext's size and content type. What the store's operator sees: the hashes, sizes,
types and times of the objects, never their content.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from activities.store import (
    DEFAULT_MAX_BYTES,
    StoredFile,
    StoreRefused,
    check_type,
    declared_type_of,
    is_sha256,
    sniff,
    within_limit,
)

log = structlog.get_logger(__name__)

MAGIC = b"PCD1"  # premium-claims document, format 1
NONCE_BYTES = 12


class ObjectStoreError(RuntimeError):
    """The object store refused or failed a call; the message names the object, never its content."""


def seal(keys: Mapping[str, bytes], key_id: str, sha256: str, data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    tag = key_id.encode()
    return MAGIC + bytes([len(tag)]) + tag + nonce + AESGCM(keys[key_id]).encrypt(nonce, data, sha256.encode())


def unseal(keys: Mapping[str, bytes], sha256: str, blob: bytes) -> bytes:
    if not blob.startswith(MAGIC):
        raise ObjectStoreError(f"object {sha256} is not in this store's format")
    length = blob[len(MAGIC)]
    start = len(MAGIC) + 1
    key_id = blob[start : start + length].decode()
    nonce = blob[start + length : start + length + NONCE_BYTES]
    if key_id not in keys:
        raise ObjectStoreError(f"object {sha256} was encrypted with key {key_id!r}, which is not in the keyring")
    data = AESGCM(keys[key_id]).decrypt(nonce, blob[start + length + NONCE_BYTES :], sha256.encode())
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ObjectStoreError(f"object {sha256} does not hold the bytes of its name")
    return data


class ObjectStore:
    """The document store in a bucket of an S3-compatible server (SeaweedFS, Ceph RGW, AWS S3, …)."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        keys: Mapping[str, bytes],
        primary_key_id: str,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str = "us-east-1",
        prefix: str = "documents/",
        max_bytes: int = DEFAULT_MAX_BYTES,
        create_bucket: bool = False,
    ) -> None:
        import boto3
        from botocore.config import Config

        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if primary_key_id not in keys:
            raise ValueError(f"the primary payload key {primary_key_id!r} is not in the keyring")
        self.endpoint = endpoint
        self.bucket = bucket
        self.prefix = prefix
        self.max_bytes = max_bytes
        self._keys = dict(keys)
        self._key_id = primary_key_id
        self._s3: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                s3={"addressing_style": "path"},  # bucket in the path: no wildcard DNS needed
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                # newer botocore adds CRC checksums some S3-compatible servers reject
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        if create_bucket:
            self.ensure_bucket()

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_bucket(Bucket=self.bucket)
            return
        except ClientError:
            pass
        try:
            self._s3.create_bucket(Bucket=self.bucket)
            log.info("store.bucket_created", bucket=self.bucket)
        except ClientError as err:
            # two processes starting together: the other one made it first
            if err.response.get("Error", {}).get("Code") not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def key_of(self, sha256: str) -> str:
        if not is_sha256(sha256):
            raise ValueError("not a SHA-256 (64 lowercase hex digits)")
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    # --- the FileStore contract --------------------------------------------------------------------
    def put(self, data: bytes, declared_type: str) -> StoredFile:
        return self.put_stream((data,), declared_type)

    def put_stream(self, chunks: Iterable[bytes], declared_type: str) -> StoredFile:
        """Take the chunks (refusing early when size or type is wrong), then encrypt and upload once.
        At most max_bytes are held in memory (20 MiB by default)."""
        declared = declared_type_of(declared_type)
        data = b"".join(bytes(chunk) for chunk in within_limit(chunks, self.max_bytes))
        size = len(data)
        if not data:
            raise StoreRefused("empty", "file is empty")
        check_type(data, declared)
        sha = hashlib.sha256(data).hexdigest()
        stored = StoredFile(sha256=sha, size=size, content_type=declared)
        if self.exists(sha):
            log.info("store.file_already_stored", sha256=sha, size=size)
            return stored
        self._s3.put_object(
            Bucket=self.bucket,
            Key=self.key_of(sha),
            Body=seal(self._keys, self._key_id, sha, data),
            ContentType="application/octet-stream",  # what travels is ciphertext
            Metadata={"plain-size": str(size), "plain-type": declared, "key-id": self._key_id},
        )
        log.info("store.file_stored", sha256=sha, size=size, content_type=declared, where="object_store")
        return stored

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def open(self, sha256: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            blob = self._s3.get_object(Bucket=self.bucket, Key=self.key_of(sha256))["Body"].read()
        except ClientError as err:
            if _not_found(err):
                raise FileNotFoundError(f"no stored file {sha256}") from None
            raise
        return unseal(self._keys, sha256, blob)

    def info(self, sha256: str) -> StoredFile | None:
        head = self._head(sha256)
        if head is None:
            return None
        meta = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
        if "plain-size" in meta and "plain-type" in meta:
            return StoredFile(sha256=sha256, size=int(meta["plain-size"]), content_type=meta["plain-type"])
        data = self.open(sha256)  # metadata lost (a copied object): read it
        return StoredFile(sha256=sha256, size=len(data), content_type=sniff(data) or "application/octet-stream")

    def _head(self, sha256: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            head: dict[str, Any] = self._s3.head_object(Bucket=self.bucket, Key=self.key_of(sha256))
        except ClientError as err:
            if _not_found(err):
                return None
            raise
        return head

    # --- for the tests and the privacy scan ---------------------------------------------------------
    def raw_objects(self) -> dict[str, bytes]:
        """Every object under the prefix as the server holds it (ciphertext)."""
        found: dict[str, bytes] = {}
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                found[item["Key"]] = self._s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
        return found


def _not_found(err: Any) -> bool:
    return str(err.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}
