"""What second factors the signed-in user has: enough for an app to offer the right next step
(turn the app on or off, make new recovery codes before the last is spent)."""

from __future__ import annotations

from dataclasses import dataclass

from application.mfa.factors import SecondFactors
from domain.ports import AccessClaims, Passkeys, RecoveryCodes


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondFactorOverview:
    totp: bool
    recovery_codes_left: int
    passkeys: int


class ShowSecondFactors:
    def __init__(
        self, *, factors: SecondFactors, recovery: RecoveryCodes, passkeys: Passkeys
    ) -> None:
        self._factors = factors
        self._recovery = recovery
        self._passkeys = passkeys

    async def execute(self, caller: AccessClaims) -> SecondFactorOverview:
        user_id = caller.user_id
        return SecondFactorOverview(
            totp=await self._factors.active(user_id) is not None,
            recovery_codes_left=await self._recovery.left(user_id),
            passkeys=len(await self._passkeys.of_user(user_id)),
        )
