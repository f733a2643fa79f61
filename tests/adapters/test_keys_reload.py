"""Access tokens follow the keys file on disk: a rotation is picked up, a broken file is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from joserfc.jwk import KeySet

from domain.assurance import Assurance
from domain.ports import AccessClaims
from infrastructure.security.key_rotation import rotate
from infrastructure.security.reloading_tokens import ReloadingAccessTokens
from infrastructure.security.tokens import JwtAccessTokens

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CLAIMS = AccessClaims(
    user_id=1,
    session_id="s",
    role="user",
    token_id="t",
    issued_at=NOW,
    expires_at=NOW + timedelta(minutes=15),
    assurance=SIGNED_IN,
)


def tokens_on(path: Path) -> ReloadingAccessTokens:
    def build(keys: KeySet) -> JwtAccessTokens:
        return JwtAccessTokens(keys, issuer="https://i", audience="a", clock=lambda: NOW)

    return ReloadingAccessTokens(path, build, check_every=0)


def kids(tokens: ReloadingAccessTokens) -> list[str]:
    return [key["kid"] for key in tokens.jwks()["keys"]]


def test_a_rotated_key_signs_and_both_keys_verify(tmp_path: Path) -> None:
    tokens = tokens_on(tmp_path / "jwks.json")
    (old,) = kids(tokens)
    old_token = tokens.issue(CLAIMS)

    new = rotate(tmp_path / "jwks.json", NOW)

    assert kids(tokens) == [new, old]
    assert tokens.verify(old_token) == CLAIMS
    assert tokens.verify(tokens.issue(CLAIMS)) == CLAIMS


def test_an_unreadable_keys_file_keeps_the_keys_in_use(tmp_path: Path) -> None:
    tokens = tokens_on(tmp_path / "jwks.json")
    before = kids(tokens)
    token = tokens.issue(CLAIMS)

    (tmp_path / "jwks.json").write_text("{half a file")

    assert kids(tokens) == before
    assert tokens.verify(token) == CLAIMS
