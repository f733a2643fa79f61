"""Bad input of any kind gets a 4xx problem, never a 5xx (spec: Errors).

Every body-taking endpoint (register, login, refresh, logout, revoke) is fed the same
hostile bodies. The refresh cookie jar is emptied first so refresh and logout really read
the body, and revoke carries a valid Bearer token so the body is what it judges. Each test
sends every case and reports every rule-breaking answer at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.http.helpers import (
    PASSWORD,
    assert_problem,
    bearer,
    register,
)

ENDPOINTS = ["register", "login", "refresh", "logout", "revoke"]
STRING_FIELDS = {
    "register": ["email", "password", "name"],
    "login": ["email", "password"],
    "refresh": ["refresh_token"],
    "logout": ["refresh_token"],
}
JSON = {"Content-Type": "application/json"}
MEGABYTE = 1024 * 1024
NO_LIMITS = {"login_limit": 100_000, "register_limit": 100_000, "refresh_limit": 100_000}


@pytest.fixture
async def client(make_client) -> AsyncIterator[Any]:
    """The usual app with brute-force limits out of reach, so a 429 never hides a deeper path."""
    async with make_client(**NO_LIMITS) as app_client:
        yield app_client


class Caller:
    """The signed-in owner whose Bearer token /auth/revoke gets; renewed if a body revoked it."""

    def __init__(self, access_token: str) -> None:
        self.access_token = access_token

    async def renew(self, client) -> None:
        response = await client.post(
            "/auth/login", json={"email": "owner@site.com", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.access_token = response.json()["access_token"]
        client.cookies.clear()


@pytest.fixture
async def caller(client) -> Caller:
    """A signed-in user for /auth/revoke; the jar is emptied so only bodies carry tokens."""
    body = await register(client, email="owner@site.com")
    client.cookies.clear()
    return Caller(body["access_token"])


def valid_body(endpoint: str, n: int = 0) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "register": {"email": f"fresh{n}@site.com", "password": PASSWORD, "name": "N"},
        "login": {"email": "owner@site.com", "password": PASSWORD},
        "refresh": {"refresh_token": "A" * 43},
        "logout": {"refresh_token": "A" * 43},
        "revoke": {"keep_current": True},
    }
    return bodies[endpoint]


async def send(client, endpoint: str, caller: Caller, content: bytes, headers: dict[str, str]):
    if endpoint != "revoke":
        return await client.post(f"/auth/{endpoint}", content=content, headers=headers)
    headers = {**headers, **bearer(caller.access_token)}
    response = await client.post("/auth/revoke", content=content, headers=headers)
    if response.status_code == 204:  # the body was taken as valid: sign in again for the next
        await caller.renew(client)
    return response


def problem_or_none(response) -> str | None:
    """Why a response breaks the rule "4xx problem, never 5xx", or None when it keeps it."""
    if response.status_code >= 500:
        return f"{response.status_code} {response.text[:200]}"
    if response.status_code < 400:
        return f"{response.status_code} is not a 4xx"
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return f"{response.status_code} with content-type {response.headers.get('content-type')}"
    body = response.json()
    if not (isinstance(body.get("code"), str) and body["code"]):
        return f"{response.status_code} problem without a code: {body}"
    if body.get("status") != response.status_code:
        return f"{response.status_code} problem with status {body.get('status')}"
    return None


def never_5xx(response) -> str | None:
    """For bodies a lenient server may accept: never a 5xx; any refusal is a 4xx problem."""
    if response.status_code < 400:
        return None
    return problem_or_none(response)


def report(failures: dict[Any, str]) -> str:
    return "\n".join(f"{where}: {why}" for where, why in failures.items())


# --- Bodies that are wrong as a whole ------------------------------------------------------

Body = Callable[[str], tuple[bytes, dict[str, str]] | None]  # None: not bad for that endpoint


def _json(value: Any) -> Body:
    return lambda endpoint: (json.dumps(value).encode(), JSON)


def _raw(content: bytes, content_type: str = "application/json") -> Body:
    return lambda endpoint: (content, {"Content-Type": content_type})


def _every_field(raw_value: bytes) -> Body:
    """The endpoint's own fields, each set to ``raw_value`` (raw JSON text)."""

    def build(endpoint: str) -> tuple[bytes, dict[str, str]]:
        members = b", ".join(b'"%s": %s' % (k.encode(), raw_value) for k in valid_body(endpoint))
        return b"{" + members + b"}", JSON

    return build


