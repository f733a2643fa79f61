"""Rotating the signing keys in the keys file (``authgate keys …``).

The first key signs; every listed key is published and accepted. ``rotate`` puts a new key
first and records when it started signing; ``retire`` drops an older key once every token
it signed has expired: the access-token lifetime since the current key took over (RFC 7517
§5 key sets; NIST SP 800-57 Pt. 1 §5.3: a retired key keeps verifying until what it
protected has lapsed).

Each change reads and writes the file under one lock (an advisory ``flock`` on a file beside
it): two changes at once would otherwise each write back a list without the other's new key,
and a key that leaves the file unpublishes every token it signed.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infrastructure.security.keys import new_signing_key
from infrastructure.security.reloading_tokens import CHECK_EVERY

# A server looks at the file once every CHECK_EVERY: the old key may still sign for that long
# after a rotation was written.
RELOAD_SLACK = timedelta(seconds=CHECK_EVERY)


class KeysFileError(Exception):
    """The keys file cannot be changed as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kid: str
    signing: bool
    signing_since: datetime | None  # None: not recorded (a file from before rotation)


def read_keys_file(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        if not isinstance(data["keys"]["keys"], list):
            raise TypeError("keys.keys is not a list")
    except FileNotFoundError as e:
        raise KeysFileError(
            f"no keys file at {path}: start the service once or check AUTH_KEYS_FILE"
        ) from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise KeysFileError(f"keys file {path} is not readable as a keys file: {e}") from e
    return data


def list_keys(path: Path) -> list[KeyInfo]:
    data = read_keys_file(path)
    since = data.get("signing_since", {})
    return [
        KeyInfo(
            kid=key["kid"],
            signing=index == 0,
            signing_since=datetime.fromisoformat(since[key["kid"]])
            if key["kid"] in since
            else None,
        )
        for index, key in enumerate(data["keys"]["keys"])
    ]


def rotate(path: Path, now: datetime) -> str:
    """Put a new signing key first; the others stay published. Returns the new key id."""
    with _changing(path):
        data = read_keys_file(path)
        key = new_signing_key()
        data["keys"]["keys"].insert(0, key)
        data.setdefault("signing_since", {})[key["kid"]] = now.astimezone(UTC).isoformat()
        write_keys_file(path, data)
    return str(key["kid"])


def retire(path: Path, kid: str, now: datetime, access_ttl: timedelta) -> None:
    with _changing(path):
        _retire(path, kid, now, access_ttl)


def _retire(path: Path, kid: str, now: datetime, access_ttl: timedelta) -> None:
    data = read_keys_file(path)
    keys: list[dict[str, Any]] = data["keys"]["keys"]
    kids = [key["kid"] for key in keys]
    if kid not in kids:
        raise KeysFileError(f"no key {kid!r} in {path}: see `authgate keys list`")
    if kids[0] == kid:
        raise KeysFileError(f"key {kid} is signing: run `authgate keys rotate` first")
    recorded = data.get("signing_since", {}).get(kids[0])
    # Unrecorded: the current key has signed at least since the file last changed.
    since = (
        datetime.fromisoformat(recorded)
        if recorded
        else datetime.fromtimestamp(path.stat().st_mtime, UTC)
    )
    if now < since + RELOAD_SLACK + access_ttl:
        until = (since + RELOAD_SLACK + access_ttl).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        raise KeysFileError(
            f"key {kid} may still verify live access tokens until {until} (the access-token"
            f" lifetime after key {kids[0]} started signing): retire it after that"
        )
    data["keys"]["keys"] = [key for key in keys if key["kid"] != kid]
    data.get("signing_since", {}).pop(kid, None)
    write_keys_file(path, data)


@contextmanager
def _changing(path: Path) -> Iterator[None]:
    """The file's one writer at a time, across processes (an advisory lock every ``authgate
    keys`` change takes; the servers only read, and a rename never shows them half a file)."""
    if not path.parent.is_dir():
        raise KeysFileError(
            f"no keys file at {path}: start the service once or check AUTH_KEYS_FILE"
        )
    lock = os.open(path.parent / f".{path.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # closing it releases the lock


def write_keys_file(path: Path, data: dict[str, Any]) -> None:
    """Replace the file in one step: a complete temporary file (mode 0600) renamed over it,
    so a server re-reading it never sees half a file."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
