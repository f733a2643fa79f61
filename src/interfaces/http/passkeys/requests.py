"""Request bodies of the passkeys. A credential is the JSON a browser's
``PublicKeyCredential.toJSON()`` gives (WebAuthn Level 3 §5.1: ``RegistrationResponseJSON``,
``AuthenticationResponseJSON``); members the service does not read are ignored."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from application.mfa.passkeys import NAME_MAX
from interfaces.http.requests import Email, Name, TurnstileToken, documented

Base64Url = Annotated[str, msgspec.Meta(extra_json_schema={"description": "base64url"})]


PasskeyName = Annotated[str, documented(min_length=1, max_length=NAME_MAX)]


class _Credential(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: Base64Url
    raw_id: Base64Url = msgspec.field(name="rawId")
    type: Literal["public-key"]
    authenticator_attachment: str | None = msgspec.field(
        default=None, name="authenticatorAttachment"
    )
    client_extension_results: dict[str, Any] = msgspec.field(
        default_factory=dict, name="clientExtensionResults"
    )

    def as_json(self) -> dict[str, Any]:
        """The credential as the browser sent it (the members the service reads)."""
        encoded: dict[str, Any] = msgspec.to_builtins(self)
        return encoded


class AttestationResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    client_data_json: Base64Url = msgspec.field(name="clientDataJSON")
    attestation_object: Base64Url = msgspec.field(name="attestationObject")
    transports: list[str] = msgspec.field(default_factory=list)


class RegistrationCredential(_Credential, frozen=True, kw_only=True, omit_defaults=True):
    response: AttestationResponse


class AssertionResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    client_data_json: Base64Url = msgspec.field(name="clientDataJSON")
    authenticator_data: Base64Url = msgspec.field(name="authenticatorData")
    signature: Base64Url
    user_handle: Base64Url | None = msgspec.field(default=None, name="userHandle")


class AuthenticationCredential(_Credential, frozen=True, kw_only=True, omit_defaults=True):
    response: AssertionResponse


class PasskeyRegistrationRequest(msgspec.Struct, frozen=True):
    credential: RegistrationCredential
    name: PasskeyName | None = None


class PasskeySignInRequest(msgspec.Struct, frozen=True):
    credential: AuthenticationCredential


class PasskeySignUpRequest(msgspec.Struct, frozen=True):
    email: Email
    name: Name | None = None
    turnstile_token: TurnstileToken | None = None


class PasskeySignUpVerifyRequest(msgspec.Struct, frozen=True):
    credential: RegistrationCredential
