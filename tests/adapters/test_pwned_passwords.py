"""The Pwned Passwords range adapter against a fake range API on loopback."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from domain.ports import BreachCheckUnavailable
from infrastructure.security.pwned_passwords import NoBreachCheck, PwnedPasswordsRange
from tests.servers.loopback import refused_origin
from tests.servers.pwned import FakePwnedPasswords, sha1

BREACHED = "password123"
PADDED = "only a decoy of this prefix"
CLEAN = "a fresh and long passphrase"


@pytest.fixture
def fake() -> Iterator[FakePwnedPasswords]:
    with FakePwnedPasswords({BREACHED: 42}, padded=(PADDED,)) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


@pytest.mark.parametrize(
    ("password", "breached"),
    [(BREACHED, True), (CLEAN, False), (PADDED, False)],
    ids=["breached", "unknown", "padding-entry-of-count-0"],
)
async def test_a_password_is_breached_when_its_suffix_has_a_count(
    client: httpx.AsyncClient, fake: FakePwnedPasswords, password: str, breached: bool
) -> None:
    assert await PwnedPasswordsRange(client, url=fake.url).is_breached(password) is breached


async def test_only_five_hex_characters_leave_and_padding_is_asked_for(
    client: httpx.AsyncClient, fake: FakePwnedPasswords
) -> None:
    await PwnedPasswordsRange(client, url=fake.url).is_breached(BREACHED)

    [request] = fake.requests
    assert re.fullmatch(r"/range/[0-9A-F]{5}", request.path)
    assert request.prefix == sha1(BREACHED)[:5]
    assert request.headers["add-padding"] == "true"
    sent = request.path + "".join(request.headers.values())
    assert BREACHED not in sent
    assert sha1(BREACHED)[5:] not in sent


async def test_a_slow_range_api_is_unavailable_within_the_bound(
    client: httpx.AsyncClient, fake: FakePwnedPasswords
) -> None:
    fake.mode = "slow"
    started = time.monotonic()

    with pytest.raises(BreachCheckUnavailable) as failure:
        await PwnedPasswordsRange(client, url=fake.url, timeout=0.3).is_breached(BREACHED)

    assert failure.value.reason == "timeout"
    assert time.monotonic() - started < 2


async def test_a_refused_connection_is_unavailable(client: httpx.AsyncClient) -> None:
    with pytest.raises(BreachCheckUnavailable) as failure:
        await PwnedPasswordsRange(client, url=refused_origin() + "/range/{prefix}").is_breached(
            BREACHED
        )

    assert failure.value.reason == "unreachable"
    assert isinstance(failure.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(("mode", "reason"), [("error500", "http_500"), ("garbage", "malformed")])
async def test_an_error_or_a_body_that_is_not_a_range_is_unavailable(
    client: httpx.AsyncClient, fake: FakePwnedPasswords, mode: str, reason: str
) -> None:
    fake.mode = mode  # type: ignore[assignment]

    with pytest.raises(BreachCheckUnavailable) as failure:
        await PwnedPasswordsRange(client, url=fake.url).is_breached(BREACHED)

    assert failure.value.reason == reason


async def test_the_disabled_check_knows_no_password() -> None:
    assert await NoBreachCheck().is_breached(BREACHED) is False
