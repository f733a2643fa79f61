"""What the OpenAPI document says beyond the handler signatures: each operation's problem
responses, and the two request-body facts Litestar cannot infer from a ``data`` parameter."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation, RequestBody

from domain import errors as e
from domain.errors import DomainError
from interfaces.http.bodies import Problem
from interfaces.http.errors import (
    BAD_REQUEST,
    FOREIGN_ORIGIN,
    MALFORMED_JSON,
    NOT_JSON,
    STATUS,
    TOO_LARGE,
    RingProblem,
)
from interfaces.http.request import FORM

PROBLEM_JSON = "application/problem+json"
Cause = type[DomainError] | RingProblem
# What any JSON body can run into, and what any endpoint behind the refresh cookie can.
BODY: tuple[Cause, ...] = (MALFORMED_JSON, TOO_LARGE, NOT_JSON, e.ValidationFailed)
COOKIE: tuple[Cause, ...] = (FOREIGN_ORIGIN, e.StorageUnavailable)


def problems(*causes: Cause) -> dict[int, ResponseSpec]:
    """The problem responses of one operation, by status, each naming its ``code`` values.
    Every operation can answer 400, so Litestar's own 400 schema is replaced too."""
    codes: dict[int, list[str]] = {}
    if not any(_status(cause) == 400 for cause in causes):
        causes = (BAD_REQUEST, *causes)
    for cause in causes:
        codes.setdefault(_status(cause), []).append(cause.code)
    return {
        status: ResponseSpec(
            Problem,
            description="Problem: " + ", ".join(f"`{code}`" for code in found),
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status, found in sorted(codes.items())
    }


def _status(cause: Cause) -> int:
    return cause.status if isinstance(cause, RingProblem) else STATUS[cause]


@dataclass
class OptionalBody(Operation):
    """Litestar documents every ``data`` body as required; refresh, logout and revoke also
    take none."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


@dataclass
class JsonOrFormBody(Operation):
    """Login also takes the same fields as an OAuth2-style form (RFC 6749 §4.3.2)."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            content = self.request_body.content
            content[FORM] = content["application/json"]
