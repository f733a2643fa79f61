"""The account's security activity: the audit events that name a user, that user's only,
newest first, a page at a time; and the device a person reads beside each one."""

from __future__ import annotations

import pytest

from application.activity import PAGE_MAX
from application.devices.described import device_of
from application.login import LoginCommand
from domain.errors import InvalidCredentials, ValidationFailed
from tests.unit.world import CLIENT, World


async def test_a_sign_in_shows_with_its_method_address_and_browser(world: World) -> None:
    signed_in = await world.sign_up()
    caller = await world.claims(signed_in.tokens.access_token)

    entries, next_cursor = await world.list_activity.execute(caller, None, None)

    # Newest first: the account was written (with its entry) before its first session.
    assert [e.type for e in entries] == ["session_started", "user_registered"]
    started, registered = entries
    assert started.method == "pwd"
    assert started.session_id == registered.session_id == signed_in.tokens.session_id
    assert (started.ip_address, started.user_agent) == (CLIENT.ip_address, CLIENT.user_agent)
    assert next_cursor is None


async def test_a_failed_sign_in_shows_and_a_succeeded_one_once(world: World) -> None:
    signed_in = await world.sign_up()
    with pytest.raises(InvalidCredentials):
        await world.login.execute(
            LoginCommand(email="ada@example.test", password="wrong one", client=CLIENT)
        )
    await world.record_activity.flush()  # as the HTTP layer does before each response
    await world.sign_in()
    caller = await world.claims(signed_in.tokens.access_token)

    entries, _ = await world.list_activity.execute(caller, None, None)

    # (The sign-in from a device the account had not used says so too: new_device_notice.)
    entries = [e for e in entries if e.type != "new_device_notice"]
    types = [e.type for e in entries]
    assert types[:2] == ["session_started", "login_failed"]
    assert "login_succeeded" not in types  # its session_started says it, with the method
    assert entries[1].reason == "wrong_password"


async def test_nobody_sees_another_users_events(world: World) -> None:
    ada = await world.sign_up()
    await world.sign_up("bob@example.test")
    await world.sign_in("bob@example.test")
    caller = await world.claims(ada.tokens.access_token)

    entries, _ = await world.list_activity.execute(caller, None, None)

    assert {e.user_id for e in entries} == {ada.user.id}


async def test_pages_go_back_in_time_and_end_without_a_cursor(world: World) -> None:
    signed_in = await world.sign_up()
    for _ in range(4):
        world.clock.advance(1)
        await world.sign_in()
    caller = await world.claims(signed_in.tokens.access_token)
    everything, _ = await world.list_activity.execute(caller, PAGE_MAX, None)

    seen, cursor = [], None
    while True:
        page, cursor = await world.list_activity.execute(caller, 2, cursor)
        seen.extend(page)
        if cursor is None:
            break

    assert [e.id for e in seen] == [e.id for e in everything]
    assert [e.id for e in seen] == sorted((e.id for e in seen), reverse=True)


@pytest.mark.parametrize(("limit", "cursor"), [(0, None), (PAGE_MAX + 1, None), (5, "not!")])
async def test_a_bad_limit_or_cursor_is_refused(
    world: World, limit: int, cursor: str | None
) -> None:
    signed_in = await world.sign_up()
    caller = await world.claims(signed_in.tokens.access_token)

    with pytest.raises(ValidationFailed):
        await world.list_activity.execute(caller, limit, cursor)


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/126.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
            " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0",
            "Firefox on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/126.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("python-httpx/0.27.0", "Python"),
        ("pytest", None),
        (None, None),
    ],
)
def test_the_device_is_read_from_the_user_agent(user_agent: str | None, device: str | None):
    assert device_of(user_agent) == device
