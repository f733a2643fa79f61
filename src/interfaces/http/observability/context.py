"""What one request carries for its log line: its id, and the backend that refused it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class RequestContext:
    request_id: str
    refused_by: str | None = None
    cause: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("authgate_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


@contextmanager
def request_context(request_id: str) -> Iterator[RequestContext]:
    context = RequestContext(request_id=request_id)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def note_refusal(backend: str, cause: str) -> None:
    """A backend did not answer this request (it becomes a 503): the outage log counts it."""
    context = _current.get()
    if context is not None:
        context.refused_by, context.cause = backend, cause
