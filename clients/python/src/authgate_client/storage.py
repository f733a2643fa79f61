"""Where the refresh token lives between runs: the caller chooses. The access token is never
stored: it lives in memory only and a new one is a refresh away."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class RefreshTokenStorage(Protocol):
    """Called under the client's lock, so one process never races itself; another process
    sharing the storage is covered by the server's grace window (the same successor)."""

    def get(self) -> str | None: ...

    def set(self, token: str) -> None: ...

    def clear(self) -> None: ...


class MemoryStorage:
    """The token for this process only: signed out when it exits."""

    def __init__(self, token: str | None = None) -> None:
        self._token = token

    def get(self) -> str | None:
        return self._token

    def set(self, token: str) -> None:
        self._token = token

    def clear(self) -> None:
        self._token = None


class FileStorage:
    """The token in a file only its owner can read (mode 0600, in a directory created 0700):
    a refresh token is a credential for the whole session (OWASP ASVS V14.2, sensitive data
    at rest). Each write is a complete new file renamed into place, so a crash never leaves
    half a token."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)

    def get(self) -> str | None:
        try:
            return self._path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def set(self, token: str) -> None:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600.
        fd, temporary = tempfile.mkstemp(prefix=f".{self._path.name}.", dir=self._path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(token)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def clear(self) -> None:
        self._path.unlink(missing_ok=True)
