"""`authgate serve` applies the migrations and serves on AUTH_HOST/AUTH_PORT under granian,
with the runtime dependencies only; unset, the token issuer follows the port."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from importlib.metadata import packages_distributions
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from tests.e2e.conftest import BIN, free_port

ROOT = Path(__file__).parents[2]


def test_serve_migrates_a_new_database_and_answers_on_the_configured_port(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    env["AUTH_PORT"] = str(port)
    process = subprocess.Popen(
        [BIN / "authgate", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        registered = httpx.post(
            f"{url}/auth/register", json={"email": "a@site.com", "password": "secret123"}
        )
        assert registered.status_code == 201, registered.text
        claims = json.loads(
            base64.urlsafe_b64decode(registered.json()["access_token"].split(".")[1] + "==")
        )
        assert claims["iss"] == url
        assert (tmp_path / "data" / "authgate.db").is_file()
        assert httpx.get(f"{url}/demo").status_code == 404  # only with --demo
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_demo_serves_the_demo_and_its_pages_take_the_mailed_links(tmp_path):
    """`authgate serve --demo` (what `just serve` runs): the workers, which read the
    environment themselves, serve /demo, and the log mailer's links open its pages."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    env["AUTH_PORT"] = str(port)
    process = subprocess.Popen(
        [BIN / "authgate", "serve", "--demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        lines: list[str] = []
        threading.Thread(target=_read, args=(process, lines), daemon=True).start()
        demo = httpx.get(f"{url}/demo")
        assert demo.status_code == 200
        assert "default-src 'none'" in demo.headers["content-security-policy"]
        registered = httpx.post(
            f"{url}/auth/register", json={"email": "a@site.com", "password": "secret123"}
        )
        assert registered.status_code == 201, registered.text
        link = f"{url}/demo/verify-email?token="
        deadline = time.monotonic() + 15  # the outbox's next look, every second
        while not any(link in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(link in line for line in lines), lines[-5:]
    finally:
        process.terminate()
        process.wait(timeout=10)


def _read(process: subprocess.Popen[bytes], lines: list[str]) -> None:
    for raw in iter(process.stdout.readline, b"") if process.stdout else ():
        lines.append(raw.decode(errors="replace"))


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60  # a loaded machine spawns workers slowly
    while True:
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()  # its output ends only when it does: read it whole, never hang
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"authgate serve did not start:\n{output}")
        time.sleep(0.1)


def test_serving_imports_no_development_dependency():
    """What `authgate serve` and every granian worker import, mapped to distributions: none of
    them may be in the dev group, so `uv run --no-dev authgate serve` works."""
    script = (
        "import sys, interfaces.cli, interfaces.http.asgi;"
        "interfaces.http.asgi.app_from_environment();"
        "print('\\n'.join(sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    imported = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    owners = packages_distributions()
    used = {canonical(d) for m in imported for d in owners.get(m.split(".")[0], [])}
    runtime = subprocess.run(
        ["uv", "export", "--frozen", "--no-dev", "--no-hashes", "--format", "requirements-txt"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    allowed = {canonical(Requirement(line).name) for line in runtime.splitlines() if "==" in line}

    assert "granian" in used
    # Litestar's default plugins import attrs only when it is installed (try/except
    # ImportError); in the dev environment aiosmtpd brings it along.
    optional = {"attrs"}
    assert used - allowed - optional - {"authgate"} == set()


def canonical(name: str) -> str:
    return name.lower().replace("_", "-")
