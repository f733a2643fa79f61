"""What proving the mailbox does to an account: the second factors enrolled before the
address was verified go, and every other session ends.

Whoever signed up with an address they do not own could add an app or a passkey before the
owner proved the mailbox; such a factor must not outlive that proof (OWASP ASVS 5.0 V6.4.3,
account recovery must not leave an attacker's authenticator behind). Enrolment now needs a
verified address, so a factor older than the verification was enrolled unverified: the
timestamps alone tell which ones go.

A passkey-first account's own passkey, made with the account (``at_sign_up``), is older than
the verification too, but it is the account's credential, where a password would be: proving
the mailbox by the verification link keeps it, as it keeps a password (removing it would lock
the owner out). A proof that replaces or drops the account's credentials (a password reset, an
identity provider taking the address over) removes it, as it replaces the password: whoever
signed up with an address they do not own is locked out (the pre-registration takeover, OWASP
ASVS 5.0 V6.4.3), even once the owner has opened the verification mail their sign-up sent (a
click proves the mailbox, not who made the passkey). A passkey-first owner who wants a
password beside their passkey sets one (``POST /auth/password/set``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from application.client import ClientInfo, change_event
from application.email.notices import Notice
from application.email.queue import MailQueue
from application.revocation import SessionRevoker
from domain.entities import User
from domain.ports import AuditLog, Clock, Passkeys, TotpCredentials, UserRepository


class MailboxProof:
    def __init__(
        self,
        *,
        users: UserRepository,
        factors: FactorRemoval,
        revoker: SessionRevoker,
        queue: MailQueue,
    ) -> None:
        self._users = users
        self._factors = factors
        self._revoker = revoker
        self._queue = queue

    async def proven(
        self,
        user_id: int,
        keep: str | None,
        client: ClientInfo,
        reason: str = "revoke_all",
        *,
        credentials_replaced_at: datetime | None = None,
    ) -> User | None:
        """Call once the address is marked verified; the user as it is now (None if gone).
        ``credentials_replaced_at``: the caller replaced or dropped the account's password at
        that instant, marking the address verified with it."""
        user = await self._users.get(user_id)
        if user is None:
            return None
        sign_up_replaced = credentials_replaced_at is not None
        removed = await self._remove_planted(user, client, sign_up_replaced)
        await self._revoker.revoke_all(user_id, keep, client, reason=reason)
        if removed:
            await self._queue.notify(user, Notice.UNVERIFIED_FACTORS_REMOVED)
        return user

    async def _remove_planted(self, user: User, client: ClientInfo, sign_up_replaced: bool) -> bool:
        verified_at = user.email_verified_at
        if verified_at is None:
            return False

        def planted(enrolled_at: datetime, at_sign_up: bool) -> bool:
            # A passkey-first account's own passkey is its credential, not a planted factor.
            return enrolled_at < verified_at and (sign_up_replaced or not at_sign_up)

        return await self._factors.remove(user, client, "enrolled_unverified", planted)


class FactorRemoval:
    """Removes an account's app and passkeys by when they were enrolled, each audited (and
    written to the activity with its removal) with the reason."""

    def __init__(
        self, *, totp: TotpCredentials, passkeys: Passkeys, audit: AuditLog, clock: Clock
    ) -> None:
        self._totp = totp
        self._passkeys = passkeys
        self._audit = audit
        self._clock = clock

    async def remove(
        self,
        user: User,
        client: ClientInfo,
        reason: str,
        going: Callable[[datetime, bool], bool],
    ) -> bool:
        """Each factor ``going(enrolled_at, at_sign_up)`` names; whether any was removed."""
        removed = False
        app = await self._totp.get(user.id)
        if app is not None and going(app.created_at, False):
            # Audited whether or not the app was confirmed; its activity row is written with
            # the removal only when it was (an app never confirmed was no second factor).
            app_gone = change_event("mfa_disabled", client, user_id=user.id, reason=reason)
            if not await self._totp.remove(user.id, self._clock.now(), app_gone):
                app_gone = replace(app_gone, with_change=False)
            self._audit.record(app_gone)
            removed = True
        for passkey in await self._passkeys.of_user(user.id):
            if not going(passkey.created_at, passkey.at_sign_up):
                continue
            gone = change_event("passkey_removed", client, user_id=user.id, reason=reason)
            if await self._passkeys.remove(user.id, passkey.id, self._clock.now(), gone):
                self._audit.record(gone)
                removed = True
        return removed
