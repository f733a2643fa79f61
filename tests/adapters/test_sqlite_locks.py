"""Two processes share the embedded database safely only while each keeps its POSIX locks on
the file: closing any descriptor of it drops them all (sqlite.org/howtocorrupt.html §2.2),
and another process may then take a live WAL for abandoned and lose committed rows."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from infrastructure.persistence.private_files import create_private

# Whether another process could lock SQLite's shared-lock byte range exclusively right now,
# i.e. whether nobody holds a SHARED lock on the database file.
_PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002)
    print("free")
except OSError:
    print("held")
"""


def shared_lock_held(path: Path) -> bool:
    probe = [sys.executable, "-c", _PROBE, str(path)]
    answer = subprocess.run(probe, capture_output=True, text=True, check=True).stdout
    return answer.strip() == "held"


def test_preparing_the_file_again_keeps_the_locks_of_open_connections(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    create_private(path)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x)")
        connection.execute("BEGIN")
        connection.execute("SELECT * FROM t").fetchall()  # a read transaction: SHARED held
        assert shared_lock_held(path)

        create_private(path)  # what opening a second connection in this process does first

        assert shared_lock_held(path)
    finally:
        connection.close()


def test_the_file_is_created_private_once(tmp_path: Path) -> None:
    path = tmp_path / "data" / "b.db"
    create_private(path)
    path.write_bytes(b"kept")
    create_private(path)
    assert path.read_bytes() == b"kept"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
