"""Request bodies: content type checked, decoded strictly by msgspec, errors per field."""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import parse_qs

import msgspec
from litestar import Request

from interfaces.http.bodies import FieldErrorBody
from interfaces.http.errors import ProblemError

T = TypeVar("T")
_FIELD = re.compile(r"`\$\.([A-Za-z_]+)`|required field `([A-Za-z_]+)`")
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def media_type(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json(request: Request[Any, Any, Any], kind: type[T], *, optional: bool = False) -> T:
    """Decode a JSON body into ``kind``; an empty optional body decodes as ``{}``."""
    body = await request.body()
    if optional and not body.strip():
        return msgspec.convert({}, kind)
    if not _is_json(media_type(request)):
        raise ProblemError(415, "unsupported_media_type", "Send the body as application/json.")
    try:
        # RFC 8259 §8.1: JSON text is UTF-8; msgspec skips unknown fields unchecked.
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProblemError(400, "malformed_json", "The body is not valid UTF-8 JSON.") from e
    try:
        return msgspec.json.decode(text, type=kind)
    except msgspec.ValidationError as e:
        raise _invalid(str(e)) from e
    except msgspec.DecodeError as e:
        raise ProblemError(400, "malformed_json", "The body is not valid JSON.") from e


async def read_form(request: Request[Any, Any, Any], kind: type[T]) -> T:
    body = await request.body()
    try:
        fields = parse_qs(
            body.decode("utf-8", "strict"), keep_blank_values=True, strict_parsing=False
        )
    except UnicodeDecodeError as e:
        raise ProblemError(400, "malformed_body", "The form body is not valid UTF-8.") from e
    if any(len(values) > 1 for values in fields.values()):
        raise ProblemError(400, "malformed_body", "A form field was sent more than once.")
    try:
        return msgspec.convert({k: v[0] for k, v in fields.items()}, kind)
    except msgspec.ValidationError as e:
        raise _invalid(str(e)) from e


def _is_json(kind: str) -> bool:
    return kind == JSON or (kind.startswith("application/") and kind.endswith("+json"))


def _invalid(message: str) -> ProblemError:
    match = _FIELD.search(message)
    field = (match.group(1) or match.group(2)) if match else "body"
    reason = message.split(" - at ")[0]
    return ProblemError(
        422,
        "validation_failed",
        "The request body is not valid.",
        errors=[FieldErrorBody(field=field, message=reason)],
    )
