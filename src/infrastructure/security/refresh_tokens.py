"""Refresh tokens that name their family under a MAC (RFC 9700 §4.14), stored as SHA-256.

A token is ``<session id>.<b64url(nonce32 || tag16)>`` where
``tag = HMAC-SHA256(secret, tag context || session id || nonce)[:16]``: 256 random (or
derived) bits, as the API promises of a refresh token, and a 128-bit MAC binding them to
the session. The digest the stores keep is SHA-256 hex of the whole token, as it was for
the opaque tokens issued before (so their stored hashes still match).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Final

from domain.ports import RefreshTokens

_SUCCESSOR_CONTEXT: Final = b"authgate refresh successor v1\x00"
_TAG_CONTEXT: Final = b"authgate refresh tag v2\x00"
_NONCE: Final = 32
_TAG: Final = 16
_BODY_CHARS: Final = 64  # base64url of 48 bytes: no padding, no spare bits, one spelling
LEGACY_LENGTH: Final = 43  # secrets.token_urlsafe(32): the opaque tokens issued before


class HmacRefreshTokens(RefreshTokens):
    """Tokens carry their session id and a MAC; successors are derived, never kept.

    Why derived: a repeat of the previous token within the grace window must get the very
    successor the first call got, so parallel tabs converge on one cookie; the successor
    of a token is the same session with ``nonce' = HMAC(secret, successor context ||
    token)``. Why a MAC: the store looks the family up by the session id the token
    names, so a token must prove it is one we minted for that session. A forged one
    (right session id, wrong MAC) is refused before the store is asked, so it can never
    revoke someone else's family (RFC 9700 §4.14.2 reuse detection is only for genuine
    tokens). The secret lives with the JWT signing keys: whoever has it can already mint
    access tokens, so it adds no new power to an attacker.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the refresh secret must be at least 32 bytes")
        self._secret = secret

    def new(self, session_id: str) -> str:
        return self._token(session_id, secrets.token_bytes(_NONCE))

    def successor(self, token: str, session_id: str) -> str:
        mac = hmac.new(
            self._secret,
            _SUCCESSOR_CONTEXT + token.encode("utf-8", "surrogatepass"),
            hashlib.sha256,
        )
        return self._token(session_id, mac.digest())

    def session_id(self, token: str) -> str | None:
        session_id, dot, body = token.rpartition(".")
        if not dot or not session_id or len(body) != _BODY_CHARS:
            return None
        try:
            raw = base64.b64decode(body, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            return None
        nonce, tag = raw[:_NONCE], raw[_NONCE:]
        # Constant time (OWASP ASVS 11.2): a timing oracle must not help forge a tag.
        if not hmac.compare_digest(tag, self._tag(session_id, nonce)):
            return None
        return session_id

    def is_legacy(self, token: str) -> bool:
        return len(token) == LEGACY_LENGTH and "." not in token

    def digest(self, token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def _token(self, session_id: str, nonce: bytes) -> str:
        return f"{session_id}.{_encoded(nonce + self._tag(session_id, nonce))}"

    def _tag(self, session_id: str, nonce: bytes) -> bytes:
        message = _TAG_CONTEXT + session_id.encode("utf-8", "surrogatepass") + nonce
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_TAG]


def _encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
