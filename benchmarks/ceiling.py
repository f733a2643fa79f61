"""The framework ceiling: the smallest Litestar + msgspec JSON endpoint, served like authgate."""

from __future__ import annotations

import msgspec
from litestar import Litestar, get


class Pong(msgspec.Struct):
    ok: bool


@get("/ping", sync_to_thread=False)
def ping() -> Pong:
    return Pong(ok=True)


def app() -> Litestar:
    return Litestar([ping], openapi_config=None)
