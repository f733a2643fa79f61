"""Settings come from AUTH_* variables and .env, validated all at once with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure.config import Settings, SettingsError, load_settings


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
    assert settings.oidc_providers == ()


def test_the_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nAUTH_PORT=9000\nexport AUTH_AUDIENCE="from-dotenv"\n\n')
    settings = load_settings({"AUTH_PORT": "9100"}, dotenv=dotenv)
    assert settings.port == 9100
    assert settings.audience == "from-dotenv"


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
            "AUTH_GOOGLE_CLIENT_ID": "gid",
            "AUTH_GOOGLE_CLIENT_SECRET": "gsecret",
            "AUTH_GOOGLE_REDIRECT_URI": "https://auth.example/auth/google/callback",
            "AUTH_OIDC_GITLAB_CLIENT_ID": "lid",
            "AUTH_OIDC_GITLAB_CLIENT_SECRET": "lsecret",
            "AUTH_OIDC_GITLAB_REDIRECT_URI": "https://auth.example/auth/gitlab/callback",
            "AUTH_OIDC_GITLAB_DISCOVERY_URL": "https://gitlab.com/.well-known/openid-configuration",
        },
        dotenv=None,
    )
    assert settings.allowed_origins == ("https://app.example", "https://admin.example")
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "127.0.0.1/32"]
    assert [p.name for p in settings.oidc_providers] == ["gitlab", "google"]
    google = settings.oidc("google")
    assert google is not None
    assert google.discovery_url == "https://accounts.google.com/.well-known/openid-configuration"
    assert settings.sqlite_path is None
