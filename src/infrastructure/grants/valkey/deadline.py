"""Deadlines on Valkey's own clock, for the steps that must not run late (``deadline.lua``)."""

from __future__ import annotations

import time


def _micros() -> int:
    return time.monotonic_ns() // 1000


class ValkeyClock:
    """Valkey's clock as this process sees it: its own monotonic clock plus an offset learnt
    from the stamp on each reply. Valkey stamped the reply before it arrived here, so the
    offset a stamp gives is at most the true one: a deadline set from it comes early (by
    the reply's way back), never late. Before the first stamp the wall clocks are taken to
    agree; a Valkey clock that is off, or jumps, is learnt from the next reply."""

    def __init__(self) -> None:
        self._offset = time.time_ns() // 1000 - _micros()

    def deadline(self, seconds: float) -> int:
        """``seconds`` from now, on Valkey's clock, in µs."""
        return _micros() + self._offset + round(seconds * 1_000_000)

    def stamped(self, valkey_now: int) -> None:
        """A reply stamped ``valkey_now`` (µs) by Valkey arrives now."""
        self._offset = valkey_now - _micros()
