"""Payload encryption: the Temporal server, its database and its UI hold claims only as ciphertext.

A claim carries names, mobile numbers, ID card numbers, plates and bank accounts (PRC PIPL). Every
payload the SDK sends (workflow and activity inputs and results, update and query arguments and
results, child-workflow and signal arguments, the summaries and details the UI shows, failure
messages and stack traces) passes through `EncryptionCodec` on the way out: AES-256-GCM with the
primary key, a fresh 96-bit nonce per payload, the key ID in the payload's metadata. Any key of
the keyring decrypts, so a key is rotated by adding a new primary and keeping the old one for the
claims written under it. Payloads that are not encrypted pass through on the way in: histories
recorded before encryption still replay.

What the codec never sees, and so must never hold personal data: workflow IDs and types, task
queues, activity types, search attributes (workflows/search_attributes.py: codes, stages, bands).

Keys come from settings (`codec.keys`, e.g. PREMIUM_CLAIMS_CODEC__KEYS__PROD2026=<64 hex>); the
embedded default keeps one owner-only key file per key ID under <data_dir>/secrets/, making the
primary's on first run.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from security.secret_files import read_or_create_secret

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32  # AES-256
KEY_FILE_PREFIX, KEY_FILE_SUFFIX = "codec-", ".key"
# Lower case: key IDs also come from environment variable names, which settings read in lower case.
KEY_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")


class CodecError(Exception):
    """A payload that cannot be decrypted here; the message names the key, never the content."""


class MissingEncryptionKey(CodecError):
    pass


class CodecSettings(BaseModel):
    """The keyring and the codec server the Temporal UI decodes through."""

    model_config = ConfigDict(extra="forbid")

    primary_key_id: str = "local1"  # new payloads are encrypted with this key
    # key ID -> 32-byte key in hex, from the environment or a secret store (never from the repo).
    keys: dict[str, SecretStr] = {}
    # Local key files codec-<key id>.key: every one found decrypts; unset: <data_dir>/secrets.
    # Only when `keys` is empty (the embedded default) is a missing primary key file created.
    key_dir: Path | None = None
    # The codec server (`claims run` starts it; `claims codec-server` runs it alone).
    host: str = "127.0.0.1"
    port: int = Field(default=8234, ge=1, le=65535)
    public_url: str | None = None  # the address browsers reach it at; unset: http://localhost:<port>
    # The Web UI's origins, allowed by CORS; unset: http://localhost:<ui_port> and http://127.0.0.1:<ui_port>.
    ui_origins: list[str] | None = None

    @field_validator("primary_key_id")
    @classmethod
    def _key_id(cls, value: str) -> str:
        return _check_key_id(value)

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for key_id, key in value.items():
            _check_key_id(key_id)
            _key_bytes(key_id, key.get_secret_value())
        return value

    @field_validator("ui_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        # PREMIUM_CLAIMS_CODEC__UI_ORIGINS=https://temporal.example,https://ops.example
        return [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value

    def resolved_key_dir(self, data_dir: Path) -> Path:
        return self.key_dir or data_dir / "secrets"

    def origins(self, ui_port: int) -> list[str]:
        return self.ui_origins or [f"http://localhost:{ui_port}", f"http://127.0.0.1:{ui_port}"]

    def endpoint(self) -> str:
        """The codec endpoint the UI is told about (`--ui-codec-endpoint`)."""
        return (self.public_url or f"http://localhost:{self.port}").rstrip("/")


def _check_key_id(key_id: str) -> str:
    if not KEY_ID_PATTERN.match(key_id):
        raise ValueError(f"key ID {key_id!r}: lower-case letters, digits and _, at most 32")
    return key_id


def _key_bytes(key_id: str, hex_key: str) -> bytes:
    try:
        key = bytes.fromhex(hex_key.strip())
    except ValueError:
        raise ValueError(f"key {key_id!r} is not hex") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"key {key_id!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES} (64 hex digits)")
    return key


def key_file(key_dir: Path, key_id: str) -> Path:
    return key_dir / f"{KEY_FILE_PREFIX}{_check_key_id(key_id)}{KEY_FILE_SUFFIX}"


def load_keys(settings: CodecSettings, data_dir: Path) -> dict[str, bytes]:
    """The keyring: every key file in the key folder, then the keys given in settings (they win).

    The embedded default (no keys in settings) creates the primary's key file, owner-only, on
    first use. With keys in settings nothing is created: a primary that is missing is an error,
    not a fresh key that only this process would know.
    """
    key_dir = settings.resolved_key_dir(data_dir)
    keys: dict[str, bytes] = {}
    if key_dir.is_dir():
        for path in sorted(key_dir.glob(f"{KEY_FILE_PREFIX}*{KEY_FILE_SUFFIX}")):
            key_id = path.name[len(KEY_FILE_PREFIX) : -len(KEY_FILE_SUFFIX)]
            if KEY_ID_PATTERN.match(key_id):
                keys[key_id] = _key_bytes(key_id, read_or_create_secret(path).hex())
    for key_id, secret in settings.keys.items():
        keys[key_id] = _key_bytes(key_id, secret.get_secret_value())
    primary = settings.primary_key_id
    if primary not in keys:
        if settings.keys:
            raise MissingEncryptionKey(
                f"the primary key {primary!r} is neither in codec.keys nor in {key_file(key_dir, primary)}"
            )
        keys[primary] = read_or_create_secret(key_file(key_dir, primary), KEY_BYTES)
    return keys


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over the whole serialized payload (its metadata included); key ID in the clear."""

    def __init__(self, keys: Mapping[str, bytes], primary_key_id: str) -> None:
        if primary_key_id not in keys:
            raise MissingEncryptionKey(f"the primary key {primary_key_id!r} is not in the keyring")
        self._ciphers = {key_id: AESGCM(_key_bytes(key_id, key.hex())) for key_id, key in keys.items()}
        self.primary_key_id = primary_key_id

    @classmethod
    def from_settings(cls, settings: CodecSettings, data_dir: Path) -> EncryptionCodec:
        return cls(load_keys(settings, data_dir), settings.primary_key_id)

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._ciphers)

    @staticmethod
    def _associated_data(key_id: str) -> bytes:
        # Binds the ciphertext to its key ID: a payload relabelled with another key fails to open.
        return ENCODING + b";" + key_id.encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        if is_encrypted(payload):
            return payload
        key_id = self.primary_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), self._associated_data(key_id))
        return Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if not is_encrypted(payload):
            return payload  # written before encryption (or a search attribute): nothing to undo
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("ascii", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise MissingEncryptionKey(
                f"payload encrypted with key {key_id!r}, which this process does not have "
                f"(it has {', '.join(sorted(self._ciphers))}); add it to codec.keys or its key file"
            )
        data = payload.data
        try:
            clear = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], self._associated_data(key_id))
        except InvalidTag:
            raise CodecError(f"payload under key {key_id!r} does not decrypt: another key with that ID, or altered") from None
        return Payload.FromString(clear)


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCODING


