"""`authgate-client` as its users get it: built to a wheel, installed into a virtual
environment that holds it and not the service, and its own tests (clients/python/tests) run
there against a real server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.clients import client_server
from tests.e2e.conftest import BIN

SIGNALS = "orders:orders-bearer-0123456789abcdefghijklmn"  # a Shared Signals receiver
REAUTH_MAX_AGE = 2  # step-up's max age on the server: the client's hook is asked after it
ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"
INTROSPECTION = "orders:orders-secret-0123456789abcdefghijkl"
SERVICE_PACKAGES = ("domain", "application", "infrastructure", "interfaces")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    python: Path


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        reason = "uv is not on PATH: the client's wheel cannot be built"
        if os.environ.get("AUTH_TEST_REQUIRE_BACKENDS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def clean_environment() -> dict[str, str]:
    """This process's environment without what would lead a child to the service: no
    active virtual environment, no PYTHONPATH, no settings of the server."""
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT")
    return {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("AUTH_")}


def run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=clean_environment(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel built from clients/python, installed into a new virtual environment of this
    interpreter with the test runner and nothing else. Versions follow the development
    environment (constraints), so the registry is asked about nothing new."""
    work = tmp_path_factory.mktemp("client-package")
    run(uv(), "build", "--wheel", "--out-dir", work / "dist", CLIENT, cwd=work)
    (wheel,) = (work / "dist").glob("authgate_client-*.whl")
    run(uv(), "venv", "--python", sys.executable, work / "venv", cwd=work)
    python = work / "venv" / "bin" / "python"
    frozen = run(uv(), "pip", "freeze", "--python", sys.executable, cwd=work)
    pins = [line for line in frozen.splitlines() if "==" in line and "authgate" not in line]
    (work / "constraints.txt").write_text("\n".join(pins) + "\n")
    run(
        uv(), "pip", "install", "--python", python, "-c", work / "constraints.txt",
        wheel, "pytest", "pytest-asyncio",
        cwd=work,
    )  # fmt: skip
    return Installed(wheel, python)


def test_the_wheel_holds_the_client_and_depends_on_httpx_and_joserfc_only(installed):
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = re.findall(
            r"^Requires-Dist: ([A-Za-z0-9_.-]+)", wheel.read(metadata).decode(), re.M
        )

    assert {name.split("/")[0] for name in names} == {
        "authgate_client",
        "authgate_client-0.1.0.dist-info",
    }
    assert "authgate_client/py.typed" in names
    assert sorted(requires) == ["httpx", "joserfc"]


def test_the_environment_has_the_client_and_nothing_of_the_service(installed):
    where = run(
        installed.python, "-P", "-c", "import authgate_client; print(authgate_client.__file__)",
        cwd=installed.python.parent,
    )  # fmt: skip
    assert Path(where.strip()).is_relative_to(installed.python.parents[1])
    for package in SERVICE_PACKAGES:
        refused = subprocess.run(
            [installed.python, "-P", "-c", f"import {package}"],
            cwd=installed.python.parent,
            env=clean_environment(),
            capture_output=True,
            text=True,
        )
        assert refused.returncode == 1
        assert f"ModuleNotFoundError: No module named '{package}'" in refused.stderr


@pytest.mark.slow
def test_the_clients_own_tests_pass_there_against_a_real_server(installed, tmp_path):
    for workdir in ("server", "limited"):
        (tmp_path / workdir).mkdir()
    with (
        client_server(
            tmp_path / "server",
            AUTH_INTROSPECTION_CLIENTS=INTROSPECTION,
            AUTH_REAUTH_MAX_AGE=str(REAUTH_MAX_AGE),
            AUTH_SSF_RECEIVERS=SIGNALS,
        ) as server,
        client_server(tmp_path / "limited", AUTH_REFRESH_LIMIT="1") as limited,
    ):
        done = subprocess.run(
            [installed.python, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "--rootdir", CLIENT, "-c", CLIENT / "pyproject.toml", CLIENT / "tests"],
            cwd=tmp_path,
            env={
                **clean_environment(),
                "AUTH_TEST_REQUIRE_BACKENDS": "1",  # no server named: a failure, not a skip
                "AUTHGATE_TEST_URL": server.url,
                "AUTHGATE_TEST_LIMITED_URL": limited.url,
                "AUTHGATE_TEST_CLI": str(BIN / "authgate"),
                "AUTHGATE_TEST_WORKDIR": str(server.workdir),
                "AUTHGATE_TEST_INTROSPECTION": INTROSPECTION,
                "AUTHGATE_TEST_REAUTH_MAX_AGE": str(REAUTH_MAX_AGE),
                "AUTHGATE_TEST_SIGNALS": SIGNALS,
            },
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip

    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed, summary
    assert int(passed.group(1)) >= 32, summary
    assert "skipped" not in summary, summary
