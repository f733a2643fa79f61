"""The key that protects second-factor secrets at rest (``AUTH_SECRETS_KEY_FILE``): 256
random bits, base64url, created on first start with mode 0600 like the signing keys."""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

from infrastructure.security.private_file import create_once

KEY_BYTES = 32


class SecretsKeyError(ValueError):
    """The file holds no usable key; the message names it."""


def load_or_create_secrets_key(path: Path) -> bytes:
    if not path.exists():
        create_once(path, base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
    try:
        key = base64.urlsafe_b64decode(path.read_bytes().strip())
    except (binascii.Error, ValueError) as e:
        raise SecretsKeyError(f"{path} is not a base64url key") from e
    if len(key) != KEY_BYTES:
        raise SecretsKeyError(f"{path} must hold {KEY_BYTES} bytes, it holds {len(key)}")
    return key
