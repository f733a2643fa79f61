"""What protects the signed-in user's account: enough for an app to offer the right next step
(turn the app on or off, make new recovery codes before the last is spent, set a first
password on an account that signs in with a passkey only)."""

from __future__ import annotations

from dataclasses import dataclass

from application.mfa.enrolment import signed_in_user
from application.mfa.factors import SecondFactors
from domain.ports import AccessClaims, Passkeys, RecoveryCodes, UserRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondFactorOverview:
    totp: bool
    recovery_codes_left: int
    passkeys: int
    password: bool


class ShowSecondFactors:
    def __init__(
        self,
        *,
        users: UserRepository,
        factors: SecondFactors,
        recovery: RecoveryCodes,
        passkeys: Passkeys,
    ) -> None:
        self._users = users
        self._factors = factors
        self._recovery = recovery
        self._passkeys = passkeys

    async def execute(self, caller: AccessClaims) -> SecondFactorOverview:
        user_id = caller.user_id
        user = await signed_in_user(self._users, caller)
        return SecondFactorOverview(
            totp=await self._factors.active(user_id) is not None,
            recovery_codes_left=await self._recovery.left(user_id),
            passkeys=len(await self._passkeys.of_user(user_id)),
            password=user.password_hash is not None,
        )