def _as(content_type: str) -> Body:
    def build(endpoint: str) -> tuple[bytes, dict[str, str]]:
        headers = {"Content-Type": content_type} if content_type else {}
        return json.dumps(valid_body(endpoint)).encode(), headers

    return build


def _megabyte(endpoint: str) -> tuple[bytes, dict[str, str]]:
    field = next(iter(valid_body(endpoint)))
    return json.dumps({field: "a" * MEGABYTE}).encode(), JSON


MALFORMED_JSON: dict[str, Body] = {
    "truncated": _raw(b'{"email": "user@site.com", "password": '),
    "trailing-garbage": _raw(b'{"refresh_token": "x", "keep_current": true} trailing'),
    "single-quotes": _raw(b"{'email': 'user@site.com'}"),
    "invalid-utf8": _every_field(b'"\xff\xfe@site.com"'),
    "invalid-utf8-in-a-skipped-field": _raw(b'{"unknown": "\xff\xfe"}'),
    "utf8-bom": _raw(b'\xef\xbb\xbf{"keep_current": true}'),
    "raw-nul-in-string": _raw(b'{"refresh_token": "a\x00b", "keep_current": true}'),
    "lone-surrogate-escape": _every_field(b'"\\ud800"'),
}
WRONG_SHAPES: dict[str, Body] = {
    "wrong-types": _every_field(b"1"),
    "booleans": lambda e: None if e == "revoke" else _every_field(b"false")(e),
    "objects-as-values": _every_field(b'{"$ne": null}'),
    "arrays-as-values": _every_field(b'["a", "b"]'),
    "json-array": _json([]),
    "json-array-of-body": lambda e: (json.dumps([valid_body(e)]).encode(), JSON),
    "json-string": _json("user@site.com"),
    "json-number": _json(12345),
    "json-null": _json(None),
    "huge-integer": _every_field(b"1" + b"0" * 5000),
    "huge-float": _every_field(b"1e400"),
    "deeply-nested": _raw(b"[" * 20_000 + b"]" * 20_000),
    "deeply-nested-value": _every_field(b"[" * 20_000 + b"]" * 20_000),
}
CONTENT_TYPES: dict[str, Body] = {
    "text-plain": _as("text/plain"),
    "xml": _as("application/xml"),
    "multipart": _as("multipart/form-data; boundary=x"),
    "no-content-type": _as(""),
}


async def assert_every_endpoint_refuses(client, caller: Caller, cases: dict[str, Body]) -> None:
    failures = {}
    for case, build in cases.items():
        for endpoint in ENDPOINTS:
            if (built := build(endpoint)) is None:
                continue
            response = await send(client, endpoint, caller, *built)
            if why := problem_or_none(response):
                failures[f"{case} -> {endpoint}"] = why

    assert not failures, report(failures)


async def test_malformed_json_gets_a_4xx_problem_on_every_endpoint(client, caller):
    await assert_every_endpoint_refuses(client, caller, MALFORMED_JSON)


async def test_wrong_types_arrays_and_odd_json_get_a_4xx_problem_on_every_endpoint(client, caller):
    await assert_every_endpoint_refuses(client, caller, WRONG_SHAPES)


async def test_a_one_megabyte_body_gets_a_4xx_problem_on_every_endpoint(client, caller):
    await assert_every_endpoint_refuses(client, caller, {"one-megabyte": _megabyte})


async def test_a_body_that_is_not_json_gets_a_4xx_problem_on_every_endpoint(client, caller):
    await assert_every_endpoint_refuses(client, caller, CONTENT_TYPES)


async def test_missing_fields_or_an_empty_body_get_a_4xx_problem(client, caller):
    cases = {"missing-fields": _raw(b"{}"), "empty-body": _raw(b"")}
    failures = {}
    for case, build in cases.items():
        for endpoint in ["register", "login", "refresh"]:  # logout and revoke need no body
            built = build(endpoint)
            assert built is not None  # a raw body is bad for every endpoint
            content, headers = built
            response = await send(client, endpoint, caller, content, headers)
            if why := problem_or_none(response):
                failures[f"{case} -> {endpoint}"] = why

    assert not failures, report(failures)