def data_converter(codec: PayloadCodec) -> DataConverter:
    """The project's converter: pydantic values, this codec, failure messages and traces encoded too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def converter_from_settings(settings: CodecSettings, data_dir: Path) -> DataConverter:
    return data_converter(EncryptionCodec.from_settings(settings, data_dir))


def environment_for_child(settings: CodecSettings, data_dir: Path) -> dict[str, str]:
    """Environment variables that give a child process (a worker under test) this process's keyring:
    the same key folder, the same primary, the keys given in settings."""
    env = {
        "PREMIUM_CLAIMS_CODEC__KEY_DIR": str(settings.resolved_key_dir(data_dir).resolve()),
        "PREMIUM_CLAIMS_CODEC__PRIMARY_KEY_ID": settings.primary_key_id,
    }
    for key_id, secret in settings.keys.items():
        env[f"PREMIUM_CLAIMS_CODEC__KEYS__{key_id.upper()}"] = secret.get_secret_value()
    return env


# --- payloads in JSON histories (`temporal workflow show --output json`, WorkflowHistory.to_json) ---
def _is_payload_json(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("metadata"), dict) and "encoding" in node["metadata"]


def payloads_in(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every payload of a JSON history (protobuf JSON form), with the path of keys leading to it."""
    if _is_payload_json(node):
        yield path, node
    elif isinstance(node, dict):
        for key, child in node.items():
            yield from payloads_in(child, (*path, str(key)))
    elif isinstance(node, list):
        for child in node:
            yield from payloads_in(child, path)


def payload_from_json(node: Mapping[str, Any]) -> Payload:
    return json_format.ParseDict(dict(node), Payload())


def key_ids_in(history: Any) -> Counter[str]:
    """How many payloads of a JSON history each key ID encrypted ('' for payloads in clear)."""
    counts: Counter[str] = Counter()
    for _, node in payloads_in(history):
        payload = payload_from_json(node)
        counts[payload.metadata.get(KEY_ID_METADATA, b"").decode() if is_encrypted(payload) else ""] += 1
    return counts


def decode_json_history(codec: EncryptionCodec, node: Any) -> Any:
    """A copy of a JSON history with every payload decrypted (raises CodecError naming a missing key)."""
    if _is_payload_json(node):
        return json_format.MessageToDict(codec.decrypt(payload_from_json(node)))
    if isinstance(node, dict):
        return {key: decode_json_history(codec, child) for key, child in node.items()}
    if isinstance(node, list):
        return [decode_json_history(codec, child) for child in node]
    return node
