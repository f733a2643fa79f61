"""Step-up: sensitive actions need a recent proof of the user, and a two-factor one on an
account that has a second factor (RFC 9470; OWASP ASVS 5.0 V7.5.1-V7.5.3: re-authenticate
before changing factors, the password or the account).

The proof is what the caller's access token states (``auth_time``, ``acr``), so the check
reads no session. Whether the account has a second factor is read from the factors
themselves: one added in another session since the token was minted counts at once.
"""

from __future__ import annotations

from application.mfa.enrolment import enrolling_user, signed_in_user
from application.mfa.factors import SecondFactors
from application.session_policy import SessionPolicy
from domain.assurance import AAL2
from domain.entities import User
from domain.errors import InsufficientUserAuthentication
from domain.ports import AccessClaims, Clock, Passkeys, UserRepository


class StepUp:
    def __init__(
        self,
        *,
        users: UserRepository,
        factors: SecondFactors,
        passkeys: Passkeys,
        clock: Clock,
        policy: SessionPolicy,
    ) -> None:
        self._users = users
        self._factors = factors
        self._passkeys = passkeys
        self._clock = clock
        self._max_age = policy.reauth_max_age

    async def user(self, caller: AccessClaims) -> User:
        """The signed-in caller, if its proof is recent and strong enough."""
        user = await signed_in_user(self._users, caller)
        await self._require(user, caller)
        return user

    async def enrolling_user(self, caller: AccessClaims) -> User:
        """As ``user``, for adding a factor: on a verified address only (403 first)."""
        user = await enrolling_user(self._users, caller)
        await self._require(user, caller)
        return user

    async def has_second_factor(self, user_id: int) -> bool:
        if await self._factors.active(user_id) is not None:
            return True
        return bool(await self._passkeys.of_user(user_id))

    async def _require(self, user: User, caller: AccessClaims) -> None:
        max_age = int(self._max_age.total_seconds())
        proven = caller.assurance
        if self._clock.now() - proven.auth_time > self._max_age:
            raise InsufficientUserAuthentication(max_age)
        if proven.acr != AAL2 and await self.has_second_factor(user.id):
            raise InsufficientUserAuthentication(max_age, AAL2)
