"""Cloudflare Turnstile: check a widget token with the siteverify endpoint.

Decisions follow Cloudflare's server-side validation docs
(https://developers.cloudflare.com/turnstile/get-started/server-side-validation/):
a token is at most 2048 characters, valid for 300 s and accepted only once, so a
retry must send the same ``idempotency_key`` or siteverify answers
``timeout-or-duplicate``. When siteverify cannot answer we fail closed.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx

from domain.errors import CaptchaFailed, CaptchaUnavailable

MAX_TOKEN_LENGTH = 2048

_log = logging.getLogger(__name__)


_OUR_FAULT = frozenset({"internal-error", "missing-input-secret", "invalid-input-secret"})


class TurnstileVerifier:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        secret: str,
        verify_url: str,
        expected_hostname: str | None = None,
        expected_action: str | None = None,
        timeout: float = 10.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self._client = client
        self._secret = secret
        self._verify_url = verify_url
        self._expected_hostname = expected_hostname
        self._expected_action = expected_action
        self._timeout = timeout
        self._log = logger or _log

    async def verify(self, token: str | None, remote_ip: str | None) -> None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise CaptchaFailed()
        form = {"secret": self._secret, "response": token, "idempotency_key": str(uuid.uuid4())}
        if remote_ip:
            form["remoteip"] = remote_ip
        self._judge(await self._post(form))

    async def _post(self, form: dict[str, str]) -> httpx.Response:
        try:
            return await self._post_once(form)
        except httpx.HTTPError as exc:
            self._log.info("turnstile siteverify failed (%s); retrying once", _describe(exc))
        try:
            return await self._post_once(form)
        except httpx.HTTPError as exc:
            self._log.warning("turnstile siteverify unavailable: %s", _describe(exc))
            raise CaptchaUnavailable() from exc

    async def _post_once(self, form: dict[str, str]) -> httpx.Response:
        response = await self._client.post(self._verify_url, data=form, timeout=self._timeout)
        if response.is_server_error:
            response.raise_for_status()
        return response

    def _judge(self, response: httpx.Response) -> None:
        try:
            body: Any = response.json()
        except ValueError as exc:
            self._log.warning("turnstile siteverify answered %s, not JSON", response.status_code)
            raise CaptchaUnavailable() from exc
        codes = body.get("error-codes", []) if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("success"), bool)
            or not isinstance(codes, list)
            or not all(isinstance(code, str) for code in codes)
            or (body["success"] and not response.is_success)
        ):
            self._log.warning("turnstile siteverify answered malformed JSON")
            raise CaptchaUnavailable()
        if not body["success"]:
            if _OUR_FAULT.intersection(codes):
                # Cloudflare's trouble or our misconfigured secret: not the user's fault,
                # so 503 (fail closed) rather than telling a human they look like a bot.
                self._log.error("turnstile siteverify cannot judge: %s", codes)
                raise CaptchaUnavailable()
            # The codes help operators; the client only learns that the check failed.
            self._log.warning("turnstile rejected the token: %s", codes)
            raise CaptchaFailed()
        self._expect("hostname", self._expected_hostname, body.get("hostname"))
        self._expect("action", self._expected_action, body.get("action"))

    def _expect(self, field: str, expected: str | None, actual: object) -> None:
        # A token solved on another site or widget is valid for Cloudflare but not for us.
        if expected is not None and actual != expected:
            self._log.warning("turnstile %s mismatch: expected %r, got %r", field, expected, actual)
            raise CaptchaFailed()


class DisabledCaptcha:
    """Used when no Turnstile secret is configured: every request passes."""

    async def verify(self, token: str | None, remote_ip: str | None) -> None:
        return None


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__
