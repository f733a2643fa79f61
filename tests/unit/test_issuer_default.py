"""Unset, AUTH_ISSUER follows AUTH_HOST and AUTH_PORT: changing the port does not leave the
tokens claiming port 8000. A wildcard bind address becomes the loopback address."""

from __future__ import annotations

import pytest

from infrastructure.config import load_settings


@pytest.mark.parametrize(
    ("environ", "issuer"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"AUTH_PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"AUTH_HOST": "0.0.0.0", "AUTH_PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"AUTH_HOST": "::"}, "http://[::1]:8000"),
        ({"AUTH_HOST": "::1", "AUTH_PORT": "8001"}, "http://[::1]:8001"),
        ({"AUTH_HOST": "auth.internal"}, "http://auth.internal:8000"),
    ],
)
def test_an_unset_issuer_follows_host_and_port(environ: dict[str, str], issuer: str) -> None:
    assert load_settings(environ, dotenv=None).issuer == issuer


def test_a_set_issuer_wins_over_host_and_port() -> None:
    settings = load_settings(
        {"AUTH_ISSUER": "https://auth.example.com", "AUTH_PORT": "9000"}, dotenv=None
    )

    assert settings.issuer == "https://auth.example.com"
