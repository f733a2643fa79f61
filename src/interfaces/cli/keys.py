"""``authgate keys …``: list, rotate and retire the signing keys in AUTH_KEYS_FILE.

A running server re-reads the keys file within a second of a change (its modification
stamp), so a rotation needs no restart.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from infrastructure.config import Settings
from infrastructure.security import key_rotation
from infrastructure.security.keys import load_or_create_keys


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="list, rotate and retire the JWT signing keys")
    verbs = keys.add_subparsers(dest="verb", required=True)
    verbs.add_parser("list", help="the keys: which one signs, since when").set_defaults(
        action=_list
    )
    verbs.add_parser("rotate", help="a new signing key; the old ones stay published").set_defaults(
        action=_rotate
    )
    retire = verbs.add_parser("retire", help="drop an old key once its tokens have expired")
    retire.add_argument("kid", help="the key id, as `authgate keys list` shows it")
    retire.set_defaults(action=_retire)


def key_ids_as_given(argv: list[str]) -> list[str]:
    """A key id is base64url, so one in 64 begins with ``-``, which argparse would read as
    an option: ``keys retire -AbC…`` becomes ``keys retire -- -AbC…``."""
    for at in range(len(argv) - 2):
        verb, kid = argv[at : at + 2], argv[at + 2]
        if verb == ["keys", "retire"] and kid.startswith("-") and kid not in ("-h", "--help", "--"):
            return [*argv[: at + 2], "--", *argv[at + 2 :]]
    return argv


def command(args: argparse.Namespace) -> Callable[[Settings], int]:
    def run(settings: Settings) -> int:
        action: Callable[[Settings, argparse.Namespace], int] = args.action
        return action(settings, args)

    return run


def _list(settings: Settings, args: argparse.Namespace) -> int:
    for key in key_rotation.list_keys(Path(settings.keys_file)):
        since = key.signing_since.strftime("%Y-%m-%dT%H:%M:%SZ") if key.signing_since else "-"
        role = "signing" if key.signing else "verifying"
        print(f"{key.kid}  {role:<9}  since {since}")
    return 0


def _rotate(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(settings.keys_file)
    load_or_create_keys(path)  # a fresh install has no file yet
    kid = key_rotation.rotate(path, datetime.now(UTC))
    print(f"new signing key {kid}; every listed key stays published in the JWKS")
    print(
        "running servers switch to it within a second; retire the old key after"
        f" {settings.access_ttl} s (AUTH_ACCESS_TTL)"
    )
    return 0


def _retire(settings: Settings, args: argparse.Namespace) -> int:
    key_rotation.retire(
        Path(settings.keys_file),
        args.kid,
        datetime.now(UTC),
        timedelta(seconds=settings.access_ttl),
    )
    print(f"key {args.kid} retired")
    return 0
