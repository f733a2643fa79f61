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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, get_args
from urllib.parse import parse_qs, urlsplit

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


class FakeTurnstile:
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
        self._closing = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}/siteverify"

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self._mode = mode

    def close(self) -> None:
        self._closing.set()  # wakes "slow" handlers so nothing outlives the fake
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeTurnstile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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
                self._closing.wait(self.delay)
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeTurnstile) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/siteverify":
            self._reply((404, "text/plain", b"not found"))
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fields = parse_qs(raw.decode(), keep_blank_values=True)
        self._reply(self.server.fake.answer({name: values[0] for name, values in fields.items()}))

    def _reply(self, answer: _Answer) -> None:
        status, content_type, body = answer
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the "slow" mode): nothing left to tell it

    def log_message(self, format: str, *args: object) -> None:
        pass
