"""Opaque refresh tokens (RFC 9700 §4.14): 256 random bits, stored only as SHA-256."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from domain.ports import RefreshTokens

_SUCCESSOR_CONTEXT = b"authgate refresh successor v1\x00"


class HmacRefreshTokens(RefreshTokens):
    """The successor of a token is HMAC-SHA256(server secret, token).

    Why derived rather than kept: a repeat of the previous token within the grace window
    must get the very successor the first call got, so parallel tabs converge on one
    cookie. Deriving it means no token (not even a successor for ten seconds) is ever at
    rest; the store holds hashes only. The secret lives with the JWT signing keys: whoever
    has it can already mint access tokens, so it adds no new power to an attacker.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the refresh secret must be at least 32 bytes")
        self._secret = secret

    def new(self) -> str:
        return secrets.token_urlsafe(32)

    def successor(self, token: str) -> str:
        mac = hmac.new(
            self._secret,
            _SUCCESSOR_CONTEXT + token.encode("utf-8", "surrogatepass"),
            hashlib.sha256,
        )
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def digest(self, token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
