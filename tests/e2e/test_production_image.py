"""The production image and compose file, checked as files (no Docker engine in CI): a
non-root multi-stage image with pinned tools, dependencies installed before the source, a
health check on /health/ready, `authgate serve`; PostgreSQL and Valkey with volumes and
health checks, Valkey with AOF persistence, the app waiting for both."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, rest))
    return result


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_the_image_is_built_in_one_stage_and_run_from_another():
    built, run = stages()

    assert built[0][1].endswith(" AS build")
    assert [rest for keyword, rest in run if keyword == "COPY"] == [
        "--from=build /app/.venv /app/.venv"
    ]


def test_the_image_runs_as_an_unprivileged_user():
    run = stages()[-1]
    users = [rest for keyword, rest in run if keyword == "USER"]

    assert users, "no USER: the service would run as root"
    assert users[-1] not in {"root", "0", "0:0"}
    assert any(
        keyword == "RUN" and "useradd" in rest and users[-1] in rest for keyword, rest in run
    )


def test_uv_is_pinned_to_a_version():
    copies = [
        rest for keyword, rest in instructions() if keyword == "COPY" and "astral-sh/uv" in rest
    ]

    assert len(copies) == 1
    assert re.search(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ ", copies[0]), copies[0]
    assert not any("pip install" in rest for keyword, rest in instructions() if keyword == "RUN")


def test_locked_dependencies_are_installed_before_the_source_is_copied():
    built = stages()[0]
    steps = [f"{keyword} {rest}" for keyword, rest in built]
    deps = steps.index("RUN uv sync --frozen --no-dev --no-install-project")
    source = steps.index("COPY src ./src")

    assert steps.index("COPY pyproject.toml uv.lock ./") < deps < source
    # /auth/client.js: the wheel takes it from the npm package (pyproject's force-include).
    assert source < steps.index("COPY clients/js/src/authgate-client.js ./clients/js/src/")
    assert "--no-dev" in steps[-1]
    assert "--frozen" in steps[-1]


def test_the_health_check_asks_for_readiness_and_the_command_is_authgate_serve():
    run = stages()[-1]
    checks = [rest for keyword, rest in run if keyword == "HEALTHCHECK"]
    commands = [rest for keyword, rest in run if keyword == "CMD"]

    assert len(checks) == 1
    assert "/health/ready" in checks[0]
    assert " CMD python -c " in checks[0]
    assert json.loads(commands[-1]) == ["authgate", "serve"]


def test_compose_keeps_postgres_and_valkey_on_volumes_and_valkey_appends_to_its_log():
    services = compose()["services"]
    postgres, valkey = services["postgres"], services["valkey"]
    named = set(compose()["volumes"])

    assert [v.split(":")[1] for v in postgres["volumes"]] == ["/var/lib/postgresql/data"]
    assert [v.split(":")[1] for v in valkey["volumes"]] == ["/data"]
    assert {v.split(":")[0] for v in [*postgres["volumes"], *valkey["volumes"]]} <= named
    command = valkey["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_compose_starts_the_app_only_when_both_backends_are_healthy():
    services = compose()["services"]

    for backend in ["postgres", "valkey"]:
        assert services[backend]["healthcheck"]["test"][0] == "CMD"
        assert services["app"]["depends_on"][backend] == {"condition": "service_healthy"}
    environment = services["app"]["environment"]
    assert environment["AUTH_DATABASE_URL"].startswith("postgresql://")
    assert environment["AUTH_GRANTS_URL"].startswith("valkey://valkey:")
