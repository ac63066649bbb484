"""The routine's clock: which beat is due, and when the next one is, from the plan alone.

Beats in, due times and cues out. Deadlines follow the plan (each beat is due
a fixed time after the one before, times the pace), never the time it took
to speak, so a slow synthesizer cannot make the routine drift. No clock is
read here: the time is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.dialog_data import Pace
from assistant.routine_plan import Beat


@dataclass
class RoutinePlayer:
    beats: list[Beat] = field(default_factory=list)
    cursor: int = -1
    next_due: float = 0.0
    pace: float = 1.0
    completed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def started(self) -> bool:
        return bool(self.beats)

    def start(self, beats: list[Beat], now: float) -> None:
        self.beats, self.cursor, self.next_due = beats, -1, now

    def current(self) -> Beat | None:
        return self.beats[self.cursor] if 0 <= self.cursor < len(self.beats) else None

    def advance(self) -> Beat | None:
        """On to the next beat (None: the routine is over)."""
        self.cursor += 1
        return self.current()

    def play(self) -> tuple[Beat, float, float]:
        """The current beat, when it was due, and when the one after it is due."""
        beat = self.beats[self.cursor]
        due = self.next_due
        self.next_due += beat.seconds * self.pace
        return beat, due, self.next_due

    def resume(self, now: float) -> None:
        """The current beat again, timed from now (after a pause or a check-in)."""
        self.next_due = now
        self.cursor -= 1

    def skip_part(self, now: float) -> None:
        """On to the next part: an exercise skipped is not done, so its check-in goes too."""
        beat = self.current()
        if beat is None:
            return
        last_group = self.beats[-1].group
        if beat.kind not in ("rest", "check_in") and 0 < beat.group < last_group:
            self.skipped.append(beat.exercise)
        self.cursor = next((i for i, later in enumerate(self.beats) if later.group > beat.group),
                           len(self.beats))
        self.resume(now)

    def check_in_passed(self) -> None:
        beat = self.current()
        if beat is not None and beat.exercise not in self.completed:
            self.completed.append(beat.exercise)
        self.cursor += 1

    def exercises_planned(self) -> int:
        return len({b.exercise for b in self.beats if b.kind == "check_in"})

    def change_pace(self, command: str, pace: Pace) -> None:
        if command == "normal_speed":
            self.pace = 1.0
        elif command == "slower":
            self.pace = min(pace.max_slowdown, self.pace * pace.slower_factor)
        elif command == "faster":
            self.pace = max(pace.max_speedup, self.pace * pace.faster_factor)

    def carry_over(self, rate_steps: int, pace: Pace) -> None:
        """The pace of "slower" or "faster" said `rate_steps` times (remembered)."""
        self.pace = 1.0
        for _ in range(abs(rate_steps)):
            self.change_pace("slower" if rate_steps < 0 else "faster", pace)
