"""One log line per request, and its id: ``X-Request-ID`` taken when it looks like an id,
otherwise made here, echoed in the response and added to every line logged meanwhile.

It wraps Litestar's whole ASGI handler (where Litestar puts its OpenTelemetry middleware),
so requests that match no route (404, 405) and CORS preflights get their line too.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from infrastructure.config import Settings
from infrastructure.metrics import record_backend_error
from interfaces.http.client_ip import client_ip
from interfaces.http.headers import header, header_list
from interfaces.http.observability.context import RequestContext, entered, left
from interfaces.http.observability.outages import Outages

if TYPE_CHECKING:
    from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

log = logging.getLogger("authgate.request")
# A caller's id is logged as given, so only a bounded, plain one is taken (OWASP Logging
# Cheat Sheet: neutralise input that reaches the log, against log injection).
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
MAX_LOGGED_PATH = 512


def accepted_request_id(value: str | None) -> str | None:
    return value if value is not None and REQUEST_ID.fullmatch(value) else None


class RequestObserver:
    def __init__(self, inner: ASGIApp, settings: Settings, outages: Outages) -> None:
        self._inner = inner
        self._settings = settings
        self._outages = outages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._inner(scope, receive, send)
            return
        given = header(scope, b"x-request-id")
        request_id = accepted_request_id(given) or secrets.token_hex(16)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                echoed = (b"x-request-id", request_id.encode())
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        context, token = entered(request_id)
        try:
            await self._inner(scope, receive, send_with_id)
        finally:
            self._refusal(context)
            self._log(scope, status, time.perf_counter() - started)
            left(token)

    def _refusal(self, context: RequestContext) -> None:
        if context.refused_by is None:
            return
        self._outages.refused(context.refused_by, context.cause or "")
        if self._settings.metrics:
            record_backend_error(context.refused_by)

    def _log(self, scope: HTTPScope, status: int, seconds: float) -> None:
        level = logging.ERROR if status == 500 else logging.INFO
        if not log.isEnabledFor(level):
            return
        peer = scope.get("client")
        forwarded = header_list(scope, b"x-forwarded-for")
        ip = client_ip(peer[0] if peer else None, forwarded, self._settings)
        method, path = scope["method"], scope["path"][:MAX_LOGGED_PATH]
        fields = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client_ip": ip,
        }
        log.log(level, "%s %s %s", method, path, status, extra={"fields": fields})
