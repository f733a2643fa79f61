"""The service's secret material in one file: ES256 signing keys and the refresh secret.

Created on first start with mode 0600 (see ``private_file``). Several signing keys may be
listed: the first signs, all are published and accepted, which is how keys are rotated.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet

from infrastructure.security.private_file import create_once


@dataclass(frozen=True, slots=True)
class ServiceKeys:
    signing: KeySet
    refresh_secret: bytes


def load_or_create_keys(path: Path) -> ServiceKeys:
    if not path.exists():
        _create(path)
    data: dict[str, Any] = json.loads(path.read_text())
    signing = KeySet.import_key_set(data["keys"])
    if not signing.keys:
        raise ValueError(f"{path} lists no signing keys")
    return ServiceKeys(
        signing=signing,
        refresh_secret=base64.urlsafe_b64decode(data["refresh_secret"]),
    )


def new_signing_key() -> dict[str, Any]:
    key = ECKey.generate_key("P-256", {"alg": "ES256", "use": "sig"}, private=True, auto_kid=True)
    return key.as_dict(private=True)


def _create(path: Path) -> None:
    first = new_signing_key()
    content = {
        "keys": {"keys": [first]},
        "refresh_secret": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "signing_since": {first["kid"]: datetime.now(UTC).isoformat()},
    }
    create_once(path, json.dumps(content, indent=2).encode())
