"""Refresh tokens issued before tokens named their session keep working.

Such a token is opaque (43 characters) and its family sits in the store's layout of then:
SQL ``refresh_tokens`` rows, or Valkey's ``refresh:<hash>`` index and ``session:<sid>``
hash. Each test signs up, then puts its session back into that layout with a legacy
token current, as a deployment upgraded in place would have it.

So do the two-part tokens ``<session id>.<nonce and MAC>`` issued before tokens carried
their generation: their family, stored without one, counts as generation 0.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, cast

import pytest

from infrastructure.config import Settings
from infrastructure.grants.valkey import open_valkey, parse_valkey_url
from infrastructure.security.keys import load_or_create_keys
from infrastructure.security.refresh_tokens import HmacRefreshTokens
from interfaces.bootstrap.backends import open_database
from tests.fakes.clock import FakeClock
from tests.http.conftest import deployment
from tests.http.helpers import (
    assert_access_rejected,
    assert_access_works,
    assert_problem,
    cookie_header,
    refresh_with,
    sign_up,
    the_refresh_cookie,
)

# The memory store holds nothing from before its process started: no legacy there.
STORES_WITH_A_PAST = [
    "sqlite+database",
    pytest.param("postgres+valkey", marks=pytest.mark.backends),
]


@pytest.fixture(params=STORES_WITH_A_PAST)
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return await deployment(request.param, request, tmp_path)


async def made_legacy(settings: Settings, session_id: str) -> str:
    """Rewrite the session's family as the layout before kept it; its current token."""
    token = secrets.token_urlsafe(32)
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    if settings.grants_url == "database":
        await _sql_legacy(settings, session_id, token_hash)
    else:
        await _valkey_legacy(settings, session_id, token_hash)
    return token


async def _sql_legacy(settings: Settings, session_id: str, token_hash: str) -> None:
    database = open_database(settings)
    try:
        await database.run(
            lambda tx: tx.execute(
                "UPDATE refresh_families SET current_hash = $1 WHERE session_id = $2",
                token_hash,
                session_id,
            )
        )
        await database.run(
            lambda tx: tx.execute(
                "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
                " SELECT $1, session_id, absolute_expires_at FROM refresh_families"
                " WHERE session_id = $2",
                token_hash,
                session_id,
            )
        )
    finally:
        await database.close()


async def _valkey_legacy(settings: Settings, session_id: str, token_hash: str) -> None:
    url, prefix = parse_valkey_url(settings.grants_url)
    client = open_valkey(url)
    try:
        family = f"{prefix}s:{session_id}"
        now = await cast("Awaitable[dict[bytes, bytes]]", client.hgetall(family))
        ttl = int(await client.pttl(family))
        old = f"{prefix}session:{session_id}"
        fields = {
            "user_id": now[b"u"],
            "current": token_hash,
            "idle_expires_at": now[b"i"],
            "absolute_expires_at": now[b"a"],
            "role": now[b"o"],
        }
        await cast("Awaitable[int]", client.hset(old, mapping=fields))
        await client.pexpire(old, ttl)
        await client.set(f"{prefix}refresh:{token_hash}", session_id, px=ttl)
        await client.delete(family)
    finally:
        await client.aclose()


def session_of(token: str) -> str:
    session_id, dot, _ = token.partition(".")
    assert dot, token
    return session_id


async def test_a_legacy_token_refreshes_once_into_the_new_format(
    client: Any, settings: Settings, clock: FakeClock
) -> None:
    device = await sign_up(client)
    session_id = session_of(device.refresh_token)
    legacy = await made_legacy(settings, session_id)

    first = await refresh_with(client, legacy)
    clock.advance(5)
    replay = await refresh_with(client, legacy)  # a second tab, within the grace window

    assert first.status_code == 200, first.text
    successor = the_refresh_cookie(first).value
    assert session_of(successor) == session_id
    assert the_refresh_cookie(replay).value == successor
    newer = await refresh_with(client, successor)
    assert newer.status_code == 200, newer.text
    clock.advance(60)
    # Two generations back now: genuine and old, so reuse ends the session.
    assert_problem(await refresh_with(client, legacy), 401, "refresh_token_reused")
    newest = the_refresh_cookie(newer).value
    assert_problem(await refresh_with(client, newest), 401, "invalid_refresh_token")


