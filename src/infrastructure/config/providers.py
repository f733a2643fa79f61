"""OpenID Connect providers: Google from ``AUTH_GOOGLE_*``, any other from
``AUTH_OIDC_<NAME>_*``; each provider's variables are checked against ``OidcSettings``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_type_hints

from infrastructure.config.fields import parse
from infrastructure.config.schema import GOOGLE_DISCOVERY_URL, GOOGLE_ISSUERS, OidcSettings

GOOGLE = "google"
VARIABLES = ("CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI", "DISCOVERY_URL", "TRUST_AMR")
_OTHER = re.compile(rf"AUTH_OIDC_([A-Z0-9_]+?)_({'|'.join(VARIABLES)})")
_HINTS = get_type_hints(OidcSettings, include_extras=True)


def prefixes(env: Mapping[str, str]) -> dict[str, str]:
    """Provider name -> variable prefix, for every provider any variable mentions."""
    found = {GOOGLE: "AUTH_GOOGLE_"}
    for key in env:
        match = _OTHER.fullmatch(key)
        # AUTH_OIDC_GOOGLE_* is not Google: Google is configured by AUTH_GOOGLE_* only.
        if match and match[1].lower() != GOOGLE:
            found[match[1].lower()] = f"AUTH_OIDC_{match[1]}_"
    return found


def variables(env: Mapping[str, str]) -> set[str]:
    """Every provider variable that may be set, given the providers ``env`` mentions."""
    return {prefix + v for prefix in prefixes(env).values() for v in VARIABLES}


def providers(env: Mapping[str, str], problems: list[str]) -> tuple[OidcSettings, ...]:
    """The providers whose CLIENT_ID is set, each complete; what is missing goes to problems."""
    found = []
    for name, prefix in sorted(prefixes(env).items()):
        if not env.get(prefix + "CLIENT_ID"):
            continue
        defaults: dict[str, Any] = {"trust_amr": False}
        if name == GOOGLE:
            defaults["discovery_url"] = GOOGLE_DISCOVERY_URL
        missing = [
            prefix + v for v in VARIABLES if not env.get(prefix + v) and v.lower() not in defaults
        ]
        if missing:
            problems.append(f"{prefix}CLIENT_ID is set but {', '.join(missing)} is not")
            continue
        values: dict[str, Any] = {**defaults}
        for v in VARIABLES:
            if env.get(prefix + v):
                value, wrong = parse(prefix + v, env[prefix + v], _HINTS[v.lower()])
                values[v.lower()] = value
                problems.extend(wrong)
        found.append(OidcSettings(name=name, **values, issuers=_issuers(values)))
    return tuple(found)


def _issuers(values: Mapping[str, Any]) -> tuple[str, ...] | None:
    # Google's documented issuers hold for Google's own discovery document only; a provider
    # at another address (a proxy, a test double) is held to the issuer its document names.
    return GOOGLE_ISSUERS if values["discovery_url"] == GOOGLE_DISCOVERY_URL else None
