"""The grant behind one sign-in mail: a 6-digit code bound to the asking browser and a link
that works anywhere, kept in the one-time store for ten minutes.

NIST SP 800-63B §5.1.3.1 does not count email as an out-of-band authenticator (it proves no
device), so a code here is one factor, ``amr ["email"]``, ``aal1``, and never stands in for a
second factor. Its rules still follow the out-of-band ones where they apply (800-63B
§5.1.3.2, ASVS 5.0 V6.5 and V6.6): a secret from a CSPRNG of at least 6 decimal digits,
accepted once and for ten minutes at most, bound to the request it was made for (here the
browser that asked, through an HttpOnly cookie, so a code read off another screen is
useless elsewhere), and limited in tries (§5.2.2): the fifth wrong code kills the grant, and
every try counts against the login limits.

Layout: the grant sits under the SHA-256 of the request id (what the asking browser holds);
the link's token, 256 random bits, points at that key. Spending takes the grant (one atomic
step), so the code and the link spend each other, and of two concurrent spends one wins. The
code is kept as SHA-256(request id, code): a copy of the store, without the request id,
gives nobody a 20-bit code to search.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.email.tokens import digest, new_token
from domain.ports import Clock, OneTimeStore

SIGN_IN_TTL = timedelta(minutes=10)
MAX_WRONG_CODES = 5
CODE = re.compile(r"\d{6}")
_REQUEST = re.compile(r"[A-Za-z0-9_-]{32,128}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    email: str  # normalised; its login limits count the tries
    user_id: int | None  # None: an address without an account (AUTH_EMAIL_SIGNUP)
    code_digest: str
    wrong: int
    expires_at: datetime

    def encode(self) -> bytes:
        fields = dataclasses.asdict(self) | {"expires_at": self.expires_at.isoformat()}
        return json.dumps(fields).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Grant | None:
        try:
            fields = json.loads(raw)
            return cls(**fields | {"expires_at": datetime.fromisoformat(fields["expires_at"])})
        except (ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Mailed:
    """What goes into the mail: shown once, never stored."""

    code: str
    link_token: str


class SignInGrants:
    def __init__(self, store: OneTimeStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @staticmethod
    def new_request_id() -> str:
        return new_token()

    async def open(self, request_id: str, email: str, user_id: int | None) -> Mailed:
        code = f"{secrets.randbelow(10**6):06d}"
        link_token = new_token()
        expires_at = self._clock.now() + SIGN_IN_TTL
        grant = Grant(
            email=email,
            user_id=user_id,
            code_digest=_code_digest(request_id, code),
            wrong=0,
            expires_at=expires_at,
        )
        key = _grant_key(request_id)
        await self._store.put(key, grant.encode(), expires_at)
        await self._store.put(_link_key(link_token), key.encode(), expires_at)
        return Mailed(code=code, link_token=link_token)

    async def take_by_code(self, request_id: str | None) -> Grant | None:
        """The grant the asking browser holds, taken: put it back with ``give_back``."""
        if request_id is None or not _REQUEST.fullmatch(request_id):
            return None
        raw = await self._store.take(_grant_key(request_id), self._clock.now())
        return None if raw is None else Grant.decode(raw)

    async def take_by_link(self, link_token: str) -> Grant | None:
        now = self._clock.now()
        key = await self._store.take(_link_key(link_token), now)
        if key is None:
            return None
        raw = await self._store.take(key.decode(), now)
        return None if raw is None else Grant.decode(raw)

    @staticmethod
    def code_matches(grant: Grant, request_id: str, code: str) -> bool:
        return hmac.compare_digest(grant.code_digest, _code_digest(request_id, code))

    async def give_back(self, request_id: str, grant: Grant) -> None:
        """Keep the grant for another try, until its original expiry."""
        await self._store.put(_grant_key(request_id), grant.encode(), grant.expires_at)


def _code_digest(request_id: str, code: str) -> str:
    return hashlib.sha256(f"{request_id}:{code}".encode()).hexdigest()


def _grant_key(request_id: str) -> str:
    return "email-sign-in:" + digest(request_id)


def _link_key(link_token: str) -> str:
    return "email-sign-in-link:" + digest(link_token)
