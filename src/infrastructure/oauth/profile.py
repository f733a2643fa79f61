"""The person an accepted ID token vouches for."""

from __future__ import annotations

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
    )
