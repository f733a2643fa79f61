"""A fake Pwned Passwords range API: a real HTTP server on 127.0.0.1.

    with FakePwnedPasswords(breached={"password123": 42}) as fake:
        checker = PwnedPasswordsRange(client, url=fake.url)
        ...
        assert fake.requests[0].prefix == "CBFDA"

It answers ``GET /range/{prefix}`` as the real one does: ``SUFFIX:COUNT`` lines for the
prefix's known hashes, and with ``Add-Padding: true`` decoy lines of count 0 (``padded``
passwords are among them, as a decoy that happens to be their suffix would be).
Modes: answer, slow (answers after ``delay`` seconds), error500, garbage (not range lines).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from tests.servers.loopback import LoopbackFake, QuietHandler

Mode = Literal["answer", "slow", "error500", "garbage"]
DECOYS = 5


@dataclass(frozen=True, slots=True)
class RangeRequest:
    path: str
    headers: dict[str, str]  # names lower-cased

    @property
    def prefix(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


class FakePwnedPasswords(LoopbackFake):
    def __init__(
        self,
        breached: Mapping[str, int] | None = None,
        *,
        padded: tuple[str, ...] = (),
        mode: Mode = "answer",
        delay: float = 5.0,
    ) -> None:
        self.counts = {sha1(p): n for p, n in (breached or {}).items()}
        self.counts.update({sha1(p): 0 for p in padded})
        self.mode: Mode = mode
        self.delay = delay
        self.requests: list[RangeRequest] = []
        self._lock = threading.Lock()
        super().__init__(_Handler)
        self.url = f"{self.origin}/range/{{prefix}}"

    def answer(self, request: RangeRequest) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append(request)
        match self.mode:
            case "error500":
                return 500, "text/plain", b"Internal Server Error"
            case "garbage":
                return 200, "text/html", b"<html><body>Just a moment...</body></html>"
            case "slow":
                self.closing.wait(self.delay)
        prefix = request.prefix.upper()
        lines = [f"{h[5:]}:{n}" for h, n in self.counts.items() if h.startswith(prefix)]
        if request.headers.get("add-padding") == "true":
            lines += [f"{secrets.token_hex(35)[:35].upper()}:0" for _ in range(DECOYS)]
        return 200, "text/plain", "\r\n".join(lines).encode()


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake = self.server.fake
        assert isinstance(fake, FakePwnedPasswords)
        self.reply(*fake.answer(RangeRequest(self.path, headers)))
