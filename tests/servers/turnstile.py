"""A fake Cloudflare Turnstile siteverify endpoint: a real HTTP server on 127.0.0.1.

    with FakeTurnstile() as fake:           # or: fake = FakeTurnstile(); ...; fake.close()
        fake.mode = "fail"
        verifier = TurnstileVerifier(client, secret="s", verify_url=fake.url)
        ...
        assert fake.requests[0]["response"] == "token"

Modes: pass, fail (invalid-input-response), duplicate (timeout-or-duplicate),
slow (answers after ``delay`` seconds), error500, non_json, malformed (JSON without
``success``), internal_error, flaky (500 for the first request of each
idempotency_key, a pass for its retry).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Literal, get_args
from urllib.parse import parse_qs, urlsplit

from tests.servers.loopback import LoopbackFake, QuietHandler

Mode = Literal[
    "pass",
    "fail",
    "duplicate",
    "slow",
    "error500",
    "non_json",
    "malformed",
    "internal_error",
    "flaky",
]
MODES: tuple[Mode, ...] = get_args(Mode)

_Answer = tuple[int, str, bytes]


class FakeTurnstile(LoopbackFake):
    def __init__(
        self,
        mode: Mode = "pass",
        *,
        hostname: str = "auth.example.test",
        action: str = "register",
        delay: float = 5.0,
    ) -> None:
        self.mode = mode
        self.hostname = hostname
        self.action = action
        self.delay = delay
        self.requests: list[dict[str, str]] = []
        self._failed_keys: set[str] = set()
        self._lock = threading.Lock()
        super().__init__(_Handler)
        self.url = f"{self.origin}/siteverify"

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self._mode = mode

    def answer(self, form: dict[str, str]) -> _Answer:
        with self._lock:
            self.requests.append(form)
            mode = self.mode
            first_try = form.get("idempotency_key", "") not in self._failed_keys
            if mode == "flaky" and first_try:
                self._failed_keys.add(form.get("idempotency_key", ""))
        match mode:
            case "pass":
                return self._passed()
            case "fail":
                return _json(200, {"success": False, "error-codes": ["invalid-input-response"]})
            case "duplicate":
                return _json(200, {"success": False, "error-codes": ["timeout-or-duplicate"]})
            case "internal_error":
                return _json(200, {"success": False, "error-codes": ["internal-error"]})
            case "slow":
                self.closing.wait(self.delay)
                return self._passed()
            case "error500":
                return 500, "text/html", b"<html><body>500 Internal Server Error</body></html>"
            case "non_json":
                return 200, "text/html", b"<html><body>Just a moment...</body></html>"
            case "malformed":
                return _json(200, {"ok": True})
            case "flaky":
                return (500, "text/plain", b"try again") if first_try else self._passed()

    def _passed(self) -> _Answer:
        return _json(
            200,
            {
                "success": True,
                "challenge_ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "hostname": self.hostname,
                "error-codes": [],
                "action": self.action,
                "cdata": "",
            },
        )


def _json(status: int, body: object) -> _Answer:
    return status, "application/json", json.dumps(body).encode()


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/siteverify":
            self.reply(404, "text/plain", b"not found")
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fields = parse_qs(raw.decode(), keep_blank_values=True)
        fake = self.server.fake
        assert isinstance(fake, FakeTurnstile)
        self.reply(*fake.answer({name: values[0] for name, values in fields.items()}))
