from __future__ import annotations

import pytest

from tests.fakes.clock import FakeClock
from tests.unit.world import World, build_world


@pytest.fixture
def world(clock: FakeClock) -> World:
    return build_world(clock)
