"""authgate_client's sign-in without a password, against a real server and the SMTP server
the test runs: the mailed code signs in the client that asked (bound to its request id), the
mailed link signs in any client, and requests then carry the access token."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from authgate_client import AuthgateAuth, AuthgateError
from tests.e2e.clients import client_server
from tests.e2e.conftest import Server
from tests.servers.smtp import SmtpSink, link_token, text_of

EMAIL = "reader@site.com"
SIGN_IN_MAIL = "Your authgate sign-in code"


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink) -> Iterator[Server]:
    with client_server(
        Path(tmp_path_factory.mktemp("email-sign-in")),
        AUTH_EMAIL_SIGNIN="true",
        AUTH_SMTP_URL=sink.url,
        AUTH_OUTBOX_POLL_INTERVAL="0.05",
    ) as running:
        registered = httpx.post(
            f"{running.url}/auth/register", json={"email": EMAIL, "password": "long password 1"}
        )
        assert registered.status_code == 201, registered.text
        yield running


def mail(sink: SmtpSink, count: int) -> str:
    deadline = time.monotonic() + 10
    while len(found := sink.about(EMAIL, SIGN_IN_MAIL)) < count:
        assert time.monotonic() < deadline, "no sign-in mail"
        time.sleep(0.05)
    return text_of(found[count - 1])


def test_the_mailed_code_signs_in_the_client_that_asked(server: Server, sink: SmtpSink) -> None:
    before = len(sink.about(EMAIL, SIGN_IN_MAIL))
    auth = AuthgateAuth(server.url)
    with httpx.Client(base_url=server.url, auth=auth) as client:
        request_id = auth.request_email_sign_in(client, EMAIL)
        code = re.search(r"Your code is (\d{6})\.", mail(sink, before + 1))
        assert code is not None
        with pytest.raises(AuthgateError) as wrong:
            auth.email_sign_in(client, EMAIL, "000000", request_id)
        assert wrong.value.code == "invalid_email_code"

        user = auth.email_sign_in(client, EMAIL, code.group(1), request_id)
        me = client.get("/auth/me")

    assert user["email"] == EMAIL
    assert me.status_code == 200
    assert me.json()["user"]["email_verified"] is True  # the code proved the mailbox


def test_the_mailed_link_signs_in_any_client_async(server: Server, sink: SmtpSink) -> None:
    async def scenario() -> int:
        before = len(sink.about(EMAIL, SIGN_IN_MAIL))
        asking = AuthgateAuth(server.url)
        async with httpx.AsyncClient(base_url=server.url, auth=asking) as client:
            await asking.arequest_email_sign_in(client, EMAIL)
        mail(sink, before + 1)
        token = link_token(sink.about(EMAIL, SIGN_IN_MAIL)[before])
        elsewhere = AuthgateAuth(server.url)
        async with httpx.AsyncClient(base_url=server.url, auth=elsewhere) as client:
            await elsewhere.aemail_link_sign_in(client, token)
            return (await client.get("/auth/me")).status_code

    assert asyncio.run(scenario()) == 200
