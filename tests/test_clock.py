"""Session time: a fake clock for instant tests, a real one that wakes on time without drift."""

from __future__ import annotations

import time

import pytest

from assistant.clock import FakeClock, RealClock, make_clock


def test_fake_clock_moves_only_when_waiting() -> None:
    clock = FakeClock(5.0)
    assert clock.now() == 5.0
    clock.sleep_until(12.5)
    assert clock.now() == 12.5
    clock.sleep_until(3.0)  # a deadline already past: no waiting, no going back
    assert clock.now() == 12.5
    clock.advance(0.5)
    assert clock.now() == 13.0


def test_fake_clock_takes_no_real_time() -> None:
    clock = FakeClock()
    began = time.monotonic()
    clock.sleep_until(3600.0)
    assert time.monotonic() - began < 0.1 and clock.now() == 3600.0


def test_make_clock() -> None:
    assert isinstance(make_clock(0), FakeClock)
    assert isinstance(make_clock(1.0), RealClock)
    with pytest.raises(ValueError):
        RealClock(0)


def test_real_clock_wakes_on_time() -> None:
    clock = RealClock()
    late = []
    for step in (0.01, 0.02, 0.005, 0.03):
        deadline = clock.now() + step
        clock.sleep_until(deadline)
        late.append(clock.now() - deadline)
    assert min(late) >= 0, "never wakes early"
    assert max(late) < 0.02


def test_real_clock_has_no_cumulative_drift() -> None:
    """50 deadlines 10 ms apart, with work in between: the last wakes on time, not 50 x late."""
    clock = RealClock()
    start = clock.now()
    for i in range(1, 51):
        time.sleep(0.002)  # speaking, recognizing...
        clock.sleep_until(start + i * 0.01)
    assert clock.now() - (start + 0.5) < 0.02


def test_scaled_real_clock() -> None:
    clock = RealClock(scale=0.1)  # ten times faster: 1 clock second is 100 ms
    began = time.monotonic()
    clock.sleep_until(clock.now() + 1.0)
    elapsed = time.monotonic() - began
    assert 0.09 <= elapsed < 0.15
