"""MkDocs hooks: the reference pages are generated from the service itself at every build, so
they cannot drift from it.

- ``<!-- generated: settings -->`` becomes the table of every setting: its variable, type and
  bounds read from the settings class, its meaning from ``reference/settings.yml``. A setting
  without an entry there, or an entry that names no setting, fails the build.
- ``<!-- generated: endpoints -->`` becomes every operation of the app's OpenAPI document,
  grouped by tag, with its answers; an operation without a summary fails the build.
"""

from __future__ import annotations

import types
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import yaml
from mkdocs.exceptions import PluginError
from msgspec import Meta

from infrastructure.config import Settings
from infrastructure.config.providers import VARIABLES as PROVIDER_VARIABLES
from infrastructure.config.schema import variable
from interfaces.http.app import create_app

MEANINGS = Path(__file__).parent / "reference" / "settings.yml"
SETTINGS_MARK = "<!-- generated: settings -->"
ENDPOINTS_MARK = "<!-- generated: endpoints -->"
PROVIDERS = {"AUTH_GOOGLE_": "Google", "AUTH_OIDC_<NAME>_": "any other OpenID Connect provider"}
_PLAIN = {bool: "true or false", int: "integer", float: "number", str: "text", Path: "file path"}


def settings_variables() -> dict[str, str]:
    """Every variable the service reads, with its type: the settings class's fields, and the
    per-provider variables of Google and of any other OpenID Connect provider."""
    types_ = get_type_hints(Settings, include_extras=True)
    found = {
        variable(f.name): describe(types_[f.name])
        for f in fields(Settings)
        if f.metadata.get("variable", True)
    }
    for prefix in PROVIDERS:
        for suffix in PROVIDER_VARIABLES:
            found[prefix + suffix] = "true or false" if suffix == "TRUST_AMR" else "text"
    return found


def describe(hint: Any) -> str:
    """A field's type as a reader wants it: its values, bounds or pattern's description."""
    origin = get_origin(hint)
    if origin is Annotated:
        base, *metadata = get_args(hint)
        for meta in metadata:
            if isinstance(meta, Meta):
                if meta.description:
                    return meta.description
                bounds = [
                    f"{word} {value}"
                    for word, value in (("≥", meta.ge), (">", meta.gt), ("≤", meta.le))
                    if value is not None
                ]
                if bounds:
                    return f"{describe(base)}, {' and '.join(bounds)}"
        return describe(base)
    if origin is Literal:
        return " or ".join(f"`{value}`" for value in get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in get_args(hint) if a is not type(None))
    if origin is tuple:
        return f"comma-separated: {describe(get_args(hint)[0])}"
    if hint in _PLAIN:
        return _PLAIN[hint]
    return getattr(hint, "__name__", str(hint)).replace("Network", " network")


def default_of(name: str) -> str:
    for f in fields(Settings):
        if variable(f.name) == name and f.default is not MISSING:
            value = f.default
            if value in (None, "", ()):
                return "unset"
            if isinstance(value, bool):
                return f"`{str(value).lower()}`"
            return f"`{value}`"
    return "unset"


def settings_table() -> str:
    meanings: dict[str, dict[str, str]] = yaml.safe_load(MEANINGS.read_text())
    known = settings_variables()
    undocumented = sorted(known.keys() - meanings.keys())
    unknown = sorted(meanings.keys() - known.keys())
    if undocumented or unknown:
        raise PluginError(
            f"{MEANINGS.name}: settings without a meaning: {undocumented or 'none'}; "
            f"entries that are no setting: {unknown or 'none'}"
        )
    rows = ["| Variable | Type | Default | Meaning |", "|---|---|---|---|"]
    for name, kind in known.items():
        entry = meanings[name]
        default = entry.get("default") or default_of(name)
        cells = [f"`{name}`", kind, default, entry["meaning"]]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def openapi() -> dict[str, Any]:
    document: dict[str, Any] = create_app(Settings()).openapi_schema.to_schema()
    return document


def endpoints_section() -> str:
    by_tag: dict[str, list[str]] = {}
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            summary = operation.get("summary")
            if not summary:
                raise PluginError(f"{method.upper()} {path} has no summary in the OpenAPI document")
            statuses = ", ".join(sorted(operation.get("responses", {})))
            security = ", ".join(
                sorted({name for scheme in operation.get("security", []) for name in scheme})
            )
            tag = (operation.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(
                f"| {method.upper()} | `{path}` | {summary} | {security} | {statuses} |"
            )
    sections = []
    for tag in sorted(by_tag):
        sections.append(
            f"## {tag}\n\n| Method | Path | What | Security | Answers |\n|---|---|---|---|---|\n"
            + "\n".join(sorted(by_tag[tag], key=lambda row: row.split("|")[2]))
        )
    return "\n\n".join(sections)


def on_page_markdown(markdown: str, **_: Any) -> str:
    if SETTINGS_MARK in markdown:
        markdown = markdown.replace(SETTINGS_MARK, settings_table())
    if ENDPOINTS_MARK in markdown:
        markdown = markdown.replace(ENDPOINTS_MARK, endpoints_section())
    return markdown
