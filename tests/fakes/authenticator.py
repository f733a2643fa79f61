"""A software WebAuthn authenticator and the browser around it, for the HTTP tests.

It makes what ``navigator.credentials.create`` / ``get`` would hand a page, as
``PublicKeyCredential.toJSON()``: an EC P-256 (ES256) key per credential, attestation
``none``, authenticator data with its flags and signature counter, and clientDataJSON naming
the page's origin. Every knob a test needs to forge a bad response is an argument.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import encode_cbor

UP, UV, AT = 0x01, 0x04, 0x40  # user present, user verified, attested credential data


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftAuthenticator:
    def __init__(self, origin: str) -> None:
        self.origin = origin  # the page the ceremonies run on
        self.credentials: list[Credential] = []

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        user_verified: bool = True,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """A new resident credential for ``options`` (creation options JSON)."""
        rp = rp_id or options["rp"]["id"]
        credential = Credential(
            credential_id=credential_id or secrets.token_bytes(16),
            key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp,
            user_handle=unb64url(options["user"]["id"]),
        )
        self.credentials.append(credential)
        numbers = credential.key.public_key().public_numbers()
        cose_key = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32), -3: numbers.y.to_bytes(32)}
        attested = (
            bytes(16)  # AAGUID: none
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + encode_cbor(cose_key)
        )
        flags = UP | AT | (UV if user_verified else 0)
        auth_data = _rp_hash(rp) + bytes([flags]) + struct.pack(">I", 0) + attested
        client_data = _client_data(
            "webauthn.create", challenge or options["challenge"], origin or self.origin
        )
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
        user_verified: bool = True,
        user_handle: bytes | None = None,
        signing_key: ec.EllipticCurvePrivateKey | None = None,
    ) -> dict[str, Any]:
        """An assertion for ``options`` (request options JSON) by a discoverable credential:
        the last one made, unless ``credential`` says which."""
        chosen = credential or self.credentials[-1]
        if sign_count is None:
            chosen.sign_count += 1
            sign_count = chosen.sign_count
        rp = rp_id or options["rpId"]
        flags = UP | (UV if user_verified else 0)
        auth_data = _rp_hash(rp) + bytes([flags]) + struct.pack(">I", sign_count)
        client_data = _client_data("webauthn.get", options["challenge"], origin or self.origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = (signing_key or chosen.key).sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(chosen.credential_id),
            "rawId": b64url(chosen.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(user_handle or chosen.user_handle),
            },
        }


def _rp_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest()


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()
