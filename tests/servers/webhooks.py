"""A webhook receiver on loopback: verifies every request with the Standard Webhooks
reference library (not our own code), records what it accepted in arrival order, and answers
as told: a status, ``HANG`` (no answer until the test ends), ``CLOSE`` (the connection
closed without an answer) or ``ENDLESS`` (200, then a body that never ends)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.servers.loopback import LoopbackFake, QuietHandler

HANG = 0
CLOSE = -1
ENDLESS = -2


@dataclass(frozen=True, slots=True)
class Received:
    message_id: str
    type: str
    data: dict[str, str]
    answered: int


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        receiver = self.server.fake
        assert isinstance(receiver, WebhookReceiver)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            payload = receiver.verifier.verify(body, dict(self.headers.items()))
        except WebhookVerificationError as e:
            receiver.rejected.append(str(e))
            self.reply(400, "text/plain", b"bad signature")
            return
        answer = receiver.next_answer()
        with receiver.lock:
            receiver.received.append(
                Received(self.headers["webhook-id"], payload["type"], payload["data"], answer)
            )
        if answer == HANG:
            receiver.closing.wait(30)
            return
        if answer == CLOSE:
            self.close_connection = True
            return
        if answer == ENDLESS:
            self.send_response(200)
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            self.wfile.write(b"x" * 65536)
            self.wfile.flush()
            receiver.closing.wait(30)
            return
        self.reply(answer, "text/plain", b"")


class WebhookReceiver(LoopbackFake):
    def __init__(self, secret: str, *answers: int) -> None:
        self.verifier = Webhook(secret)
        self.answers = deque(answers)  # then 204 for ever
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.lock = threading.Lock()
        super().__init__(_Handler)
        self.url = f"{self.origin}/hooks"

    def verify_with(self, secret: str) -> None:
        """For an endpoint whose secret the service made once this receiver had its URL."""
        self.verifier = Webhook(secret)

    def next_answer(self) -> int:
        with self.lock:
            return self.answers.popleft() if self.answers else 204

    def delivered(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.answered < 300]
