"""Access tokens that follow the keys file: a key rotated by ``authgate keys rotate``
reaches a running server (every worker) within a second, without a restart."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet

from domain.ports import AccessClaims, AccessTokens, EventSigner
from infrastructure.security.keys import load_or_create_keys
from infrastructure.security.tokens import JwtAccessTokens

log = logging.getLogger("authgate")
CHECK_EVERY = 1.0  # seconds between two looks at the file's stamp


def _stamp(path: Path) -> tuple[int, int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (0, 0, 0)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


class ReloadingAccessTokens(AccessTokens, EventSigner):
    def __init__(
        self,
        path: Path,
        build: Callable[[KeySet], JwtAccessTokens],
        *,
        check_every: float = CHECK_EVERY,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = path
        self._build = build
        self._check_every = check_every
        self._monotonic = monotonic
        self._stamp = _stamp(path)
        self._tokens = build(load_or_create_keys(path).signing)
        self._next_check = monotonic() + check_every

    def issue(self, claims: AccessClaims) -> str:
        return self._current().issue(claims)

    def verify(self, token: str) -> AccessClaims:
        return self._current().verify(token)

    def jwks(self) -> dict[str, Any]:
        return self._current().jwks()

    def sign_event(self, claims: Mapping[str, Any]) -> str:
        return self._current().sign_event(claims)

    def _current(self) -> JwtAccessTokens:
        now = self._monotonic()
        if now < self._next_check:
            return self._tokens
        self._next_check = now + self._check_every
        stamp = _stamp(self._path)
        if stamp != self._stamp:
            try:
                self._tokens = self._build(load_or_create_keys(self._path).signing)
            except (OSError, ValueError, KeyError, TypeError) as e:
                log.error("keys file %s unreadable, keeping the keys in use: %s", self._path, e)
            else:
                log.info("signing keys reloaded from %s", self._path)
            self._stamp = stamp
        return self._tokens
