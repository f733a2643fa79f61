"""Logging through Litestar's ``LoggingConfig``: every record on stdout, one JSON object per
line (``AUTH_LOG_FORMAT=json``) or a readable line for a terminal (``console``), at
``AUTH_LOG_LEVEL``. A record's ``fields`` (extra) become keys of the line; the id of the
request being served is added to every record logged while serving it.

Lines never carry a token, cookie, password or query string: the request line takes the
path only, and audit events hold no secret (OWASP Logging Cheat Sheet, "Data to exclude").
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from litestar.logging.config import LoggingConfig

from infrastructure.config import Settings
from interfaces.http.observability.context import current

_BASE_KEYS = ("time", "level", "logger", "message", "request_id")


def _base(record: logging.LogRecord) -> dict[str, Any]:
    line: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "message": record.getMessage(),
    }
    request_id = getattr(record, "request_id", None)
    if request_id is not None:
        line["request_id"] = request_id
    fields = getattr(record, "fields", None)
    if isinstance(fields, dict):
        line.update({k: v for k, v in fields.items() if k not in _BASE_KEYS})
    return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = _base(record)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"), ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = _base(record)
        head = f"{line.pop('time')} {line.pop('level').upper():<7} {line.pop('logger')}"
        text = f"{head}  {line.pop('message')}"
        rest = " ".join(f"{k}={v}" for k, v in line.items())
        if rest:
            text = f"{text}  {rest}"
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = current()
        if context is not None and not hasattr(record, "request_id"):
            record.request_id = context.request_id
        return True


def logging_config(settings: Settings) -> LoggingConfig:
    formatter = JsonFormatter if settings.log_format == "json" else ConsoleFormatter

    def handler() -> dict[str, Any]:  # dictConfig consumes its dicts: one each
        return {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "standard",
            "filters": ["request_id"],
        }

    return LoggingConfig(
        logging_module="logging",
        formatters={"standard": {"()": formatter}},
        filters={"request_id": {"()": RequestIdFilter}},
        # Litestar insists on a "queue_listener" handler; ours writes straight to stdout.
        handlers={"console": handler(), "queue_listener": handler()},
        loggers={
            "litestar": {"level": settings.log_level, "handlers": ["console"], "propagate": False}
        },
        root={"level": settings.log_level, "handlers": ["console"]},
    )
