"""What the screen shows at a moment of the dialog, worked out from the machine alone.

Pure: the dialog machine (read, never changed) in, a plain `ScreenView` out. The page's
buttons are the answers the machine accepts at this moment, each sending the same
words a person would say or type ("no", "not sure", "emergency"), so a touch goes
through the same understanding as speech and the core never knows a screen exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from assistant.dialog import DialogMachine
from assistant.flow import CHECK_IN, GOODBYE, GUIDANCE, HELP, PAUSED, RUNNING, WHICH

Mode = Literal["idle", "check", "routine", "emergency", "goodbye"]


@dataclass(frozen=True)
class Button:
    key: str  # what it is: "yes", "pause", "chest_pain"...
    label: str  # what it says on the screen
    says: str  # the words it answers with, as if spoken


@dataclass(frozen=True)
class ExerciseView:
    name: str
    drawing: str  # which line drawing (the page has one per exercise)
    number: int  # "exercise 3 of 6"; 0 in the warm-up and the cool-down
    total: int
    side: str | None = None
    rep: int | None = None
    of: int | None = None
    hold_left: int | None = None
    set: int | None = None


@dataclass(frozen=True)
class GuidanceView:
    number: str  # the emergency number, shown very large
    steps: tuple[str, ...]
    current: int  # the step being said; len(steps) once all have been said
    called: bool


@dataclass(frozen=True)
class ScreenView:
    mode: Mode
    moment: str  # changes whenever a new answer is asked for: late touches are dropped
    answers: tuple[Button, ...] = ()
    exercise: ExerciseView | None = None
    guidance: GuidanceView | None = None
    paused: bool = False
    hint: str = ""  # what else may be said or done, in words

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Buttons in the order they appear, with the words each answers with. Only those the
# machine accepts at this moment are shown.
ANSWER_BUTTONS = (
    Button("yes", "Yes", "yes"),
    Button("no", "No", "no"),
    Button("unsure", "Not sure", "not sure"),
)
ROUTINE_BUTTONS = (
    Button("pause", "Pause", "pause"),
    Button("resume", "Resume", "resume"),
    Button("skip", "Skip", "skip"),
    Button("stop", "Stop", "stop"),
)
# "I feel unwell" in the routine: the exercise stops at once and "which is it?" is asked
# (routine.yaml's stop sign `unwell`), as when it is said.
UNWELL = Button("unwell", "I feel unwell", "I feel unwell")
GUIDANCE_BUTTONS = (
    Button("next", "Next step", "next"),
    Button("repeat", "Repeat", "repeat"),
    Button("acknowledged", "I have called", "I've called"),
)
ALWAYS = (Button("repeat", "Repeat", "repeat"), Button("help", "Help", "help"))
EMERGENCY = Button("emergency", "Emergency", "emergency")
START = Button("start", "Start", "")  # the idle screen's: answers with the wake phrase

# One line drawing per exercise, by name (the page draws them); others get a seated figure.
DRAWINGS = {
    "Seated leg extension": "leg_extension", "Ankle circles": "ankle_circles",
    "Ankle point and flex": "ankle_flex", "Seated marching": "marching",
    "Heel raises and toe taps": "heel_raises", "Seated hamstring stretch": "hamstring",
    "Sit to stand": "sit_to_stand",
}


def idle_view(wake_phrase: str) -> ScreenView:
    """Between sessions: say the wake phrase, or touch Start."""
    return ScreenView("idle", "idle", (Button(START.key, START.label, wake_phrase),),
                      hint=f'Say "{wake_phrase}", or touch Start.')


# What may be said, in words (phrases.yaml's options), by the kind of moment.
SAY_OPTIONS = {HELP: "help", GUIDANCE: "emergency", RUNNING: "routine", PAUSED: "paused",
               CHECK_IN: "check_in", WHICH: "check_in"}


def view_of(machine: DialogMachine) -> ScreenView:
    """The screen for the machine's current moment (after it returned a turn)."""
    view = _view(machine)
    if view.mode == "goodbye":
        return view
    hint = machine.model.options_for(SAY_OPTIONS.get(machine.state, "question"))
    return ScreenView(view.mode, view.moment, view.answers, view.exercise, view.guidance,
                      view.paused, hint)


def _view(machine: DialogMachine) -> ScreenView:
    state, model = machine.state, machine.model
    accepted = machine.accepted()
    moment = _moment(machine)
    if state == GOODBYE:
        return ScreenView("goodbye", moment)
    if state == GUIDANCE:
        g = machine.d.emergency
        steps = tuple(model.fill(s) for s in g.steps)
        guidance = GuidanceView(model.emergency_number, steps,
                                min(model.guidance.step, len(steps)), model.guidance.called)
        return ScreenView("emergency", moment, _offered(GUIDANCE_BUTTONS, accepted),
                          guidance=guidance)
    if state.startswith("routine.") and state in (RUNNING, PAUSED):
        buttons = _offered(ROUTINE_BUTTONS, accepted)
        if "stop" in accepted:
            buttons = (*buttons, UNWELL)
        return ScreenView("routine", moment, buttons, _exercise(machine), paused=state == PAUSED)
    if state == WHICH:
        signs = tuple(Button(name, name.replace("_", " ").capitalize(),
                             name.replace("_", " ")) for name in machine.signs
                      if name in accepted and name != "new_weakness")
        return ScreenView("routine", moment, (*signs, *_offered(ANSWER_BUTTONS[2:], accepted),
                                              *_offered(ALWAYS, accepted)), _exercise(machine))
    mode: Mode = "routine" if state.startswith("routine.") else "check"
    buttons = (*_offered(ANSWER_BUTTONS, accepted), *_offered(ALWAYS, accepted))
    return ScreenView(mode, moment, buttons, _exercise(machine) if mode == "routine" else None)


def _offered(buttons: tuple[Button, ...], accepted: frozenset[str]) -> tuple[Button, ...]:
    return tuple(b for b in buttons if b.key in accepted)


def _moment(machine: DialogMachine) -> str:
    """Names the answer being waited for: the same through a running routine's beats (a
    touch of Pause as a beat ends still counts); new at every question, short question
    on the way ("Just to be sure...") and asking again."""
    model = machine.model
    if machine.state == RUNNING:
        return RUNNING
    pending = model.pending.kind if model.pending else ""
    return "|".join((machine.state, pending, *model.asking.prompt,
                     str(model.asking.attempts), str(model.guidance.step)))


def _exercise(machine: DialogMachine) -> ExerciseView | None:
    routine = machine.model.routine
    beat = routine.current()
    if beat is None:
        return None
    planned = routine.exercises_planned()
    number = beat.group if 0 < beat.group <= planned else 0
    return ExerciseView(beat.exercise, DRAWINGS.get(beat.exercise, "seated"), number, planned,
                        beat.side, beat.rep, beat.of, beat.hold_left, beat.set)
