"""The documentation site: built strict (a broken link fails), its reference pages generated
from the service (every setting, every endpoint), a setting without a meaning refused."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml  # type: ignore[import-untyped]
from mkdocs.exceptions import PluginError

from infrastructure.config import Settings
from interfaces.http.app import create_app

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", site],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": str(MKDOCS.parent), "NO_MKDOCS_2_WARNING": "1"},
    )


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = tmp_path_factory.mktemp("site")
    done = build(ROOT, built)
    assert done.returncode == 0, done.stderr[-4000:]
    return built


def test_every_setting_is_in_the_generated_configuration_reference(site):
    page = (site / "reference" / "configuration" / "index.html").read_text()
    variables = hooks().settings_variables()

    assert len(variables) > 60
    missing = [
        name for name in variables if name.replace("<", "&lt;").replace(">", "&gt;") not in page
    ]
    assert missing == []


def test_every_endpoint_is_in_the_generated_endpoint_reference(site):
    page = (site / "reference" / "endpoints" / "index.html").read_text()
    document = create_app(Settings()).openapi_schema.to_schema()
    operations = [
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    ]

    assert len(operations) > 40
    for method, path in operations:
        assert f"<td>{method}</td>\n<td><code>{path}</code></td>" in page, (method, path)


def test_a_broken_link_fails_the_build(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    index = copy / "docs" / "index.md"
    index.write_text(index.read_text() + "\nSee [the missing page](guides/no-such-page.md).\n")

    done = build(copy, tmp_path / "site")

    assert done.returncode != 0
    assert "no-such-page.md" in done.stderr


def test_a_setting_without_a_meaning_fails_the_build(tmp_path, monkeypatch):
    module = hooks()
    meanings = yaml.safe_load(module.MEANINGS.read_text())
    del meanings["AUTH_REFRESH_GRACE"]
    meanings["AUTH_NO_SUCH_SETTING"] = {"meaning": "nothing"}
    trimmed = tmp_path / "settings.yml"
    trimmed.write_text(yaml.safe_dump(meanings))
    monkeypatch.setattr(module, "MEANINGS", trimmed)

    with pytest.raises(PluginError, match="AUTH_REFRESH_GRACE") as refused:
        module.settings_table()
    assert "AUTH_NO_SUCH_SETTING" in str(refused.value)
