"""How closely the seated routine keeps its planned timing on a real clock.

The session loop runs the real dialog machine and RealClock; the voice
answers every check-in "no" at once, so what is measured is the clock and
the loop, beat by beat, against the plan.
"""

from __future__ import annotations

from assistant.clock import RealClock
from assistant.dialog import DialogMachine
from assistant.dialog_data import load_dialogs
from assistant.ports import Heard, Spoken, Vocabulary, VoiceChange
from assistant.session import Session
from assistant.transcript import Transcript


class _Participant:
    """Says yes to the routine, no to every check-in, nothing during the beats."""

    hears_during_waits = False

    def __init__(self, clock: RealClock, machine: DialogMachine, answers: dict[str, str]) -> None:
        self.clock = clock
        self.machine = machine
        self.answers = answers

    def say(self, text: str, interruptible_by: Vocabulary | None = None) -> Spoken:
        now = self.clock.now()
        return Spoken(now, now)

    def listen(self, vocabulary: Vocabulary, seconds: float) -> Heard | None:
        return Heard(self.answers.get(self.machine.state, "no"))

    def change_voice(self, change: VoiceChange) -> None:
        """Nothing to change."""


def routine_drift(time_scale: float = 1.0) -> dict[str, float]:
    """Largest and final gap (ms of real time) between planned and actual beat starts."""
    dialogs = load_dialogs()
    clock = RealClock(time_scale)
    machine = DialogMachine(dialogs)
    transcript = Transcript(None, clock)
    participant = _Participant(clock, machine, {
        "check.offer_routine": "yes", "routine.can_stand": "yes", "routine.ready": "yes"})
    Session(machine, participant, clock, transcript).run()
    timings = transcript.of_type("timing")
    lateness = [abs(e["actual"] - e["planned"]) * 1000 * time_scale for e in timings]
    return {
        "routine_drift_ms": round(max(lateness), 2) if lateness else float("nan"),
        "routine_final_offset_ms": round(lateness[-1], 2) if lateness else float("nan"),
        "routine_beats": float(len(timings)),
        "routine_planned_s": round(timings[-1]["planned"] * time_scale, 1) if timings else 0.0,
    }
