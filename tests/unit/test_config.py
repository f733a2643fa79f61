"""Settings come from AUTH_* variables, validated all at once with clear messages.

Reading ``.env`` from a file is in tests/adapters/test_config_dotenv.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from infrastructure.config import (
    GOOGLE_DISCOVERY_URL,
    GOOGLE_ISSUERS,
    OidcSettings,
    Settings,
    SettingsError,
    load_settings,
)

GOOGLE = {
    "AUTH_GOOGLE_CLIENT_ID": "gid",
    "AUTH_GOOGLE_CLIENT_SECRET": "gsecret",
    "AUTH_GOOGLE_REDIRECT_URI": "https://auth.example/auth/google/callback",
}
GITLAB = {
    "AUTH_OIDC_GITLAB_CLIENT_ID": "lid",
    "AUTH_OIDC_GITLAB_CLIENT_SECRET": "lsecret",
    "AUTH_OIDC_GITLAB_REDIRECT_URI": "https://auth.example/auth/gitlab/callback",
    "AUTH_OIDC_GITLAB_DISCOVERY_URL": "https://gitlab.com/.well-known/openid-configuration",
}


def problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ, dotenv=None)
    return raised.value.problems


def test_defaults_are_the_spec_configuration_table() -> None:
    settings = load_settings({}, dotenv=None)
    assert settings == Settings()
    assert settings.database_url == "sqlite:///./data/authgate.db"
    assert settings.grants_url == "database"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert (settings.issuer, settings.audience) == ("http://127.0.0.1:8000", "authgate")
    assert (settings.access_ttl, settings.refresh_ttl) == (900, 604800)
    assert (settings.session_max_age, settings.refresh_grace) == (2592000, 10)
    assert (settings.cookie_name, settings.cookie_path) == ("refresh_id", "/auth")
    assert (settings.cookie_secure, settings.cookie_samesite) == (True, "lax")
    assert settings.turnstile_secret is None
    assert settings.turnstile_site_key is None
    assert settings.oidc_providers == ()
    assert settings.demo is False
    assert settings.app_url is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AUTH_DATABASE_URL", "mysql://x/y", "AUTH_DATABASE_URL"),
        ("AUTH_DATABASE_URL", "sqlite:/relative.db", "sqlite:///"),
        ("AUTH_GRANTS_URL", "redis-cluster://x", "AUTH_GRANTS_URL"),
        ("AUTH_GRANTS_URL", "valkey://", "AUTH_GRANTS_URL"),
        ("AUTH_PORT", "eighty", "whole number"),
        ("AUTH_REFRESH_GRACE", "301", "between 0 and 300"),
        ("AUTH_COOKIE_SAMESITE", "sometimes", "lax, strict, none"),
        ("AUTH_COOKIE_SECURE", "maybe", "true or false"),
        ("AUTH_ISSUER", "not a url", "AUTH_ISSUER"),
        ("AUTH_ALLOWED_ORIGINS", "https://app.example/path", "not an origin"),
        ("AUTH_TRUSTED_PROXIES", "10.0.0.0/33", "not an IP"),
        ("AUTH_GOOGLE_CLIENT_ID", "id-only", "AUTH_GOOGLE_CLIENT_SECRET"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_naming_it(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({variable: value}, dotenv=None)
    assert message in str(raised.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"AUTH_PORT": "0", "AUTH_WORKERS": "x"}, dotenv=None)
    assert len(raised.value.problems) == 2


def test_samesite_none_requires_secure_cookies() -> None:
    with pytest.raises(SettingsError, match="requires AUTH_COOKIE_SECURE"):
        load_settings({"AUTH_COOKIE_SAMESITE": "none", "AUTH_COOKIE_SECURE": "false"}, dotenv=None)


def test_idle_timeout_may_not_exceed_the_absolute_lifetime() -> None:
    with pytest.raises(SettingsError, match="AUTH_REFRESH_TTL"):
        load_settings({"AUTH_REFRESH_TTL": "3000000"}, dotenv=None)


def test_lists_networks_and_providers_are_parsed() -> None:
    settings = load_settings(
        {
            "AUTH_ALLOWED_ORIGINS": "https://app.example, https://admin.example/",
            "AUTH_TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1",
            "AUTH_GRANTS_URL": "valkey://cache:6379/0?prefix=app1:",
            "AUTH_DATABASE_URL": "postgresql://u:p@db:5432/auth",
            **GOOGLE,
            **GITLAB,
        },
        dotenv=None,
    )
    assert settings.allowed_origins == ("https://app.example", "https://admin.example")
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "127.0.0.1/32"]
    assert [p.name for p in settings.oidc_providers] == ["gitlab", "google"]
    assert settings.sqlite_path is None


@pytest.mark.parametrize(
    "url",
    [
        "valkey+cluster://cache-1:7000,cache-2:7001,cache-3:7002",
        "redis+cluster://user:secret@10.0.0.1:7000,10.0.0.2?prefix=app1:",
        "rediss+cluster://[::1]:7000,[::1]:7001/",
    ],
)
def test_a_valkey_cluster_is_named_by_its_nodes(url: str) -> None:
    assert load_settings({"AUTH_GRANTS_URL": url}, dotenv=None).grants_url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("valkey+cluster://a:7000,,b:7001", "cluster node '' is not host[:port]"),
        ("valkey+cluster://a:7000,b:port", "cluster node 'b:port' is not host[:port]"),
        ("valkey+cluster://a:7000,b:70000", "cluster node 'b:70000' is not host[:port]"),
        ("valkey+cluster://a:7000 b:7001", "cluster node 'a:7000 b:7001' is not"),
        ("valkey+clustr://a:7000,b:7001", "valkey+cluster://host:port,host:port"),
        ("valkey+cluster://a:7000,b:7001/1", "database 0 only"),
        ("valkey+cluster://a:7000?prefix={app}:", "may not contain { or }"),
    ],
)
def test_a_malformed_valkey_cluster_url_is_refused_saying_what_is_wrong(
    url: str, message: str
) -> None:
    found = problems({"AUTH_GRANTS_URL": url})
    assert len(found) == 1
    assert found[0].startswith("AUTH_GRANTS_URL")
    assert message in found[0]


def test_the_google_preset_knows_the_discovery_document_and_both_issuer_spellings() -> None:
    assert GOOGLE_DISCOVERY_URL == "https://accounts.google.com/.well-known/openid-configuration"
    assert GOOGLE_ISSUERS == ("https://accounts.google.com", "accounts.google.com")
    gitlab, google = load_settings({**GOOGLE, **GITLAB}, dotenv=None).oidc_providers
    assert google == OidcSettings(
        name="google",
        client_id="gid",
        client_secret="gsecret",
        redirect_uri="https://auth.example/auth/google/callback",
        discovery_url=GOOGLE_DISCOVERY_URL,
        issuers=GOOGLE_ISSUERS,
    )
    assert gitlab.issuers is None  # the issuer its discovery document names


def test_a_provider_is_trusted_for_mfa_by_its_amr_only_when_configured_so() -> None:
    trusting = {**GITLAB, "AUTH_OIDC_GITLAB_TRUST_AMR": "true"}
    gitlab, google = load_settings({**GOOGLE, **trusting}, dotenv=None).oidc_providers
    assert (gitlab.trust_amr, google.trust_amr) == (True, False)
    assert problems({**GOOGLE, "AUTH_GOOGLE_TRUST_AMR": "maybe"}) == [
        "AUTH_GOOGLE_TRUST_AMR must be true or false, got 'maybe'"
    ]


def test_google_at_another_discovery_address_is_held_to_that_documents_issuer() -> None:
    elsewhere = "https://idp.test/.well-known/openid-configuration"
    settings = load_settings({**GOOGLE, "AUTH_GOOGLE_DISCOVERY_URL": elsewhere}, dotenv=None)
    (google,) = settings.oidc_providers
    assert (google.discovery_url, google.issuers) == (elsewhere, None)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AUTH_ACCESS_TTL", "59", "AUTH_ACCESS_TTL must be a whole number between 60 and 86400"),
        ("AUTH_LOG_LEVEL", "verbose", "one of DEBUG, INFO, WARNING, ERROR"),
        ("AUTH_APP_URL", "ftp://app.example", "AUTH_APP_URL must be an http(s) URL"),
        ("AUTH_TURNSTILE_VERIFY_URL", "/siteverify", "AUTH_TURNSTILE_VERIFY_URL"),
        ("AUTH_ALLOWED_ORIGINS", "app.example", "'app.example' is not an origin"),
    ],
)
def test_more_bad_values_are_refused_with_a_message_naming_them(
    variable: str, value: str, message: str
) -> None:
    (problem,) = problems({variable: value})
    assert message in problem
    assert repr(value) in problem


@pytest.mark.parametrize(
    ("variable", "low", "high"),
    [
        ("AUTH_PORT", 1, 65535),
        ("AUTH_WORKERS", 1, 256),
        ("AUTH_ACCESS_TTL", 60, 86400),
        ("AUTH_REFRESH_TTL", 300, 31536000),
        ("AUTH_SESSION_MAX_AGE", 300, 31536000),
        ("AUTH_REFRESH_GRACE", 0, 300),
        ("AUTH_LOGIN_LIMIT", 1, 100000),
        ("AUTH_REGISTER_LIMIT", 1, 100000),
        ("AUTH_REFRESH_LIMIT", 1, 100000),
    ],
)
def test_whole_numbers_are_held_to_their_bounds(variable: str, low: int, high: int) -> None:
    field = variable.removeprefix("AUTH_").lower()
    # The idle timeout may not exceed the absolute lifetime: keep both ends free for the test.
    lifetimes = {"AUTH_REFRESH_TTL": "300", "AUTH_SESSION_MAX_AGE": "31536000"}
    for inside in (low, high):
        settings = load_settings({**lifetimes, variable: str(inside)}, dotenv=None)
        assert getattr(settings, field) == inside
    for outside in (low - 1, high + 1):
        assert problems({**lifetimes, variable: str(outside)}) == [
            f"{variable} must be a whole number between {low} and {high}, got '{outside}'"
        ]


def test_every_problem_is_reported_at_once_each_with_its_own_message() -> None:
    assert problems(
        {
            "AUTH_PROT": "8000",
            "AUTH_PORT": "eighty",
            "AUTH_COOKIE_SAMESITE": "none",
            "AUTH_COOKIE_SECURE": "false",
            "AUTH_TRUSTED_PROXIES": "10.0.0.1, nonsense",
            "AUTH_OIDC_GITLAB_CLIENT_ID": "lid",
        }
    ) == [
        "AUTH_PROT is not a setting; did you mean AUTH_PORT?",
        "AUTH_PORT must be a whole number between 1 and 65535, got 'eighty'",
        "AUTH_TRUSTED_PROXIES: 'nonsense' is not an IP address or network",
        "AUTH_OIDC_GITLAB_CLIENT_ID is set but AUTH_OIDC_GITLAB_CLIENT_SECRET,"
        " AUTH_OIDC_GITLAB_REDIRECT_URI, AUTH_OIDC_GITLAB_DISCOVERY_URL is not",
        "AUTH_COOKIE_SAMESITE=none requires AUTH_COOKIE_SECURE=true",
    ]


def test_grants_in_memory_are_refused_for_more_than_one_worker() -> None:
    """Each worker would hold its own denylist: a logout in one would leave the session's
    access tokens good in the others."""
    assert problems({"AUTH_GRANTS_URL": "memory://", "AUTH_WORKERS": "2"}) == [
        "AUTH_GRANTS_URL=memory:// is for one process: not with AUTH_WORKERS>1"
    ]
    one = load_settings({"AUTH_GRANTS_URL": "memory://", "AUTH_WORKERS": "1"}, dotenv=None)
    assert (one.grants_url, one.workers) == ("memory://", 1)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("AUTH_PROT", "AUTH_PORT"),
        ("AUTH_ALLOWED_ORIGIN", "AUTH_ALLOWED_ORIGINS"),
        ("AUTH_GOOGLE_CLIENTID", "AUTH_GOOGLE_CLIENT_ID"),
        ("AUTH_OIDC_GITLAB_CLIENT_SECERT", "AUTH_OIDC_GITLAB_CLIENT_SECRET"),
        ("AUTH_OIDC_GOOGLE_CLIENT_ID", "AUTH_GOOGLE_CLIENT_ID"),
    ],
)
def test_an_unknown_variable_is_refused_naming_the_closest_setting(typo: str, meant: str) -> None:
    environ = {**GITLAB, typo: "x"} if "GITLAB" in typo else {typo: "x"}
    assert problems(environ) == [f"{typo} is not a setting; did you mean {meant}?"]


def test_an_unknown_variable_like_no_setting_is_refused_without_a_guess() -> None:
    assert problems({"AUTH_XYZZY": "1"}) == ["AUTH_XYZZY is not a setting"]


def test_auth_test_variables_belong_to_the_test_suite_and_are_ignored() -> None:
    environ = {"AUTH_TEST_REQUIRE_BACKENDS": "1", "AUTH_TEST_POSTGRES_URL": "postgresql://x/y"}
    assert load_settings(environ, dotenv=None) == Settings()


def test_variables_without_the_prefix_are_not_settings() -> None:
    assert load_settings({"PATH": "/usr/bin", "AUTHOR": "x"}, dotenv=None) == Settings()


@pytest.mark.parametrize(
    ("cookie", "problem"),
    [
        ({"AUTH_COOKIE_NAME": "__Host-refresh"}, "requires AUTH_COOKIE_PATH=/"),
        (
            {
                "AUTH_COOKIE_NAME": "__Host-refresh",
                "AUTH_COOKIE_PATH": "/",
                "AUTH_COOKIE_SECURE": "0",
            },
            "AUTH_COOKIE_NAME=__Host-refresh requires AUTH_COOKIE_SECURE=true",
        ),
        (
            {"AUTH_COOKIE_NAME": "__secure-refresh", "AUTH_COOKIE_SECURE": "false"},
            "AUTH_COOKIE_NAME=__secure-refresh requires AUTH_COOKIE_SECURE=true",
        ),
    ],
)
def test_a_cookie_name_prefix_needs_the_attributes_it_promises(
    cookie: dict[str, str], problem: str
) -> None:
    (found,) = problems(cookie)
    assert problem in found


@pytest.mark.parametrize(
    "cookie",
    [
        {"AUTH_COOKIE_NAME": "__Host-refresh", "AUTH_COOKIE_PATH": "/"},
        {"AUTH_COOKIE_NAME": "__Secure-refresh"},
    ],
)
def test_a_cookie_name_prefix_with_its_attributes_is_accepted(cookie: dict[str, str]) -> None:
    assert load_settings(cookie, dotenv=None).cookie_name == cookie["AUTH_COOKIE_NAME"]


def test_the_client_id_claim_defaults_to_the_audience() -> None:
    assert load_settings({"AUTH_AUDIENCE": "api"}, dotenv=None).client_id == "api"
    assert Settings(audience="api").client_id == "api"
    chosen = load_settings({"AUTH_AUDIENCE": "api", "AUTH_CLIENT_ID": "web"}, dotenv=None)
    assert (chosen.audience, chosen.client_id) == ("api", "web")


def test_choices_and_switches_are_read_in_any_case() -> None:
    settings = load_settings(
        {
            "AUTH_LOG_LEVEL": "debug",
            "AUTH_COOKIE_SAMESITE": "Strict",
            "AUTH_COOKIE_SECURE": "OFF",
            "AUTH_APP_URL": "https://app.example/",
        },
        dotenv=None,
    )
    assert (settings.log_level, settings.cookie_samesite) == ("DEBUG", "strict")
    assert settings.cookie_secure is False
    assert settings.app_url == "https://app.example"


def test_blank_values_mean_the_default() -> None:
    assert load_settings({"AUTH_PORT": "  ", "AUTH_TURNSTILE_SECRET": ""}, dotenv=None) == (
        Settings()
    )


def test_settings_are_built_and_changed_by_keyword() -> None:
    settings = Settings(port=9000, allowed_origins=("https://app.example",))
    assert replace(settings, workers=4) == Settings(
        port=9000, workers=4, allowed_origins=("https://app.example",)
    )


SECRET = "s3cr3t-0123456789-abcdefghijklmnopq"  # 35 characters


def test_introspection_clients_are_client_ids_with_their_secrets() -> None:
    settings = load_settings(
        {"AUTH_INTROSPECTION_CLIENTS": f"orders:{SECRET}, billing.v2:{SECRET[::-1]}"},
        dotenv=None,
    )
    assert settings.introspection_secrets == {"orders": SECRET, "billing.v2": SECRET[::-1]}
    assert Settings().introspection_secrets == {}


@pytest.mark.parametrize(
    "client",
    [
        "orders:too-short-a-secret",  # under 32 characters
        f"orders {SECRET}",  # no colon
        f"orders:{SECRET}+/",  # a character HTTP Basic clients would encode differently
        f"ord:ers:{SECRET}",  # a colon in the client id (RFC 7617: none in a user-id)
    ],
)
def test_a_bad_introspection_client_is_refused_without_quoting_its_secret(client: str) -> None:
    (problem,) = problems({"AUTH_INTROSPECTION_CLIENTS": f"billing:{SECRET},{client}"})

    assert problem.startswith("AUTH_INTROSPECTION_CLIENTS: item 2 is not client_id:secret")
    assert "secret of 32 to 256 characters" in problem
    assert SECRET not in problem
    assert client.split(":")[-1] not in problem


def test_an_introspection_client_id_is_named_once() -> None:
    assert problems({"AUTH_INTROSPECTION_CLIENTS": f"orders:{SECRET},orders:{SECRET[::-1]}"}) == [
        "AUTH_INTROSPECTION_CLIENTS names orders more than once"
    ]


def test_the_secrets_key_lives_next_to_the_signing_keys_unless_set() -> None:
    assert Settings().secrets_key_path == Path("./data/secrets.key")
    moved = load_settings({"AUTH_KEYS_FILE": "/srv/keys/jwks.json"}, dotenv=None)
    assert moved.secrets_key_path == Path("/srv/keys/secrets.key")
    own = load_settings({"AUTH_SECRETS_KEY_FILE": "/run/secrets/mfa.key"}, dotenv=None)
    assert own.secrets_key_path == Path("/run/secrets/mfa.key")


def test_the_relying_party_defaults_to_the_issuer() -> None:
    settings = load_settings({"AUTH_ISSUER": "https://auth.example.com"}, dotenv=None)
    assert (settings.rp_id, settings.rp_name) == ("auth.example.com", "authgate")
    assert settings.rp_origins == ("https://auth.example.com",)
    named = load_settings({"AUTH_PRODUCT_NAME": "Acme"}, dotenv=None)
    assert named.rp_name == "Acme"


def test_a_loopback_issuer_puts_passkeys_on_localhost_at_its_port() -> None:
    """Browsers take no IP address as an RP ID (WebAuthn §5.1.3)."""
    settings = load_settings({}, dotenv=None)
    assert (settings.rp_id, settings.rp_origins) == ("localhost", ("http://localhost:8000",))


def test_a_relying_party_on_a_parent_domain_serves_its_subdomains() -> None:
    settings = load_settings(
        {
            "AUTH_ISSUER": "https://auth.example.com",
            "AUTH_RP_ID": "example.com",
            "AUTH_RP_ORIGINS": "https://app.example.com,https://example.com/",
        },
        dotenv=None,
    )
    assert settings.rp_id == "example.com"
    assert settings.rp_origins == ("https://app.example.com", "https://example.com")
    only_id = load_settings(
        {"AUTH_ISSUER": "https://auth.example.com", "AUTH_RP_ID": "example.com"}, dotenv=None
    )
    assert only_id.rp_origins == ("https://auth.example.com",)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AUTH_RP_ID": "https://example.com"}, "AUTH_RP_ID must be a domain name"),
        ({"AUTH_RP_ID": "example.com:443"}, "AUTH_RP_ID must be a domain name"),
        (
            {"AUTH_RP_ID": "example.com", "AUTH_RP_ORIGINS": "https://evil.test"},
            "AUTH_RP_ORIGINS: https://evil.test is not on AUTH_RP_ID example.com",
        ),
        (
            {"AUTH_RP_ID": "example.com", "AUTH_RP_ORIGINS": "https://notexample.com"},
            "is not on AUTH_RP_ID",
        ),
        ({"AUTH_ISSUER": "https://auth.example.com", "AUTH_RP_ID": "other.test"}, "not on"),
        ({"AUTH_RP_ORIGINS": "https://app.example.com/path"}, "not an origin"),
    ],
)
def test_a_relying_party_browsers_would_refuse_is_refused_at_start(
    environ: dict[str, str], message: str
) -> None:
    assert any(message in problem for problem in problems(environ)), problems(environ)


def test_postgres_pool_settings_have_bounds_and_a_read_url_needs_postgres() -> None:
    pg = "postgresql://authgate@db.internal/authgate"
    settings = load_settings(
        {
            "AUTH_DATABASE_URL": pg,
            "AUTH_DATABASE_POOL_SIZE": "40",
            "AUTH_DATABASE_STATEMENT_TIMEOUT": "2.5",
            "AUTH_DATABASE_READ_URL": "postgresql://authgate@replica.internal/authgate",
        },
        dotenv=None,
    )
    assert (settings.database_pool_size, settings.database_statement_timeout) == (40, 2.5)
    assert settings.database_read_url == "postgresql://authgate@replica.internal/authgate"
    with pytest.raises(SettingsError) as refused:
        load_settings({"AUTH_DATABASE_POOL_SIZE": "0", "AUTH_DATABASE_READ_URL": pg}, dotenv=None)
    assert any("AUTH_DATABASE_POOL_SIZE" in problem for problem in refused.value.problems)
    assert any("AUTH_DATABASE_READ_URL is for PostgreSQL" in p for p in refused.value.problems)


def test_the_breach_check_is_off_by_default_and_a_mirror_url_needs_its_prefix() -> None:
    default = load_settings({}, dotenv=None)
    assert default.pwned_check is False
    assert default.pwned_url == "https://api.pwnedpasswords.com/range/{prefix}"
    mirror = load_settings(
        {"AUTH_PWNED_CHECK": "true", "AUTH_PWNED_URL": "https://hibp.internal/range/{prefix}"},
        dotenv=None,
    )
    assert (mirror.pwned_check, mirror.pwned_url) == (True, "https://hibp.internal/range/{prefix}")
    [problem] = problems({"AUTH_PWNED_URL": "https://hibp.internal/range/"})
    assert "AUTH_PWNED_URL" in problem
    assert "{prefix}" in problem


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("AUTH_DATABASE_URL", "postgresql+asyncpg://authgate:Sup3rS3cret@db:5432/authgate"),
        ("AUTH_SMTP_URL", "submission://mailer:Sup3rS3cret@smtp.example.com:587"),
        ("AUTH_GRANTS_URL", "valkey+sentinel://:Va1k@Sup3rS3cret@s1:26379/mymaster/x/y"),
        ("AUTH_DATABASE_URL", "postgress://admin:Va1k#Sup3rS3cret@db/x"),
        ("AUTH_DATABASE_URL", "postgress://admin:Va1k/Sup3rS3cret@db/x"),
        ("AUTH_GRANTS_URL", "valkeyy://:Va1k?Sup3rS3cret@h:6379"),
        ("AUTH_DATABASE_URL", "postgres:/admin:Va1kSup3rS3cret@db/x"),
    ],
)
def test_a_bad_url_is_quoted_without_its_password(name: str, url: str) -> None:
    """An error reaches logs and terminals (a container's start-up log): what was typed is
    shown, the credentials are not."""
    (problem,) = problems({name: url})

    assert "Sup3rS3cret" not in problem
    assert "Va1k" not in problem
    assert "***@" in problem
