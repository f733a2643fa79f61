"""Unit tests: domain and use cases with in-memory fakes, and no I/O (ARCHITECTURE.md, Tests).

Anything that needs a socket or a file belongs in tests/adapters; the guard below makes a
unit test that opens a connection, listens, or asks for a temporary directory fail at once.
"""

from __future__ import annotations

import socket
from typing import NoReturn

import pytest

from tests.fakes.clock import FakeClock
from tests.unit.world import World, build_world

FILE_FIXTURES = {"tmp_path", "tmp_path_factory", "tmpdir", "tmpdir_factory"}


def _no_network(*_: object) -> NoReturn:
    raise AssertionError("a unit test opened a network connection: move it to tests/adapters")


@pytest.fixture(autouse=True)
def no_io(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = FILE_FIXTURES.intersection(request.fixturenames)
    assert not asked, f"a unit test asked for {sorted(asked)}: move it to tests/adapters"
    for method in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, method, _no_network)


@pytest.fixture
def world(clock: FakeClock) -> World:
    return build_world(clock)
