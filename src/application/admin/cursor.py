"""Opaque page cursors: the last id of a page, wrapped so clients do not build their own."""

from __future__ import annotations

import base64
import binascii
import re

from domain.errors import FieldError, ValidationFailed

_PAYLOAD = re.compile(r"after:([1-9][0-9]{0,17})")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).rstrip(b"=").decode()


def decode(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        if not _TOKEN.fullmatch(cursor):
            raise ValueError(cursor)
        payload = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        found = _PAYLOAD.fullmatch(payload)
        if found is None:
            raise ValueError(payload)
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise ValidationFailed(
            [FieldError("cursor", "is not a cursor this service handed out")]
        ) from e
    return int(found.group(1))
