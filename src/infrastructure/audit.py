"""Audit events on the ``authgate.audit`` logger: the event's name as the message, its fields
as the record's ``fields`` (the log formatter writes them out, one JSON line per event)."""

from __future__ import annotations

import logging
from dataclasses import asdict

from domain.ports import AuditEvent, AuditLog


class JsonAuditLog(AuditLog):
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("authgate.audit")

    def record(self, event: AuditEvent) -> None:
        if not self._logger.isEnabledFor(logging.INFO):
            return  # dropped by the logger anyway: not built (every sign-in records two)
        fields = {k: v for k, v in asdict(event).items() if v is not None and k != "with_change"}
        self._logger.info(event.event, extra={"fields": fields})
