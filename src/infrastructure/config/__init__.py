"""Settings: read once from ``AUTH_*`` environment variables (and ``.env``), validated."""

from infrastructure.config.loader import SettingsError, load_settings
from infrastructure.config.schema import (
    GOOGLE_DISCOVERY_URL,
    GOOGLE_ISSUERS,
    TURNSTILE_VERIFY_URL,
    OidcSettings,
    Settings,
)

__all__ = [
    "GOOGLE_DISCOVERY_URL",
    "GOOGLE_ISSUERS",
    "TURNSTILE_VERIFY_URL",
    "OidcSettings",
    "Settings",
    "SettingsError",
    "load_settings",
]
