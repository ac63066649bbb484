"""The dialog content, loaded from `dialogs/` and validated before anyone hears it.

A clinician edits YAML, not Python. Loading checks everything a typo could
break (unknown keys, missing prompts, dangling destinations, exercises without
timing, words that mean two things, citations of sections that do not exist)
and names the file, the line and the key path, so a broken file stops
start-up with a message instead of half-working in front of a user.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from assistant.dialog_yaml import DialogError, Parsed, Problems, validate
from assistant.lexicon import Understanding
from assistant.schema import Source, Strict, Text

if TYPE_CHECKING:
    from assistant.flow import Flow

DIALOG_FILES = ("phrases.yaml", "understanding.yaml", "symptom_check.yaml", "emergency.yaml",
                "routine.yaml")
_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """Data installed inside the package (a wheel), else beside it (a source checkout)."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


DEFAULT_DIALOG_DIR = _shipped("dialogs")
DEFAULT_REFERENCE = _shipped("docs") / "clinical-reference.md"

Disposition = Literal["emergency", "urgent", "routine"]
DISPOSITION_RANK = {"routine": 0, "urgent": 1, "emergency": 2}
Meaning = Literal["yes", "no", "unclear"]

__all__ = ["DIALOG_FILES", "DISPOSITION_RANK", "DialogError", "Dialogs", "load_dialogs"]


class Sourced(Strict):
    text: Text
    simpler: Text | None = None
    source: Source


class Question(Strict):
    ask: Text
    simpler: Text
    topic: Text
    source: Source
    red_flag: bool = False  # a "yes" is an emergency; a doubtful "no" is confirmed
    if_yes: Text
    if_no: Text
    if_unclear: Text
    if_no_answer: Text
    if_okay: Meaning = "unclear"  # a bare "okay"
    if_fine: Meaning = "no"  # "I'm fine", "all good"
    says_yes: list[Text] = Field(default_factory=list)  # words that answer this question yes
    says_no: list[Text] = Field(default_factory=list)  # ... and no ("gradually", to "suddenly?")
    wait_seconds: float | None = Field(default=None, gt=0)  # a longer wait for an answer


class Message(Strict):
    say: list[Text] = Field(min_length=1)
    source: Source
    outcome: Disposition | None = None
    then: Text


QUESTION_ONLY_KEYS = frozenset(Question.model_fields) - frozenset(Message.model_fields)


def _node_kind(value: Any) -> str:
    """A node with any question key is a question: without its `ask`, it says 'ask' is missing."""
    return "question" if isinstance(value, dict) and QUESTION_ONLY_KEYS & set(value) else "message"


Node = Annotated[
    Annotated[Question, Tag("question")] | Annotated[Message, Tag("message")],
    Discriminator(_node_kind),
]


class Prompts(Strict):
    reask_unclear: Text
    reask_unsure: Text
    reask_silence: Text
    reask_not_heard: Text
    hearing_trouble: Text
    hearing_trouble_help: Text
    touch_offer: Text
    options: Text
    always_options: Text
    help_question: Text
    help_explain: Text
    repeat_nothing: Text
    slower: Text
    faster: Text
    louder: Text
    softer: Text
    normal_speed: Text
    normal_volume: Text
    because_yes: Text
    because_unclear: Text
    because_no_answer: Text
    goodbye: Text
    goodbye_safety_net: Sourced
    goodbye_urgent_reminder: Sourced
    error_fallback: Sourced
    staff_know: Text  # an alert was acknowledged at a kiosk
    caregiver_knows: Text  # ... at home
    restarted: Text  # the kiosk restarted after a crash or a hang


class Listening(Strict):
    answer_seconds: float = Field(gt=0)
    reask_seconds: float = Field(gt=0)
    reasks: int = Field(ge=0, le=3)
    trouble_after: int = Field(ge=1, le=5)


class Options(Strict):
    question: Text
    help: Text
    emergency: Text
    routine: Text
    paused: Text
    check_in: Text


