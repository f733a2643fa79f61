"""What an accepted ID token's claims become: when the provider says the user authenticated
(``auth_time``, OpenID Connect Core §2), read only when it is a number of seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from infrastructure.oauth.discovery import Discovery
from infrastructure.oauth.profile import profile_of

DISCOVERY = Discovery(
    issuer="https://idp.example.test",
    authorization_endpoint="https://idp.example.test/authorize",
    token_endpoint="https://idp.example.test/token",
    jwks_uri="https://idp.example.test/jwks",
)


def authenticated_at(auth_time: Any) -> datetime | None:
    claims = {"sub": "s-1", "auth_time": auth_time}
    return profile_of(DISCOVERY, claims).authenticated_at


def test_auth_time_in_seconds_is_when_the_user_authenticated() -> None:
    assert authenticated_at(1_700_000_000) == datetime.fromtimestamp(1_700_000_000, UTC)
    assert authenticated_at(1_700_000_000.5) == datetime.fromtimestamp(1_700_000_000.5, UTC)


@pytest.mark.parametrize("auth_time", [None, True, "1700000000", -1, 0, 2**40, [1]])
def test_anything_else_says_nothing(auth_time: Any) -> None:
    assert authenticated_at(auth_time) is None


def test_a_token_without_it_says_nothing() -> None:
    assert profile_of(DISCOVERY, {"sub": "s-1"}).authenticated_at is None
