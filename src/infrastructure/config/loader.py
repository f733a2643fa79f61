"""``load_settings``: the ``AUTH_*`` environment (over ``.env``) checked against the schema,
every problem reported at once."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from dotenv import dotenv_values

from infrastructure.config import providers
from infrastructure.config.fields import parse
from infrastructure.config.schema import Settings, variable

PREFIX = "AUTH_"
# AUTH_TEST_* belongs to the test suite (AUTH_TEST_REQUIRE_BACKENDS, AUTH_TEST_POSTGRES_URL,
# ...): CI exports it and servers started by the tests inherit it, so it is never a setting
# and never a typo.
RESERVED_FOR_TESTS = "AUTH_TEST_"
_HINTS = get_type_hints(Settings, include_extras=True)
_FIELDS = {variable(f.name): f.name for f in fields(Settings) if f.metadata.get("variable", True)}


class SettingsError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """The environment wins over ``.env``; every problem is reported at once."""
    # No ${VAR} interpolation: a value means what it says, and reads nothing else.
    from_file = dotenv_values(dotenv, interpolate=False) if dotenv and dotenv.is_file() else {}
    merged = {**from_file, **(os.environ if environ is None else environ)}
    names = [k for k in merged if k.startswith(PREFIX) and not k.startswith(RESERVED_FOR_TESTS)]
    env = {k: v.strip() for k in names if (v := merged[k]) is not None and v.strip()}
    problems = _unknown(names, env)
    values: dict[str, Any] = {}
    for name, field_name in _FIELDS.items():
        if name in env:
            value, wrong = parse(name, env[name], _HINTS[field_name])
            problems.extend(wrong)
            if not wrong:
                values[field_name] = value
    settings = Settings(**values, oidc_providers=providers.providers(env, problems))
    problems.extend(_cross_field_problems(settings))
    problems.extend(_grants_url_problems(settings.grants_url))
    if problems:
        raise SettingsError(problems)
    return settings


def default_variable(name: str, value: str, dotenv: Path | None = Path(".env")) -> None:
    """Give ``name`` a default for this process and the server workers it starts (they read
    the same environment), unless the environment or ``.env`` already gives it a value."""
    from_file = dotenv_values(dotenv, interpolate=False) if dotenv and dotenv.is_file() else {}
    if (os.environ.get(name) or "").strip() or (from_file.get(name) or "").strip():
        return
    os.environ[name] = value


def _unknown(names: list[str], env: Mapping[str, str]) -> list[str]:
    known = sorted(_FIELDS.keys() | providers.variables(env))
    problems = []
    for name in sorted(set(names) - set(known)):
        guess = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {guess[0]}?" if guess else ""
        problems.append(f"{name} is not a setting{hint}")
    return problems


def _grants_url_problems(url: str) -> list[str]:
    """A cluster's or the sentinels' node list, beyond what the pattern checks: ports, IPv6
    addresses (the Valkey client is imported only when a cluster or Sentinel is asked for)."""
    if "+cluster://" not in url and "+sentinel://" not in url:
        return []
    from infrastructure.grants.valkey.urls import (
        cluster_nodes,
        parse_sentinel_url,
        parse_valkey_url,
    )

    try:
        if "+cluster://" in url:
            cluster_nodes(url)
        else:
            parse_sentinel_url(parse_valkey_url(url)[0])
    except ValueError as e:
        return [f"AUTH_GRANTS_URL: {e}"]
    return []


def _cross_field_problems(s: Settings) -> list[str]:
    problems = []
    if s.cookie_samesite == "none" and not s.cookie_secure:
        problems.append("AUTH_COOKIE_SAMESITE=none requires AUTH_COOKIE_SECURE=true")
    if s.refresh_ttl > s.session_max_age:
        problems.append("AUTH_REFRESH_TTL must not exceed AUTH_SESSION_MAX_AGE")
    if s.grants_url == "memory://" and s.workers > 1:
        # Each worker would hold its own grants and denylist: a logout in one leaves the
        # session's access tokens good in the others until they expire.
        problems.append("AUTH_GRANTS_URL=memory:// is for one process: not with AUTH_WORKERS>1")
    # Cookie name prefixes (RFC 6265bis §4.1.3; browsers match them in any case): __Secure-
    # needs Secure; __Host- needs Secure, Path=/ and no Domain (authgate never sets one).
    name = s.cookie_name.lower()
    if name.startswith(("__secure-", "__host-")) and not s.cookie_secure:
        problems.append(f"AUTH_COOKIE_NAME={s.cookie_name} requires AUTH_COOKIE_SECURE=true")
    if name.startswith("__host-") and s.cookie_path != "/":
        problems.append(f"AUTH_COOKIE_NAME={s.cookie_name} requires AUTH_COOKIE_PATH=/")
    if s.database_read_url is not None and not (
        s.database_url.startswith("postgres") and s.database_read_url.startswith("postgres")
    ):
        problems.append("AUTH_DATABASE_READ_URL is for PostgreSQL: a replica of AUTH_DATABASE_URL")
    ids = [client.split(":", 1)[0] for client in s.introspection_clients]
    if repeated := sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"AUTH_INTROSPECTION_CLIENTS names {', '.join(repeated)} more than once")
    # WebAuthn §5.1.3: the RP ID must be the origin's host or a registrable suffix of it.
    for origin in s.rp_origins:
        host = (urlsplit(origin).hostname or "").lower()
        rp_id = s.rp_id.lower()
        if host != rp_id and not host.endswith("." + rp_id):
            problems.append(f"AUTH_RP_ORIGINS: {origin} is not on AUTH_RP_ID {s.rp_id}")
    return problems
