"""Log lines, for the server and the CLI alike: one JSON object per line
(``AUTH_LOG_FORMAT=json``) or a readable line for a terminal (``console``). A record's
``fields`` (extra) become keys of the line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

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


# Control characters shown escaped: a value a client sent (a decoded %0A in a path) must
# not start a line of its own (OWASP Logging Cheat Sheet, log injection).
_ESCAPED = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {
    0x09: "\\t",
    0x0A: "\\n",
    0x0D: "\\r",
}


def _shown(value: object) -> str:
    return str(value).translate(_ESCAPED)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = _base(record)
        head = f"{line.pop('time')} {line.pop('level').upper():<7} {line.pop('logger')}"
        text = f"{head}  {_shown(line.pop('message'))}"
        rest = " ".join(f"{k}={_shown(v)}" for k, v in line.items())
        if rest:
            text = f"{text}  {rest}"
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


def formatter(log_format: Literal["json", "console"]) -> type[logging.Formatter]:
    return JsonFormatter if log_format == "json" else ConsoleFormatter
