"""Issue 5.3-5.5 on the HTTP API: every role (and no token, a bad one, an expired one) against
every endpoint; steps recorded by the token's subject; personal data masked by role; body-size
and per-caller rate limits. One started claim serves the whole matrix."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.routing import APIRoute
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store import FileStore
from api import create_app
from api.guard import PUBLIC_PATHS, Limits, TokenBuckets
from api.views import masked_tag
from cli.admin import cmd_token
from client.claims import drive, report_claim
from config.settings import Settings
from dev.scenarios import DEMO_PHOTO, steps_for
from domain.contracts import PAYMENT_DECLINED, ActivityName, PayIndemnityInput, PayIndemnityResult
from domain.models import TagReading, Track
from security.auth import AuthSettings, LocalTokens, OidcTokens, Role, authenticator
from security.masking import mask_account, mask_mobile
from security.permissions import STEP_ROLES
from tests.api.conftest import TEST_LIMITS, ApiEnv, bearer, error_of
from tests.helpers import eventually
from tests.workflows.helpers import reports, running
from workflows.messages import STEP_MODELS

R = Role
EVERYONE = frozenset(Role)
UPLOADERS = frozenset({R.AGENT, R.SURVEYOR, R.ASSESSOR, R.INJURY_SPECIALIST, R.EXPERT_LEAD, R.SUPERVISOR})


def steps(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


# The expected matrix, written from SPEC.md (not read from security/permissions.py, so a wrong
# table there fails here): (endpoint, track in the path, body, the roles that may).
STEP_MATRIX: list[tuple[str, str, dict[str, Any], frozenset[Role]]] = [
    ("accept_offer", "B", {"accepted": True}, steps(R.AGENT, R.SUPERVISOR)),  # R-A-1, R-B-1, R-C-1
    ("record_scene_estimate", "A", {"own_loss": "2800.00"}, steps(R.SURVEYOR, R.SUPERVISOR)),  # R-A-2
    ("car_at_shop", "A", {"shop_code": "SHOP-17"}, steps(R.ASSESSOR, R.AGENT, R.SUPERVISOR)),  # R-A-3
    ("upload_photos", "A", {"sha256": ["a" * 64]}, steps(R.ASSESSOR, R.SUPERVISOR)),  # R-A-3
    ("issue_assessment", "B", {"sheet_no": "DS-1", "amount": "100.00"}, steps(R.ASSESSOR, R.SUPERVISOR)),  # R-A-4
    (
        "receive_document",
        "B",
        {"document": "claim_form", "channel": "self"},  # R-A-5, R-B-4, R-X-5
        steps(R.ASSESSOR, R.AGENT, R.INJURY_SPECIALIST, R.EXPERT_LEAD, R.SUPERVISOR),
    ),
    (
        "receive_documents",
        "B",
        {"documents": [{"document": "claim_form", "channel": "self"}]},  # R-X-5
        steps(R.ASSESSOR, R.AGENT, R.INJURY_SPECIALIST, R.EXPERT_LEAD, R.SUPERVISOR),
    ),
    ("name_expert_lead", "C", {"lead_code": "EL07"}, steps(R.EXPERT_LEAD, R.AGENT, R.SUPERVISOR)),  # R-C-2
    ("record_lead_contact", "C", {"note": "called"}, steps(R.EXPERT_LEAD, R.SUPERVISOR)),  # R-C-3
    ("staff_team", "C", {"roles": ["legal"]}, steps(R.EXPERT_LEAD, R.SUPERVISOR)),  # R-C-4
    ("complete_service_item", "C", {"role": "legal"}, steps(R.EXPERT_LEAD, R.SUPERVISOR)),  # R-C-5
    ("report_back", "C", {}, steps(R.EXPERT_LEAD, R.SUPERVISOR)),  # R-C-5
    ("report_back", "D", {}, steps(R.INJURY_SPECIALIST, R.SUPERVISOR)),  # R-D-6
    ("record_specialist_contact", "D", {"kind": "first_call"}, steps(R.INJURY_SPECIALIST, R.SUPERVISOR)),  # R-D-2..5
    ("correct_payee_account", "B", {"account": "6222000011112222"}, steps(R.AGENT, R.SUPERVISOR)),  # R-X-3
    ("record_callback", "B", {"score": 4}, steps(R.SERVICE_CENTRE)),  # R-X-1 (not the supervisor)
]


def endpoints(no: str, report: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any], frozenset[Role]]]:
    """(label, method, path, request kwargs, allowed roles) for every endpoint but the public ones."""
    rows: list[tuple[str, str, str, dict[str, Any], frozenset[Role]]] = [
        ("list claims", "GET", "/claims?page_size=1", {}, EVERYONE),
        ("read claim", "GET", f"/claims/{no}", {}, EVERYONE),
        ("read track", "GET", f"/claims/{no}/tracks/B", {}, EVERYONE),
        ("report", "POST", "/claims", {"json": report}, frozenset({R.AGENT, R.SUPERVISOR})),  # R-ID-2
        ("upload", "POST", "/files", {"files": {"file": ("p.png", DEMO_PHOTO, "image/png")}}, UPLOADERS),
        # issue 13: the operations lead's view, and the supervisor's whom deadlines reach (OPEN-3)
        ("operations summary", "GET", "/operations/summary?report_no_prefix=NOSUCH", {}, frozenset({R.OPERATIONS, R.SUPERVISOR})),
        ("operations page", "GET", "/operations?report_no_prefix=NOSUCH", {}, frozenset({R.OPERATIONS, R.SUPERVISOR})),
    ]
    for step, track, body, allowed in STEP_MATRIX:
        rows.append((f"{step} on {track}", "POST", f"/claims/{no}/tracks/{track}/steps/{step}", {"json": body}, allowed))
    return rows


def test_the_matrix_names_every_step_and_the_table_every_step() -> None:
    assert {step for step, *_ in STEP_MATRIX} == set(STEP_MODELS) == set(STEP_ROLES)


def test_every_route_but_the_public_ones_checks_permissions(api: ApiEnv) -> None:
    """A route added without a permission check fails here (the guard would still ask for a
    token, but any role could then use it)."""
    app = create_app(api.client, store=api.store, authenticator=api.tokens)

    def calls(dependant) -> set[str]:
        found = set()
        for dep in dependant.dependencies:
            found.add(getattr(dep.call, "__name__", ""))
            found |= calls(dep)
        return found

    def flat(routes):
        for route in routes:  # a router the app includes (api/operations.py) holds its own routes
            included = getattr(route, "original_router", None)
            yield from flat(included.routes) if included is not None else [route]

    routes = [r for r in flat(app.routes) if isinstance(r, APIRoute)]
    assert {r.path for r in routes if r.path not in PUBLIC_PATHS} >= {"/claims", "/files", "/operations", "/operations/summary"}
    for route in routes:
        if route.path in PUBLIC_PATHS:
            continue
        assert calls(route.dependant) & {"check", "step_allowed"}, route.path


async def test_permission_matrix_every_role_against_every_endpoint(api: ApiEnv) -> None:
    """Issue 5.3, R-ID-2, R-A-1..5, R-B-4, R-C-2..5, R-D-2..6, R-X-1, R-X-3: 401 without a valid
    token (none, not a JWT, another scheme, expired, another key's signature), 403 for a role the
    step is not for (operations moves nothing; an assessor records no callback), and for an
    allowed role anything but 401/403 (200, or 404/409 for business reasons on a real claim)."""
    report = reports()["B"]
    no = report.report_no
    assert (await api.http.post("/claims", json=report.model_dump(mode="json"))).status_code == 201
    await eventually(lambda: api.http.get(f"/claims/{no}/tracks/B"), lambda r: r.status_code == 200, what="track B")
    rows = endpoints(no, report.model_dump(mode="json"))

    past = datetime.now(UTC) - timedelta(hours=2)
    other_key = LocalTokens(secrets.token_bytes(32))
    unauthenticated = {
        "no token": {},
        "not a JWT": {"Authorization": "Bearer not-a-token"},
        "basic auth": {"Authorization": "Basic dXNlcjpwYXNz"},
        "expired": {"Authorization": f"Bearer {api.tokens.issue('X001', EVERYONE, timedelta(minutes=5), now=past)}"},
        "another key": bearer(other_key, "X002", EVERYONE),
    }
    wrong: list[str] = []
    for label, headers in unauthenticated.items():
        for name, method, path, kwargs, _ in rows:
            response = await api.raw.request(method, path, headers=headers, **kwargs)
            if label == "no token" and name == "operations page":
                # a browser (no Authorization header, no sign-in cookie) is sent to sign in
                if (response.status_code, response.headers.get("location")) != (303, "/operations/sign-in"):
                    wrong.append(f"{label} {name}: {response.status_code}, not sent to the sign-in page")
                continue
            if response.status_code != 401 or error_of(response)["code"] != "unauthenticated":
                wrong.append(f"{label} {name}: {response.status_code} {response.text[:120]}")
            elif not response.headers.get("www-authenticate", "").startswith("Bearer"):
                wrong.append(f"{label} {name}: 401 without WWW-Authenticate: Bearer")

    principals: dict[str, tuple[frozenset[Role], dict[str, str]]] = {
        role.value: (frozenset({role}), api.as_(f"M_{role.value}", role)) for role in Role
    }
    principals["no known role"] = (frozenset(), api.as_("M_none"))
    for label, (roles, headers) in principals.items():
        for name, method, path, kwargs, allowed in rows:
            response = await api.raw.request(method, path, headers=headers, **kwargs)
            if roles & allowed:
                if response.status_code in (401, 403):
                    wrong.append(f"{label} {name}: allowed but {response.status_code} {response.text[:160]}")
            elif response.status_code != 403 or error_of(response)["code"] != "forbidden":
                wrong.append(f"{label} {name}: should be 403, got {response.status_code} {response.text[:120]}")
            elif allowed and not all(r.value in response.json()["message"] for r in allowed):
                wrong.append(f"{label} {name}: the 403 does not say who may: {response.json()['message']}")
    assert not wrong, "\n".join(wrong)

    # public: the probes and the API's own documentation, no token
    for path in ["/health", "/ready", "/openapi.json", "/docs"]:
        assert (await api.raw.get(path)).status_code == 200, path
    # an unknown route says nothing to a caller without a token; to staff it is a 404
    assert (await api.raw.get("/nowhere")).status_code == 401
    assert (await api.raw.get("/nowhere", headers=api.as_("OP01", R.OPERATIONS))).status_code == 404
    # roles add up: an assessor who also works the service centre may record the callback
    both = api.as_("AS09", R.ASSESSOR, R.SERVICE_CENTRE)
    response = await api.raw.post(f"/claims/{no}/tracks/B/steps/record_callback", json={"score": 4}, headers=both)
    assert response.status_code not in (401, 403), response.text
    await api.client.get_workflow_handle(f"claim-{no}").terminate("test done")


async def test_an_accepted_step_records_the_token_subject_as_who_did_it(api: ApiEnv) -> None:
    """R-A-1, R-B-1 (issue 5.3): the timeline entry of an accepted step carries the token's
    subject; a body naming someone else is refused (403 by_mismatch) and records nothing."""
    report = reports()["B"]
    no = report.report_no
    agent = api.as_("AG42", R.AGENT)
    assert (await api.raw.post("/claims", json=report.model_dump(mode="json"), headers=agent)).status_code == 201
    await eventually(
        lambda: api.raw.get(f"/claims/{no}/tracks/B", headers=agent),
        lambda r: r.status_code == 200 and r.json()["stage"] == "awaiting_acceptance",
        what="track B awaiting acceptance",
    )
    path = f"/claims/{no}/tracks/B/steps/accept_offer"
    response = await api.raw.post(path, json={"accepted": True, "by": "AG01"}, headers=agent)
    assert response.status_code == 403 and error_of(response)["code"] == "by_mismatch"
    assert "AG42" in response.json()["message"]
    view = (await api.raw.get(f"/claims/{no}/tracks/B", headers=agent)).json()
    assert view["stage"] == "awaiting_acceptance" and "offer_accepted" not in [e["step"] for e in view["timeline"]]

    response = await api.raw.post(path, json={"accepted": True}, headers=agent)
    assert response.status_code == 200, response.text
    accepted = [e for e in response.json()["timeline"] if e["step"] == "offer_accepted"]
    assert [e["by"] for e in accepted] == ["AG42"]
    # giving one's own code is the same as leaving it out
    response = await api.raw.post(
        f"/claims/{no}/tracks/B/steps/receive_document",
        json={"document": "claim_form", "channel": "self", "by": "AG42"},
        headers=agent,
    )
    assert response.status_code == 200, response.text
    claim = (await api.raw.get(f"/claims/{no}", headers=agent)).json()
    timeline = claim["tracks"]["B"]["timeline"]
    assert {e["step"]: e["by"] for e in timeline if e["by"]} == {"offer_accepted": "AG42", "document_received": "AG42"}
    await api.client.get_workflow_handle(f"claim-{no}").terminate("test done")


async def test_claim_view_masks_personal_data_for_roles_that_do_not_need_it(api: ApiEnv) -> None:
    """Issue 5.4, R-X-3: a bank's decline quoting an account and a phone, and the customer's tag
    persona, shown whole to the agent (who phones and pays: R-ID-2, R-X-3) and the service centre,
    masked for the assessor and operations, in the claim, the track and a step's answer."""
    account, mobile = "6222 0000 1111 2222", "13800000002"

    @activity.defn(name=ActivityName.PAY_INDEMNITY)
    async def declining_pay(input: PayIndemnityInput) -> PayIndemnityResult:
        raise ApplicationError(
            f"report {input.report_no}: declined by the bank: account {account} is closed; holder {mobile}",
            type=PAYMENT_DECLINED,
            non_retryable=True,
        )

    activities = [a for a in api.fakes.activities() if getattr(a, "__name__", "") != "pay_indemnity"] + [declining_pay]
    report = reports()["B"]
    no = report.report_no
    async with running(api.client, activities) as tq:
        app = create_app(api.client, task_queue=tq, store=api.store, authenticator=api.tokens, limits=TEST_LIMITS)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test", timeout=30) as http:
            await report_claim(api.client, report, tq)
            await drive(api.client, no, Track.CREDIT, steps_for(Track.CREDIT, report, photo_sha256="a" * 64)[:-1])

            async def refused(headers: dict[str, str]) -> httpx.Response:
                return await eventually(
                    lambda: http.get(f"/claims/{no}", headers=headers),
                    lambda r: r.status_code == 200 and r.json()["tracks"]["B"]["stage"] == "awaiting_payee_account",
                    what="payment refused",
                )

            for role in (R.AGENT, R.SERVICE_CENTRE):
                text = (await refused(api.as_("F001", role))).text
                assert account in text and mobile in text and "(-3)女性" in text, role
            for role in (R.ASSESSOR, R.OPERATIONS):
                headers = api.as_("M001", role)
                response = await refused(headers)
                view = response.json()
                assert account not in response.text and mobile not in response.text and "女性" not in response.text
                assert mask_account(account) in view["tracks"]["B"]["payment"]["refused_reason"]
                masked = mask_mobile(mobile)
                assert masked == "138****0002" and "138****0002" in response.text
                assert view["decision"]["tag"]["raw"] == "(-3)**" and view["decision"]["tag"]["tag"]["claim_free_years"] == 3
                assert no in view["tracks"]["B"]["payment"]["refused_reason"]  # codes stay readable
                track = await http.get(f"/claims/{no}/tracks/B", headers=headers)
                refusal = [e for e in track.json()["timeline"] if e["step"] == "payment_refused"]
                assert refusal and account not in track.text and mask_account(account) in refusal[0]["detail"]
            # a step's answer is the track view too: masked for the assessor who took it
            response = await http.post(
                f"/claims/{no}/tracks/B/steps/receive_document",
                json={"document": "claim_form", "channel": "self"},
                headers=api.as_("AS01", R.ASSESSOR),
            )
            assert response.status_code in (200, 409) and account not in response.text
    await api.client.get_workflow_handle(f"claim-{no}").terminate("test done")


def test_an_unparsed_tag_is_masked_whole() -> None:
    reading = TagReading(raw="VIP张三", recognised=False, reason="the tag 'VIP张三' does not read as …")
    masked = masked_tag(reading)
    assert masked.raw == "*****" and "张三" not in (masked.reason or "")


async def test_oversized_bodies_are_refused_before_they_are_read(api: ApiEnv, tmp_path) -> None:
    """Issue 5.5: a JSON body over the limit is 413 body_too_large, announced (Content-Length)
    or chunked; uploads keep the store's own limit (413 file_too_large)."""
    store = FileStore(tmp_path / "files", max_bytes=1024)
    app = create_app(api.client, store=store, authenticator=api.tokens, limits=Limits(max_body_bytes=512))
    agent = api.as_("AG01", R.AGENT)
    report = reports()["B"].model_dump(mode="json")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        big = report | {"policy_no": "P" + "0" * 39, "branch": "HQ", "padding": "x" * 600}
        response = await http.post("/claims", json=big, headers=agent)
        assert response.status_code == 413 and error_of(response)["code"] == "body_too_large"
        assert "512" in response.json()["message"]

        async def chunks():
            for _ in range(10):
                yield b" " * 100

        response = await http.post(
            "/claims/X00000001/tracks/B/steps/accept_offer",
            content=chunks(),
            headers=agent | {"content-type": "application/json"},
        )
        assert response.status_code == 413 and error_of(response)["code"] == "body_too_large"

        async def small():
            yield b'{"accepted": '
            yield b"true}"

        # a chunked body under the limit reaches the route whole (here: no such claim)
        response = await http.post(
            "/claims/NOSUCH000001/tracks/B/steps/accept_offer",
            content=small(),
            headers=agent | {"content-type": "application/json"},
        )
        assert response.status_code == 404 and error_of(response)["code"] == "claim_not_found"
        response = await http.post("/files", files={"file": ("big.png", DEMO_PHOTO + b"\0" * 2048, "image/png")}, headers=agent)
        assert response.status_code == 413 and error_of(response)["code"] == "file_too_large"


async def test_each_caller_is_rate_limited_with_retry_after(api: ApiEnv, tmp_path) -> None:
    """Issue 5.5: past its burst a caller gets 429 rate_limited with Retry-After; another caller
    is not held back; failed authentications count against the address."""
    app = create_app(
        api.client,
        store=FileStore(tmp_path / "files"),
        authenticator=api.tokens,
        limits=Limits(rate_per_minute=6, rate_burst=3),
    )
    one, other = api.as_("OP01", R.OPERATIONS), api.as_("OP02", R.OPERATIONS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        answers = [(await http.get("/claims/NOSUCH000001", headers=one)).status_code for _ in range(4)]
        assert answers == [404, 404, 404, 429]
        response = await http.get("/claims/NOSUCH000001", headers=one)
        assert response.status_code == 429 and error_of(response)["code"] == "rate_limited"
        assert 1 <= int(response.headers["retry-after"]) <= 10
        assert (await http.get("/claims/NOSUCH000001", headers=other)).status_code == 404
        assert (await http.get("/health")).status_code == 200  # probes are not limited
        guesses = [(await http.get("/claims", headers={"Authorization": "Bearer guess"})).status_code for _ in range(4)]
        assert guesses == [401, 401, 401, 429]


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate_per_minute=60, burst=2, clock=lambda: now[0])
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]
    assert buckets.take("a") == 1.0  # one a second
    now[0] += 1.0
    assert buckets.take("a") == 0.0 and buckets.take("b") == 0.0


