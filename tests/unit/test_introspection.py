"""Token introspection (RFC 7662): an access token is active while it verifies and its
session lives; the caller must be a configured client with its secret."""

from __future__ import annotations

import pytest

from application.introspection import IntrospectionClients, TokenContext
from application.logout import LogoutCommand
from domain.errors import InvalidClient
from tests.unit.world import AUDIENCE, CLIENT, INTROSPECTION_SECRETS, ISSUER, World

SECRET = INTROSPECTION_SECRETS["orders"]


async def test_a_live_access_token_is_active_with_its_claims_and_the_services_context(
    world: World,
) -> None:
    tokens = (await world.sign_up()).tokens

    active = await world.introspect.execute(tokens.access_token)

    assert active is not None
    assert active.claims == await world.claims(tokens.access_token)
    assert active.context == TokenContext(issuer=ISSUER, audience=AUDIENCE, client_id=AUDIENCE)


async def test_the_token_of_a_logged_out_session_is_inactive_at_once(world: World) -> None:
    tokens = (await world.sign_up()).tokens
    await world.logout.execute(
        LogoutCommand(refresh_token=tokens.refresh_token, bearer_token=None, client=CLIENT)
    )

    assert await world.introspect.execute(tokens.access_token) is None


async def test_an_expired_access_token_is_inactive(world: World) -> None:
    tokens = (await world.sign_up()).tokens
    world.clock.advance(900)

    assert await world.introspect.execute(tokens.access_token) is None


async def test_a_refresh_token_is_never_active(world: World) -> None:
    tokens = (await world.sign_up()).tokens

    assert await world.introspect.execute(tokens.refresh_token) is None


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 10_000])
async def test_anything_else_is_inactive(world: World, token: str) -> None:
    assert await world.introspect.execute(token) is None


def test_a_configured_client_with_its_secret_is_let_in(world: World) -> None:
    assert world.introspection_clients.enabled
    assert world.introspection_clients.authenticate("orders", SECRET) == "orders"


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [
        ("orders", SECRET[:-1]),
        ("orders", SECRET + "x"),
        ("orders", ""),
        ("billing", SECRET),  # an unknown client, even with a known secret
        ("", ""),
    ],
)
def test_any_other_credentials_are_an_invalid_client(
    world: World, client_id: str, secret: str
) -> None:
    with pytest.raises(InvalidClient):
        world.introspection_clients.authenticate(client_id, secret)


def test_without_configured_clients_introspection_is_off() -> None:
    clients = IntrospectionClients({})

    assert not clients.enabled
    with pytest.raises(InvalidClient):
        clients.authenticate("orders", SECRET)
