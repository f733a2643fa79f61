"""Secret files the service creates on first start: written whole, mode 0600, published once.

Several workers may start at once on a fresh install. Each writes its own temporary file
(mkstemp: mode 0600) next to the target, and ``os.link`` publishes it atomically and only if
no file is there yet: the losers read the winner's complete file, never a half-written one.
(``rename`` would let a later worker replace a secret already in use.) OWASP ASVS V13.3:
secrets readable by the service only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def create_once(path: Path, content: bytes) -> None:
    """Put ``content`` at ``path`` unless a file is there already (then keep that one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another worker won; read theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
