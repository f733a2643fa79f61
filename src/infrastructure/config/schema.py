"""The settings schema: every ``AUTH_<FIELD>`` variable is a field here, with its type, its
default and its bounds. ``load_settings`` fills it; nothing else describes a setting."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from msgspec import Meta

TURNSTILE_VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
PWNED_PASSWORDS_URL = "https://api.pwnedpasswords.com/range/{prefix}"
GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"
# Google documents both spellings of its issuer (Sign In With Google: "Validate an ID token").
GOOGLE_ISSUERS: tuple[str, ...] = ("https://accounts.google.com", "accounts.google.com")

# Where the demo app is served (AUTH_DEMO=true).
DEMO_PATH = "/demo"

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

HttpUrl = Annotated[str, Meta(pattern=r"^https?://[^\s/?#]+", description="an http(s) URL")]
DatabaseUrl = Annotated[
    str,
    Meta(
        pattern=r"^(sqlite:///|postgres(ql)?://[^\s/?#]+)",
        description="a sqlite:///path/to/file.db or postgresql://user:pass@host:port/db URL",
    ),
]
# Valkey Sentinel: the sentinels' host[:port] list, then the name they monitor the primary
# under, an optional database number, and no option but ?prefix=.
_SENTINEL_NODE = r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?"
_SENTINEL_URL = (
    rf"(valkey|redis)\+sentinel://([^\s/?#@]+@)?{_SENTINEL_NODE}(,{_SENTINEL_NODE})*"
    r"/[^\s/?#]+(/\d+)?/?(\?prefix=[^\s&#]*)?$"
)
GrantsUrl = Annotated[
    str,
    Meta(
        pattern=rf"^(database$|memory://$|(valkeys?|rediss?)(\+cluster)?://[^\s/?#]+|{_SENTINEL_URL})",
        description="'database', 'memory://', valkey://host:port/db,"
        " valkey+cluster://host:port,host:port,... or"
        " valkey+sentinel://host:port,host:port/service",
    ),
]
# ``extra["strip"]``: characters removed from the end before the value is checked.
AppUrl = Annotated[
    str, Meta(pattern=r"^https?://[^\s/?#]+", description="an http(s) URL", extra={"strip": "/"})
]
Origin = Annotated[
    str,
    Meta(
        pattern=r"^https?://[^\s/?#]+$",
        description="an origin like https://app.example",
        extra={"strip": "/"},
    ),
]
Seconds = Annotated[int, Meta(ge=60, le=86400)]
Lifetime = Annotated[int, Meta(ge=300, le=31536000)]
Limit = Annotated[int, Meta(ge=1, le=100000)]
SmtpUrl = Annotated[
    str,
    Meta(
        pattern=r"^smtps?://[^\s/?#]+",
        description="smtp://[user:pass@]host[:587][?starttls=required] or smtps://host[:465]",
    ),
]
# ``client_id:secret`` of a resource server allowed to introspect tokens. Unreserved
# characters only: RFC 6749 §2.3.1 form-encodes both before HTTP Basic, and these encode as
# themselves, so every client library sends the same bytes. ``extra["secret"]``: a problem
# with the value never quotes it.
IntrospectionClient = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9._~-]{1,64}:[A-Za-z0-9._~-]{32,256}$",
        description="client_id:secret (letters, digits and ._~- only; a secret of 32 to 256"
        " characters)",
        extra={"secret": True},
    ),
]
# A WebAuthn RP ID is a domain (WebAuthn §5.1.3 / HTML's "valid domain"): no scheme, port,
# path, nor an IP address.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
RpId = Annotated[
    str, Meta(pattern=rf"^{_LABEL}(\.{_LABEL})*$", description="a domain name like example.com")
]
LinkTemplate = Annotated[
    str,
    Meta(pattern=r"^https?://[^\s]*\{token\}", description="an http(s) URL containing {token}"),
]
RangeUrl = Annotated[
    str,
    Meta(pattern=r"^https?://[^\s]*\{prefix\}", description="an http(s) URL containing {prefix}"),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcSettings:
    """One OpenID Connect provider: ``AUTH_GOOGLE_*`` or ``AUTH_OIDC_<NAME>_*``."""

    name: str
    client_id: str
    client_secret: str
    redirect_uri: HttpUrl
    discovery_url: HttpUrl
    # The accepted spellings of the ID token's ``iss``; None: the discovery document's issuer.
    issuers: tuple[str, ...] | None = None
    # AUTH_<PROVIDER>_TRUST_AMR: an ID token whose ``amr`` shows a second factor counts as
    # one, so a sign-in into an account with a second factor needs no second step here.
    trust_amr: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: DatabaseUrl = "sqlite:///./data/authgate.db"
    # PostgreSQL: connections per process, and the longest a statement may run (seconds); a
    # transaction, all of it, is given up one second after that.
    database_pool_size: Annotated[int, Meta(ge=1, le=1000)] = 10
    database_statement_timeout: Annotated[float, Meta(gt=0, le=600)] = 5.0
    # PostgreSQL: a replica for the reads that may lag (session lists, admin lists).
    database_read_url: DatabaseUrl | None = None
    grants_url: GrantsUrl = "database"
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    workers: Annotated[int, Meta(ge=1, le=256)] = 1
    # JWT ``iss`` and the service's own origin; empty means http://AUTH_HOST:AUTH_PORT.
    issuer: HttpUrl = ""
    audience: str = "authgate"
    # The access token's ``client_id`` claim (RFC 9068 §2.2); empty means the audience.
    client_id: str = ""
    keys_file: Path = Path("./data/jwks.json")
    access_ttl: Seconds = 900
    refresh_ttl: Lifetime = 604800
    session_max_age: Lifetime = 2592000
    refresh_grace: Annotated[int, Meta(ge=0, le=300)] = 10
    # Sensitive actions (factors, password, account export and delete) need an
    # authentication at most this many seconds old (step-up, RFC 9470).
    reauth_max_age: Annotated[int, Meta(ge=1, le=86400)] = 300
    cookie_name: str = "refresh_id"
    cookie_path: str = "/auth"
    cookie_secure: bool = True
    cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    allowed_origins: tuple[Origin, ...] = ()
    turnstile_secret: str | None = None
    # The widget's public site key, for the demo page; the API itself needs only the secret.
    turnstile_site_key: str | None = None
    turnstile_verify_url: HttpUrl = TURNSTILE_VERIFY_URL
    turnstile_hostname: str | None = None
    turnstile_action: str | None = None
    # Not one variable: built from AUTH_GOOGLE_* and AUTH_OIDC_<NAME>_* (see providers.py).
    oidc_providers: tuple[OidcSettings, ...] = field(default=(), metadata={"variable": False})
    app_url: AppUrl | None = None
    return_to_allowlist: tuple[str, ...] = ()
    trusted_proxies: tuple[IpNetwork, ...] = ()
    login_limit: Limit = 10
    register_limit: Limit = 10
    refresh_limit: Limit = 60
    # Second-step codes tried per account per day from any IP; past it: 429 and a mail.
    mfa_failure_limit: Limit = 50
    # Days the account's security activity (GET /auth/activity) is kept.
    activity_retention_days: Annotated[int, Meta(ge=1, le=3650)] = 90
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    # A backend outage is logged when it starts, every this many seconds while it lasts
    # (with the count of refused requests), and when it ends.
    outage_log_interval: Annotated[int, Meta(ge=1, le=3600)] = 30
    metrics: bool = True
    smtp_url: SmtpUrl | None = None
    mail_from: str = "authgate@localhost"
    verify_email_url: LinkTemplate | None = None
    reset_password_url: LinkTemplate | None = None
    require_verified_email: bool = False
    forgot_limit: Limit = 5
    # Sign in with a mailed code or link (POST /auth/email/signin*); off: those answer 404.
    email_signin: bool = False
    # With email sign-in on, a code for an address without an account creates it.
    email_signup: bool = False
    email_signin_url: LinkTemplate | None = None
    # The "this wasn't me" link of the new-device notice.
    secure_account_url: LinkTemplate | None = None
    # The confirmation link mailed to the new address of an email change.
    email_change_url: LinkTemplate | None = None
    product_name: str = "authgate"
    outbox_give_up_after: Lifetime = 172800
    # Resource servers that may call POST /auth/introspect (RFC 7662); none: it answers 404.
    introspection_clients: tuple[IntrospectionClient, ...] = ()
    # Resource servers that poll for ended sessions (Shared Signals, RFC 8936): name:token.
    ssf_receivers: tuple[IntrospectionClient, ...] = ()
    outbox_poll_interval: Annotated[
        float, Meta(gt=0, le=60, description="seconds between 0 and 60")
    ] = 1.0
    # The demo app at /demo (`authgate serve --demo`, hence `just serve`, turns it on).
    demo: bool = False
    # The key sealing TOTP and webhook secrets and keying recovery-code digests; None:
    # secrets.key next to the keys file.
    secrets_key_file: Path | None = None
    # WebAuthn relying party; empty: the issuer's host, the product name, the issuer's origin.
    rp_id: RpId = ""
    rp_name: str = ""
    rp_origins: tuple[Origin, ...] = ()
    # Refuse new passwords found in Pwned Passwords (register, reset, change) and flag them
    # at sign-in; only the first 5 hex characters of the password's SHA-1 are sent.
    pwned_check: bool = False
    # The range API, or a self-hosted mirror of it: a URL template with {prefix}.
    pwned_url: RangeUrl = PWNED_PASSWORDS_URL
    # Webhook URLs may be http:// to a loopback address (tests, a receiver on this host);
    # otherwise only https://.
    webhook_allow_http: bool = False
    # Webhooks may go to private, loopback and link-local addresses (a receiver inside the
    # network); otherwise such a target is refused at delivery time (SSRF).
    webhook_allow_private: bool = False

    def __post_init__(self) -> None:
        if not self.client_id:
            object.__setattr__(self, "client_id", self.audience)
        if not self.issuer:
            object.__setattr__(self, "issuer", local_origin(self.host, self.port))
        if self.demo and self.app_url is None:
            # With no app of its own, the demo is the app: the provider callback lands there
            # and the mailed links open its pages.
            object.__setattr__(self, "app_url", self.issuer.rstrip("/") + DEMO_PATH)
        if not self.rp_name:
            object.__setattr__(self, "rp_name", self.product_name)
        if not self.rp_id:
            rp_id, origin = relying_party(self.issuer)
            object.__setattr__(self, "rp_id", rp_id)
            object.__setattr__(self, "rp_origins", self.rp_origins or (origin,))
        elif not self.rp_origins:
            object.__setattr__(self, "rp_origins", (_origin(self.issuer),))

    @property
    def secrets_key_path(self) -> Path:
        return self.secrets_key_file or self.keys_file.with_name("secrets.key")

    def mail_link(self, page: str) -> str:
        """A page of the app (``verify-email``, ``reset-password``, ``email-sign-in``,
        ``secure-account``, ``change-email``) that POSTs the token; with no AUTH_APP_URL, the
        same path on the service's own issuer."""
        return f"{(self.app_url or self.issuer).rstrip('/')}/{page}?token={{token}}"

    @property
    def introspection_secrets(self) -> dict[str, str]:
        """AUTH_INTROSPECTION_CLIENTS as client id -> secret."""
        return dict(client.split(":", 1) for client in self.introspection_clients)

    @property
    def ssf_secrets(self) -> dict[str, str]:
        """AUTH_SSF_RECEIVERS as receiver name -> bearer token."""
        return dict(receiver.split(":", 1) for receiver in self.ssf_receivers)

    @property
    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None


def local_origin(host: str, port: int) -> str:
    """Where this machine reaches the service: a wildcard bind address (0.0.0.0, ::) names no
    host a client can use, so it becomes the loopback address. Behind a public name, set
    AUTH_ISSUER to that URL."""
    wildcards = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104
    address = wildcards.get(host, host)
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


def relying_party(issuer: str) -> tuple[str, str]:
    """The WebAuthn RP ID and origin an issuer implies. Browsers take no IP address as an RP
    ID, so a loopback issuer (the embedded default) makes passkeys work on
    ``localhost`` at the same port."""
    parts = urlsplit(issuer)
    host = parts.hostname or "localhost"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host, _origin(issuer)
    port = f":{parts.port}" if parts.port else ""
    return "localhost", f"{parts.scheme}://localhost{port}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def variable(field_name: str) -> str:
    return "AUTH_" + field_name.upper()
