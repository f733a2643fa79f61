"""How the tests get real backends.

First that applies: a URL from the environment (``AUTH_TEST_POSTGRES_URL``,
``AUTH_TEST_VALKEY_URL``); Docker reachable → testcontainers; local servers or binaries.
A backend that cannot be had is a skip with its reason, or a failure when
``AUTH_TEST_REQUIRE_BACKENDS=1`` (CI).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, TypeVar

import pytest

T = TypeVar("T")

REQUIRE_BACKENDS = os.environ.get("AUTH_TEST_REQUIRE_BACKENDS", "") == "1"


def unavailable(reason: str) -> NoReturn:
    if REQUIRE_BACKENDS:
        pytest.fail(f"required test backend unavailable: {reason}", pytrace=False)
    pytest.skip(f"backend unavailable: {reason}")


def docker_reachable() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=2)
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def run_token() -> str:
    """A short random name part, so parallel runs never touch each other's data."""
    return secrets.token_hex(4)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, even inside a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
