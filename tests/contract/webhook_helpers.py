"""What the webhook suites share: a session started through the SQL repository, which
writes its ``session.created`` event in the same transaction, and the box that seals the
endpoints' secrets."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from domain.entities import Session
from infrastructure.persistence.database import Database
from infrastructure.persistence.sessions import SqlSessionRepository
from infrastructure.security.secret_box import AesGcmSecretBox

BOX = AesGcmSecretBox(secrets.token_bytes(32))


async def start_session(database: Database, session_id: str, user_id: int, now: datetime) -> None:
    await SqlSessionRepository(database).add(
        Session(
            id=session_id,
            user_id=user_id,
            ip_address=None,
            user_agent=None,
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(days=1),
        )
    )
