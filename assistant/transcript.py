"""The session record a caregiver or clinician reads afterwards.

One small dataclass per event type and one place that writes them as JSON
lines, flushed as they happen so nothing is lost if the session dies.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class SessionStart(Event):
    """The first event of every session: sessions appended to one file stay apart."""

    type: ClassVar[str] = "session"
    id: str
    started: str  # wall-clock time, ISO 8601 with its time zone
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionEnd(Event):
    """How the session ended: goodbye, interrupted (Ctrl-C), end of input, or a failure."""

    type: ClassVar[str] = "end"
    reason: str
    disposition: str | None = None


@dataclass(frozen=True)
class Say(Event):
    type: ClassVar[str] = "say"
    text: str
    started: float | None = None  # seconds since session start, audio out
    ended: float | None = None
    interrupted_by: str | None = None


@dataclass(frozen=True)
class Listen(Event):
    type: ClassVar[str] = "listen"
    expected: list[str] = field(default_factory=list)
    until: float | None = None


@dataclass(frozen=True)
class HeardEvent(Event):
    type: ClassVar[str] = "heard"
    text: str | None  # None: silence; otherwise exactly as typed or heard
    confidence: float | None = None
    understood: str = "silence"  # what it did: an answer, a command, red_flag, ...
    why: str = ""  # the words that decided it
    meaning: dict[str, Any] = field(default_factory=dict)  # the interpretation
    source: str | None = None  # voice, touch (the screen) or keyboard; None: silence


@dataclass(frozen=True)
class StateEvent(Event):
    type: ClassVar[str] = "state"
    name: str


@dataclass(frozen=True)
class Outcome(Event):
    type: ClassVar[str] = "outcome"
    disposition: str  # emergency | urgent | routine
    reason: str = ""


@dataclass(frozen=True)
class Exercise(Event):
    type: ClassVar[str] = "exercise"
    name: str
    side: str | None = None
    set: int | None = None
    rep: int | None = None
    of: int | None = None
    hold_left: int | None = None
    phase: str = "rep"


@dataclass(frozen=True)
class RoutineProgress(Event):
    """The routine as a whole: the exercises planned, then each one done or skipped."""

    type: ClassVar[str] = "routine"
    kind: str  # planned | done | skipped
    exercise: str | None = None
    exercises: list[str] = field(default_factory=list)  # planned: all of them, in order


@dataclass(frozen=True)
class Error(Event):
    type: ClassVar[str] = "error"
    message: str


@dataclass(frozen=True)
class AlertEvent(Event):
    """An alert to staff or a caregiver: raised (with its kind and reason), then queued,
    sent, delivered, acknowledged, or waiting for the broker, with the wall-clock time."""

    type: ClassVar[str] = "alert"
    id: str
    status: str
    at: str = ""
    kind: str | None = None
    reason: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Timing(Event):
    """Routine timing: when a beat was planned and when it really began."""

    type: ClassVar[str] = "timing"
    planned: float
    actual: float


class Transcript:
    """Writes events with `t`, seconds since the session's start."""

    def __init__(self, sink: IO[str] | None = None, clock: Any = None) -> None:
        self._sink = sink
        self._clock = clock
        self._t0 = self._now()
        self.events: list[dict[str, Any]] = []

    @classmethod
    def to_file(cls, path: str | Path | None, clock: Any = None) -> Transcript:
        sink = open(path, "a", encoding="utf-8", buffering=1) if path else None  # noqa: SIM115
        return cls(sink, clock)

    def _now(self) -> float:
        return self._clock.now() if self._clock is not None else time.monotonic()

    def elapsed(self) -> float:
        return round(self._now() - self._t0, 4)

    def since_start(self, clock_time: float) -> float:
        """A time read from the session clock, as seconds since the session began."""
        return round(clock_time - self._t0, 4)

    def write(self, event: Event, t: float | None = None) -> None:
        record = {"t": self.elapsed() if t is None else t, **event.to_dict()}
        self.events.append(record)
        if self._sink is not None:
            self._sink.write(json.dumps(record) + "\n")
            self._sink.flush()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
