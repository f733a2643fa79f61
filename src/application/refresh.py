from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.client import ClientInfo, audit_event
from application.revocation import SessionRevoker
from application.session_issuer import IssuedTokens, SessionIssuer
from application.session_policy import SessionPolicy
from application.throttle import Throttle
from domain.errors import InvalidRefreshToken, RefreshTokenReused
from domain.ports import (
    AuditLog,
    Clock,
    GraceReplay,
    Invalid,
    RefreshGrantStore,
    RefreshTokens,
    Reused,
    Rotated,
    Rotation,
    SessionRepository,
    Throttled,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshCommand:
    refresh_token: str | None
    client: ClientInfo


class RefreshSession:
    """Rotates the refresh token of one session (RFC 9700 §4.14.2).

    The successor of a token is derived from it (``RefreshTokens.successor``: an HMAC
    under a server secret), so a repeat of the previous token within the grace window
    is answered with the very same successor without ever storing a token.

    A token names its session and generation under a MAC, so the store reads the family by
    session id and keeps no entry per token; the generation tells a token whose rotation
    the store lost (newer than the family's: unknown, nothing revoked) from an old one.
    A token whose MAC fails is refused here, before the store is asked: it proves nothing
    about the family, so it must not revoke it (only a genuine old token is reuse, RFC
    9700 §4.14.2); its attempt still counts against the refresh rate limit, and the audit
    log gets ``refresh_token_invalid``.

    Nothing that can fail comes after the rotation commits: the rate-limit hit is counted
    in the rotation's own step, the user's role travels in the grant (no user read), and
    the session's ``last_used_at`` is a write-behind touch (``SessionRepository.touch``
    never waits for the database). So an outage of the user database cannot turn a
    committed rotation into an error whose retry, after the grace window, reads as reuse.
    """

    def __init__(
        self,
        *,
        sessions: SessionRepository,
        grants: RefreshGrantStore,
        refresh_tokens: RefreshTokens,
        issuer: SessionIssuer,
        revoker: SessionRevoker,
        policy: SessionPolicy,
        throttle: Throttle,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._throttle = throttle
        self._sessions = sessions
        self._grants = grants
        self._refresh_tokens = refresh_tokens
        self._issuer = issuer
        self._revoker = revoker
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def execute(self, command: RefreshCommand) -> IssuedTokens:
        token = command.refresh_token
        if not token:
            await self._throttle.refresh(command.client)  # every attempt counts
            raise InvalidRefreshToken()
        named = self._refresh_tokens.read(token)
        if named is None:
            await self._throttle.refresh(command.client)
            # OWASP ASVS 7.2.1: authentication decisions are logged (never the token).
            audit_event(self._audit, "refresh_token_invalid", command.client, reason="not_genuine")
            raise InvalidRefreshToken()
        now = self._clock.now()
        successor = self._refresh_tokens.successor(token)
        limit = self._throttle.refresh_limit(command.client)
        outcome = await self._grants.rotate(
            Rotation(
                session_id=named.session_id,
                presented_hash=self._refresh_tokens.digest(token),
                presented_generation=named.generation,
                successor_hash=self._refresh_tokens.digest(successor),
                now=now,
                idle_ttl=self._policy.idle_ttl,
                grace=self._policy.grace,
                deny_until=self._policy.deny_until(now),
                limit=limit,
            )
        )
        if isinstance(outcome, Throttled):
            raise self._throttle.refuse(limit.key, outcome.wait, command.client)
        if isinstance(outcome, Invalid):
            raise InvalidRefreshToken()
        if isinstance(outcome, Reused):
            audit_event(
                self._audit,
                "refresh_token_reused",
                command.client,
                user_id=outcome.user_id,
                session_id=outcome.session_id,
            )
            # The store dropped the family and denied its access tokens in the rotation's
            # own step; the rest of ending the session (its row, the audit) follows.
            await self._revoker.revoke(
                outcome.session_id, outcome.user_id, "refresh_token_reused", command.client
            )
            raise RefreshTokenReused()
        return await self._issue(outcome, successor, now)

    async def _issue(
        self, outcome: Rotated | GraceReplay, successor: str, now: datetime
    ) -> IssuedTokens:
        if isinstance(outcome, Rotated):
            await self._sessions.touch(outcome.session_id, now, outcome.idle_expires_at)
        return self._issuer.tokens(
            outcome.user_id,
            outcome.role,
            outcome.session_id,
            successor,
            outcome.idle_expires_at,
            now,
            outcome.assurance,
        )
