"""The resource server's credentials from HTTP Basic (RFC 7617)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from domain.errors import InvalidClient


def basic_credentials(authorization: str | None) -> tuple[str, str]:
    """Client id and secret from ``Authorization: Basic …`` (RFC 7617), each form-decoded as
    RFC 6749 §2.3.1 has clients encode them; anything else is ``InvalidClient``."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as e:
        raise InvalidClient() from e
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient()
    return unquote_plus(client_id), unquote_plus(secret)
