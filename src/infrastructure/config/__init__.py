"""Settings: read once from ``AUTH_*`` environment variables (and ``.env``), validated."""

from infrastructure.config.loader import SettingsError, default_variable, load_settings
from infrastructure.config.schema import (
    DEMO_PATH,
    GOOGLE_DISCOVERY_URL,
    GOOGLE_ISSUERS,
    TURNSTILE_VERIFY_URL,
    OidcSettings,
    Settings,
)

__all__ = [
    "DEMO_PATH",
    "GOOGLE_DISCOVERY_URL",
    "GOOGLE_ISSUERS",
    "TURNSTILE_VERIFY_URL",
    "OidcSettings",
    "Settings",
    "SettingsError",
    "default_variable",
    "load_settings",
]
