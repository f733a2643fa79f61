"""What ``create_app`` adds for operators, from the settings: the logging config, the
metrics route and middleware (``AUTH_METRICS``), the outage watch, the request observer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.logging.config import LoggingConfig
from litestar.middleware.base import DefineMiddleware

from infrastructure.config import Settings
from interfaces.http.observability.logs import logging_config
from interfaces.http.observability.metrics import http_metrics, metrics
from interfaces.http.observability.outages import Outages, watching
from interfaces.http.observability.requests import RequestObserver


@dataclass(slots=True)
class Observability:
    settings: Settings
    outages: Outages = field(default_factory=Outages)

    @property
    def logging(self) -> LoggingConfig:
        return logging_config(self.settings)

    @property
    def route_handlers(self) -> list[Any]:
        return [metrics] if self.settings.metrics else []

    @property
    def middleware(self) -> list[DefineMiddleware]:
        return [http_metrics()] if self.settings.metrics else []

    @asynccontextmanager
    async def watch_outages(self, app: Litestar) -> AsyncIterator[None]:
        """Entered after the service's lifespan: the health checks are known by then."""
        checks = app.state.service.checks
        async with watching(self.outages, checks, self.settings.outage_log_interval):
            yield

    def install(self, app: Litestar) -> Litestar:
        app.asgi_handler = RequestObserver(app.asgi_handler, self.settings, self.outages)
        return app
