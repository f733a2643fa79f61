from __future__ import annotations

from datetime import datetime

import pytest

from application.register import RegisterCommand
from domain.entities import RefreshGrant
from domain.errors import CaptchaFailed, EmailTaken, StorageUnavailable, ValidationFailed
from domain.ports import GenuineRefreshToken
from infrastructure.grants.memory import MemoryGrantStore
from tests.fakes.clock import FakeClock
from tests.fakes.security import RejectingCaptcha
from tests.unit.world import CLIENT, PASSWORD, World, build_world


class UnavailableGrantStore(MemoryGrantStore):
    async def issue(self, grant: RefreshGrant, now: datetime) -> None:
        raise StorageUnavailable()


def command(
    email: str = "ada@example.test", password: str = PASSWORD, name: str | None = "Ada"
) -> RegisterCommand:
    return RegisterCommand(
        email=email, password=password, name=name, captcha_token="token", client=CLIENT
    )


async def test_register_creates_the_user_with_a_normalised_email_and_a_hash(world: World) -> None:
    signed_in = await world.register.execute(command(email="  Ada@Example.TEST "))

    user = signed_in.user
    assert user.email == "ada@example.test"
    assert user.password_hash == "fake$" + PASSWORD
    assert user.name == "Ada"
    assert user.role == "user"
    assert user.created_at == world.clock.now()
    assert world.users.users == {user.id: user}


async def test_register_starts_a_session_and_stores_its_grant(world: World) -> None:
    signed_in = await world.sign_up()
    tokens = signed_in.tokens

    session = world.sessions.sessions[tokens.session_id]
    assert session.user_id == signed_in.user.id
    assert (session.ip_address, session.user_agent) == (CLIENT.ip_address, CLIENT.user_agent)
    assert world.refresh_tokens.read(tokens.refresh_token) == GenuineRefreshToken(
        tokens.session_id, 0
    )
    assert (await world.rotate(tokens.refresh_token)).session_id == tokens.session_id  # stored
    assert tokens.expires_in == 900
    assert tokens.refresh_expires_in == 7 * 24 * 3600
    claims = await world.claims(tokens.access_token)
    assert (claims.user_id, claims.session_id) == (signed_in.user.id, tokens.session_id)


async def test_register_audits_user_registered(world: World) -> None:
    signed_in = await world.sign_up()

    [event] = world.audit.named("user_registered")
    assert event.user_id == signed_in.user.id
    assert event.session_id == signed_in.tokens.session_id
    assert event.ip_address == CLIENT.ip_address


async def test_a_rejected_captcha_fails_before_anything_is_written(clock: FakeClock) -> None:
    world = build_world(clock, captcha=RejectingCaptcha())

    with pytest.raises(CaptchaFailed):
        await world.register.execute(command())

    assert world.users.users == {}
    assert world.sessions.sessions == {}


@pytest.mark.parametrize(
    ("email", "password", "name", "fields"),
    [
        ("not-an-email", PASSWORD, None, ["email"]),
        ("ada@example.test", "7 chars", None, ["password"]),
        ("ada@example.test", "p" * 1025, None, ["password"]),
        ("ada@example.test", PASSWORD, "n" * 201, ["name"]),
        ("nope", "short", "n" * 201, ["email", "password", "name"]),
    ],
    ids=["email", "short-password", "long-password", "long-name", "all-three"],
)
async def test_invalid_input_is_validation_failed_with_the_fields(
    world: World, email: str, password: str, name: str | None, fields: list[str]
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        await world.register.execute(command(email=email, password=password, name=name))

    assert [error.field for error in failure.value.errors] == fields
    assert world.users.users == {}
    assert world.hasher.verify_calls == 0


async def test_a_name_of_200_characters_is_accepted(world: World) -> None:
    signed_in = await world.register.execute(command(name="n" * 200))

    assert signed_in.user.name == "n" * 200


async def test_a_duplicate_email_is_email_taken_whatever_its_case(world: World) -> None:
    await world.sign_up("ada@example.test")

    with pytest.raises(EmailTaken):
        await world.sign_up("ADA@Example.test")

    assert len(world.users.users) == 1
    assert len(world.sessions.sessions) == 1


async def test_when_the_grant_cannot_be_stored_the_user_is_removed_again(
    clock: FakeClock,
) -> None:
    world = build_world(clock, grants=UnavailableGrantStore())

    with pytest.raises(StorageUnavailable):
        await world.sign_up()

    assert world.users.users == {}
    assert all(s.revoked_at is not None for s in world.sessions.sessions.values())
    assert world.audit.named("user_registered") == []
