"""Settings from a real ``.env`` file: the environment wins, parsed as python-dotenv does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infrastructure.config import Settings, SettingsError, default_variable, load_settings


def test_the_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text('# comment\nAUTH_PORT=9000\nexport AUTH_AUDIENCE="from-dotenv"\n\n')
    settings = load_settings({"AUTH_PORT": "9100"}, dotenv=dotenv)
    assert settings.port == 9100
    assert settings.audience == "from-dotenv"


def test_dotenv_is_read_as_python_dotenv_reads_it(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "AUTH_HOST=0.0.0.0  # an inline comment is not part of the value\n"
        "AUTH_TURNSTILE_SECRET='s3cr3t # inside quotes'\n"
        'AUTH_AUDIENCE="${USER}-api"\n'
        "AUTH_COOKIE_PATH=\n"
        "UNRELATED=ignored\n"
    )
    settings = load_settings({}, dotenv=dotenv)
    assert settings.host == "0.0.0.0"
    assert settings.turnstile_secret == "s3cr3t # inside quotes"
    assert settings.audience == "${USER}-api"  # no interpolation: the value is what is written
    assert settings.cookie_path == "/auth"


def test_a_typo_in_dotenv_is_reported_too(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("AUTH_WORKRES=4\n")
    with pytest.raises(SettingsError, match="did you mean AUTH_WORKERS"):
        load_settings({}, dotenv=dotenv)


def test_a_missing_dotenv_is_no_problem(tmp_path: Path) -> None:
    assert load_settings({}, dotenv=tmp_path / "absent.env") == Settings()


def test_serve_demo_turns_the_demo_on_when_nothing_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`authgate serve --demo` (what `just serve` runs) defaults AUTH_DEMO for itself and its
    workers; the environment and .env still decide."""
    monkeypatch.delenv("AUTH_DEMO", raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text("AUTH_DEMO=false\n")
    default_variable("AUTH_DEMO", "true", dotenv=dotenv)
    assert "AUTH_DEMO" not in os.environ
    assert load_settings(dotenv=dotenv).demo is False

    monkeypatch.setenv("AUTH_DEMO", "false")
    default_variable("AUTH_DEMO", "true", dotenv=None)
    assert os.environ["AUTH_DEMO"] == "false"

    monkeypatch.setenv("AUTH_DEMO", " ")  # blank means unset, as everywhere
    default_variable("AUTH_DEMO", "true", dotenv=tmp_path / "missing.env")
    assert os.environ["AUTH_DEMO"] == "true"
    assert load_settings(dotenv=None).demo is True
