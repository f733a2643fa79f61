"""What a load run needs in place: an account, its access token, many live sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from application.client import ClientInfo
from application.session_issuer import IssuedTokens, SessionIssuer
from domain import assurance
from domain.entities import NewUser, User
from infrastructure.config import Settings, load_settings
from infrastructure.persistence.users import SqlUserRepository
from infrastructure.security.passwords import Argon2PasswordHasher
from infrastructure.system import SystemClock
from interfaces.bootstrap import policies
from interfaces.bootstrap.adapters import open_ports
from interfaces.bootstrap.backends import open_database
from interfaces.bootstrap.use_cases import session_services

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
    started = asyncio.run(_start(env, user, count))
    into.write_text("".join(f"{tokens.refresh_token}\n" for tokens in started))
    return into


def access_tokens(env: dict[str, str], user: User, count: int, into: Path) -> Path:
    """``count`` live sessions started the way login starts them, their access tokens one per
    line (valid for the access-token lifetime, 15 minutes by default)."""
    started = asyncio.run(_start(env, user, count))
    into.write_text("".join(f"{tokens.access_token}\n" for tokens in started))
    return into


DEVICE = "bench-device-000001"
BATCH = 64  # sessions started at once: the database's round trips overlap


async def _start(env: dict[str, str], user: User, count: int) -> list[IssuedTokens]:
    settings = load_settings(env, dotenv=None)
    # One device for all: a sign-in from a new device queues a mail, not what is measured.
    client = ClientInfo(ip_address="127.0.0.1", user_agent="bench", device=DEVICE)
    # The user as stored: a password sign-in's session starts with the hash it checked (the
    # issuer refuses one whose password changed meanwhile).
    database = open_database(settings)
    try:
        stored = await SqlUserRepository(database).get(user.id)
    finally:
        await database.close()
    if stored is None:
        raise LookupError(f"no user {user.id} to start sessions for")
    started: list[IssuedTokens] = []
    async with issuing(settings) as issuer:
        for first in range(0, count, BATCH):
            batch = range(first, min(first + BATCH, count))
            started += await asyncio.gather(
                *(issuer.start(stored, client, assurance.PASSWORD) for _ in batch)
            )
    return started


# A browser's User-Agent: session rows carry one, and its length is most of a row.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)


async def sign_ins(settings: Settings, count: int) -> None:
    """``count`` users (verified, one real argon2id hash shared), each with one session
    started the way login starts it, from a browser at a public address."""
    password_hash = await Argon2PasswordHasher().hash(PASSWORD)
    database = open_database(settings)
    try:
        users = SqlUserRepository(database)
        async with issuing(settings) as issuer:
            for n in range(count):
                now = datetime.now(UTC)
                user = await users.add(
                    NewUser(
                        email=f"member{n:07d}@example.com",
                        password_hash=password_hash,
                        name="Member Name",
                        role="user",
                        created_at=now,
                        email_verified_at=now,
                    ),
                    told=None,  # seeded rows: no activity to show
                )
                client = ClientInfo(ip_address=f"203.0.113.{n % 250}", user_agent=USER_AGENT)
                await issuer.start(user, client, assurance.PASSWORD)
    finally:
        await database.close()


@asynccontextmanager
async def issuing(settings: Settings) -> AsyncIterator[SessionIssuer]:
    """What every sign-in starts its session with, on the service's own adapters."""
    async with AsyncExitStack() as stack:
        ports = (await open_ports(settings, SystemClock(), stack)).ports
        chosen = policies(settings)
        yield session_services(ports, chosen.session, chosen.mail)[1]