async def test_wrong_types_answer_422_validation_failed_naming_the_field(client):
    register_response = await client.post("/auth/register", json={"email": 1, "password": PASSWORD})
    login_response = await client.post("/auth/login", json={"email": "a@b.co", "password": 1})

    assert_problem(register_response, 422, "validation_failed")
    assert [e["field"] for e in register_response.json()["errors"]] == ["email"]
    assert_problem(login_response, 422, "validation_failed")
    assert [e["field"] for e in login_response.json()["errors"]] == ["password"]


async def test_an_oversized_body_answers_413_and_an_unknown_content_type_415(client):
    oversized = await client.post(
        "/auth/register",
        content=json.dumps({"email": "a" * MEGABYTE, "password": PASSWORD}).encode(),
        headers=JSON,
    )
    plain = await client.post(
        "/auth/register",
        content=json.dumps({"email": "user@site.com", "password": PASSWORD}).encode(),
        headers={"Content-Type": "text/plain"},
    )

    assert oversized.status_code == 413, oversized.text
    assert problem_or_none(oversized) is None
    assert plain.status_code == 415, plain.text
    assert problem_or_none(plain) is None


async def test_problem_bodies_carry_exactly_the_rfc_9457_members_plus_code(client):
    plain = await client.post("/auth/refresh")
    invalid = await client.post("/auth/register", json={"email": "x", "password": PASSWORD})

    assert plain.headers["content-type"] == "application/problem+json"
    assert set(plain.json()) == {"type", "title", "status", "detail", "code"}
    assert plain.json()["type"] == "about:blank"
    # Validation problems add errors, each with field and message.
    body = assert_problem(invalid, 422, "validation_failed")
    assert set(body) == {"type", "title", "status", "detail", "code", "errors"}
    assert all(set(e) == {"field", "message"} for e in body["errors"])


# --- Hostile strings in every field --------------------------------------------------------

HOSTILE = {
    "sql": "' OR 1=1 --",
    "sql-quote-email": "x' OR '1'='1'--@site.com",
    "ten-thousand": "x" * 10_000,
    "null-byte": "user\x00@site.com",
    "control-chars": "\x01\x02\x1b[31m\r\n\t\x7f",
    "unicode": "ü𝔘\u202e\ufeff@exämple.com",
}


async def test_hostile_strings_in_any_field_never_cause_a_5xx(client, caller):
    failures = {}
    n = 0
    for case, value in HOSTILE.items():
        for endpoint, fields in STRING_FIELDS.items():
            for field in fields:
                n += 1
                body = {**valid_body(endpoint, n), field: value}
                response = await send(client, endpoint, caller, json.dumps(body).encode(), JSON)
                if why := never_5xx(response):
                    failures[f"{case} -> {endpoint}.{field}"] = why
        revoke = await send(
            client, "revoke", caller, json.dumps({"keep_current": value}).encode(), JSON
        )
        if why := problem_or_none(revoke):
            failures[f"{case} -> revoke.keep_current"] = why

    assert not failures, report(failures)


async def test_json_escapes_of_lone_surrogates_and_nul_never_cause_a_5xx(client, caller):
    failures = {}
    n = 0
    for escape in [r"\ud800", r"\udfff", r"\ud800\u0041", r"\u0000"]:
        for endpoint, fields in STRING_FIELDS.items():
            for field in fields:
                n += 1
                body = json.dumps({**valid_body(endpoint, n), field: "ESCAPE"})
                content = body.replace("ESCAPE", f"x{escape}secret123").encode()
                response = await send(client, endpoint, caller, content, JSON)
                if why := never_5xx(response):
                    failures[f"{escape} -> {endpoint}.{field}"] = why

    assert not failures, report(failures)


async def test_sql_in_an_email_or_password_is_data_not_code(client):
    email = "o'reilly--@site.com"
    body = await register(client, email=email, password="' OR 1=1 --")

    assert body["user"]["email"] == email
    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["user"]["email"] == email
    injected = await client.post(
        "/auth/login", json={"email": "' OR 1=1 --", "password": "' OR 1=1 --"}
    )
    assert_problem(injected, 401, "invalid_credentials")
    wildcard = await client.post("/auth/login", json={"email": "%@site.com", "password": "x" * 8})
    assert_problem(wildcard, 401, "invalid_credentials")
    genuine = await client.post("/auth/login", json={"email": email, "password": "' OR 1=1 --"})
    assert genuine.status_code == 200, genuine.text


