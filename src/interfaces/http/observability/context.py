"""What one request carries for its log line: its id, and the backend that refused it."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(slots=True)
class RequestContext:
    request_id: str
    refused_by: str | None = None
    cause: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("authgate_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def entered(request_id: str) -> tuple[RequestContext, Token[RequestContext | None]]:
    """The request's context, current until ``left`` is given the token."""
    context = RequestContext(request_id=request_id)
    return context, _current.set(context)


def left(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


def note_refusal(backend: str, cause: str) -> None:
    """A backend did not answer this request (it becomes a 503): the outage log counts it."""
    context = _current.get()
    if context is not None:
        context.refused_by, context.cause = backend, cause
