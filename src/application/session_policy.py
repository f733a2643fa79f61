"""How long a session and its tokens live (the settings AUTH_ACCESS_TTL, AUTH_REFRESH_TTL,
AUTH_SESSION_MAX_AGE and AUTH_REFRESH_GRACE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPolicy:
    access_ttl: timedelta
    idle_ttl: timedelta  # AUTH_REFRESH_TTL: sliding, renewed by every refresh
    max_age: timedelta  # AUTH_SESSION_MAX_AGE: absolute, whatever the activity
    grace: timedelta  # AUTH_REFRESH_GRACE
    # AUTH_REAUTH_MAX_AGE: how recent a proof sensitive actions need (step-up, RFC 9470)
    reauth_max_age: timedelta = timedelta(minutes=5)

    def deny_until(self, now: datetime) -> datetime:
        """Until when a revoked session's access tokens must be refused."""
        return now + self.access_ttl
