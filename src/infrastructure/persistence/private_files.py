"""The embedded database's files are the service user's alone."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def create_private(path: Path) -> None:
    """The data directory 0700 when we create it; the database file 0600 before SQLite opens
    it, and SQLite gives its -wal and -shm files the mode of the database file.

    OWASP ASVS 5.0 V14 Data Protection (V8 in 4.0.3): stored data is protected from
    unauthorised observation; here that is password hashes, IP addresses and user agents,
    which no other local user may read.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Never open (and close) an existing database file: closing any descriptor of it drops
    # every POSIX lock this process holds on it, those of its live SQLite connections too,
    # and another process may then take their WAL for abandoned and lose committed rows
    # (sqlite.org/howtocorrupt.html §2.2). Only a file that does not exist yet is created.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    # A database created before this rule (0644) is tightened as well (chmod opens nothing).
    for file in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)
