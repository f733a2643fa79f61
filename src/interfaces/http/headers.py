"""One request header read straight from the ASGI scope, for the paths every request takes
(its id, the bearer token): a look along the scope's list costs less than the parsed
``Headers`` of them all that Litestar builds on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of ``name`` (lower case: ASGI servers send names lowered)."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