async def test_openapi_documents_the_bearer_scheme(api: ApiEnv) -> None:
    spec = (await api.raw.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["staff_token"]["scheme"] == "bearer"
    for name in STEP_MODELS:
        step = spec["paths"][f"/claims/{{report_no}}/tracks/{{track}}/steps/{name}"]["post"]
        assert {"401", "403", "429"} <= set(step["responses"]), name


def test_claims_token_issues_a_token_the_api_accepts_in_local_mode_only(tmp_path, capsys) -> None:
    """`claims token` signs with the same local secret the API verifies with; in OIDC mode it
    refuses (the identity provider issues tokens there); a subject must be a staff code."""
    settings = Settings(data_dir=tmp_path)
    cmd_token(settings, "S001", [R.ASSESSOR, R.AGENT], 5)
    out = capsys.readouterr()
    token = out.out.strip()
    assert "\n" not in token and "S001" in out.err  # stdout is the token alone
    principal = authenticator(settings.auth, tmp_path).authenticate(f"Bearer {token}")
    assert principal.subject == "S001" and principal.roles == {R.ASSESSOR, R.AGENT}
    assert timedelta(minutes=4) < principal.expires_at - datetime.now(UTC) <= timedelta(minutes=5)
    assert (tmp_path / "secrets" / "token-signing.key").stat().st_mode & 0o077 == 0

    oidc = Settings(data_dir=tmp_path, auth=AuthSettings(mode="oidc", oidc_issuer="https://idp.example"))
    with pytest.raises(ValueError, match="identity provider"):
        cmd_token(oidc, "S001", [R.AGENT], None)
    with pytest.raises(ValueError, match="staff code"):
        cmd_token(settings, "张三", [R.AGENT], None)


async def test_oidc_tokens_from_the_identity_provider(api: ApiEnv, tmp_path) -> None:
    """Production mode: an RS256 token of the provider (its keys from the JWKS URL) with roles in
    the configured claim is accepted, one for another audience is 401; a provider whose keys
    cannot be fetched is 503 auth_unavailable, not a 401 that would send staff to sign in again."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())) | {"kid": "k1", "use": "sig"}
    issuer, audience = "https://idp.example/realms/insurer", "premium-claims-api"
    tokens = OidcTokens(issuer, audience, "https://idp.example/jwks", roles_claim="groups", subject_claim="staff_code")
    tokens._keys.fetch_data = lambda: {"keys": [jwk]}  # type: ignore[method-assign]  # no network in tests

    def idp_token(aud: str) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": issuer,
            "aud": aud,
            "sub": "f81d4fae-7dec",
            "staff_code": "AS07",
            "groups": ["assessor", "offline_access"],
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})

    app = create_app(api.client, store=FileStore(tmp_path / "files"), authenticator=tokens, limits=TEST_LIMITS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        ok = {"Authorization": f"Bearer {idp_token(audience)}"}
        assert (await http.get("/claims/NOSUCH000001", headers=ok)).status_code == 404
        response = await http.post("/claims/NOSUCH000001/tracks/B/steps/record_callback", json={"score": 5}, headers=ok)
        assert response.status_code == 403 and "service_centre may" in response.json()["message"]
        other = {"Authorization": f"Bearer {idp_token('another-api')}"}
        assert (await http.get("/claims/NOSUCH000001", headers=other)).status_code == 401

    down = OidcTokens(issuer, audience, "http://127.0.0.1:9/jwks")  # nothing listens on port 9
    app = create_app(api.client, store=FileStore(tmp_path / "files2"), authenticator=down, limits=TEST_LIMITS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        response = await http.get("/claims", headers=ok)
        assert response.status_code == 503 and error_of(response)["code"] == "auth_unavailable"
