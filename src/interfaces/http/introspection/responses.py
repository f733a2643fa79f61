"""Response body of token introspection (RFC 7662 §2.2)."""

from __future__ import annotations

import msgspec

from application.introspection import ActiveToken


class IntrospectionBody(msgspec.Struct, frozen=True):
    """RFC 7662 §2.2: ``active`` alone for anything but a live access token of ours."""

    active: bool
    token_type: str | msgspec.UnsetType = msgspec.UNSET
    client_id: str | msgspec.UnsetType = msgspec.UNSET
    sub: str | msgspec.UnsetType = msgspec.UNSET
    sid: str | msgspec.UnsetType = msgspec.UNSET
    role: str | msgspec.UnsetType = msgspec.UNSET
    iss: str | msgspec.UnsetType = msgspec.UNSET
    aud: str | msgspec.UnsetType = msgspec.UNSET
    jti: str | msgspec.UnsetType = msgspec.UNSET
    iat: int | msgspec.UnsetType = msgspec.UNSET
    exp: int | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def of(cls, active: ActiveToken | None) -> IntrospectionBody:
        if active is None:
            return cls(active=False)
        claims, context = active.claims, active.context
        return cls(
            active=True,
            token_type="Bearer",
            client_id=context.client_id,
            sub=str(claims.user_id),
            sid=claims.session_id,
            role=claims.role,
            iss=context.issuer,
            aud=context.audience,
            jti=claims.token_id,
            iat=int(claims.issued_at.timestamp()),
            exp=int(claims.expires_at.timestamp()),
        )
