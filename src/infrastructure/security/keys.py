"""The service's secret material in one file: ES256 signing keys and the refresh secret.

Created on first start with mode 0600 (OWASP ASVS V13.3: secrets readable by the service
only). Several signing keys may be listed: the first signs, all are published and
accepted, which is how keys are rotated.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet


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
    """Write the keys completely, then put them in place in one step.

    Several workers may start at once on a fresh install. Each writes its own temporary
    file (mkstemp: mode 0600) next to the target, and ``os.link`` publishes it atomically
    and only if no file is there yet: the losers read the winner's complete file, never a
    half-written one. (``rename`` would let a later worker replace keys already in use.)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    first = new_signing_key()
    content = {
        "keys": {"keys": [first]},
        "refresh_secret": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "signing_since": {first["kid"]: datetime.now(UTC).isoformat()},
    }
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(content, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another worker won; read theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
