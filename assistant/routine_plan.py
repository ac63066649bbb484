"""The seated routine as a list of timed beats, worked out from the dialog data.

Each beat is one thing said aloud and how long until the next one. The plan
is pure data, so its order, counts and timing are tested without a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.dialog_data import Cues, ExercisePlan, Pace, Phase, RoutineFile
from assistant.words import number_word

BeatKind = Literal["say", "rep", "hold", "rest", "check_in"]
def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Beat:
    kind: BeatKind
    text: str
    seconds: float
    group: int  # which part of the routine: 0 warm-up, 1..n exercises, n+1 cool-down
    exercise: str = ""
    side: str | None = None
    set: int | None = None
    rep: int | None = None
    of: int | None = None
    hold_left: int | None = None


def speaking_seconds(text: str, pace: Pace) -> float:
    """Time allowed to say an instruction before the next beat starts."""
    return round(len(text.split()) * pace.say_seconds_per_word + pace.say_seconds_extra, 2)


def hold_marks(seconds: float) -> list[int]:
    """The seconds of a hold that are counted aloud: each one for short holds, then fives."""
    total = round(seconds)
    if total <= 5:
        return list(range(total, 0, -1))
    return [s for s in range(total, 0, -1) if s % 5 == 0 or s <= 3]


def _phase_beats(phase: Phase, group: int) -> list[Beat]:
    return [Beat("say", step.say, step.seconds, group, phase.name) for step in phase.steps]


def _rep_beats(
    ex: ExercisePlan, cues: Cues, group: int, side: str, set_no: int, rep: int, lead: str
) -> list[Beat]:
    rep_side = None if side == "both" else side
    text = _sentence(lead + cues.count.format(number=number_word(rep)))  # "One." / "Right, one."
    beats = [Beat("rep", text, ex.rep_seconds, group, ex.name, rep_side, set_no, rep, ex.reps)]
    if ex.hold_seconds:
        marks = hold_marks(ex.hold_seconds)
        times = [*marks[1:], 0]
        for mark, after in zip(marks, times, strict=True):
            cue = cues.hold if mark == marks[0] else cues.hold_count  # "Hold... two." "And one."
            words = cue.format(number=number_word(mark))
            beats.append(
                Beat("hold", _sentence(words), mark - after, group, ex.name, rep_side, set_no,
                     rep, ex.reps, hold_left=mark)
            )
        beats.append(
            Beat("rep", ex.release or cues.lower, ex.rep_seconds, group, ex.name, rep_side,
                 set_no, rep, ex.reps)
        )
    return beats


def _exercise_beats(ex: ExercisePlan, group: int, pace: Pace, cues: Cues) -> list[Beat]:
    intro = f"{ex.name}. {ex.how}"
    beats = [Beat("say", intro, speaking_seconds(intro, pace), group, ex.name)]
    variants = ex.variants or [""]
    for set_no in range(1, ex.sets + 1):
        if ex.sets > 1:
            text = cues.set.format(number=number_word(set_no))
            beats.append(Beat("say", text, 2, group, ex.name, set=set_no))
        if ex.alternate:
            for rep in range(1, ex.reps + 1):
                for side in ex.sides:
                    beats += _rep_beats(ex, cues, group, side, set_no, rep, f"{side}, ")
        else:
            for side in ex.sides:
                for variant in variants:
                    side_cue = getattr(cues.side, side, "")
                    cue = " ".join(_sentence(part) for part in (side_cue, variant) if part)
                    if cue:
                        beats.append(
                            Beat("say", cue, speaking_seconds(cue, pace), group, ex.name,
                                 None if side == "both" else side, set_no)
                        )
                    for rep in range(1, ex.reps + 1):
                        beats += _rep_beats(ex, cues, group, side, set_no, rep, "")
        if set_no < ex.sets and ex.set_rest_seconds:
            beats.append(Beat("rest", cues.rest_between_sets, ex.set_rest_seconds, group, ex.name))
    return beats


def plan_routine(routine: RoutineFile, can_stand: bool) -> list[Beat]:
    """Warm-up, each exercise with its check-in and rest, then the cool-down."""
    exercises = [e for e in routine.exercises if e.only_if != "can_stand" or can_stand]
    beats = _phase_beats(routine.warm_up, 0)
    for group, ex in enumerate(exercises, start=1):
        beats += _exercise_beats(ex, group, routine.pace, routine.cues)
        beats.append(Beat("check_in", routine.check_in.ask, 0, group, ex.name))
        if ex.rest_seconds:
            beats.append(
                Beat("rest", routine.cues.rest.format(seconds=number_word(int(ex.rest_seconds))),
                     ex.rest_seconds, group, ex.name)
            )
    beats += _phase_beats(routine.cool_down, len(exercises) + 1)
    return beats


def planned_seconds(beats: list[Beat]) -> float:
    return sum(b.seconds for b in beats)


def exercise_names(beats: list[Beat]) -> list[str]:
    names: dict[str, None] = {}
    for beat in beats:
        if beat.kind == "check_in":
            names[beat.exercise] = None
    return list(names)
