"""Erasing an account, written once: for an administrator's delete and for the user's own."""

from __future__ import annotations

from application.client import ClientInfo
from application.revocation import SessionRevoker
from domain.errors import UserNotFound
from domain.ports import Clock, OutgoingMail, UserAdministration


class AccountEraser:
    """Ends every session first (grants dropped, access tokens denied at once), then erases
    every row of the user in one transaction, the webhook ``user.deleted`` and ``farewell``
    queued in it (OWASP ASVS 5.0 V7.4.2; GDPR Art. 17)."""

    def __init__(
        self, *, administration: UserAdministration, revoker: SessionRevoker, clock: Clock
    ) -> None:
        self._administration = administration
        self._revoker = revoker
        self._clock = clock

    async def erase(
        self, user_id: int, client: ClientInfo, farewell: OutgoingMail | None = None
    ) -> None:
        now = self._clock.now()
        # Disabled first, so a sign-in racing the erasure is refused by the issuer or, at
        # the latest, at its first refresh.
        # No activity row: the account and its activity are erased in a moment.
        await self._administration.set_disabled(user_id, now, now, told=None)
        await self._revoker.revoke_all(user_id, None, client, reason="user_deleted")
        if not await self._administration.erase(user_id, now, farewell):
            raise UserNotFound()
