"""The request class. Litestar decodes every ``data`` body through ``Request.json()``; ours
first checks the content type, turns what msgspec cannot decode into 400 problems, and reads
a form instead where the route allows one (``opt={ALLOWS_FORM: True}``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from litestar import Request
from litestar.exceptions import SerializationException

from interfaces.http.errors import MALFORMED_FORM, MALFORMED_JSON, NOT_JSON

FORM = "application/x-www-form-urlencoded"
ALLOWS_FORM = "allows_form"


class BodyRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        kind = self.content_type[0].lower()
        if kind == FORM and self.route_handler.opt.get(ALLOWS_FORM):
            return form_fields(await self.body())
        if not _is_json(kind):
            raise NOT_JSON.error()
        try:
            # RFC 8259 §8.1: JSON text is UTF-8; msgspec refuses anything else.
            return await super().json()
        except (SerializationException, UnicodeDecodeError) as e:
            raise MALFORMED_JSON.error() from e
        except RecursionError as e:
            # CWE-674: msgspec builds untyped JSON recursively, bounded only by the
            # interpreter's recursion limit, which a 64 KiB body of brackets exceeds.
            raise MALFORMED_JSON.error("The body is nested too deeply.") from e


def form_fields(body: bytes) -> dict[str, str]:
    """``a=1&b=2`` as a mapping; bad UTF-8 or a repeated field is a malformed body."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as e:
        raise MALFORMED_FORM.error("The form body is not valid UTF-8.") from e
    if any(len(values) > 1 for values in fields.values()):
        raise MALFORMED_FORM.error("A form field was sent more than once.")
    return {name: values[0] for name, values in fields.items()}


def _is_json(kind: str) -> bool:
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )
