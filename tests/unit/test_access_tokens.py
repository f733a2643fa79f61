"""The access-token adapter: RFC 9068 claims, and one signature per token (low-S ES256)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from domain.assurance import Assurance
from domain.errors import InvalidAccessToken
from domain.ports import AccessClaims
from infrastructure.security.low_s_ecdsa import P256_ORDER
from infrastructure.security.tokens import JwtAccessTokens

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

NOW = datetime(2030, 1, 1, tzinfo=UTC)
KEYS = KeySet(
    [ECKey.generate_key("P-256", {"alg": "ES256", "use": "sig"}, private=True, auto_kid=True)]
)


def adapter(**extra: str) -> JwtAccessTokens:
    return JwtAccessTokens(
        KEYS, issuer="https://auth.example.test", audience="api", clock=lambda: NOW, **extra
    )


def claims(n: int = 1) -> AccessClaims:
    return AccessClaims(
        user_id=n,
        session_id=f"s{n}",
        role="user",
        token_id=f"j{n}",
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
        assurance=SIGNED_IN,
    )


def payload(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, KEYS, algorithms=["ES256"]).claims)


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def with_s_mirrored(token: str) -> str:
    """The same token with its signature (r, s) rewritten to (r, n - s)."""
    head, body, signature = token.split(".")
    raw = b64decode(signature)
    s = P256_ORDER - int.from_bytes(raw[32:], "big")
    mirrored = raw[:32] + s.to_bytes(32, "big")
    return f"{head}.{body}.{base64.urlsafe_b64encode(mirrored).rstrip(b'=').decode()}"


def test_the_client_id_claim_defaults_to_the_audience() -> None:
    assert payload(adapter().issue(claims()))["client_id"] == "api"


def test_the_client_id_claim_is_the_configured_client() -> None:
    assert payload(adapter(client_id="web-app").issue(claims()))["client_id"] == "web-app"


def test_freshly_signed_tokens_all_verify_and_carry_a_low_s() -> None:
    tokens = adapter()
    for n in range(200):
        token = tokens.issue(claims(n))
        assert int.from_bytes(b64decode(token.split(".")[2])[32:], "big") <= P256_ORDER // 2
        assert tokens.verify(token).user_id == n


def test_a_token_whose_signature_is_rewritten_to_high_s_is_refused() -> None:
    token = adapter().issue(claims())
    mirrored = with_s_mirrored(token)
    # The mirrored signature is mathematically valid: plain joserfc accepts it.
    assert payload(mirrored) == payload(token)

    with pytest.raises(InvalidAccessToken):
        adapter().verify(mirrored)


def test_a_high_s_token_is_refused_even_after_its_twin_was_verified() -> None:
    tokens = adapter()
    token = tokens.issue(claims())
    tokens.verify(token)

    with pytest.raises(InvalidAccessToken):
        tokens.verify(with_s_mirrored(token))


def test_a_cached_token_is_refused_once_its_exp_has_passed() -> None:
    now = [NOW]
    tokens = JwtAccessTokens(
        KEYS, issuer="https://auth.example.test", audience="api", clock=lambda: now[0]
    )
    token = tokens.issue(claims())
    tokens.verify(token)

    now[0] = NOW + timedelta(minutes=15)
    with pytest.raises(InvalidAccessToken):
        tokens.verify(token)


def test_a_token_one_character_away_from_a_cached_one_is_verified_on_its_own() -> None:
    tokens = adapter()
    token = tokens.issue(claims())
    tokens.verify(token)
    middle = len(token) - 20  # inside the signature, clear of its last character's padding bits
    changed = "A" if token[middle] != "A" else "B"

    with pytest.raises(InvalidAccessToken):
        tokens.verify(token[:middle] + changed + token[middle + 1 :])
