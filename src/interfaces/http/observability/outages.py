"""Backend outages in the log: one line when a backend starts refusing requests, a summary
every ``AUTH_OUTAGE_LOG_INTERVAL`` seconds while it lasts (how many requests it refused),
and one line when it answers again; never a line per refused request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from domain import errors as e
from interfaces.http.observability.probe import answers

log = logging.getLogger("authgate.outage")
CHECK_TIMEOUT = 3.0


def backend_of(exc: e.DomainError) -> str:
    """Which backend a 503 is about: "database", "grants", "captcha" or "identity_provider"."""
    if isinstance(exc, e.StorageUnavailable):
        return exc.backend
    if isinstance(exc, e.CaptchaUnavailable):
        return "captcha"
    return "identity_provider"


@dataclass(slots=True)
class _Outage:
    started: float
    refused: int = 0
    refused_since_summary: int = 0


class Outages:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._open: dict[str, _Outage] = {}

    def refused(self, backend: str, cause: str) -> None:
        outage = self._open.get(backend)
        if outage is None:
            outage = self._open[backend] = _Outage(started=self._now())
            log.warning(
                "backend outage started", extra={"fields": {"backend": backend, "cause": cause}}
            )
        outage.refused += 1
        outage.refused_since_summary += 1

    def open_backends(self) -> list[str]:
        return list(self._open)

    def quiet(self, backend: str) -> bool:
        """No request was refused since the last summary."""
        return self._open[backend].refused_since_summary == 0

    def summarise(self, backend: str) -> None:
        outage = self._open[backend]
        log.warning("backend outage continues", extra={"fields": self._fields(backend, outage)})
        outage.refused_since_summary = 0

    def end(self, backend: str) -> None:
        outage = self._open.pop(backend)
        log.warning("backend outage ended", extra={"fields": self._fields(backend, outage)})

    def _fields(self, backend: str, outage: _Outage) -> dict[str, object]:
        return {
            "backend": backend,
            "refused": outage.refused_since_summary,
            "refused_total": outage.refused,
            "seconds": round(self._now() - outage.started, 1),
        }


async def watch(
    outages: Outages, checks: Mapping[str, Callable[[], Awaitable[None]]], interval: float
) -> None:
    """Every interval: a backend with a health check ends its outage when the check passes;
    one without (captcha, identity providers) when it refused nothing since the last look."""
    while True:
        await asyncio.sleep(interval)
        for backend in outages.open_backends():
            check = checks.get(backend)
            try:
                back = await answers(check, CHECK_TIMEOUT) if check else outages.quiet(backend)
            except Exception:  # a check that breaks is a backend still not answering
                back = False
            if back:
                outages.end(backend)
            else:
                outages.summarise(backend)


@asynccontextmanager
async def watching(
    outages: Outages, checks: Mapping[str, Callable[[], Awaitable[None]]], interval: float
) -> AsyncIterator[None]:
    task = asyncio.create_task(watch(outages, checks, interval))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
