"""Entry point for ASGI servers: ``granian --factory interfaces.http.asgi:app_from_environment``."""

from __future__ import annotations

import logging

from litestar import Litestar

from infrastructure.config import load_settings
from interfaces.http.app import create_app


def app_from_environment() -> Litestar:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(message)s")
    return create_app(settings)
