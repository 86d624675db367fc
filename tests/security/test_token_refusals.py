"""Issue 15.4: a refused staff token says why in people's words, never PyJWT's parser messages
("Not enough segments", "Signature verification failed")."""

from __future__ import annotations

import secrets
from datetime import timedelta

import jwt
import pytest

from security.auth import LocalTokens, Role, Unauthenticated


def refusal(tokens: LocalTokens, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        tokens.authenticate(f"Bearer {token}")
    return str(refused.value)


def test_issue_15_garbage_and_foreign_tokens_are_refused_in_plain_words() -> None:
    tokens = LocalTokens(secrets.token_bytes(32))
    garbage = refusal(tokens, "garbage")
    assert "not a staff token" in garbage and "segments" not in garbage.lower()
    foreign = refusal(tokens, LocalTokens(secrets.token_bytes(32)).issue("AG01", {Role.AGENT}))
    assert "signature does not match" in foreign and "verification failed" not in foreign.lower()
    unsigned = jwt.encode({"sub": "AG01"}, secrets.token_bytes(32), algorithm="HS256")
    assert "not a valid staff token" in refusal(tokens, unsigned) or "signature" in refusal(tokens, unsigned)
    assert "token expired" in refusal(tokens, tokens.issue("AG01", {Role.AGENT}, timedelta(seconds=-60)))
