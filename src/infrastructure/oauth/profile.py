"""The person an accepted ID token vouches for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.ports.identity import ExternalProfile
from infrastructure.oauth.discovery import Discovery


def profile_of(discovery: Discovery, claims: dict[str, Any]) -> ExternalProfile:
    """Whatever spelling of ``iss`` the token used, the profile carries the discovery
    document's ``issuer``, so that (issuer, subject) is a stable identity: Google sends
    either ``https://accounts.google.com`` or ``accounts.google.com`` for one account."""
    email = claims.get("email")
    email = email if isinstance(email, str) and email else None
    verified = claims.get("email_verified")
    name = claims.get("name")
    amr = claims.get("amr")
    auth_time = claims.get("auth_time")
    return ExternalProfile(
        issuer=discovery.issuer,
        subject=claims["sub"],
        email=email,
        # Some providers send the string "true". Anything else is "not verified":
        # this flag decides whether an account may be linked by email.
        email_verified=email is not None and (verified is True or verified == "true"),
        name=name if isinstance(name, str) and name else None,
        # OpenID Connect Core §2: a JSON array of strings; anything else says nothing.
        amr=tuple(a for a in amr if isinstance(a, str)) if isinstance(amr, list) else (),
        # OpenID Connect Core §2: seconds since the epoch, when the user last authenticated
        # at the provider (a silent sign-in there may be a month old).
        authenticated_at=(
            datetime.fromtimestamp(auth_time, UTC)
            if isinstance(auth_time, int | float)
            and not isinstance(auth_time, bool)
            and 0 < auth_time < 2**33
            else None
        ),
    )
