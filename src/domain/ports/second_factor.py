"""Where second factors are kept: authenticator-app secrets, recovery codes, passkeys.

Every single-use rule is one atomic step of the adapter (a conditional UPDATE), so two
requests racing with the same code or counter never both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.entities import NewPasskey, NewUser, Passkey, TotpCredential, User
from domain.ports.audit import AuditEvent
from domain.ports.webauthn import Attested


class TotpCredentials(Protocol):
    """``told`` (here and on the other stores of this module): the audit event of the
    change; its row in the account's activity is written in the change's transaction, only
    when the change was made (nothing for a False or an empty answer)."""

    async def get(self, user_id: int) -> TotpCredential | None: ...

    async def start(self, user_id: int, sealed_secret: str, now: datetime) -> bool:
        """Keep a new pending secret (replacing a pending one); False when one is active."""
        ...

    async def activate(
        self,
        user_id: int,
        sealed_secret: str,
        step: int,
        recovery_digests: Sequence[str],
        now: datetime,
        told: AuditEvent | None,
    ) -> bool:
        """Confirm the pending secret with the time step of a code, and replace the user's
        recovery codes with these, in one transaction; the user's ``updated_at`` moves to
        ``now`` with them. False when that secret (the one the code was checked against) is
        not the one pending: nothing pending, or another setup replaced it meanwhile."""
        ...

    async def use_step(self, user_id: int, step: int) -> bool:
        """Record a code of the active secret as used: only when ``step`` comes after the last
        one used. Exactly one of concurrent uses of a step wins."""
        ...

    async def remove(self, user_id: int, now: datetime, told: AuditEvent | None) -> bool:
        """Drop the secret (active or pending) and the recovery codes in one transaction;
        False when no active secret was there."""
        ...


class RecoveryCodes(Protocol):
    """Only keyed digests of the codes are stored, never a code."""

    async def replace(
        self, user_id: int, digests: Sequence[str], now: datetime, told: AuditEvent | None
    ) -> None:
        """The user's codes are these from now on; the old ones die in the same step."""
        ...

    async def use(self, user_id: int, digest: str, now: datetime, told: AuditEvent | None) -> bool:
        """Mark an unused code of the user used; exactly one of concurrent uses wins."""
        ...

    async def left(self, user_id: int) -> int:
        """How many of the user's codes are still unused."""
        ...


class Passkeys(Protocol):
    async def add(self, passkey: NewPasskey, told: AuditEvent | None) -> Passkey:
        """Raise ``PasskeyExists`` when the credential id is registered already."""
        ...

    async def of_user(self, user_id: int) -> list[Passkey]:
        """Oldest first."""
        ...

    async def by_credential(self, credential_id: bytes) -> Passkey | None: ...

    async def record_use(
        self, passkey_id: int, seen_count: int, new_count: int, now: datetime
    ) -> bool:
        """Store the new signature counter only if it is still ``seen_count``: of concurrent
        sign-ins with one counter value, exactly one wins."""
        ...

    async def remove(
        self, user_id: int, passkey_id: int, now: datetime, told: AuditEvent | None
    ) -> bool:
        """False when the user has no such passkey."""
        ...

    async def remove_all(self, user_id: int, now: datetime, told: AuditEvent | None) -> list[int]:
        """Every passkey of the user; the ids removed (``told`` written once for each)."""
        ...


class PasskeyAccounts(Protocol):
    """Accounts whose first credential is a passkey: no password."""

    async def open(
        self,
        user: NewUser,
        passkey: Attested,
        user_handle: bytes,
        told: AuditEvent | None,
    ) -> tuple[User, Passkey]:
        """The user and its passkey (``at_sign_up``, made at ``user.created_at``, no name) in
        one transaction. Raise ``EmailTaken`` or ``PasskeyExists``, writing nothing, when the
        address or the credential is taken, also under races. ``told``: the sign-up's audit
        event, its activity row written for the new user in that transaction."""
        ...
