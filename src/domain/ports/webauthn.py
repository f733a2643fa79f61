"""The WebAuthn ceremonies (registration and sign-in) as the relying party runs them.

``credential`` is the JSON a browser's ``PublicKeyCredential.toJSON()`` gives; ``options``
is the JSON its ``parseCreationOptionsFromJSON`` / ``parseRequestOptionsFromJSON`` take.
The adapter checks origin, RP ID, challenge, user presence and verification, signature and
the signature counter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.entities import Passkey

Credential = Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Ceremony:
    options: Mapping[str, Any]
    challenge: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Attested:
    """A verified registration."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    """What a sign-in response says about itself, before anything is verified."""

    challenge: bytes
    credential_id: bytes
    user_handle: bytes | None
    sign_count: int


class PasskeyCeremonies(Protocol):
    def registration(
        self, *, user_handle: bytes, user_name: str, exclude: Sequence[bytes]
    ) -> Ceremony: ...

    def registration_challenge(self, credential: Credential) -> bytes | None:
        """The challenge a registration response answers; None when it is unreadable."""
        ...

    def verify_registration(self, credential: Credential, challenge: bytes) -> Attested:
        """Raise ``InvalidPasskeyRegistration`` unless it verifies."""
        ...

    def authentication(self) -> Ceremony:
        """Options for a discoverable credential: no user named, none listed."""
        ...

    def claimed(self, credential: Credential) -> Claimed | None:
        """None when the sign-in response is unreadable."""
        ...

    def verify_authentication(
        self, credential: Credential, challenge: bytes, passkey: Passkey
    ) -> int:
        """The new signature counter; raise ``InvalidPasskey`` unless it verifies, the
        counter included (WebAuthn §7.2 step 21)."""
        ...
