"""A real SMTP server on loopback (aiosmtpd), keeping every message it accepts.

It can be stopped and started again on the same port (the "SMTP is down" tests), and told
to answer DATA with a given reply (``451 …`` transient, ``550 …`` permanent).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

TOKEN_IN_LINK = re.compile(r"[?&]token=([A-Za-z0-9_-]+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._sink.reply is not None:
            return self._sink.reply
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self._sink.messages.append(message)
        self._sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reply: str | None = None  # answer DATA with this instead of accepting
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def to(self, recipient: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == recipient]

    async def wait_for(self, recipient: str, count: int = 1, timeout: float = 5.0) -> EmailMessage:
        """The ``count``-th message to ``recipient``, once it has arrived."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(recipient)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no message {count} to {recipient}: {self.envelopes}")
            await asyncio.sleep(0.01)
        return self.to(recipient)[count - 1]

    def about(self, recipient: str, subject_start: str) -> list[EmailMessage]:
        return [m for m in self.to(recipient) if str(m["Subject"]).startswith(subject_start)]

    async def wait_for_subject(
        self, recipient: str, subject_start: str, count: int, timeout: float = 5.0
    ) -> EmailMessage:
        """The ``count``-th message to ``recipient`` whose subject starts so."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.about(recipient, subject_start)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no message {count} {subject_start!r} to {recipient}")
            await asyncio.sleep(0.01)
        return self.about(recipient, subject_start)[count - 1]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    content: str = part.get_content()
    return content


def link_token(message: EmailMessage) -> str:
    found = TOKEN_IN_LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A running SMTP server on a free loopback port (registered in ``tests/conftest.py``)."""
    with SmtpSink() as sink:
        yield sink