async def test_logout_with_a_legacy_token_ends_its_session(client: Any, settings: Settings) -> None:
    device = await sign_up(client)
    legacy = await made_legacy(settings, session_of(device.refresh_token))
    await assert_access_works(client, device.access_token)

    response = await client.post("/auth/logout", headers=cookie_header(legacy))

    assert response.status_code == 204, response.text
    await assert_access_rejected(client, device.access_token)
    assert_problem(await refresh_with(client, legacy), 401, "invalid_refresh_token")


async def made_two_part(settings: Settings, session_id: str) -> str:
    """Make the session's family one stored before generations, with a two-part token
    current (``HMAC(secret, "authgate refresh tag v2" NUL || sid || nonce)[:16]``)."""
    secret = load_or_create_keys(settings.keys_file).refresh_secret
    nonce = secrets.token_bytes(32)
    message = b"authgate refresh tag v2\x00" + session_id.encode() + nonce
    tag = hmac.new(secret, message, hashlib.sha256).digest()[:16]
    token = f"{session_id}.{base64.urlsafe_b64encode(nonce + tag).rstrip(b'=').decode()}"
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    if settings.grants_url == "database":
        database = open_database(settings)
        try:
            await database.run(
                lambda tx: tx.execute(
                    "UPDATE refresh_families SET current_hash = $1, generation = 0"
                    " WHERE session_id = $2",
                    token_hash,
                    session_id,
                )
            )
        finally:
            await database.close()
    else:
        url, prefix = parse_valkey_url(settings.grants_url)
        client = open_valkey(url)
        try:
            family = f"{prefix}s:{session_id}"
            current = {"c": bytes.fromhex(token_hash)}
            await cast("Awaitable[int]", client.hset(family, mapping=current))
            assert await cast("Awaitable[int]", client.hdel(family, "g")) == 1
        finally:
            await client.aclose()
    return token


async def test_a_two_part_token_refreshes_into_generation_1_and_the_rule_holds(
    client: Any, settings: Settings, clock: FakeClock
) -> None:
    device = await sign_up(client)
    session_id = session_of(device.refresh_token)
    old = await made_two_part(settings, session_id)
    tokens = HmacRefreshTokens(load_or_create_keys(settings.keys_file).refresh_secret)

    first = await refresh_with(client, old)
    clock.advance(5)
    replay = await refresh_with(client, old)  # a second tab, within the grace window

    assert first.status_code == 200, first.text
    successor = the_refresh_cookie(first).value
    assert successor.startswith(f"{session_id}.1.")
    assert the_refresh_cookie(replay).value == successor
    # Generation 3: its rotations were lost (a failover), so unknown, nothing revoked.
    lost = tokens.successor(tokens.successor(successor, session_id), session_id)
    assert_problem(await refresh_with(client, lost), 401, "invalid_refresh_token")
    await assert_access_works(client, device.access_token)
    newer = await refresh_with(client, successor)
    assert newer.status_code == 200, newer.text
    assert the_refresh_cookie(newer).value.startswith(f"{session_id}.2.")
    clock.advance(60)
    # Two generations back now: genuine and old, so reuse ends the session.
    assert_problem(await refresh_with(client, old), 401, "refresh_token_reused")
    await assert_access_rejected(client, device.access_token)


async def test_logout_with_a_two_part_token_ends_its_session(
    client: Any, settings: Settings
) -> None:
    device = await sign_up(client)
    old = await made_two_part(settings, session_of(device.refresh_token))

    response = await client.post("/auth/logout", headers=cookie_header(old))

    assert response.status_code == 204, response.text
    await assert_access_rejected(client, device.access_token)
    assert_problem(await refresh_with(client, old), 401, "invalid_refresh_token")
