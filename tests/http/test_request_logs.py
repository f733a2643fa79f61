"""Every request: one line on stdout (JSON by default), an id taken or made, echoed back."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.http.helpers import PASSWORD, register

LOGIN = {"email": "user@site.com", "password": PASSWORD}


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


async def test_a_request_logs_one_json_line_with_its_id_and_no_secret(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_client() as client:  # created here, so its log goes to the captured stdout
        body = await register(client)
        response = await client.post("/auth/login", json=LOGIN, headers={"X-Request-ID": "req-42"})
    out = capsys.readouterr().out

    assert response.headers["x-request-id"] == "req-42"
    lines = json_lines(out)
    (request,) = [line for line in lines if line.get("request_id") == "req-42" and "status" in line]
    assert request["logger"] == "authgate.request"
    assert request["level"] == "info"
    assert {k: request[k] for k in ("method", "path", "status", "client_ip")} == {
        "method": "POST",
        "path": "/auth/login",
        "status": 200,
        "client_ip": "testclient",
    }
    assert request["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", request["time"])
    (audit,) = [line for line in lines if line.get("event") == "login_succeeded"]
    assert audit["request_id"] == "req-42"
    assert PASSWORD not in out
    assert body["access_token"] not in out
    assert response.json()["access_token"] not in out
    assert client.cookies.get("refresh_id") not in out


@pytest.mark.parametrize("offered", ["a" * 129, "x<script>", "-leading-dash", "id with space"])
async def test_an_unsafe_or_oversized_request_id_is_replaced_by_a_new_one(
    client: Any, offered: str
) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": offered})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_a_request_without_an_id_gets_a_fresh_one_even_on_an_unknown_path(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_client() as client:
        first = await client.get("/health/live")
        missing = await client.get("/no/such/path")
    ids = [first.headers["x-request-id"], missing.headers["x-request-id"]]
    assert ids[0] != ids[1]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    logged = {
        line["request_id"]: line
        for line in json_lines(capsys.readouterr().out)
        if line["logger"] == "authgate.request"
    }
    assert logged[ids[1]]["status"] == 404
    assert logged[ids[1]]["path"] == "/no/such/path"


async def test_the_log_level_setting_is_honoured(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_client(log_level="WARNING") as client:
        await register(client)
        await client.post("/auth/login", json=LOGIN)
    assert capsys.readouterr().out == ""


async def test_the_console_format_is_one_readable_line_per_request(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_client(log_format="console") as client:
        response = await client.get("/health/live", headers={"X-Request-ID": "abc"})
    assert response.status_code == 200
    lines = capsys.readouterr().out.splitlines()
    (line,) = [line for line in lines if "authgate.request" in line]
    assert not line.startswith("{")
    assert "INFO    authgate.request  GET /health/live 200" in line
    assert "request_id=abc" in line


async def test_a_console_line_cannot_be_split_by_what_a_client_sent(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The path arrives percent-decoded: a %0A in it would start a line of the sender's own,
    a forged audit entry for whoever reads the console log."""
    forged = "2026-01-01T00:00:00.000+00:00 INFO    authgate.audit  login_succeeded  user_id=1"
    async with make_client(log_format="console") as client:
        await client.get("/x%0A" + forged.replace(" ", "%20"))

    lines = capsys.readouterr().out.splitlines()

    assert not [line for line in lines if line.startswith("2026-01-01T00:00:00")]
    (line,) = [line for line in lines if "authgate.request" in line]
    assert "GET /x\\n2026-01-01" in line
