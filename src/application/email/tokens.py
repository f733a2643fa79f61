"""Mail tokens: 256 random bits, URL-safe; only their SHA-256 is stored.

OWASP Forgot Password Cheat Sheet: tokens random, long enough, single use, expiring, stored
hashed. A 256-bit token needs no slow hash: nobody can guess one to compare against.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
TOKEN_MAX = 128  # a real token is 43 characters; anything far longer is not ours


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
