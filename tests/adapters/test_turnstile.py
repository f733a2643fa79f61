from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from domain.errors import CaptchaFailed, CaptchaUnavailable
from infrastructure.captcha.turnstile import MAX_TOKEN_LENGTH, DisabledCaptcha, TurnstileVerifier
from tests.servers.turnstile import FakeTurnstile

SECRET = "0x4AAAAAAA-test-secret"
LOGGER = "infrastructure.captcha.turnstile"


@pytest.fixture
def fake() -> Iterator[FakeTurnstile]:
    with FakeTurnstile() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: no proxy from the environment may see these requests.
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


def verifier(client: httpx.AsyncClient, url: str, **options: Any) -> TurnstileVerifier:
    return TurnstileVerifier(client, secret=SECRET, verify_url=url, **options)


async def test_a_solved_challenge_passes(client: httpx.AsyncClient, fake: FakeTurnstile) -> None:
    checked = verifier(
        client, fake.url, expected_hostname=fake.hostname, expected_action=fake.action
    )

    await checked.verify("solved-token", "203.0.113.7")

    assert len(fake.requests) == 1


async def test_the_secret_token_and_remote_ip_are_posted(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    checked = verifier(client, fake.url)

    await checked.verify("solved-token", "203.0.113.7")
    await checked.verify("another-token", None)

    first, second = fake.requests
    assert first.keys() == {"secret", "response", "remoteip", "idempotency_key"}
    assert (first["secret"], first["response"], first["remoteip"]) == (
        SECRET,
        "solved-token",
        "203.0.113.7",
    )
    assert uuid.UUID(first["idempotency_key"]).version == 4
    assert "remoteip" not in second
    assert second["idempotency_key"] != first["idempotency_key"]


async def test_a_rejected_token_is_captcha_failed_and_codes_are_logged_not_shown(
    client: httpx.AsyncClient, fake: FakeTurnstile, caplog: pytest.LogCaptureFixture
) -> None:
    fake.mode = "fail"
    caplog.set_level(logging.WARNING, logger=LOGGER)

    with pytest.raises(CaptchaFailed) as failure:
        await verifier(client, fake.url).verify("forged-token", None)

    assert "invalid-input-response" in caplog.text
    assert "invalid-input-response" not in str(failure.value)
    assert failure.value.detail == CaptchaFailed.message
    assert SECRET not in caplog.text
    assert "forged-token" not in caplog.text


async def test_timeout_or_duplicate_is_captcha_failed(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    fake.mode = "duplicate"

    with pytest.raises(CaptchaFailed):
        await verifier(client, fake.url).verify("used-token", None)

    assert len(fake.requests) == 1


async def test_a_slow_server_is_captcha_unavailable(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    fake.mode = "slow"

    with pytest.raises(CaptchaUnavailable) as failure:
        await verifier(client, fake.url, timeout=0.3).verify("solved-token", None)

    assert isinstance(failure.value.__cause__, httpx.TimeoutException)
    first, retry = fake.requests
    assert retry["idempotency_key"] == first["idempotency_key"]


async def test_a_500_is_retried_once_with_the_same_idempotency_key_then_unavailable(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    fake.mode = "error500"

    with pytest.raises(CaptchaUnavailable) as failure:
        await verifier(client, fake.url).verify("solved-token", None)

    assert isinstance(failure.value.__cause__, httpx.HTTPStatusError)
    first, retry = fake.requests
    assert retry == first


async def test_a_flaky_server_passes_on_the_retry_with_the_same_idempotency_key(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    # The fake answers 500 to the first request of each key, so only a retry
    # that reuses the key can pass.
    fake.mode = "flaky"

    await verifier(client, fake.url).verify("solved-token", None)

    first, retry = fake.requests
    assert retry == first


async def test_non_json_is_captcha_unavailable(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    fake.mode = "non_json"

    with pytest.raises(CaptchaUnavailable):
        await verifier(client, fake.url).verify("solved-token", None)


async def test_malformed_json_is_captcha_unavailable(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    fake.mode = "malformed"

    with pytest.raises(CaptchaUnavailable):
        await verifier(client, fake.url).verify("solved-token", None)


async def test_internal_error_is_captcha_unavailable(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    fake.mode = "internal_error"

    with pytest.raises(CaptchaUnavailable):
        await verifier(client, fake.url).verify("solved-token", None)


async def test_an_over_long_token_is_rejected_without_any_call(
    client: httpx.AsyncClient, fake: FakeTurnstile
) -> None:
    checked = verifier(client, fake.url)

    with pytest.raises(CaptchaFailed):
        await checked.verify("x" * (MAX_TOKEN_LENGTH + 1), None)
    assert fake.requests == []

    await checked.verify("x" * MAX_TOKEN_LENGTH, None)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("token", [None, ""])
async def test_a_missing_token_is_rejected_without_any_call(
    client: httpx.AsyncClient, fake: FakeTurnstile, token: str | None
) -> None:
    with pytest.raises(CaptchaFailed):
        await verifier(client, fake.url).verify(token, "203.0.113.7")

    assert fake.requests == []


@pytest.mark.parametrize(
    ("hostname", "action"),
    [("evil.example.test", None), (None, "login")],
    ids=["hostname", "action"],
)
async def test_wrong_hostname_or_action_is_captcha_failed(
    client: httpx.AsyncClient, fake: FakeTurnstile, hostname: str | None, action: str | None
) -> None:
    checked = verifier(client, fake.url, expected_hostname=hostname, expected_action=action)

    with pytest.raises(CaptchaFailed):
        await checked.verify("solved-token", None)


async def test_a_closed_port_is_captcha_unavailable(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more: the connection is refused.

    with pytest.raises(CaptchaUnavailable) as failure:
        await verifier(client, f"http://127.0.0.1:{port}/siteverify").verify("token", None)

    assert isinstance(failure.value.__cause__, httpx.ConnectError)


async def test_the_disabled_captcha_accepts_anything() -> None:
    await DisabledCaptcha().verify(None, None)
    await DisabledCaptcha().verify("anything", "203.0.113.7")
