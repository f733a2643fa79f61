"""Where the browser may be sent after signing in (RFC 9700 §4.11; OWASP Unvalidated
Redirects and Forwards Cheat Sheet)."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import unquote, urlsplit

from domain.errors import InvalidReturnTo

MAX_RETURN_TO = 512
DEFAULT_RETURN_TO = "/"


def allowed_return_to(return_to: str, allowlist: Collection[str]) -> str:
    """``return_to`` when it is a local path the allowlist permits; else ``InvalidReturnTo``.

    A local path: one leading "/" (never "//" or "/\\", which browsers read as another
    host), no scheme or host, visible ASCII only (no control characters, nothing to smuggle
    into the Location header), no "." or ".." segment to climb out of an allowed prefix.
    Allowed: "/", an allowlist entry itself, or anything under an entry ending in "/".
    """
    if (
        len(return_to) > MAX_RETURN_TO
        or not return_to.startswith("/")
        or return_to.startswith("//")
        or "\\" in return_to
        or not all("!" <= c <= "~" for c in return_to)
    ):
        raise InvalidReturnTo()
    parts = urlsplit(return_to)
    segments = unquote(parts.path).split("/")
    if parts.scheme or parts.netloc or "." in segments or ".." in segments:
        raise InvalidReturnTo()
    if not _listed(parts.path, allowlist):
        raise InvalidReturnTo()
    return return_to


def _listed(path: str, allowlist: Collection[str]) -> bool:
    return (
        path == DEFAULT_RETURN_TO
        or path in allowlist
        or any(entry.endswith("/") and path.startswith(entry) for entry in allowlist)
    )
