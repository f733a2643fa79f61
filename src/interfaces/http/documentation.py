"""What the OpenAPI document says beyond the handler signatures: each operation's problem
responses, the bearer security scheme, and the request/response facts Litestar cannot infer
(optional bodies, login's form body and its "email or username", empty 204s)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIType

from domain import errors as e
from domain.errors import DomainError
from interfaces.http.errors import (
    BAD_REQUEST,
    FOREIGN_ORIGIN,
    MALFORMED_JSON,
    NOT_JSON,
    STATUS,
    TOO_LARGE,
    RingProblem,
)
from interfaces.http.json_or_form import FORM
from interfaces.http.mfa.responses import MfaProblem
from interfaces.http.responses import Problem

PROBLEM_JSON = "application/problem+json"
Cause = type[DomainError] | RingProblem
# What any JSON body can run into, and what any endpoint behind the refresh cookie can.
BODY: tuple[Cause, ...] = (MALFORMED_JSON, TOO_LARGE, NOT_JSON, e.ValidationFailed)
COOKIE: tuple[Cause, ...] = (FOREIGN_ORIGIN, e.StorageUnavailable)

# The access token as an RFC 6750 bearer token: the docs UI gets an Authorize button.
BEARER = "bearer"
INTROSPECTION_CLIENT = "introspection_client"
SIGNAL_RECEIVER = "signal_receiver"
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    BEARER: SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="The access token from register, login or refresh.",
    ),
    INTROSPECTION_CLIENT: SecurityScheme(
        type="http",
        scheme="basic",
        description="A resource server's client id and secret (AUTH_INTROSPECTION_CLIENTS).",
    ),
    SIGNAL_RECEIVER: SecurityScheme(
        type="http",
        scheme="bearer",
        description="A Shared Signals receiver's token (AUTH_SSF_RECEIVERS).",
    ),
}
SIGNED_IN: list[SecurityRequirement] = [{BEARER: []}]
INTROSPECTING: list[SecurityRequirement] = [{INTROSPECTION_CLIENT: []}]
RECEIVING: list[SecurityRequirement] = [{SIGNAL_RECEIVER: []}]
# Logout takes the access token when it has one (to refuse it at once), and works without.
MAYBE_SIGNED_IN: list[SecurityRequirement] = [{BEARER: []}, {}]


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
            MfaProblem if e.MfaRequired.code in found else Problem,
            description="Problem: " + ", ".join(f"`{code}`" for code in found),
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status, found in sorted(codes.items())
    }


def _status(cause: Cause) -> int:
    return cause.status if isinstance(cause, RingProblem) else STATUS[cause]


@dataclass
class NoContent(Operation):
    """A 204 has no body: Litestar would declare a handler's ``None`` as JSON ``null``."""

    def __post_init__(self) -> None:
        for status, response in (self.responses or {}).items():
            if status == "204" and not isinstance(response, Reference):
                response.content = None


@dataclass
class OptionalBody(NoContent):
    """Litestar documents every ``data`` body as required; refresh, logout and revoke also
    take none."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


@dataclass
class JsonOrFormBody(Operation):
    """Login takes ``email`` or ``username`` (at least one, a string), also as an
    OAuth2-style form (RFC 6749 §4.3.2)."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            content = self.request_body.content
            fields = content["application/json"]
            if fields.schema is not None:
                fields.schema = Schema(
                    all_of=[fields.schema],
                    any_of=[_required_string("email"), _required_string("username")],
                )
            content[FORM] = fields


def _required_string(name: str) -> Schema:
    return Schema(required=[name], properties={name: Schema(type=OpenAPIType.STRING)})


@dataclass
class FormOrJsonBody(Operation):
    """Token introspection takes a form (RFC 7662 §2.1), or the same fields as JSON."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            content = self.request_body.content
            content = {FORM: content["application/json"], **content}
            self.request_body.content = content
