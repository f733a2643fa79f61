"""Refresh tokens that name their family and generation under a MAC (RFC 9700 §4.14).

A token is ``<session id>.<generation>.<b64url(nonce32 || tag16)>`` where ``tag =
HMAC-SHA256(secret, tag context || session id || "." || generation || nonce)[:16]``: 256
random (or derived) bits, as the API promises of a refresh token, and a 128-bit MAC binding
them to the session and to the generation (0 for a family's first token, one more at each
rotation). The digest the stores keep is SHA-256 hex of the whole token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Final

from domain.ports import GenuineRefreshToken, RefreshTokens

_SUCCESSOR_CONTEXT: Final = b"authgate refresh successor v1\x00"
_TAG_CONTEXT: Final = b"authgate refresh tag v3\x00"
_NONCE: Final = 32
_TAG: Final = 16
_BODY_CHARS: Final = 64  # base64url of 48 bytes: no padding, no spare bits, one spelling
# A session id, a generation and 64 characters; anything much longer is not ours, and is
# refused before any MAC is computed over it.
MAX_LENGTH: Final = 256
# Nine digits at most (fits any integer column). A rotation a second for 31 years: a family
# never gets there; a token past it would simply not be read (a forced sign-in).
MAX_GENERATION: Final = 999_999_999
_DIGITS: Final = frozenset("0123456789")
_BASE64URL: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class HmacRefreshTokens(RefreshTokens):
    """Tokens carry their session id, their generation and a MAC; successors are derived.

    Why derived: a repeat of the previous token within the grace window must get the very
    successor the first call got, so parallel tabs converge on one cookie; the successor
    of a token is the same session, the next generation, with ``nonce' = HMAC(secret,
    successor context || token)``. Why a MAC: the store looks the family up by the session
    id the token names, and compares the generation with the family's, so a token must
    prove it is one we minted for that session and generation. A forged one is refused
    before the store is asked, so it can never revoke someone else's family (RFC 9700
    §4.14.2 reuse detection is only for genuine tokens), nor pass for a newer generation.
    The secret lives with the JWT signing keys: whoever has it can already mint access
    tokens, so it adds no new power to an attacker.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the refresh secret must be at least 32 bytes")
        self._secret = secret

    def new(self, session_id: str) -> str:
        return self._token(session_id, 0, secrets.token_bytes(_NONCE))

    def successor(self, token: str) -> str:
        named = self.read(token)
        if named is None:
            raise ValueError("only a genuine refresh token has a successor")
        mac = hmac.new(
            self._secret,
            _SUCCESSOR_CONTEXT + token.encode("utf-8", "surrogatepass"),
            hashlib.sha256,
        )
        return self._token(named.session_id, named.generation + 1, mac.digest())

    def read(self, token: str) -> GenuineRefreshToken | None:
        if len(token) > MAX_LENGTH:
            return None
        rest, dot, body = token.rpartition(".")
        if not dot or not rest or len(body) != _BODY_CHARS:
            return None
        raw = _decoded(body)
        if raw is None:
            return None
        nonce, tag = raw[:_NONCE], raw[_NONCE:]
        session_id, dot, generation = rest.rpartition(".")
        number = _generation(generation) if dot and session_id else None
        # Constant time (OWASP ASVS 11.2): a timing oracle must not help forge a tag.
        if number is not None and hmac.compare_digest(tag, self._tag(session_id, number, nonce)):
            return GenuineRefreshToken(session_id, number)
        return None

    def digest(self, token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def _token(self, session_id: str, generation: int, nonce: bytes) -> str:
        tag = self._tag(session_id, generation, nonce)
        return f"{session_id}.{generation}.{_encoded(nonce + tag)}"

    def _tag(self, session_id: str, generation: int, nonce: bytes) -> bytes:
        named = f"{session_id}.{generation}".encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, _TAG_CONTEXT + named + nonce, hashlib.sha256).digest()[:_TAG]


def _generation(text: str) -> int | None:
    """A decimal generation in its one spelling: ASCII digits, no sign, no leading zero."""
    if not text or len(text) > len(str(MAX_GENERATION)) or not set(text) <= _DIGITS:
        return None
    if text != "0" and text.startswith("0"):
        return None
    return int(text)


def _decoded(body: str) -> bytes | None:
    """The bytes of a base64url body in its one spelling (b64decode alone would take "+"
    and "/" too: another spelling, another digest, of the same token)."""
    if not set(body) <= _BASE64URL:
        return None
    try:
        return base64.b64decode(body, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None


def _encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
