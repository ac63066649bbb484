"""Session time: real (optionally scaled) or fake, behind one small interface.

The routine's beats have absolute deadlines, so waiting until a deadline
(not for a duration) keeps the pace without drift over a whole routine.
"""

from __future__ import annotations

import time


class FakeClock:
    """Time that only moves when someone waits: tests and `--time-scale 0` run instantly."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep_until(self, deadline: float) -> None:
        self._now = max(self._now, deadline)

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def real_seconds(self, seconds: float) -> float:
        return 0.0


class RealClock:
    """Monotonic time; with `scale` < 1 every wait is shorter (demos), > 1 longer."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive; use FakeClock for no waiting")
        self._scale = scale
        self._t0 = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._t0) / self._scale

    def real_seconds(self, seconds: float) -> float:
        return max(0.0, seconds) * self._scale

    def sleep_until(self, deadline: float) -> None:
        # Sleep most of the way, then spin briefly: time.sleep may overshoot by a millisecond.
        while True:
            remaining = (deadline - self.now()) * self._scale
            if remaining <= 0:
                return
            time.sleep(remaining - 0.002 if remaining > 0.004 else 0.0002)


def make_clock(time_scale: float) -> FakeClock | RealClock:
    return FakeClock() if time_scale == 0 else RealClock(time_scale)
