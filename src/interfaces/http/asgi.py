"""Entry point for ASGI servers: ``granian --factory interfaces.http.asgi:app_from_environment``."""

from __future__ import annotations

from litestar import Litestar

from infrastructure.config import load_settings
from interfaces.http.app import create_app


def app_from_environment() -> Litestar:
    return create_app(load_settings(), process_wide=True)  # logging: create_app's
