"""Who may change the second factors of an account: the signed-in user, and to add one, only
on a verified address."""

from __future__ import annotations

from domain.entities import User
from domain.errors import EmailNotVerified, InvalidAccessToken
from domain.ports import AccessClaims, UserRepository


async def signed_in_user(users: UserRepository, caller: AccessClaims) -> User:
    user = await users.get(caller.user_id)
    if user is None or user.disabled:
        raise InvalidAccessToken()
    return user


async def enrolling_user(users: UserRepository, caller: AccessClaims) -> User:
    """The caller, if it may add a second factor: only on a verified address, so a sign-up
    with someone else's address can plant nothing that outlives the owner's proof of the
    mailbox (OWASP ASVS 5.0 V6.4.3; the spec's "Factors nobody can plant")."""
    user = await signed_in_user(users, caller)
    if not user.email_verified:
        raise EmailNotVerified("Verify your email address before adding a second factor.")
    return user
