"""Issue 5.2, the codec server the Temporal UI decodes claims through: it refuses anyone without a
valid staff token (header or sign-in cookie), round-trips payloads in Temporal's remote-codec JSON
format for staff, and answers CORS only for the UI's origins."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.codec_server import COOKIE, codec_app_from_settings
from security.auth import AuthSettings, Role, local_tokens
from security.codec import ENCODING, KEY_ID_METADATA, CodecSettings, EncryptionCodec
from security.permissions import FULL_PERSONAL_DATA

UI = "http://localhost:8233"
SECRET_NAME, SECRET_MOBILE = "隐私测试人", "13977050001"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


CLEAR = {
    "payloads": [
        {
            "metadata": {"encoding": b64(b"json/plain")},
            "data": b64(json.dumps({"name": SECRET_NAME, "mobile": SECRET_MOBILE}, ensure_ascii=False).encode()),
        }
    ]
}


class Env:
    def __init__(self, http: httpx.AsyncClient, data_dir: Path) -> None:
        self.http, self.data_dir = http, data_dir
        self.tokens = local_tokens(AuthSettings(), data_dir)

    def token(self, roles: set[Role] | None = None, ttl: timedelta | None = None) -> str:
        return self.tokens.issue("S100", {Role.AGENT} if roles is None else roles, ttl)


@pytest_asyncio.fixture
async def codec_env(tmp_path: Path) -> AsyncIterator[Env]:
    settings = CodecSettings(keys={"k1": secrets.token_hex(32)}, primary_key_id="k1")
    app = codec_app_from_settings(settings, AuthSettings(), tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8234") as http:
        yield Env(http, tmp_path)


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message"}, body
    return body


@pytest.mark.parametrize("path", ["/decode", "/encode", "/default/decode"])
async def test_issue_5_refuses_a_caller_without_a_token(codec_env: Env, path: str) -> None:
    response = await codec_env.http.post(path, json=CLEAR, headers={"X-Namespace": "default"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_issue_5_refuses_a_bad_an_expired_or_a_foreign_token(codec_env: Env) -> None:
    foreign = local_tokens(AuthSettings(token_secret=secrets.token_hex(32)), codec_env.data_dir).issue("S100", {Role.ADMIN})
    for authorization in (
        "Bearer not-a-token",
        f"Bearer {codec_env.token(ttl=timedelta(minutes=-5))}",  # expired (beyond the clock-skew leeway)
        f"Bearer {foreign}",  # signed with another secret
        f"Basic {codec_env.token()}",
    ):
        response = await codec_env.http.post("/decode", json=CLEAR, headers={"Authorization": authorization})
        assert response.status_code == 401, authorization
        assert error_of(response)["code"] == "unauthenticated"
    # a bad cookie is no better than none
    codec_env.http.cookies.set(COOKIE, "not-a-token")
    response = await codec_env.http.post("/decode", json=CLEAR)
    assert response.status_code == 401
    codec_env.http.cookies.clear()
    # a valid token without any staff role
    response = await codec_env.http.post("/decode", json=CLEAR, headers={"Authorization": f"Bearer {codec_env.token(set())}"})
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


async def test_issue_5_staff_encode_then_decode_round_trips(codec_env: Env) -> None:
    """A role that sees personal data (here the agent) reads claims decoded."""
    headers = {"Authorization": f"Bearer {codec_env.token()}", "X-Namespace": "default"}
    encoded = await codec_env.http.post("/encode", json=CLEAR, headers=headers)
    assert encoded.status_code == 200, encoded.text
    [sealed] = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == ENCODING
    assert base64.b64decode(sealed["metadata"][KEY_ID_METADATA]) == b"k1"
    assert SECRET_MOBILE not in encoded.text and SECRET_MOBILE.encode() not in base64.b64decode(sealed["data"])
    decoded = await codec_env.http.post("/decode?preserveStorageRefs=true", json=encoded.json(), headers=headers)
    assert decoded.status_code == 200
    assert decoded.json() == CLEAR
    assert decoded.headers["cache-control"] == "no-store"
    # payloads in clear (written before encryption) come back unchanged
    assert (await codec_env.http.post("/decode", json=CLEAR, headers=headers)).json() == CLEAR


@pytest.mark.parametrize("role", sorted(set(Role) - FULL_PERSONAL_DATA))
async def test_issue_15_roles_the_api_masks_for_get_no_decoded_claim(codec_env: Env, role: Role) -> None:
    """Issue 15.8: the API masks personal data for assessor, operations and admin, so the codec
    server decodes nothing for them (403) and will not sign them in; every other role may."""
    sealed = (await codec_env.http.post("/encode", json=CLEAR, headers={"Authorization": f"Bearer {codec_env.token()}"})).json()
    refused = await codec_env.http.post("/decode", json=sealed, headers={"Authorization": f"Bearer {codec_env.token({role})}"})
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert SECRET_MOBILE not in refused.text
    login = await codec_env.http.post(
        "/login", data={"token": codec_env.token({role})}, headers={"Origin": "http://localhost:8234"}
    )
    assert login.status_code == 403 and COOKIE not in login.cookies
    for allowed in FULL_PERSONAL_DATA:
        ok = await codec_env.http.post(
            "/decode", json=sealed, headers={"Authorization": f"Bearer {codec_env.token({allowed, role})}"}
        )
        assert ok.status_code == 200 and ok.json() == CLEAR, allowed


async def test_issue_5_a_payload_under_an_unknown_key_is_named_not_shown(codec_env: Env) -> None:
    other = EncryptionCodec({"k0": secrets.token_bytes(32)}, "k0")
    sealed = Payloads(payloads=[other.encrypt(json_format.ParseDict(CLEAR["payloads"][0], Payload()))])
    response = await codec_env.http.post(
        "/decode", content=json_format.MessageToJson(sealed), headers={"Authorization": f"Bearer {codec_env.token()}"}
    )
    assert response.status_code == 422
    body = error_of(response)
    assert body["code"] == "undecodable_payload" and "'k0'" in body["message"]


async def test_issue_5_the_ui_signs_in_once_and_sends_an_httponly_lax_cookie(codec_env: Env) -> None:
    """The dev server's UI cannot attach a token; with 'Include cross-origin credentials' it sends
    the cookie set here (localhost:8233 and localhost:8234 are the same site)."""
    refused = await codec_env.http.post("/login", data={"token": "not-a-token"})
    assert refused.status_code == 401 and COOKIE not in refused.cookies
    forged = await codec_env.http.post("/login", data={"token": codec_env.token()}, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and COOKIE not in forged.cookies
    token = codec_env.token()
    response = await codec_env.http.post("/login", data={"token": token})
    assert response.status_code == 200 and "S100" in response.text
    assert token not in response.text  # the page never echoes the token
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    decoded = await codec_env.http.post(
        "/decode", content=json.dumps(CLEAR), headers={"Origin": UI, "Content-Type": "application/json", "X-Namespace": "default"}
    )
    assert decoded.status_code == 200 and decoded.json() == CLEAR
    assert decoded.headers["access-control-allow-origin"] == UI
    assert decoded.headers["access-control-allow-credentials"] == "true"
    await codec_env.http.post("/logout")
    codec_env.http.cookies.clear()
    assert (await codec_env.http.post("/decode", json=CLEAR)).status_code == 401


@pytest.mark.parametrize("origin", [UI, "http://127.0.0.1:8233"])
async def test_issue_5_cors_preflight_from_the_ui_is_answered_for_its_origin(codec_env: Env, origin: str) -> None:
    response = await codec_env.http.options(
        "/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"content-type", "x-namespace", "authorization"} <= {h.strip() for h in allowed.split(",")}
    # a refusal carries the CORS headers too, so the UI can tell staff to sign in
    refused = await codec_env.http.post("/decode", json=CLEAR, headers={"Origin": origin})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == origin


async def test_issue_5_cors_is_not_granted_to_another_origin(codec_env: Env) -> None:
    response = await codec_env.http.options(
        "/decode",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    # and a credentialed request from there gets no CORS grant: the browser hides the answer
    response = await codec_env.http.post(
        "/decode", json=CLEAR, headers={"Origin": "http://evil.example", "Authorization": f"Bearer {codec_env.token()}"}
    )
    assert "access-control-allow-origin" not in response.headers