async def test_a_form_login_with_bad_bytes_or_repeated_fields_gets_a_4xx_problem(client):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    bodies = [
        b"username=a%FF%FE&password=\xff\xfe",
        b"username=a@b.co&username=c@d.co&password=secret123",
        b"password=secret123",
        b"username=&password=",
        b"%%%%=%%%",
        b"username=a@b.co&password=" + b"x" * 10_000,
        b"username=a%00b@site.com&password=secret%00123",
        b"username=%ED%A0%80@site.com&password=secret123",
    ]
    failures = {}
    for content in bodies:
        response = await client.post("/auth/login", content=content, headers=form)
        if why := problem_or_none(response):
            failures[content[:40]] = why

    assert not failures, report(failures)


# --- Odd headers and paths -----------------------------------------------------------------

ODD_AUTHORIZATION = {
    "huge": "Bearer " + "a" * 100_000,
    "huge-jwt-shaped": "Bearer " + ".".join(["a" * 30_000] * 3),
    "scheme-only": "Bearer",
    "scheme-and-space": "Bearer ",
    "two-tokens": "Bearer a.b.c d.e.f",
    "basic": "Basic dXNlcjpwYXNzd29yZA==",
    "lower-case-garbage": "bearer ...",
    "non-ascii": "Bearer \xe9\xe8\xff",
}


async def test_odd_authorization_headers_on_the_get_endpoints_answer_401(client):
    failures = {}
    for path in ["/auth/me", "/auth/sessions"]:
        for name, value in ODD_AUTHORIZATION.items():
            response = await client.get(path, headers={"Authorization": value.encode("latin-1")})
            if response.status_code != 401 or problem_or_none(response):
                failures[f"{path} {name}"] = f"{response.status_code} {response.text[:120]}"
            elif response.headers.get("www-authenticate") != 'Bearer error="invalid_token"':
                failures[f"{path} {name}"] = response.headers.get("www-authenticate", "")

    assert not failures, report(failures)


async def test_deleting_an_odd_session_id_answers_a_4xx_problem(client):
    body = await register(client)
    failures = {}
    for session_id in [
        "'; DROP TABLE sessions; --",
        "%00",
        "a%00b",
        "x" * 10_000,
        "%F0%9F%98%80",
        "%ED%A0%80",
        "..%2F..%2Fetc%2Fpasswd",
        "%20",
    ]:
        response = await client.delete(
            f"/auth/sessions/{session_id}", headers=bearer(body["access_token"])
        )
        if why := problem_or_none(response):
            failures[session_id[:30]] = why

    assert not failures, report(failures)
    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text


async def test_odd_client_headers_on_sign_up_never_cause_a_5xx(client):
    headers = {
        "User-Agent": "ua " * 30_000,
        "X-Forwarded-For": "'; DROP TABLE users; --, 999.1.1.1, ::zz",
        "X-Auth-Transport": "\x00body",
        "Origin": "https://testserver.local",
    }

    response = await client.post(
        "/auth/register", json={"email": "user@site.com", "password": PASSWORD}, headers=headers
    )

    assert response.status_code == 201, response.text
    sessions = await client.get("/auth/sessions", headers=bearer(response.json()["access_token"]))
    assert sessions.status_code == 200, sessions.text


async def test_odd_refresh_cookies_answer_401_invalid_refresh_token(client):
    failures = {}
    for cookie in [
        "refresh_id=" + "a" * 50_000,
        'refresh_id="quoted"',
        "refresh_id=a; refresh_id=b",
        "refresh_id=%00%FF",
        "refresh_id",
        "=;=;;;",
    ]:
        response = await client.post("/auth/refresh", headers={"Cookie": cookie})
        if response.status_code != 401 or response.json().get("code") != "invalid_refresh_token":
            failures[cookie[:30]] = f"{response.status_code} {response.text[:120]}"

    assert not failures, report(failures)
