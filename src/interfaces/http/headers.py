"""One request header read straight from the ASGI scope, for the paths every request takes
(its id, the bearer token): a look along the scope's list costs less than the parsed
``Headers`` of them all that Litestar builds on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interfaces.http.errors import TWO_CREDENTIALS

if TYPE_CHECKING:
    from litestar.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of ``name`` (lower case: ASGI servers send names lowered)."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def authorization(scope: Scope) -> str | None:
    """The one ``Authorization`` line; a request with several is refused (400
    ``invalid_request``): the field is no list (RFC 9110 §11.6.2), and RFC 6750 §3.1 answers
    more than one way of sending a token so. Were the first read, a proxy or firewall reading
    the last would have judged another credential than the one that signs in."""
    found = None
    for key, value in scope["headers"]:
        if key == b"authorization":
            if found is not None:
                raise TWO_CREDENTIALS.error()
            found = value.decode("latin-1")
    return found


def header_list(scope: Scope, name: bytes) -> str | None:
    """Every line of a list header as one list (RFC 9110 §5.3: repeated lines are one
    comma-separated list, in order): for X-Forwarded-For, where a proxy may add its own
    line after the client's."""
    values = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    return ", ".join(values) if values else None
