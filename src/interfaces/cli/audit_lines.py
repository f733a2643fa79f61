"""The CLI's audit trail: an operator's action writes the same ``authgate.audit`` line as an
admin's request does (OWASP ASVS 5.0 V16.2.1: who did what, whichever way in), on
stderr so that stdout stays the command's answer."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from infrastructure.config import Settings
from interfaces.log_lines import formatter

AUDIT_LOGGER = "authgate.audit"


@contextmanager
def audit_lines(settings: Settings) -> Iterator[None]:
    """Audit events on stderr while the command runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format)())
    logger = logging.getLogger(AUDIT_LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
