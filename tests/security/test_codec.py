"""Issue 5.1, payload encryption: AES-256-GCM per payload with the key ID in its metadata, any key
of the keyring decrypts, payloads in clear pass through, a missing key is named; keys come from
settings or owner-only local key files, never from the repository."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes
from temporalio.exceptions import ApplicationError

from config.settings import load_settings
from security.codec import (
    ENCODING,
    KEY_ID_METADATA,
    CodecError,
    CodecSettings,
    EncryptionCodec,
    MissingEncryptionKey,
    data_converter,
    decode_json_history,
    key_ids_in,
    load_keys,
)

NAME, MOBILE, ACCOUNT = "隐私测试人", "13977050001", "6217004455000012"


def clear_payload() -> Payload:
    return Payload(
        metadata={"encoding": b"json/plain"}, data=json.dumps({"name": NAME, "mobile": MOBILE}, ensure_ascii=False).encode()
    )


async def test_encrypts_with_the_primary_key_and_round_trips() -> None:
    codec = EncryptionCodec({"k1": secrets.token_bytes(32)}, "k1")
    [sealed] = await codec.encode([clear_payload()])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID_METADATA] == b"k1"
    assert NAME.encode() not in sealed.data and MOBILE.encode() not in sealed.data
    [again] = await codec.encode([clear_payload()])
    assert again.data != sealed.data  # a fresh nonce each time
    assert await codec.decode([sealed]) == [clear_payload()]


async def test_any_key_of_the_keyring_decrypts_and_clear_payloads_pass_through() -> None:
    """Rotation: payloads under the old key still open once a new key is primary; histories recorded
    before encryption still replay."""
    k1, k2 = secrets.token_bytes(32), secrets.token_bytes(32)
    [old] = await EncryptionCodec({"k1": k1}, "k1").encode([clear_payload()])
    rotated = EncryptionCodec({"k1": k1, "k2": k2}, "k2")
    [new] = await rotated.encode([clear_payload()])
    assert new.metadata[KEY_ID_METADATA] == b"k2"
    assert await rotated.decode([old, new, clear_payload()]) == [clear_payload()] * 3


async def test_a_missing_key_fails_with_its_id_and_a_tampered_payload_does_not_open() -> None:
    [sealed] = await EncryptionCodec({"k1": secrets.token_bytes(32)}, "k1").encode([clear_payload()])
    with pytest.raises(MissingEncryptionKey, match="'k1'"):
        await EncryptionCodec({"k2": secrets.token_bytes(32)}, "k2").decode([sealed])
    with pytest.raises(CodecError, match="'k1'"):  # same ID, other key material
        await EncryptionCodec({"k1": secrets.token_bytes(32)}, "k1").decode([sealed])
    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID_METADATA] = b"k2"
    with pytest.raises(CodecError):  # the key ID is bound to the ciphertext
        await EncryptionCodec({"k2": secrets.token_bytes(32)}, "k2").decode([relabelled])


async def test_failure_messages_and_stack_traces_are_encrypted_too() -> None:
    """encode_common_attributes: the message the server stores is 'Encoded failure'."""
    converter = data_converter(EncryptionCodec({"k1": secrets.token_bytes(32)}, "k1"))
    assert converter.failure_converter_class is DefaultFailureConverterWithEncodedAttributes
    failure = Failure()
    try:
        raise ApplicationError(f"payee {ACCOUNT} refused for {NAME}", type="PayeeNotInsured")
    except ApplicationError as err:
        await converter.encode_failure(err, failure)
    wire = failure.SerializeToString()
    assert ACCOUNT.encode() not in wire and NAME.encode() not in wire
    assert failure.message == "Encoded failure" and not failure.stack_trace
    assert failure.encoded_attributes.metadata["encoding"] == ENCODING
    decoded = await converter.decode_failure(failure)
    assert ACCOUNT in str(decoded) and NAME in str(decoded)


def test_embedded_default_makes_an_owner_only_key_file_once(tmp_path: Path) -> None:
    settings = CodecSettings()
    keys = load_keys(settings, tmp_path)
    path = tmp_path / "secrets" / "codec-local1.key"
    assert set(keys) == {"local1"} and len(keys["local1"]) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_keys(settings, tmp_path) == keys  # read again, not replaced
    # rotation in the embedded default: a new primary gets its own file, the old file still decrypts
    rotated = load_keys(CodecSettings(primary_key_id="local2"), tmp_path)
    assert set(rotated) == {"local1", "local2"} and rotated["local1"] == keys["local1"]


def test_production_keys_come_from_the_environment_and_a_missing_primary_is_an_error(tmp_path: Path) -> None:
    k1, k2 = secrets.token_hex(32), secrets.token_hex(32)
    env = {
        "PREMIUM_CLAIMS_DATA_DIR": str(tmp_path),
        "PREMIUM_CLAIMS_CODEC__KEYS__PROD2026A": k1,
        "PREMIUM_CLAIMS_CODEC__KEYS__PROD2026B": k2,
        "PREMIUM_CLAIMS_CODEC__PRIMARY_KEY_ID": "prod2026b",
        "PREMIUM_CLAIMS_CODEC__UI_ORIGINS": "https://temporal.example, https://ops.example",
    }
    settings = load_settings(None, env)
    assert settings.codec.ui_origins == ["https://temporal.example", "https://ops.example"]
    assert k1 not in repr(settings) and k1 not in settings.model_dump_json()  # secrets never printed
    codec = EncryptionCodec.from_settings(settings.codec, settings.data_dir)
    assert codec.key_ids == {"prod2026a", "prod2026b"} and codec.primary_key_id == "prod2026b"
    assert not (tmp_path / "secrets").exists()  # with keys given, no local file is made
    with pytest.raises(MissingEncryptionKey, match="'prod2027'"):
        load_keys(settings.codec.model_copy(update={"primary_key_id": "prod2027"}), tmp_path)
    with pytest.raises(ValueError, match="64 hex"):
        load_settings(None, {"PREMIUM_CLAIMS_CODEC__KEYS__SHORT": "abcd"})


async def test_json_histories_show_key_ids_and_decode(tmp_path: Path) -> None:
    codec = EncryptionCodec({"k1": secrets.token_bytes(32)}, "k1")
    [sealed] = await codec.encode([clear_payload()])
    history = {
        "events": [{"input": {"payloads": [json_format.MessageToDict(sealed), json_format.MessageToDict(clear_payload())]}}]
    }
    assert key_ids_in(history) == {"k1": 1, "": 1}
    decoded = decode_json_history(codec, history)
    assert key_ids_in(decoded) == {"": 2}
