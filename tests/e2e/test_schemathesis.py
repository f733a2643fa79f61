"""Schemathesis against the live OpenAPI document of a real server: schema-valid and
schema-invalid requests to every operation, a fixed seed, over a thousand cases. No answer
may be a 5xx, and none may contradict the document (status, content type, body, headers);
invalid input must be refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import Server, running_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Cases per operation and mode; operations without inputs stop early at their few cases.
EXAMPLES = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 25}
MINIMUM_CASES = 1000
# Revoking every session ends the token the other operations use: it runs last.
LAST = ("POST", "/auth/revoke")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The limits are raised so that the run reaches the handlers rather than only 429s;
    # the limits themselves have their own tests.
    with running_server(
        tmp_path_factory.mktemp("schemathesis"),
        AUTH_REGISTER_LIMIT="100000",
        AUTH_REFRESH_LIMIT="100000",
        AUTH_COOKIE_SECURE="false",
    ) as started:
        yield started


def access_token(server: Server) -> str:
    response = httpx.post(
        f"{server.url}/auth/register",
        json={"email": "fuzz@example.com", "password": "correct horse battery"},
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["access_token"]
    return token


def bearer_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The operations whose security names the Bearer token (signed in, or optionally): the
    run sends them a user's token, so it reaches past the 401 (an admin's operations answer
    that user 403)."""
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and any("bearer" in requirement for requirement in operation.get("security", []))
    }


def loaded(result: Any) -> Any:
    """The operation, or the schema error that kept it from loading raised."""
    return result.ok()


@pytest.mark.slow
def test_no_request_gets_a_server_error_or_an_answer_the_schema_does_not_allow(live):
    schema = schemathesis.openapi.from_url(f"{live.url}/schema/openapi.json")
    token = access_token(live)
    signed_in = bearer_operations(httpx.get(f"{live.url}/schema/openapi.json").json())
    assert LAST in signed_in
    assert ("GET", "/admin/users") in signed_in
    operations = sorted(
        (loaded(result) for result in schema.get_all_operations()),
        key=lambda op: (op.method.upper(), op.path) == LAST,
    )
    cases: Counter[str] = Counter()
    for operation in operations:
        key = (operation.method.upper(), operation.path)
        headers = {"Authorization": f"Bearer {token}"} if key in signed_in else None
        for mode, examples in EXAMPLES.items():
            checks = (
                [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
            )

            @settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(mode))
            def run(case: Any) -> None:
                cases[operation.label] += 1
                case.call_and_validate(headers=headers, checks=checks, timeout=30)

            try:
                run()
            except Unsatisfiable:
                # No input to make invalid: /health/live, /.well-known/jwks.json.
                if mode is GenerationMode.POSITIVE:
                    raise
    assert sum(cases.values()) >= MINIMUM_CASES, cases