class VoiceLearning(Strict):
    """What is said while learning the voice of the person at home (assistant/voice_learning.py)."""

    takes: int = Field(ge=2, le=3)  # two at least: the learned voice is checked on one of them
    words: list[Text] = Field(min_length=4)
    intro: Text
    say_word: Text
    again: Text
    skipped: Text
    learning: Text
    learned: Text
    kept_usual: Text
    failed: Text
    stopped: Text

    @field_validator("words")
    @classmethod
    def _distinct(cls, words: list[str]) -> list[str]:
        seen = [" ".join(w.lower().split()) for w in words]
        if len(set(seen)) != len(seen):
            raise ValueError("each word is asked for once per round: remove the repeated one")
        return words

    @field_validator("say_word", "again")
    @classmethod
    def _names_the_word(cls, text: str) -> str:
        if "{word}" not in text:
            raise ValueError("must contain {word}: the person has to hear which word to say")
        return text


class Phrases(Strict):
    listening: Listening
    options: Options
    prompts: Prompts
    voice_learning: VoiceLearning


class Greeting(Strict):
    say: list[Text] = Field(min_length=1)
    source: Source


class SymptomCheck(Strict):
    greeting: Greeting
    start: Text
    nodes: dict[str, Node] = Field(min_length=1)


class EmergencyGuidance(Strict):
    """The call-911 guidance, said one step at a time (clinical reference §5)."""

    source: Source
    opening: Text
    steps: list[Text] = Field(min_length=1)
    step_hint: Text  # after the first step: what can be said between steps
    step_seconds: float = Field(gt=0)  # the pause after a step, for "repeat" or "next"
    last: Text  # after the last step
    support: Text  # the reply to "I've called", "they're on their way"
    reminder: Text
    calm_reminder: Text  # once they said they called
    reminder_seconds: float = Field(gt=0)
    calm_seconds: float = Field(gt=0)
    reminders: int = Field(ge=0, le=10)


class EmergencyFile(Strict):
    emergency: EmergencyGuidance


class TimedStep(Strict):
    say: Text
    seconds: float = Field(gt=0)


class Phase(Strict):
    name: Text
    source: Source
    steps: list[TimedStep] = Field(min_length=1)


class ExercisePlan(Strict):
    id: Text
    name: Text
    how: Text
    source: Source
    sides: list[Literal["right", "left", "both"]] = Field(min_length=1)
    variants: list[Text] = Field(default_factory=list)
    alternate: bool = False
    only_if: Literal["can_stand"] | None = None
    sets: int = Field(ge=1, le=5)
    reps: int = Field(ge=1, le=30)
    rep_seconds: float = Field(gt=0)
    hold_seconds: float = Field(default=0, ge=0)
    set_rest_seconds: float = Field(default=0, ge=0)
    rest_seconds: float = Field(ge=0)
    release: Text | None = None  # said after a hold instead of the usual "lower" cue


class Pace(Strict):
    say_seconds_per_word: float = Field(gt=0)
    say_seconds_extra: float = Field(ge=0)
    slower_factor: float = Field(gt=1)
    max_slowdown: float = Field(ge=1)
    faster_factor: float = Field(gt=0, lt=1)
    max_speedup: float = Field(gt=0, le=1)


class CheckIn(Strict):
    ask: Text
    simpler: Text
    which: Text
    good: Text
    source: Source
    unclear: Message


class StopQuestion(Strict):
    """"Stop" during an exercise may mean "I feel unwell": asked once (§6.6)."""

    ask: Text
    simpler: Text
    source: Source
    well: Message  # not unwell: stop kindly, with the summary


class Summary(Strict):
    done: Text
    skipped: Text
    stopped: Text
    nothing: Text
    closing: Text
    source: Source


class Paused(Strict):
    say: Text
    reminder: Text
    seconds: float = Field(gt=0)
    reminders: int = Field(ge=0)


class StopSign(Message):
    symptoms: list[Text] = Field(min_length=1)  # names from understanding.yaml


