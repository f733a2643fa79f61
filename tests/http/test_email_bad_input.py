"""Bad input on every email endpoint: a 4xx problem, never a 5xx, and nothing written (no
mail queued, no password changed, no email verified)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings
from infrastructure.persistence.users import SqlUserRepository
from interfaces.bootstrap.backends import open_database
from tests.http.helpers import PASSWORD, assert_problem, sign_in, sign_up
from tests.servers.smtp import SmtpSink, link_token

Client = AsyncTestClient[Any]
ADA = "ada@example.test"
LONG = "x" * 5000


@pytest.fixture
async def app(make_client: Callable[..., Client], smtp: SmtpSink) -> AsyncIterator[Client]:
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        yield client


async def outbox_rows(settings: Settings) -> int:
    database = open_database(settings)
    try:
        async with database.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT COUNT(*) AS n FROM outbox")
    finally:
        await database.close()
    assert row is not None
    return int(row["n"])


BAD_BODIES = [
    ("/auth/email/verify", {}, 422),
    ("/auth/email/verify", {"token": 42}, 422),
    ("/auth/email/verify", {"token": None}, 422),
    ("/auth/email/verify", {"token": LONG}, 400),
    ("/auth/email/verify", {"token": ""}, 400),
    ("/auth/password/forgot", {}, 422),
    ("/auth/password/forgot", {"email": ["a@b.c"]}, 422),
    ("/auth/password/forgot", {"email": "not an email"}, 422),
    ("/auth/password/forgot", {"email": LONG + "@example.test"}, 422),
    ("/auth/password/reset", {"token": "t"}, 422),
    ("/auth/password/reset", {"new_password": "long enough"}, 422),
    ("/auth/password/reset", {"token": True, "new_password": "long enough"}, 422),
    ("/auth/password/reset", {"token": LONG, "new_password": "long enough"}, 400),
    ("/auth/password/reset", {"token": "unknown", "new_password": "long enough"}, 400),
    ("/auth/password/change", {"current_password": PASSWORD}, 422),
    ("/auth/password/change", {"current_password": 1, "new_password": "long enough"}, 422),
]


@pytest.mark.parametrize(("path", "body", "status"), BAD_BODIES)
async def test_bad_bodies_get_a_problem_and_write_nothing(
    app: Client, smtp: SmtpSink, settings: Settings, path: str, body: Any, status: int
) -> None:
    device = await sign_up(app, ADA)
    await smtp.wait_for(ADA)
    queued = await outbox_rows(settings)

    answer = await app.post(path, json=body, headers=device.headers)

    assert 400 <= answer.status_code < 500
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert await outbox_rows(settings) == queued
    await sign_in(app, ADA)  # the password is as it was
    me = await app.get("/auth/me", headers=device.headers)
    assert me.json()["user"]["email_verified"] is False


async def test_a_weak_new_password_is_422_and_keeps_the_reset_token_usable(
    app: Client, smtp: SmtpSink
) -> None:
    await sign_up(app, ADA)
    await app.post("/auth/password/forgot", json={"email": ADA})
    token = link_token(await smtp.wait_for_subject(ADA, "Reset", 1))

    weak = await app.post("/auth/password/reset", json={"token": token, "new_password": "short"})

    problem = assert_problem(weak, 422, "validation_failed")
    assert [error["field"] for error in problem["errors"]] == ["new_password"]
    reset = await app.post(
        "/auth/password/reset", json={"token": token, "new_password": "long enough now"}
    )
    assert reset.status_code == 204


async def test_the_token_of_a_deleted_user_is_refused(
    app: Client, smtp: SmtpSink, settings: Settings
) -> None:
    device = await sign_up(app, ADA)
    token = link_token(await smtp.wait_for(ADA))
    database = open_database(settings)
    try:
        await SqlUserRepository(database).remove(device.body["user"]["id"])
    finally:
        await database.close()

    answer = await app.post("/auth/email/verify", json={"token": token})

    assert_problem(answer, 400, "invalid_verification_token")
