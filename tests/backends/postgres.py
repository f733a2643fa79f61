"""A throwaway PostgreSQL database for one test run.

First that applies: ``AUTH_TEST_POSTGRES_URL`` (a server URL; we create our own database
on it); Docker → testcontainers ``postgres:17-alpine``; a server already listening on
127.0.0.1:5432 with the ``postgres`` user; else unavailable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.backends import docker_reachable, run_sync, run_token, unavailable

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _answers(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def admin_execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def _server_url() -> Iterator[str]:
    url = os.environ.get("AUTH_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if docker_reachable():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    if run_sync(_answers(LOCAL_SERVER)):
        yield LOCAL_SERVER
        return
    unavailable("no AUTH_TEST_POSTGRES_URL, no Docker, nothing listening on 127.0.0.1:5432")


@contextmanager
def postgres_database() -> Iterator[str]:
    """Yield the URL of a fresh database of our own; drop it afterwards."""
    with ExitStack() as stack:
        server = stack.enter_context(_server_url())
        if not run_sync(_answers(server)):
            unavailable(f"PostgreSQL at {urlsplit(server).hostname} does not answer")
        name = f"authgate_test_{run_token()}"
        run_sync(admin_execute(server, f'CREATE DATABASE "{name}"'))
        try:
            yield _with_database(server, name)
        finally:
            run_sync(admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


TABLES = (
    "users, user_identities, sessions, refresh_families, revoked_sessions,"
    " one_time_values, rate_limit_hits, mail_tokens, outbox, totp_credentials, recovery_codes,"
    " passkeys, webhook_endpoints, webhook_deliveries, security_events, security_event_acks,"
    " signal_streams, security_activity"
)


async def truncate(url: str) -> None:
    """Empty our own throwaway database between tests."""
    await admin_execute(url, f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
