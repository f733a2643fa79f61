"""Request bodies in the OpenAPI document.

Bodies are decoded by hand (``decoding.py``) so content types and errors stay ours; this
puts their msgspec-derived JSON schema back into the generated operation.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import Operation


def _schema(kind: type[msgspec.Struct]) -> dict[str, Any]:
    schema = msgspec.json.schema(kind)
    definitions: dict[str, Any] = schema.pop("$defs", {})
    name = str(schema["$ref"]).rsplit("/", 1)[-1]
    body: dict[str, Any] = definitions[name]
    return body


def body_of(
    kind: type[msgspec.Struct], *, required: bool = True, form: bool = False
) -> type[Operation]:
    content = {"application/json": {"schema": _schema(kind)}}
    if form:
        content["application/x-www-form-urlencoded"] = {"schema": _schema(kind)}

    class WithRequestBody(Operation):
        def to_schema(self) -> dict[str, Any]:
            schema = super().to_schema()
            schema["requestBody"] = {"required": required, "content": content}
            return schema

    return WithRequestBody
