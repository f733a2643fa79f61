"""``AuthgateAuth``: an ``httpx.Auth`` that sends authgate's access token as a bearer token
and does the refresh dance, for ``httpx.Client`` and ``httpx.AsyncClient`` alike.

The access token stays in memory; the refresh token travels in the JSON body (``X-Auth-
Transport: body``, no cookie jar) and is kept by the caller's storage. A token close to its
expiry is refreshed before use; a 401 gets one refresh and one retry. Concurrent requests
share one refresh (single flight): the first takes the lock and refreshes, the others wait
and use what it got. The server rotates the refresh token at every refresh (RFC 9700
§4.14.2), so each successor is written to the storage before it is used.

Step-up (RFC 9470): a sensitive action answered 401 ``insufficient_user_authentication``
goes to the ``step_up`` hook, which asks the user and returns the proof (``{"password":
…}``, with ``"code"`` or ``"recovery_code"`` on an account with an app); the client sends it
to ``POST /auth/reauthenticate`` and the request once more with the new access token.

Every sign-in names its device (``X-Device-Id``): without a cookie jar the server would see
a new device each time and mail the account's owner a new-device notice at every sign-in, a
mail they would learn to ignore. Keep ``device_id`` beside the refresh token and pass it
back, so a restarted program is still the device it was.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import secrets
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import httpx

from authgate_client.errors import AuthgateError, SignedOut
from authgate_client.storage import MemoryStorage, RefreshTokenStorage

BODY_TRANSPORT = {"X-Auth-Transport": "body"}
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")  # what the server takes as X-Device-Id


@dataclass(frozen=True, slots=True)
class StepUpChallenge:
    """What a sensitive action asks for: a proof at most ``max_age`` seconds old, and two
    factors when ``acr_values`` is ``"aal2"``."""

    max_age: int | None
    acr_values: str | None

    @classmethod
    def of(cls, response: httpx.Response) -> StepUpChallenge | None:
        """The challenge of a 401 ``insufficient_user_authentication``, else None."""
        if response.status_code != 401:
            return None
        try:
            problem = response.json()
        except ValueError:
            return None
        if not isinstance(problem, dict) or problem.get("code") != INSUFFICIENT:
            return None
        max_age, acr = problem.get("max_age"), problem.get("acr_values")
        return cls(
            max_age if isinstance(max_age, int) else None, acr if isinstance(acr, str) else None
        )


# Asked to prove the user again: the proof's JSON body, or None to give up (the request's
# answer is then the 401). An async client may pass a coroutine function.
StepUpHook: TypeAlias = Callable[
    [StepUpChallenge], dict[str, str] | Awaitable[dict[str, str] | None] | None
]
INSUFFICIENT = "insufficient_user_authentication"


@dataclass(frozen=True, slots=True)
class _Access:
    token: str
    stale_at: float  # the clock reading from which it is refreshed before use


class AuthgateAuth(httpx.Auth):
    """Sign in with ``login``/``alogin`` (or ``register``), then pass it as ``auth=`` to the
    client that calls your API. ``issuer`` is authgate's base URL. ``refresh_margin``: how
    many seconds before its expiry an access token is refreshed rather than sent. Raises
    ``SignedOut`` from a request when there is no session any more (the storage is cleared),
    ``AuthgateError`` when a refresh fails otherwise (429, 503: the session is kept).
    ``device_id``: which device this is to the server (16 to 128 URL-safe characters); a
    new one when left out, readable as ``device_id`` to keep for the next run.
    ``api_origins``: the other origins (your APIs) the access token may go to; a request to
    any origin that is neither one of them nor the issuer's goes out as it is, without it."""

    def __init__(
        self,
        issuer: str,
        storage: RefreshTokenStorage | None = None,
        *,
        api_origins: Iterable[str] = (),
        refresh_margin: float = 30.0,
        step_up: StepUpHook | None = None,
        device_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if device_id is not None and not _DEVICE_ID.fullmatch(device_id):
            raise ValueError("device_id: 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-'")
        self.device_id = device_id or secrets.token_urlsafe(24)
        self._issuer = issuer.rstrip("/")
        # A bearer token is good for whoever holds it (RFC 6750 §5.2, "don't pass bearer
        # tokens in... to any party other than the one it is meant for"): an httpx client
        # shared with calls to a third party must not hand it over.
        self._origins = _origins([issuer, *api_origins])
        self._storage = storage if storage is not None else MemoryStorage()
        self._margin = refresh_margin
        self._step_up = step_up
        self._clock = clock
        self._access: _Access | None = None
        self._lock = threading.Lock()
        self._async_lock = asyncio.Lock()

    @property
    def signed_in(self) -> bool:
        return self._storage.get() is not None

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        if _origin(request.url) not in self._origins:
            yield request
            return
        request.read()  # a streamed body is kept: after a 401 it goes out again
        refused: str | None = None  # the token a 401 came back for
        while True:
            token = self._fresh(unless=refused)
            if token is None:
                with self._lock:
                    token = self._fresh(unless=refused)
                    if token is None:
                        started = self._clock()
                        answer = yield self._refresh_request()
                        answer.read()
                        token = self._refreshed(answer, started)
            response = yield _bearer(request, token)
            if not self._answered_by_ours(response):
                return
            if self._step_up is not None and (challenge := _challenge(response)) is not None:
                proof = self._step_up(challenge)
                if inspect.isawaitable(proof):
                    raise TypeError("a coroutine step_up hook needs httpx.AsyncClient")
                if proof is None:
                    return
                started = self._clock()
                answer = yield self._reauthentication(token, proof)
                answer.read()
                yield _bearer(request, self._accept_access(_succeeded(answer), started))
                return
            if response.status_code != 401 or refused is not None:
                return
            refused = token

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if _origin(request.url) not in self._origins:
            yield request
            return
        await request.aread()
        refused: str | None = None
        while True:
            token = self._fresh(unless=refused)
            if token is None:
                async with self._async_lock:
                    token = self._fresh(unless=refused)
                    if token is None:
                        started = self._clock()
                        answer = yield self._refresh_request()
                        await answer.aread()
                        token = self._refreshed(answer, started)
            response = yield _bearer(request, token)
            if not self._answered_by_ours(response):
                return
            if self._step_up is not None:
                await response.aread()
                if (challenge := StepUpChallenge.of(response)) is not None:
                    proof = self._step_up(challenge)
                    if inspect.isawaitable(proof):
                        proof = await proof
                    if proof is None:
                        return
                    started = self._clock()
                    answer = yield self._reauthentication(token, proof)
                    await answer.aread()
                    yield _bearer(request, self._accept_access(_succeeded(answer), started))
                    return
            if response.status_code != 401 or refused is not None:
                return
            refused = token

    def _answered_by_ours(self, response: httpx.Response) -> bool:
        """Whether the answer came from an origin the token goes to: one redirected elsewhere
        (an open redirect on your API) must not set off a refresh or ask for a password."""
        return _origin(response.request.url) in self._origins

    def register(
        self,
        client: httpx.Client,
        email: str,
        password: str,
        *,
        name: str | None = None,
        turnstile_token: str | None = None,
    ) -> dict[str, Any]:
        """Create the account and sign in; the user. With AUTH_REQUIRE_VERIFIED_EMAIL the
        server signs nobody in before the mailed link is used: ``signed_in`` stays False."""
        started = self._clock()
        body = _register_body(email, password, name, turnstile_token)
        return self._signed_in(self._post(client, "/auth/register", body), started)

    async def aregister(
        self,
        client: httpx.AsyncClient,
        email: str,
        password: str,
        *,
        name: str | None = None,
        turnstile_token: str | None = None,
    ) -> dict[str, Any]:
        started = self._clock()
        body = _register_body(email, password, name, turnstile_token)
        return self._signed_in(await self._apost(client, "/auth/register", body), started)

    def login(self, client: httpx.Client, email: str, password: str) -> dict[str, Any]:
        """Sign in; the user. Raises ``AuthgateError`` (``invalid_credentials``, …)."""
        started = self._clock()
        body = {"email": email, "password": password}
        return self._signed_in(self._post(client, "/auth/login", body), started)

    async def alogin(self, client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
        started = self._clock()
        body = {"email": email, "password": password}
        return self._signed_in(await self._apost(client, "/auth/login", body), started)

    def request_email_sign_in(
        self, client: httpx.Client, email: str, *, turnstile_token: str | None = None
    ) -> str:
        """Ask for a sign-in code and link by mail (AUTH_EMAIL_SIGNIN); the answer is the
        same for any address. Returns the request id the mailed code is bound to: pass it to
        ``email_sign_in`` (a code from another request is refused)."""
        body = _email_body(email, turnstile_token)
        requested = _succeeded(self._post(client, "/auth/email/signin/request", body))
        return str(requested["request_id"])

    async def arequest_email_sign_in(
        self, client: httpx.AsyncClient, email: str, *, turnstile_token: str | None = None
    ) -> str:
        body = _email_body(email, turnstile_token)
        answer = await self._apost(client, "/auth/email/signin/request", body)
        return str(_succeeded(answer)["request_id"])

    def email_sign_in(
        self, client: httpx.Client, email: str, code: str, request_id: str
    ) -> dict[str, Any]:
        """Sign in with the mailed code; the user. ``invalid_email_code`` when wrong (five
        wrong codes end the request), ``mfa_required`` when the account has a second factor."""
        started = self._clock()
        body = {"email": email, "code": code, "request_id": request_id}
        return self._signed_in(self._post(client, "/auth/email/signin", body), started)

    async def aemail_sign_in(
        self, client: httpx.AsyncClient, email: str, code: str, request_id: str
    ) -> dict[str, Any]:
        started = self._clock()
        body = {"email": email, "code": code, "request_id": request_id}
        return self._signed_in(await self._apost(client, "/auth/email/signin", body), started)

    def email_link_sign_in(self, client: httpx.Client, token: str) -> dict[str, Any]:
        """Sign in with the token of the mailed link (it works from any device); the user."""
        started = self._clock()
        return self._signed_in(self._post(client, "/auth/email/signin", {"token": token}), started)

    async def aemail_link_sign_in(self, client: httpx.AsyncClient, token: str) -> dict[str, Any]:
        started = self._clock()
        answer = await self._apost(client, "/auth/email/signin", {"token": token})
        return self._signed_in(answer, started)

    def logout(self, client: httpx.Client) -> None:
        """End the session on the server and forget it here, whatever the server says."""
        token = self._storage.get()
        try:
            if token is not None:
                _succeeded(self._post(client, "/auth/logout", {"refresh_token": token}))
        finally:
            self._forget()

    async def alogout(self, client: httpx.AsyncClient) -> None:
        token = self._storage.get()
        try:
            if token is not None:
                _succeeded(await self._apost(client, "/auth/logout", {"refresh_token": token}))
        finally:
            self._forget()

    def _fresh(self, unless: str | None) -> str | None:
        access = self._access
        if access is None or access.token == unless or self._clock() >= access.stale_at:
            return None
        return access.token

    def _refresh_request(self) -> httpx.Request:
        token = self._storage.get()
        if token is None:
            self._access = None
            raise SignedOut()
        return httpx.Request(
            "POST",
            f"{self._issuer}/auth/refresh",
            json={"refresh_token": token},
            headers=BODY_TRANSPORT,
        )

    def _refreshed(self, answer: httpx.Response, started: float) -> str:
        if answer.status_code == 401:  # invalid_refresh_token, refresh_token_reused
            self._forget()
            problem = AuthgateError.of(answer)
            raise SignedOut(problem.code, problem.detail)
        return self._accept(_succeeded(answer), started)

    def _signed_in(self, response: httpx.Response, started: float) -> dict[str, Any]:
        body = _succeeded(response)
        if "access_token" in body:
            self._accept(body, started)
        user: dict[str, Any] = body["user"]
        return user

    def _accept(self, body: dict[str, Any], started: float) -> str:
        # The rotated refresh token is kept before anything uses the new access token.
        self._storage.set(body["refresh_token"])
        token: str = body["access_token"]
        self._access = _Access(token, started + body["expires_in"] - self._margin)
        return token

    def _reauthentication(self, token: str, proof: dict[str, str]) -> httpx.Request:
        return httpx.Request(
            "POST",
            f"{self._issuer}/auth/reauthenticate",
            json=proof,
            headers={"Authorization": f"Bearer {token}"},
        )

    def _accept_access(self, body: dict[str, Any], started: float) -> str:
        """A new access token of the same session (the refresh token is unchanged)."""
        token: str = body["access_token"]
        self._access = _Access(token, started + body["expires_in"] - self._margin)
        return token

    def _forget(self) -> None:
        self._access = None
        self._storage.clear()

    def _post(self, client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
        return client.send(self._call(client, path, body), auth=None)

    async def _apost(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any]
    ) -> httpx.Response:
        return await client.send(self._call(client, path, body), auth=None)

    def _call(
        self, client: httpx.Client | httpx.AsyncClient, path: str, body: dict[str, Any]
    ) -> httpx.Request:
        """A call of authgate's own (sign-in, sign-out): no bearer token, no refresh."""
        headers = {**BODY_TRANSPORT, "X-Device-Id": self.device_id}
        return client.build_request("POST", f"{self._issuer}{path}", json=body, headers=headers)


def _challenge(response: httpx.Response) -> StepUpChallenge | None:
    if response.status_code != 401:
        return None
    response.read()
    return StepUpChallenge.of(response)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """The origin (RFC 6454 §4) of an absolute URL: scheme, host and port."""
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _origins(urls: Iterable[str]) -> set[tuple[str, str, int | None]]:
    found = {_origin(httpx.URL(url)) for url in urls}
    for scheme, host, _ in found:
        if scheme not in _DEFAULT_PORTS or not host:
            raise ValueError("issuer and api_origins: http(s) URLs with a host")
    return found


def _bearer(request: httpx.Request, token: str) -> httpx.Request:
    request.headers["Authorization"] = f"Bearer {token}"
    return request


def _succeeded(response: httpx.Response) -> dict[str, Any]:
    if not response.is_success:
        raise AuthgateError.of(response)
    if response.status_code == 204:
        return {}
    body: dict[str, Any] = response.json()
    return body


def _email_body(email: str, turnstile_token: str | None) -> dict[str, str]:
    body = {"email": email}
    if turnstile_token is not None:
        body["turnstile_token"] = turnstile_token
    return body


def _register_body(
    email: str, password: str, name: str | None, turnstile_token: str | None
) -> dict[str, Any]:
    body = {"email": email, "password": password, "name": name, "turnstile_token": turnstile_token}
    return {key: value for key, value in body.items() if value is not None}
