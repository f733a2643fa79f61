"""Have I Been Pwned's Pwned Passwords, asked by k-anonymity through its range API
(https://haveibeenpwned.com/API/v3#PwnedPasswords): only the first 5 hex characters of the
password's SHA-1 leave the service; the answer lists every known suffix of that prefix with
its count. ``Add-Padding: true`` asks for decoy suffixes (count 0) so the answer's size tells
an observer nothing about the prefix."""

from __future__ import annotations

import asyncio
import hashlib

import httpx

from domain.ports import BreachCheckUnavailable, BreachedPasswords

PREFIX_LENGTH = 5


class PwnedPasswordsRange(BreachedPasswords):
    """``url``: a template with ``{prefix}``; ``timeout``: the whole exchange's bound."""

    def __init__(self, client: httpx.AsyncClient, *, url: str, timeout: float = 2.0) -> None:
        self._client = client
        self._url = url
        self._timeout = timeout

    async def is_breached(self, password: str) -> bool:
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
        return _count(await self._range(prefix), suffix) > 0

    async def _range(self, prefix: str) -> str:
        try:
            # httpx bounds each phase; this bounds them together (a server that trickles).
            async with asyncio.timeout(self._timeout):
                response = await self._client.get(
                    self._url.replace("{prefix}", prefix),
                    headers={"Add-Padding": "true"},
                    timeout=self._timeout,
                )
        except (TimeoutError, httpx.TimeoutException) as e:
            raise BreachCheckUnavailable("timeout") from e
        except httpx.HTTPError as e:
            raise BreachCheckUnavailable("unreachable") from e
        if not response.is_success:
            raise BreachCheckUnavailable(f"http_{response.status_code}")
        return response.text


def _count(body: str, suffix: str) -> int:
    """The count of ``suffix`` in a range answer (``SUFFIX:COUNT`` lines); 0 when absent."""
    for line in filter(None, map(str.strip, body.splitlines())):
        found, separator, count = line.partition(":")
        if not separator or not count.strip().isdigit():
            raise BreachCheckUnavailable("malformed")
        if found.upper() == suffix:
            return int(count)
    return 0


class NoBreachCheck(BreachedPasswords):
    """AUTH_PWNED_CHECK off: no password is known from breaches."""

    async def is_breached(self, password: str) -> bool:
        return False
