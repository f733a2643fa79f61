"""``PasskeyCeremonies`` with py_webauthn: the relying party's side of WebAuthn Level 3.

Passkeys are discoverable credentials with user verification, both required: a passkey
sign-in stands for two factors at once (the device, and the PIN or biometric that unlocked
it), so it needs no second step (WebAuthn §6.2.3, "multi-factor capable"). Attestation is not
asked for (``none``): the service trusts no particular make of authenticator.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from domain.entities import Passkey
from domain.errors import InvalidPasskey, InvalidPasskeyRegistration
from domain.ports import Attested, Ceremony, Claimed, Credential, PasskeyCeremonies

CEREMONY_MS = 5 * 60 * 1000  # the challenge lives five minutes; the browser may wait as long
T = TypeVar("T")


def _readable(read: Callable[[], T]) -> T | None:
    # The library's parsers raise whatever a malformed response trips over (its own errors,
    # ValueError from base64 or JSON, TypeError, KeyError, ...): to us each means "unreadable".
    try:
        return read()
    except Exception:
        return None


class WebAuthnCeremonies(PasskeyCeremonies):
    def __init__(self, *, rp_id: str, rp_name: str, origins: Sequence[str]) -> None:
        self._rp_id = rp_id
        self._rp_name = rp_name
        self._origins = list(origins)

    def registration(
        self, *, user_handle: bytes, user_name: str, exclude: Sequence[bytes]
    ) -> Ceremony:
        options = generate_registration_options(
            rp_id=self._rp_id,
            rp_name=self._rp_name,
            user_id=user_handle,
            user_name=user_name,
            timeout=CEREMONY_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                require_resident_key=True,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in exclude],
        )
        return Ceremony(options=json.loads(options_to_json(options)), challenge=options.challenge)

    def registration_challenge(self, credential: Credential) -> bytes | None:
        return _readable(
            lambda: (
                parse_client_data_json(
                    parse_registration_credential_json(dict(credential)).response.client_data_json
                ).challenge
            )
        )

    def verify_registration(self, credential: Credential, challenge: bytes) -> Attested:
        try:
            verified = verify_registration_response(
                credential=dict(credential),
                expected_challenge=challenge,
                expected_rp_id=self._rp_id,
                expected_origin=self._origins,
                require_user_verification=True,
            )
            parsed = parse_registration_credential_json(dict(credential))
        except Exception as e:  # see _readable: any failure is a refusal
            raise InvalidPasskeyRegistration() from e
        if parsed.raw_id != verified.credential_id:
            raise InvalidPasskeyRegistration()  # the response names another credential
        return Attested(
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=tuple(t.value for t in parsed.response.transports or ()),
        )

    def authentication(self) -> Ceremony:
        options = generate_authentication_options(
            rp_id=self._rp_id,
            timeout=CEREMONY_MS,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return Ceremony(options=json.loads(options_to_json(options)), challenge=options.challenge)

    def claimed(self, credential: Credential) -> Claimed | None:
        parsed = _readable(lambda: parse_authentication_credential_json(dict(credential)))
        if parsed is None:
            return None
        client_data = _readable(lambda: parse_client_data_json(parsed.response.client_data_json))
        data = _readable(lambda: parse_authenticator_data(parsed.response.authenticator_data))
        if client_data is None or data is None:
            return None
        return Claimed(
            challenge=client_data.challenge,
            credential_id=parsed.raw_id,
            user_handle=parsed.response.user_handle or None,
            sign_count=data.sign_count,
        )

    def verify_authentication(
        self, credential: Credential, challenge: bytes, passkey: Passkey
    ) -> int:
        try:
            verified = verify_authentication_response(
                credential=dict(credential),
                expected_challenge=challenge,
                expected_rp_id=self._rp_id,
                expected_origin=self._origins,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=True,
            )
        except Exception as e:  # see _readable: any failure is a refusal
            raise InvalidPasskey() from e
        count: int = verified.new_sign_count
        return count
