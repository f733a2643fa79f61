"""Settings: read once from ``AUTH_*`` environment variables (and ``.env``), validated."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

TURNSTILE_VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcSettings:
    name: str
    client_id: str
    client_secret: str
    redirect_uri: str
    discovery_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str = "sqlite:///./data/authgate.db"
    grants_url: str = "database"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    issuer: str = "http://127.0.0.1:8000"
    audience: str = "authgate"
    keys_file: Path = Path("./data/jwks.json")
    access_ttl: int = 900
    refresh_ttl: int = 604800
    session_max_age: int = 2592000
    refresh_grace: int = 10
    cookie_name: str = "refresh_id"
    cookie_path: str = "/auth"
    cookie_secure: bool = True
    cookie_samesite: str = "lax"
    allowed_origins: tuple[str, ...] = ()
    turnstile_secret: str | None = None
    turnstile_verify_url: str = TURNSTILE_VERIFY_URL
    turnstile_hostname: str | None = None
    turnstile_action: str | None = None
    oidc_providers: tuple[OidcSettings, ...] = ()
    app_url: str | None = None
    return_to_allowlist: tuple[str, ...] = ()
    trusted_proxies: tuple[IpNetwork, ...] = field(default=())
    login_limit: int = 10
    register_limit: int = 10
    refresh_limit: int = 60
    log_level: str = "INFO"

    @property
    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None

    def oidc(self, name: str) -> OidcSettings | None:
        return next((p for p in self.oidc_providers if p.name == name), None)


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped; optional quotes stripped."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """The environment wins over ``.env``; every problem is reported at once."""
    env = {
        **(read_dotenv(dotenv) if dotenv else {}),
        **(os.environ if environ is None else environ),
    }
    return _Parser(env).settings()


class _Parser:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def settings(self) -> Settings:
        d = Settings()
        s = Settings(
            database_url=self.url(
                "AUTH_DATABASE_URL", d.database_url, ("sqlite", "postgresql", "postgres")
            ),
            grants_url=self.grants_url(d.grants_url),
            host=self.text("AUTH_HOST", d.host),
            port=self.integer("AUTH_PORT", d.port, 1, 65535),
            workers=self.integer("AUTH_WORKERS", d.workers, 1, 256),
            issuer=self.url("AUTH_ISSUER", d.issuer, ("http", "https")),
            audience=self.text("AUTH_AUDIENCE", d.audience),
            keys_file=Path(self.text("AUTH_KEYS_FILE", str(d.keys_file))),
            access_ttl=self.integer("AUTH_ACCESS_TTL", d.access_ttl, 60, 86400),
            refresh_ttl=self.integer("AUTH_REFRESH_TTL", d.refresh_ttl, 300, 31536000),
            session_max_age=self.integer("AUTH_SESSION_MAX_AGE", d.session_max_age, 300, 31536000),
            refresh_grace=self.integer("AUTH_REFRESH_GRACE", d.refresh_grace, 0, 300),
            cookie_name=self.text("AUTH_COOKIE_NAME", d.cookie_name),
            cookie_path=self.text("AUTH_COOKIE_PATH", d.cookie_path),
            cookie_secure=self.boolean("AUTH_COOKIE_SECURE", d.cookie_secure),
            cookie_samesite=self.choice(
                "AUTH_COOKIE_SAMESITE", d.cookie_samesite, ("lax", "strict", "none")
            ),
            allowed_origins=self.origins("AUTH_ALLOWED_ORIGINS"),
            turnstile_secret=self.optional("AUTH_TURNSTILE_SECRET"),
            turnstile_verify_url=self.url(
                "AUTH_TURNSTILE_VERIFY_URL", d.turnstile_verify_url, ("http", "https")
            ),
            turnstile_hostname=self.optional("AUTH_TURNSTILE_HOSTNAME"),
            turnstile_action=self.optional("AUTH_TURNSTILE_ACTION"),
            oidc_providers=self.oidc_providers(),
            app_url=self.optional_url("AUTH_APP_URL"),
            return_to_allowlist=self.listing("AUTH_RETURN_TO_ALLOWLIST"),
            trusted_proxies=self.networks("AUTH_TRUSTED_PROXIES"),
            login_limit=self.integer("AUTH_LOGIN_LIMIT", d.login_limit, 1, 100000),
            register_limit=self.integer("AUTH_REGISTER_LIMIT", d.register_limit, 1, 100000),
            refresh_limit=self.integer("AUTH_REFRESH_LIMIT", d.refresh_limit, 1, 100000),
            log_level=self.choice(
                "AUTH_LOG_LEVEL", d.log_level, ("DEBUG", "INFO", "WARNING", "ERROR")
            ),
        )
        if s.cookie_samesite == "none" and not s.cookie_secure:
            self.problems.append("AUTH_COOKIE_SAMESITE=none requires AUTH_COOKIE_SECURE=true")
        if s.refresh_ttl > s.session_max_age:
            self.problems.append("AUTH_REFRESH_TTL must not exceed AUTH_SESSION_MAX_AGE")
        if self.problems:
            raise SettingsError(self.problems)
        return s

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        return value.strip() if value is not None and value.strip() else None

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def optional(self, name: str) -> str | None:
        return self.raw(name)

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be a whole number, got {raw!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name} must be between {low} and {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{name} must be true or false, got {raw!r}")
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self.raw(name)
        if raw is None:
            return default
        value = raw.upper() if default.isupper() else raw.lower()
        if value not in choices:
            self.problems.append(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
            return default
        return value

    def url(self, name: str, default: str, schemes: tuple[str, ...]) -> str:
        value = self.raw(name) or default
        parts = urlsplit(value)
        if parts.scheme not in schemes or (parts.scheme != "sqlite" and not parts.netloc):
            self.problems.append(f"{name} must be a {'/'.join(schemes)} URL, got {value!r}")
        elif parts.scheme == "sqlite" and not value.startswith("sqlite:///"):
            self.problems.append(f"{name} must look like sqlite:///path/to/file.db, got {value!r}")
        return value

    def optional_url(self, name: str) -> str | None:
        raw = self.raw(name)
        return None if raw is None else self.url(name, raw, ("http", "https")).rstrip("/")

    def grants_url(self, default: str) -> str:
        value = self.raw("AUTH_GRANTS_URL") or default
        if value in ("database", "memory://"):
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("valkey", "valkeys", "redis", "rediss") or not parts.netloc:
            self.problems.append(
                "AUTH_GRANTS_URL must be 'database', 'memory://' or valkey://host:port/db,"
                f" got {value!r}"
            )
        return value

    def listing(self, name: str) -> tuple[str, ...]:
        raw = self.raw(name)
        return tuple(item.strip() for item in raw.split(",") if item.strip()) if raw else ()

    def origins(self, name: str) -> tuple[str, ...]:
        origins = self.listing(name)
        for origin in origins:
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path not in ("", "/")
            ):
                self.problems.append(
                    f"{name}: {origin!r} is not an origin like https://app.example"
                )
        return tuple(origin.rstrip("/") for origin in origins)

    def networks(self, name: str) -> tuple[IpNetwork, ...]:
        networks: list[IpNetwork] = []
        for item in self.listing(name):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.problems.append(f"{name}: {item!r} is not an IP address or network")
        return tuple(networks)

    def oidc_providers(self) -> tuple[OidcSettings, ...]:
        names = {"google"} | {
            key.removeprefix("AUTH_OIDC_").removesuffix("_CLIENT_ID").lower()
            for key in self.env
            if key.startswith("AUTH_OIDC_") and key.endswith("_CLIENT_ID")
        }
        providers = []
        for name in sorted(names):
            prefix = "AUTH_GOOGLE_" if name == "google" else f"AUTH_OIDC_{name.upper()}_"
            client_id = self.raw(prefix + "CLIENT_ID")
            if client_id is None:
                continue
            missing = [k for k in ("CLIENT_SECRET", "REDIRECT_URI") if not self.raw(prefix + k)]
            if name != "google" and not self.raw(prefix + "DISCOVERY_URL"):
                missing.append("DISCOVERY_URL")
            if missing:
                self.problems.append(
                    f"{prefix}CLIENT_ID is set but {', '.join(prefix + m for m in missing)} is not"
                )
                continue
            default_discovery = GOOGLE_DISCOVERY_URL if name == "google" else ""
            providers.append(
                OidcSettings(
                    name=name,
                    client_id=client_id,
                    client_secret=self.text(prefix + "CLIENT_SECRET", ""),
                    redirect_uri=self.url(prefix + "REDIRECT_URI", "", ("http", "https")),
                    discovery_url=self.url(
                        prefix + "DISCOVERY_URL", default_discovery, ("http", "https")
                    ),
                )
            )
        return tuple(providers)
