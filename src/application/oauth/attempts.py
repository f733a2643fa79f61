"""Sign-in attempts in flight, kept server-side under their single-use ``state``."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from domain.errors import InvalidOAuthState
from domain.ports import Clock, OneTimeStore

STATE_TTL = timedelta(minutes=10)
_STATE = re.compile(r"[A-Za-z0-9_-]{32,128}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    provider: str
    nonce: str
    verifier: str
    return_to: str
    max_age: int | None = None  # asked of the provider: its ID token must carry auth_time

    @classmethod
    def new(cls, provider: str, return_to: str, max_age: int | None = None) -> Attempt:
        return cls(
            provider=provider,
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),
            return_to=return_to,
            max_age=max_age,
        )

    def encode(self) -> bytes:
        return json.dumps(dataclasses.asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Attempt | None:
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError):
            return None


class Attempts:
    def __init__(self, store: OneTimeStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def keep(self, state: str, attempt: Attempt) -> None:
        await self._store.put(_key(state), attempt.encode(), self._clock.now() + STATE_TTL)

    async def take(self, provider: str, state: str | None, browser_state: str | None) -> Attempt:
        """The attempt ``state`` names, once; else ``InvalidOAuthState``."""
        # RFC 9700 §4.7.1: the state must come back to the browser that started the sign-in,
        # so a callback link crafted from someone else's attempt is refused (login CSRF).
        if not state or not _STATE.fullmatch(state) or browser_state is None:
            raise InvalidOAuthState()
        if not hmac.compare_digest(state.encode(), browser_state.encode()):
            raise InvalidOAuthState()
        raw = await self._store.take(_key(state), self._clock.now())
        attempt = Attempt.decode(raw) if raw is not None else None
        # RFC 9700 §4.4: a state issued for one provider is never accepted by another.
        if attempt is None or attempt.provider != provider:
            raise InvalidOAuthState()
        return attempt


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge: BASE64URL(SHA256(verifier)), unpadded (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _key(state: str) -> str:
    return f"oauth:{state}"
