"""One variable's text converted to its field's type with msgspec, or a message saying why not."""

from __future__ import annotations

import ipaddress
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from infrastructure.config.schema import IpNetwork


class Invalid(ValueError):
    """The text does not fit the field; ``str(e)`` says what would."""


# Types msgspec does not decode from a string are built by their own constructor.
_CONSTRUCTORS: dict[object, Callable[[str], object]] = {
    Path: Path,
    IpNetwork: lambda text: ipaddress.ip_network(text, strict=False),
}
_DESCRIPTIONS: dict[object, str] = {
    bool: "true or false",
    IpNetwork: "an IP address or network",
    Path: "a file path",
}
# msgspec reads true/false/1/0 (any case); these spellings are accepted as well.
_BOOLEAN_WORDS = {"yes": "true", "on": "true", "no": "false", "off": "false"}


def parse(name: str, raw: str, hint: Any) -> tuple[Any, list[str]]:
    """The value of ``name=raw`` for a field typed ``hint``, and the problems found.

    A comma-separated list is checked item by item, so that each bad item is named."""
    hint = _without_none(hint)
    if get_origin(hint) is tuple:
        item_hint = get_args(hint)[0]
        values, problems = [], []
        items = [part.strip() for part in raw.split(",") if part.strip()]
        for number, item in enumerate(items, 1):
            try:
                values.append(convert(item, item_hint))
            except Invalid as e:
                shown = f"item {number}" if _is_secret(item_hint) else repr(item)
                problems.append(f"{name}: {shown} is not {e}")
        return tuple(values), problems
    try:
        return convert(raw, hint), []
    except Invalid as e:
        got = "" if _is_secret(hint) else f", got {_without_credentials(raw)!r}"
        return None, [f"{name} must be {e}{got}"]


def convert(text: str, hint: Any) -> Any:
    base, metas = _unannotated(hint)
    for meta in metas:
        if meta.extra and "strip" in meta.extra:
            text = text.rstrip(meta.extra["strip"])
    if base in _CONSTRUCTORS:
        try:
            return _CONSTRUCTORS[base](text)
        except ValueError as e:
            raise Invalid(describe(hint)) from e
    if base is bool:
        text = _BOOLEAN_WORDS.get(text.lower(), text)
    if get_origin(base) is Literal:
        # Choices are matched whatever their case: "Lax" means "lax", "debug" means "DEBUG".
        text = next((c for c in get_args(base) if c.casefold() == text.casefold()), text)
    try:
        return msgspec.convert(text, hint, strict=False)
    except msgspec.ValidationError as e:
        raise Invalid(describe(hint)) from e


def describe(hint: Any) -> str:
    base, metas = _unannotated(hint)
    for meta in metas:
        if meta.description:
            return meta.description
        if meta.ge is not None and meta.le is not None:
            return f"a whole number between {meta.ge} and {meta.le}"
    if get_origin(base) is Literal:
        return "one of " + ", ".join(get_args(base))
    return _DESCRIPTIONS.get(base, f"a {getattr(base, '__name__', base)}")


def _is_secret(hint: Any) -> bool:
    """A secret's text is never repeated in a message: messages reach logs and terminals."""
    return any(meta.extra and meta.extra.get("secret") for meta in _unannotated(hint)[1])


def _unannotated(hint: Any) -> tuple[Any, list[msgspec.Meta]]:
    if get_origin(hint) is Annotated:
        base, *extras = get_args(hint)
        return base, [m for m in extras if isinstance(m, msgspec.Meta)]
    return hint, []


def _without_none(hint: Any) -> Any:
    if get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint):
        rest = [a for a in get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


def _without_credentials(raw: str) -> str:
    """Everything before a URL's last ``@`` masked (its ``user:pass``, whatever characters
    the password has, and whatever mistyped separator came before it): a database's, a mail
    server's or Valkey's password must not reach the logs and terminals an error is shown
    on."""
    if "@" not in raw:
        return raw
    scheme, separator, _ = raw.partition("://")
    host = raw.rpartition("@")[2]
    return f"{scheme}://***@{host}" if separator else f"***@{host}"
