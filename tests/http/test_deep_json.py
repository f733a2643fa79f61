"""JSON nested thousands of levels deep (well within the 64 KiB body limit) is refused as
malformed on every JSON endpoint; it never reaches a RecursionError and a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.helpers import assert_problem, bearer, register

DEPTH = 5_000
JSON = {"Content-Type": "application/json"}
NESTED = {
    "arrays": b"[" * DEPTH + b"]" * DEPTH,
    "objects": b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
    "arrays-in-an-unknown-member": b'{"unknown": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
    "objects-in-an-unknown-member": b'{"x": ' + b'{"a":' * DEPTH + b"1" + b"}" * DEPTH + b"}",
    "arrays-in-a-known-member": b'{"password": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
}
ENDPOINTS = ["register", "login", "refresh", "logout", "revoke"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("shape", NESTED)
async def test_deeply_nested_json_answers_400_malformed_json(client, endpoint, shape):
    headers = dict(JSON)
    if endpoint == "revoke":
        headers |= bearer((await register(client))["access_token"])
    client.cookies.clear()
    content: bytes = NESTED[shape]
    assert len(content) < 64 * 1024

    response: Any = await client.post(f"/auth/{endpoint}", content=content, headers=headers)

    assert response.status_code < 500, response.text[:200]
    assert_problem(response, 400, "malformed_json")
