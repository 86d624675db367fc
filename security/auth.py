"""Who is calling: signed staff tokens with roles and an expiry.

The embedded default signs tokens itself (HS256 with a local secret, `claims token` issues
them); production verifies the insurer's identity provider's tokens (OIDC: RS256/ES256 JWTs
checked against the provider's published keys). Either way the rest of the service sees only a
Principal: a staff code and its roles. Tokens carry no personal data.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

import jwt
from pydantic import BaseModel, ConfigDict, Field

from security.secret_files import read_or_create_secret

ISSUER = "premium-claims"
AUDIENCE = "premium-claims"
LOCAL_ALGORITHM = "HS256"
OIDC_ALGORITHMS = ["RS256", "ES256", "PS256"]
CLOCK_SKEW_SECONDS = 30


class Role(StrEnum):
    """The people of SPEC.md who act on a claim, plus operations (read-only) and admin."""

    AGENT = "agent"  # 95500 call-centre agent (坐席)
    SURVEYOR = "surveyor"  # 查勘人员
    ASSESSOR = "assessor"  # 定损人员
    INJURY_SPECIALIST = "injury_specialist"  # 人伤服务专员
    EXPERT_LEAD = "expert_lead"  # the large-claim team's responsible lead
    SERVICE_CENTRE = "service_centre"  # 客户服务中心: satisfaction callbacks
    SUPERVISOR = "supervisor"
    OPERATIONS = "operations"  # dashboards; reads, never moves a claim
    ADMIN = "admin"


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str = Field(min_length=1, max_length=64)  # the staff code, recorded as `by` on steps
    roles: frozenset[Role]
    expires_at: datetime
    branch: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,20}$")  # the staff's branch (分公司), if the token says

    def has_any(self, roles: frozenset[Role] | set[Role]) -> bool:
        return bool(self.roles & roles)


class Unauthenticated(Exception):
    """No token, a malformed one, a bad signature, an expired one: the caller is not known (401)."""


class AuthUnavailable(Exception):
    """The identity provider's signing keys cannot be fetched: nobody can be checked now (503)."""


class AuthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["local", "oidc"] = "local"
    # local: the HS256 signing secret, hex. Unset: read from (or made once in) token_secret_file.
    token_secret: str | None = None
    token_secret_file: Path | None = None  # unset: <data_dir>/secrets/token-signing.key
    token_ttl_minutes: int = Field(default=8 * 60, gt=0, le=7 * 24 * 60)
    # oidc: the insurer's identity provider
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    roles_claim: str = "roles"
    subject_claim: str = "sub"


class Authenticator(Protocol):
    def authenticate(self, authorization: str | None) -> Principal:
        """The caller behind an `Authorization: Bearer …` header value; raises Unauthenticated."""
        ...


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("missing Authorization: Bearer <token>")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    return token.strip()


def _principal(claims: dict, roles_claim: str, subject_claim: str) -> Principal:
    raw_roles = claims.get(roles_claim, [])
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    if not isinstance(raw_roles, (list, tuple)):
        raw_roles = []  # a claim of another shape grants nothing
    known = {role.value for role in Role}
    # Roles the provider knows but this service does not are ignored, never guessed.
    roles = frozenset(Role(name) for name in raw_roles if isinstance(name, str) and name in known)
    subject = claims.get(subject_claim)
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated(f"token has no {subject_claim!r}")
    try:
        branch = claims.get("branch") if isinstance(claims.get("branch"), str) else None
        return Principal(subject=subject, roles=roles, expires_at=datetime.fromtimestamp(claims["exp"], UTC), branch=branch)
    except (ValueError, OverflowError) as exc:  # a subject over 64 characters, an absurd exp: refused, not a 500
        raise Unauthenticated(f"token's {subject_claim!r} or 'exp' is not usable") from exc


class LocalTokens:
    """Issues and verifies the embedded default's HS256 tokens."""

    def __init__(self, secret: bytes, ttl: timedelta = timedelta(hours=8)) -> None:
        if len(secret) < 32:
            raise ValueError("the token signing secret must be at least 32 bytes")
        self._secret = secret
        self._ttl = ttl

    def issue(
        self,
        subject: str,
        roles: set[Role] | frozenset[Role],
        ttl: timedelta | None = None,
        now: datetime | None = None,
        branch: str | None = None,
    ) -> str:
        now = now or datetime.now(UTC)
        claims: dict[str, object] = {"branch": branch} if branch else {}
        claims |= {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "roles": sorted(Role(role).value for role in roles),
            "iat": int(now.timestamp()),
            "exp": int((now + (ttl or self._ttl)).timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=LOCAL_ALGORITHM)

    def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[LOCAL_ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"token refused: {refusal(exc)}") from exc
        return _principal(claims, "roles", "sub")


def refusal(exc: jwt.PyJWTError) -> str:
    """Why a token was refused, for people (not PyJWT's parser messages, e.g. "Not enough segments")."""
    if isinstance(exc, jwt.DecodeError) and not isinstance(exc, jwt.InvalidSignatureError):
        return "it is not a staff token (a signed JWT: three dot-separated parts, as `claims token` prints)"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "its signature does not match this service's signing key (issued by another service, or the key changed)"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "it was issued for another audience"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "it was issued by another issuer"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"it lacks the {exc.claim!r} claim"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "it is not valid yet"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "it is signed with an algorithm this service does not accept"
    return "it is not a valid staff token"


class OidcTokens:
    """Verifies the identity provider's JWTs against its published signing keys (JWKS)."""

    def __init__(self, issuer: str, audience: str, jwks_url: str, roles_claim: str = "roles", subject_claim: str = "sub") -> None:
        self._issuer, self._audience = issuer, audience
        self._roles_claim, self._subject_claim = roles_claim, subject_claim
        self._keys = jwt.PyJWKClient(jwks_url, cache_keys=True)

    def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=OIDC_ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthUnavailable(f"the identity provider's keys cannot be fetched: {type(exc).__name__}") from exc
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"token refused: {refusal(exc)}") from exc
        return _principal(claims, self._roles_claim, self._subject_claim)


async def authenticate_off_loop(verifier: Authenticator, authorization: str | None) -> Principal:
    """`verifier.authenticate` for async servers: a local token is an HMAC, checked in place; any
    other verifier may fetch the provider's keys over the network, so it runs in a thread."""
    if isinstance(verifier, LocalTokens):
        return verifier.authenticate(authorization)
    return await asyncio.to_thread(verifier.authenticate, authorization)


def local_tokens(settings: AuthSettings, data_dir: Path) -> LocalTokens:
    if settings.token_secret:
        secret = bytes.fromhex(settings.token_secret)
    else:
        secret = read_or_create_secret(settings.token_secret_file or data_dir / "secrets" / "token-signing.key")
    return LocalTokens(secret, timedelta(minutes=settings.token_ttl_minutes))


def authenticator(settings: AuthSettings, data_dir: Path) -> Authenticator:
    """The verifier the API and the codec server use, from settings."""
    if settings.mode == "oidc":
        issuer, audience, jwks_url = settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url
        if not (issuer and audience and jwks_url):
            missing = [name for name in ("oidc_issuer", "oidc_audience", "oidc_jwks_url") if not getattr(settings, name)]
            raise ValueError(f"auth.mode = 'oidc' needs {', '.join(missing)}")
        return OidcTokens(issuer, audience, jwks_url, settings.roles_claim, settings.subject_claim)
    return local_tokens(settings, data_dir)
