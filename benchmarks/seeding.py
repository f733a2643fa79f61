"""What a load run needs in place: an account, its access token, many live sessions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from application.client import ClientInfo
from domain.entities import User
from infrastructure.config import load_settings
from interfaces.http.container import open_container

EMAIL = "bench@site.com"
PASSWORD = "bench-password-1"
LOGIN_BODY = f'{{"email": "{EMAIL}", "password": "{PASSWORD}"}}'


@dataclass(frozen=True, slots=True)
class Account:
    user: User
    access_token: str


def register(url: str) -> Account:
    body = {"email": EMAIL, "password": PASSWORD}
    response = httpx.post(f"{url}/auth/register", json=body, timeout=30)
    if response.status_code == 409:
        response = httpx.post(f"{url}/auth/login", json=body, timeout=30)
    response.raise_for_status()
    found = response.json()
    now = datetime.now(UTC)
    user = User(
        id=found["user"]["id"],
        email=EMAIL,
        password_hash=None,
        name=None,
        role=found["user"]["role"],
        created_at=now,
        updated_at=now,
    )
    return Account(user, found["access_token"])


def sessions(env: dict[str, str], user: User, count: int, into: Path) -> Path:
    """``count`` sessions started the way login starts them (no password check: the load
    is on refresh), their refresh tokens one per line."""

    async def start() -> list[str]:
        settings = load_settings(env, dotenv=None)
        async with open_container(settings) as container:
            client = ClientInfo(ip_address="127.0.0.1", user_agent="bench")
            started = [await container.cases.issuer.start(user, client) for _ in range(count)]
        return [tokens.refresh_token for tokens in started]

    into.write_text("\n".join(asyncio.run(start())) + "\n")
    return into
