"""Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"):
HMAC-SHA256 over ``{webhook-id}.{webhook-timestamp}.{body}`` under the key that follows
``whsec_`` (base64), sent as ``v1,<base64>``; during a rotation every live secret signs and
the signatures are space-separated, so a receiver holding either secret accepts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    # The spec asks for 24 to 64 random bytes; 32 is HMAC-SHA256's block-size sweet spot.
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def headers(
    signing_secrets: tuple[str, ...], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    signed = f"{message_id}.{timestamp}.".encode() + body
    signatures = (
        "v1," + base64.b64encode(hmac.digest(_key(s), signed, hashlib.sha256)).decode()
        for s in signing_secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))
