from __future__ import annotations

from datetime import datetime

import pytest

from domain.entities import DEFAULT_ROLE, NewUser, RefreshGrant, User
from domain.errors import InvalidCredentials, StorageUnavailable
from domain.values import PASSWORD_MAX
from infrastructure.grants.memory import MemoryGrantStore, MemoryRateLimiter
from tests.unit.world import CLIENT, PASSWORD, World


async def add_user(world: World, password_hash: str | None) -> User:
    return await world.users.add(
        NewUser(
            email="ada@example.test",
            password_hash=password_hash,
            name="Ada",
            role=DEFAULT_ROLE,
            created_at=world.clock.now(),
        )
    )


async def test_login_with_the_right_password_starts_a_session(world: World) -> None:
    registered = await world.sign_up()

    signed_in = await world.sign_in("Ada@Example.test", PASSWORD)

    assert signed_in.user == registered.user
    assert signed_in.tokens.session_id != registered.tokens.session_id
    assert signed_in.tokens.session_id in world.sessions.sessions
    claims = await world.claims(signed_in.tokens.access_token)
    assert claims.session_id == signed_in.tokens.session_id
    [event] = world.audit.named("login_succeeded")
    assert (event.user_id, event.session_id) == (registered.user.id, signed_in.tokens.session_id)


async def test_a_wrong_password_is_invalid_credentials(world: World) -> None:
    registered = await world.sign_up()

    with pytest.raises(InvalidCredentials):
        await world.sign_in(password="wrong password")

    [event] = world.audit.named("login_failed")
    assert (event.user_id, event.reason) == (registered.user.id, "wrong_password")
    assert event.ip_address == CLIENT.ip_address
    assert len(world.sessions.sessions) == 1


@pytest.mark.parametrize("email", ["nobody@example.test", "not an email at all"])
async def test_an_unknown_email_is_invalid_credentials_and_still_costs_one_verify(
    world: World, email: str
) -> None:
    with pytest.raises(InvalidCredentials):
        await world.sign_in(email, PASSWORD)

    assert world.hasher.verify_calls == 1
    [event] = world.audit.named("login_failed")
    assert (event.user_id, event.reason) == (None, "unknown_account")
    assert world.sessions.sessions == {}


async def test_unknown_email_and_wrong_password_fail_alike(world: World) -> None:
    await world.sign_up()

    with pytest.raises(InvalidCredentials) as unknown:
        await world.sign_in("nobody@example.test", PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        await world.sign_in(password="wrong password")

    assert (unknown.value.code, unknown.value.detail) == (wrong.value.code, wrong.value.detail)
    assert world.hasher.verify_calls == 2


async def test_an_account_without_a_password_cannot_log_in_with_one(world: World) -> None:
    user = await add_user(world, password_hash=None)

    with pytest.raises(InvalidCredentials):
        await world.sign_in(password=PASSWORD)

    assert world.hasher.verify_calls == 1
    [event] = world.audit.named("login_failed")
    assert (event.user_id, event.reason) == (user.id, "no_password")


async def test_a_password_over_1024_characters_never_reaches_the_hasher(world: World) -> None:
    await world.sign_up()
    huge = "p" * (PASSWORD_MAX + 1)

    with pytest.raises(InvalidCredentials):
        await world.sign_in(password=huge)

    assert huge not in world.hasher.verified


async def test_a_password_over_1024_characters_for_an_unknown_email_never_reaches_the_hasher(
    world: World,
) -> None:
    huge = "p" * (PASSWORD_MAX + 1)

    with pytest.raises(InvalidCredentials):
        await world.sign_in("nobody@example.test", huge)

    assert max(map(len, world.hasher.verified), default=0) <= PASSWORD_MAX


async def test_a_password_of_exactly_1024_characters_is_verified(world: World) -> None:
    longest = "p" * PASSWORD_MAX
    await world.sign_up(password=longest)

    signed_in = await world.sign_in(password=longest)

    assert signed_in.user.email == "ada@example.test"


async def test_a_legacy_hash_is_rehashed_on_login(world: World) -> None:
    user = await add_user(world, password_hash="old$" + PASSWORD)

    await world.sign_in(password=PASSWORD)

    stored = world.users.users[user.id]
    assert stored.password_hash == "fake$" + PASSWORD
    assert stored.updated_at == world.clock.now()
    [event] = world.audit.named("password_rehashed")
    assert event.user_id == user.id


async def test_a_legacy_hash_is_not_touched_by_a_wrong_password(world: World) -> None:
    user = await add_user(world, password_hash="old$" + PASSWORD)

    with pytest.raises(InvalidCredentials):
        await world.sign_in(password="wrong password")

    assert world.users.users[user.id].password_hash == "old$" + PASSWORD
    assert world.audit.named("password_rehashed") == []


async def test_a_current_hash_is_not_rehashed(world: World) -> None:
    registered = await world.sign_up()

    await world.sign_in()

    assert world.users.users[registered.user.id] == registered.user
    assert world.audit.named("password_rehashed") == []


async def test_a_login_succeeds_even_when_its_failure_count_cannot_be_cleared(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(self: MemoryRateLimiter, key: str) -> None:
        raise StorageUnavailable()

    await world.sign_up()
    monkeypatch.setattr(MemoryRateLimiter, "reset", unavailable)

    signed_in = await world.sign_in()

    assert signed_in.user.email == "ada@example.test"


async def test_a_session_whose_grant_could_not_be_stored_is_ended_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(self: MemoryGrantStore, grant: RefreshGrant, now: datetime) -> None:
        raise StorageUnavailable()

    await world.sign_up()
    monkeypatch.setattr(MemoryGrantStore, "issue", unavailable)

    with pytest.raises(StorageUnavailable):
        await world.sign_in()

    [ended] = [s for s in world.sessions.sessions.values() if s.revoked_at is not None]
    assert ended.revoked_reason == "grant_not_stored"
    assert await world.grants.is_denied(ended.id, world.clock.now())
    [event] = world.audit.named("session_revoked")
    assert (event.session_id, event.reason) == (ended.id, "grant_not_stored")


async def test_a_good_login_clears_the_failures_of_that_account(world: World) -> None:
    await world.sign_up()
    for _ in range(9):
        with pytest.raises(InvalidCredentials):
            await world.sign_in(password="wrong password")

    await world.sign_in()

    for _ in range(9):
        with pytest.raises(InvalidCredentials):
            await world.sign_in(password="wrong password")
    await world.sign_in()
