"""Audit events as one JSON object per log line on the ``authgate.audit`` logger."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime

from domain.ports import AuditEvent, AuditLog


class JsonAuditLog(AuditLog):
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("authgate.audit")

    def record(self, event: AuditEvent) -> None:
        fields = {k: v for k, v in asdict(event).items() if v is not None}
        line = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields}
        self._logger.info(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
