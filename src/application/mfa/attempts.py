"""Password sign-ins waiting for their second factor, under a single-use ``mfa_token``.

The token is 256 random bits; the keyed store holds only its SHA-256, for five minutes.
Each try takes the record (one atomic step, so two requests never share one try) and puts it
back only after a wrong code, counted: the fifth wrong code kills it (OWASP MFA Cheat Sheet:
limit attempts at the second factor as at the first).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.assurance import PASSWORD
from domain.entities import ExternalIdentity, User
from domain.errors import InvalidMfaToken
from domain.ports import Clock, OneTimeStore

MFA_TOKEN_TTL = timedelta(minutes=5)
MAX_WRONG_CODES = 5
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    user_id: int
    email: str  # the account's login limits are counted under it
    first: list[str]  # the amr of the first factor (password, identity provider)
    wrong: int
    expires_at: datetime
    password_breached: bool = False  # the password of the first step, told at the second
    # The checked password hash's digest, when the first factor was a password. None in a
    # record of the version before it (a deploy lasts longer than five minutes): that one
    # is checked by the issuer's look at the password alone, as before.
    password: str | None = None
    # The provider identity (issuer, subject, email) a provider's first step would link to
    # the account: linked only once the second step is passed, never before.
    link: list[str | None] | None = None

    def encode(self) -> bytes:
        fields = dataclasses.asdict(self) | {"expires_at": self.expires_at.isoformat()}
        return json.dumps(fields).encode()

    @property
    def first_factor(self) -> tuple[str, ...]:
        return tuple(self.first)

    @classmethod
    def decode(cls, raw: bytes) -> Pending | None:
        try:
            fields = json.loads(raw)
            return cls(**fields | {"expires_at": datetime.fromisoformat(fields["expires_at"])})
        except (ValueError, TypeError, KeyError):
            return None


class MfaAttempts:
    def __init__(self, store: OneTimeStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def open(
        self, user: User, first: tuple[str, ...], link: ExternalIdentity | None = None
    ) -> str:
        token = secrets.token_urlsafe(32)
        expires_at = self._clock.now() + MFA_TOKEN_TTL
        pending = Pending(
            user_id=user.id,
            email=user.email,
            first=list(first),
            password=_digest(user.password_hash) if PASSWORD[0] in first else None,
            wrong=0,
            expires_at=expires_at,
            link=None if link is None else [link.provider, link.subject, link.email],
        )
        await self._store.put(_key(token), pending.encode(), expires_at)
        return token

    async def take(self, token: str) -> Pending:
        if not _TOKEN.fullmatch(token):
            raise InvalidMfaToken()
        raw = await self._store.take(_key(token), self._clock.now())
        pending = Pending.decode(raw) if raw is not None else None
        if pending is None:
            raise InvalidMfaToken()
        return pending

    @staticmethod
    def still_proven(pending: Pending, user: User) -> bool:
        """Whether the first step still proves the account: a password replaced or dropped
        since it was checked (a reset, the mailbox's owner taking over) proves nothing now,
        and its half-finished sign-in must not finish (ASVS 5.0 V7.4.3)."""
        return pending.password is None or pending.password == _digest(user.password_hash)

    async def note_password_breached(self, token: str) -> None:
        """Before the token is handed out: the second step will say so and mail the user."""
        pending = await self.take(token)
        await self.give_back(token, dataclasses.replace(pending, password_breached=True))

    async def give_back(self, token: str, pending: Pending) -> None:
        """Keep the attempt for another try, until its original expiry."""
        await self._store.put(_key(token), pending.encode(), pending.expires_at)


def _digest(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()


def _key(token: str) -> str:
    return "mfa:" + hashlib.sha256(token.encode()).hexdigest()