class SideCues(Strict):
    right: Text
    left: Text


class Cues(Strict):
    """The short words of the routine, kept here so they can be reviewed and translated."""

    side: SideCues
    set: Text
    hold: Text  # the first second of a hold: "Hold... three."
    hold_count: Text  # the rest, counted down so it never sounds like a rep: "and two."
    count: Text
    lower: Text
    rest_between_sets: Text
    rest: Text
    skipping: Text
    resuming: Text


class RoutineFile(Strict):
    source: Source
    cues: Cues
    setup: dict[str, Question] = Field(min_length=1)
    reminders: list[Sourced] = Field(default_factory=list)
    pace: Pace
    warm_up: Phase
    exercises: list[ExercisePlan] = Field(min_length=1)
    check_in: CheckIn
    stop_question: StopQuestion
    cool_down: Phase
    summary: Summary
    paused: Paused
    stop_signs: dict[str, StopSign] = Field(min_length=1)


@dataclass(frozen=True)
class Dialogs:
    """Everything the dialog machine needs, checked and cross-referenced."""

    phrases: Phrases
    words: Understanding
    check: SymptomCheck
    emergency: EmergencyGuidance
    routine: RoutineFile
    directory: Path
    flow: Flow | None = None  # the compiled graph, proved safe (set by load_dialogs)

    @property
    def graph(self) -> Flow:
        assert self.flow is not None, "dialogs are compiled by load_dialogs"
        return self.flow

    def question_nodes(self) -> dict[str, Question]:
        nodes = {k: v for k, v in self.check.nodes.items() if isinstance(v, Question)}
        return nodes | dict(self.routine.setup)

    def stop_sign_for(self, symptom: str) -> str | None:
        """The routine's stop sign that names this symptom, if any."""
        return next((name for name, sign in self.routine.stop_signs.items()
                     if symptom in sign.symptoms), None)


def load_dialogs(directory: str | Path = DEFAULT_DIALOG_DIR,
                 reference: str | Path | None = None) -> Dialogs:
    """Load and fully validate the dialog files, or raise DialogError saying what is wrong.

    `reference`: the clinical reference whose sections the `source` fields cite
    (default: docs/clinical-reference.md beside the dialogs, else the project's own).
    """
    from assistant.dialog_checks import check_dialogs
    from assistant.flow import compile_flow
    from assistant.flow_proofs import prove

    folder = Path(directory)
    paths = {name: folder / name for name in DIALOG_FILES}
    parsed: Parsed = {}
    trees = {}
    phrases, trees["phrases.yaml"] = validate(Phrases, paths["phrases.yaml"], parsed)
    words, trees["understanding.yaml"] = validate(Understanding, paths["understanding.yaml"],
                                                  parsed)
    check, trees["symptom_check.yaml"] = validate(SymptomCheck, paths["symptom_check.yaml"],
                                                  parsed)
    emergency, trees["emergency.yaml"] = validate(EmergencyFile, paths["emergency.yaml"], parsed)
    routine, trees["routine.yaml"] = validate(RoutineFile, paths["routine.yaml"], parsed)
    dialogs = Dialogs(phrases, words, check, emergency.emergency, routine, folder)
    problems = Problems()
    check_dialogs(dialogs, {name: (paths[name], trees[name], parsed[paths[name]][0])
                            for name in DIALOG_FILES}, _reference(folder, reference), problems)
    problems.raise_any()  # names and shapes first: the graph is built from them
    flow = compile_flow(dialogs)
    for place, what in prove(flow, dialogs):
        problems.add(paths[place.file], trees[place.file], place.loc, what)
    problems.raise_any()
    return replace(dialogs, flow=flow)


def _reference(folder: Path, given: str | Path | None) -> Path:
    if given is not None:
        return Path(given)
    beside = folder.parent / "docs" / DEFAULT_REFERENCE.name
    return beside if beside.is_file() else DEFAULT_REFERENCE
