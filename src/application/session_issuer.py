"""Starting a session and minting its tokens, under one session policy."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from application.client import ClientInfo, change_event
from application.devices.notice import NewDeviceNotice
from application.revocation import SessionRevoker
from application.session_policy import SessionPolicy
from domain.assurance import AAL2, PASSWORD, Assurance
from domain.entities import RefreshGrant, Session, User
from domain.errors import AccountDisabled, InvalidCredentials, InvalidPasskey, StorageUnavailable
from domain.ports import (
    AccessClaims,
    AccessTokens,
    AuditLog,
    Clock,
    IdGenerator,
    RefreshGrantStore,
    RefreshTokens,
    SessionRepository,
    TotpCredentials,
    UserRepository,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str
    device: str | None = None  # a sign-in's device id, for the client to keep (not refresh)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedIn:
    user: User
    tokens: IssuedTokens


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordSignIn(SignedIn):
    """``password_breached``: the password is known from breaches; it is accepted, and the
    user is mailed about it once."""

    password_breached: bool = False


class SessionIssuer:
    """Starts a session: session row, then its grant, then the access token.

    No token leaves without its grant stored; a session whose grant could not be stored
    is ended again so it never shows up as a device. Every way in passes here, so here is
    where a sign-in is audited with its method (``session_started``, ``method`` = the amr),
    written to the account's activity with the session's row: the activity shows each one,
    however the user came in.
    """

    def __init__(
        self,
        *,
        users: UserRepository,
        sessions: SessionRepository,
        grants: RefreshGrantStore,
        access_tokens: AccessTokens,
        refresh_tokens: RefreshTokens,
        clock: Clock,
        ids: IdGenerator,
        policy: SessionPolicy,
        revoker: SessionRevoker,
        devices: NewDeviceNotice,
        totp: TotpCredentials,
        audit: AuditLog,
    ) -> None:
        self._devices = devices
        self._totp = totp
        self._audit = audit
        self._users = users
        self._sessions = sessions
        self._grants = grants
        self._access_tokens = access_tokens
        self._refresh_tokens = refresh_tokens
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._revoker = revoker

    def new_session_id(self) -> str:
        """An id drawn ahead for the session a sign-up will start (``start(session_id=)``),
        so the sign-up's own event can name it in the transaction that makes the account."""
        return self._ids.session_id()

    async def start(
        self,
        user: User,
        client: ClientInfo,
        amr: tuple[str, ...],
        *,
        session_id: str | None = None,
        passkey_kept: Callable[[], Awaitable[bool]] | None = None,
        authenticated_at: datetime | None = None,
    ) -> IssuedTokens:
        """``amr``: how the user proved who they are just now (``domain.assurance``).
        ``session_id``: one drawn by ``new_session_id``, else a new one. ``passkey_kept``:
        for a passkey sign-in, whether its passkey is still the account's, asked once the
        grant exists (as a password sign-in's password is compared). ``authenticated_at``:
        when the user proved it, if that was before now (an identity provider's sign-in)."""
        if user.disabled:
            # Every sign-in path ends here, after the credentials were checked, so only
            # someone who proved the account learns that it is disabled.
            raise AccountDisabled()
        now = self._clock.now()
        # auth_time is when the user authenticated, not when we heard of it (OIDC Core §2):
        # a provider's silent sign-in on a month-old session is no recent proof (step-up).
        when = now if authenticated_at is None else min(now, authenticated_at)
        assurance = Assurance(when, amr)
        absolute = now + self._policy.max_age
        idle = min(now + self._policy.idle_ttl, absolute)
        session = Session(
            id=session_id or self._ids.session_id(),
            user_id=user.id,
            ip_address=client.ip_address,
            user_agent=client.user_agent,
            created_at=now,
            last_used_at=now,
            expires_at=idle,
        )
        started = change_event(
            "session_started",
            client,
            user_id=user.id,
            session_id=session.id,
            method=assurance.stored_amr(),
        )
        refresh_token = self._refresh_tokens.new(session.id)
        await self._sessions.add(session, started)
        self._audit.record(started)  # it started, though a failure below may end it at once
        grant = RefreshGrant(
            session_id=session.id,
            user_id=user.id,
            token_hash=self._refresh_tokens.digest(refresh_token),
            idle_expires_at=idle,
            absolute_expires_at=absolute,
            role=user.role,
            assurance=assurance,
        )
        try:
            await self._grants.issue(grant, now)
        except StorageUnavailable:
            await self._revoker.revoke_quietly(session.id, user.id, "grant_not_stored", client)
            raise
        role = await self._end_if_changed_meanwhile(
            user, assurance, session.id, client, passkey_kept
        )
        device = await self._devices.signed_in(user, client, amr)
        tokens = self.tokens(user.id, role, session.id, refresh_token, idle, now, assurance)
        return dataclasses.replace(tokens, device=device)

    async def _end_if_changed_meanwhile(
        self,
        user: User,
        assurance: Assurance,
        session_id: str,
        client: ClientInfo,
        passkey_kept: Callable[[], Awaitable[bool]] | None,
    ) -> str:
        """A change that ended every session of the user while this sign-in was under way
        found none of this one to end (refresh reads no user row): look once more now that
        the grant exists. A change after this look finds the session and its grant.

        A disabling refuses it; so does a password dropped or replaced since the sign-in
        checked it (a reset, the mailbox's owner taking over an unverified account): ASVS 5.0
        V7.4.3, a changed factor ends every session, this one included; so does a passkey
        sign-in's passkey removed meanwhile. A role set meanwhile
        rewrote the grants there were, not this one: it gets the role of now, which is
        returned for its tokens (else a demoted admin's session would say admin for its whole
        lifetime)."""
        row = await self._sessions.get(session_id)
        if row is None or row.revoked_at is not None:
            # Ended meanwhile (sign out everywhere, an email change, ...): the ending dropped
            # the grants it found, then the rows, this one among them, before the grant
            # was stored. Else it would refresh behind a row that says revoked.
            await self._revoker.revoke_quietly(session_id, user.id, "revoked", client)
            raise InvalidCredentials()
        current = await self._users.get(user.id)
        if current is None or current.disabled:
            await self._revoker.revoke_quietly(session_id, user.id, "account_disabled", client)
            raise AccountDisabled()
        if PASSWORD[0] in assurance.amr and current.password_hash != user.password_hash:
            await self._revoker.revoke_quietly(session_id, user.id, "password_changed", client)
            raise InvalidCredentials()
        if (
            current.updated_at != user.updated_at
            and assurance.acr != AAL2
            and await self._app_turned_on(user.id)
        ):
            # The authenticator app was turned on while this one-factor sign-in was under
            # way: its gate found none, and the turning on ended every other session but
            # could not see this one (ASVS 5.0 V7.4.3). A sign-in now meets the second step.
            await self._revoker.revoke_quietly(session_id, user.id, "mfa_enabled", client)
            raise InvalidCredentials()
        if passkey_kept is not None and not await passkey_kept():
            # Removed meanwhile (the mailbox's owner taking over an account someone signed
            # up for with their passkey, "this wasn't me"): as a replaced password.
            await self._revoker.revoke_quietly(session_id, user.id, "passkey_removed", client)
            raise InvalidPasskey()
        role = current.role
        if role != user.role:
            try:
                await self._grants.set_role(user.id, role)
                # Set again meanwhile, and rewritten before this wrote its look over every
                # grant of the user: the role of now once more, so none is left stale.
                again = await self._users.get(user.id)
                if again is not None and again.role != role:
                    role = again.role
                    await self._grants.set_role(user.id, role)
            except StorageUnavailable:
                await self._revoker.revoke_quietly(session_id, user.id, "grant_not_stored", client)
                raise
        return role

    async def _app_turned_on(self, user_id: int) -> bool:
        credential = await self._totp.get(user_id)
        return credential is not None and credential.active

    def tokens(
        self,
        user_id: int,
        role: str,
        session_id: str,
        refresh_token: str,
        idle: datetime,
        now: datetime,
        assurance: Assurance,
    ) -> IssuedTokens:
        return IssuedTokens(
            access_token=self.access_token(user_id, role, session_id, now, assurance),
            expires_in=self.access_ttl_seconds,
            refresh_token=refresh_token,
            refresh_expires_in=max(0, int((idle - now).total_seconds())),
            session_id=session_id,
        )

    @property
    def access_ttl_seconds(self) -> int:
        return int(self._policy.access_ttl.total_seconds())

    def access_token(
        self,
        user_id: int,
        role: str,
        session_id: str,
        now: datetime,
        assurance: Assurance,
        *,
        until: datetime | None = None,
    ) -> str:
        """``until``: it expires no later (a token minted from another, not from a grant)."""
        expires_at = now + self._policy.access_ttl
        return self._access_tokens.issue(
            AccessClaims(
                user_id=user_id,
                session_id=session_id,
                role=role,
                token_id=self._ids.token_id(),
                issued_at=now,
                expires_at=min(expires_at, until) if until is not None else expires_at,
                assurance=assurance,
            )
        )
