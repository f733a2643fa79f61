"""@authgate/client, the npm package (clients/js): its Node tests against a real server, what
`npm pack` would publish, and the one file both it and the service's wheel carry."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.e2e.clients import client_server
from tests.e2e.conftest import BIN

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clients" / "js"
SOURCE = PACKAGE / "src" / "authgate-client.js"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        reason = f"{name} is not installed"
        if os.environ.get("AUTH_TEST_REQUIRE_BACKENDS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def without_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}


def test_the_node_tests_pass_against_a_real_server(tmp_path):
    node = tool("node")
    with client_server(tmp_path, AUTH_REAUTH_MAX_AGE="2") as server:
        done = subprocess.run(
            [node, "--test", "test/"],
            cwd=PACKAGE,
            env={
                **without_settings(),
                "AUTHGATE_TEST_URL": server.url,
                "AUTHGATE_TEST_CLI": str(BIN / "authgate"),
                "AUTHGATE_TEST_WORKDIR": str(server.workdir),
                "AUTHGATE_TEST_REAUTH_MAX_AGE": "2",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )

    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-8000:]
    counts = dict(re.findall(r"^# (pass|fail|skipped|cancelled) (\d+)$", done.stdout, re.M))
    assert int(counts["pass"]) >= 9, report[-3000:]
    assert (counts["fail"], counts["skipped"], counts["cancelled"]) == ("0", "0", "0"), counts


def test_npm_pack_publishes_the_module_its_declarations_and_nothing_else(tmp_path):
    npm = tool("npm")
    done = subprocess.run(
        [npm, "pack", "--dry-run", "--json", "--ignore-scripts"],
        cwd=PACKAGE,
        env={**without_settings(), "npm_config_cache": str(tmp_path / "npm-cache")},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    (packed,) = json.loads(done.stdout)
    manifest = json.loads((PACKAGE / "package.json").read_text())

    assert packed["name"] == "@authgate/client"
    assert sorted(f["path"] for f in packed["files"]) == [
        "README.md",
        "package.json",
        "src/authgate-client.d.ts",
        "src/authgate-client.js",
    ]
    assert manifest["type"] == "module"
    assert not manifest.get("dependencies")
    assert manifest["exports"]["."] == {
        "types": "./src/authgate-client.d.ts",
        "default": "./src/authgate-client.js",
    }
    lock = json.loads((PACKAGE / "package-lock.json").read_text())
    assert lock["name"] == manifest["name"]
    assert lock["version"] == manifest["version"]
    assert set(lock["packages"]) == {""}  # no dependency of any kind


def test_the_service_wheel_carries_the_package_file_and_not_the_python_client(tmp_path):
    uv = tool("uv")
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", tmp_path, ROOT],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        capture_output=True,
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("authgate-*.whl")
    with zipfile.ZipFile(wheel) as built:
        names = built.namelist()
        served = built.read("interfaces/http/static/authgate-client.js")

    assert served == SOURCE.read_bytes()
    assert not [name for name in names if name.startswith("authgate_client")]
    assert {name.split("/")[0] for name in names if "dist-info" not in name} == {
        "domain",
        "application",
        "infrastructure",
        "interfaces",
    }
