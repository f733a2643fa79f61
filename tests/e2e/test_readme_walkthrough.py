"""The README's curl walk-through, run verbatim against a real server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server

README = Path(__file__).resolve().parents[2] / "README.md"
GETTING_STARTED = README.parent / "docs" / "getting-started.md"
JS_CLIENT = README.parent / "docs" / "clients" / "javascript.md"


def walkthrough(page: Path = README) -> str:
    text = page.read_text()
    section = text.split("## The flow with curl", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "the README lost its curl walk-through"
    return match.group(1)


def json_documents(text: str) -> list[dict[str, Any]]:
    """Every JSON object in curl's output (bodies come back to back, headers between)."""
    decoder, found, at = json.JSONDecoder(), [], text.find("{")
    while at != -1:
        document, end = decoder.raw_decode(text, at)
        found.append(document)
        at = text.find("{", end)
    return found


def test_the_quickstart_commands_are_the_two_documented_ones() -> None:
    quickstart = README.read_text().split("## Quickstart", 1)[1].split("##", 1)[0]
    block = re.search(r"```\n(.*?)```", quickstart, re.S)
    assert block, "the README lost its Quickstart commands"
    first, second = block.group(1).splitlines()
    assert first.endswith(" && uv run just serve")
    assert second == "uv run just test"
    # PEP 668: a distribution's python3 refuses `pip install` into its own site-packages;
    # pip skips that check for --target, which installs into a folder of our own.
    assert first.startswith("python3 -m pip install --upgrade --target ")
    assert "--break-system-packages" not in first


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_walkthrough_runs_verbatim(server: Server) -> None:
    script = walkthrough().replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    documents = json_documents(out)
    registered = documents[0]
    assert registered["token_type"] == "Bearer"
    assert registered["user"]["email"] == "user@site.com"
    assert any("user" in d and d["user"].get("email") == "user@site.com" for d in documents[1:])
    assert any("sessions" in d and len(d["sessions"]) == 2 for d in documents)
    assert "HTTP/1.1 204" in out
    assert documents[-1]["code"] == "invalid_token"  # the access token died with the logout


def test_the_getting_started_page_has_the_readmes_walkthrough_word_for_word() -> None:
    assert walkthrough(GETTING_STARTED) == walkthrough()


def test_the_javascript_client_page_shows_a_screenshot_of_the_demo() -> None:
    image = re.search(r"!\[[^\]]+\]\(\.\./([^)]+\.png)\)", JS_CLIENT.read_text())
    assert image, "the JavaScript client page lost the demo's screenshot"
    png = JS_CLIENT.parent.parent / image.group(1)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_readme_is_one_screen_and_its_links_into_the_docs_lead_somewhere() -> None:
    text = README.read_text()
    links = re.findall(r"\]\(((?:docs|clients)/[^)#]+)", text)

    assert len(text.splitlines()) <= 150
    assert len(links) >= 10
    assert [link for link in links if not (README.parent / link).is_file()] == []
