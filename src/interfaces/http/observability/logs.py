"""Logging through Litestar's ``LoggingConfig``: every record on stdout, in the line format
of ``interfaces.log_lines``, at ``AUTH_LOG_LEVEL``; the id of the request being served is
added to every record logged while serving it.

Lines never carry a token, cookie, password or query string: the request line takes the
path only, and audit events hold no secret (OWASP Logging Cheat Sheet, "Data to exclude").
"""

from __future__ import annotations

import logging
from typing import Any

from litestar.logging.config import LoggingConfig

from infrastructure.config import Settings
from interfaces.http.observability.context import current
from interfaces.log_lines import formatter


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = current()
        if context is not None and not hasattr(record, "request_id"):
            record.request_id = context.request_id
        return True


def logging_config(settings: Settings) -> LoggingConfig:
    def handler() -> dict[str, Any]:  # dictConfig consumes its dicts: one each
        return {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "standard",
            "filters": ["request_id"],
        }

    return LoggingConfig(
        logging_module="logging",
        formatters={"standard": {"()": formatter(settings.log_format)}},
        filters={"request_id": {"()": RequestIdFilter}},
        # Litestar insists on a "queue_listener" handler; ours writes straight to stdout.
        handlers={"console": handler(), "queue_listener": handler()},
        loggers={
            "litestar": {"level": settings.log_level, "handlers": ["console"], "propagate": False}
        },
        root={"level": settings.log_level, "handlers": ["console"]},
    )
