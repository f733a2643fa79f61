"""Files the service serves as they are (the browser client, the demo's script and style):
read once, answered with a strong ETag so a browser revalidates with a 304 instead of
downloading them again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from litestar import Response
from litestar.params import HeaderParameter

STATIC = Path(__file__).parent / "static"
JAVASCRIPT = "text/javascript"  # Litestar adds "; charset=utf-8" to text types
CSS = "text/css"
HTML = "text/html"

IfNoneMatch = Annotated[str | None, HeaderParameter(name="if-none-match")]


@dataclass(frozen=True, slots=True)
class Asset:
    content: bytes
    media_type: str
    etag: str

    @classmethod
    def read(cls, path: Path, media_type: str) -> Asset:
        content = path.read_bytes()
        return cls(content, media_type, f'"{hashlib.sha256(content).hexdigest()[:32]}"')

    def response(self, if_none_match: str | None, cache_control: str) -> Response[bytes]:
        headers = {
            "ETag": self.etag,
            "Cache-Control": cache_control,
            "X-Content-Type-Options": "nosniff",
        }
        if if_none_match is not None and _matches(if_none_match, self.etag):
            return Response(b"", status_code=304, headers=headers, media_type=self.media_type)
        return Response(self.content, headers=headers, media_type=self.media_type)


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*``, or a list of entity tags compared weakly."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
