"""The dialog content, loaded from `dialogs/` and validated before anyone hears it.

A clinician edits YAML, not Python. Loading checks everything a typo could
break (unknown keys, missing prompts, dangling destinations, exercises without
timing) and names the file, the line and the key path, so a broken file stops
start-up with a message instead of half-working in front of a user.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

DIALOG_FILES = ("phrases.yaml", "symptom_check.yaml", "emergency.yaml", "routine.yaml")
DEFAULT_DIALOG_DIR = Path(__file__).resolve().parent.parent / "dialogs"

Disposition = Literal["emergency", "urgent", "routine"]
DISPOSITION_RANK = {"routine": 0, "urgent": 1, "emergency": 2}

# Where a reply may lead besides another node.
SPECIAL_DESTINATIONS = ("next", "emergency", "routine", "goodbye")
PLACEHOLDERS = {
    "emergency_number", "routine_minutes", "options", "topic", "done", "skipped", "number",
    "seconds",
}
ANSWERS = ("yes", "no", "unsure")
COMMANDS = (
    "emergency", "help", "repeat", "slower", "faster", "louder", "softer",
    "pause", "resume", "skip", "stop", "what_can_i_say",
)
SOURCE_PATTERN = re.compile(r"\b(brief|seeds?)\b", re.IGNORECASE)


M = TypeVar("M", bound=BaseModel)


class DialogError(Exception):
    """A dialog file is broken; the message says where and what."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Text = Annotated[str, Field(min_length=1)]


def _check_source(value: str) -> str:
    if not SOURCE_PATTERN.search(value):
        raise ValueError("must name the brief (brief §N) or a seed file (seed NNN)")
    return value


Source = Annotated[Text, AfterValidator(_check_source), Field(description="brief §N or seed NNN")]


class Sourced(Strict):
    text: Text
    simpler: Text | None = None
    source: Source


class Question(Strict):
    ask: Text
    simpler: Text
    topic: Text
    source: Source
    if_yes: Text
    if_no: Text
    if_unclear: Text
    if_no_answer: Text


class Message(Strict):
    say: list[Text] = Field(min_length=1)
    source: Source
    outcome: Disposition | None = None
    then: Text


QUESTION_ONLY_KEYS = frozenset({"ask", "simpler", "topic", "if_yes", "if_no", "if_unclear",
                                "if_no_answer"})


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
    options: Text
    always_options: Text
    help_question: Text
    help_explain: Text
    repeat_nothing: Text
    slower: Text
    faster: Text
    louder: Text
    softer: Text
    because_yes: Text
    because_unclear: Text
    because_no_answer: Text
    goodbye: Text
    goodbye_safety_net: Sourced
    goodbye_urgent_reminder: Sourced
    error_fallback: Sourced


class Listening(Strict):
    answer_seconds: float = Field(gt=0)
    reask_seconds: float = Field(gt=0)
    reasks: int = Field(ge=0, le=3)


class Options(Strict):
    question: Text
    help: Text
    emergency: Text
    routine: Text
    paused: Text
    check_in: Text


class Phrases(Strict):
    listening: Listening
    options: Options
    answers: dict[Literal["yes", "no", "unsure"], list[Text]]
    commands: dict[Literal[COMMANDS], list[Text]]  # type: ignore[valid-type]
    prompts: Prompts

    @field_validator("answers", "commands")
    @classmethod
    def _complete(cls, value: dict[str, list[str]], info: Any) -> dict[str, list[str]]:
        wanted = ANSWERS if info.field_name == "answers" else COMMANDS
        missing = [name for name in wanted if name not in value]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        empty = [name for name, phrases in value.items() if not phrases]
        if empty:
            raise ValueError(f"no phrases for {', '.join(empty)}")
        return value


class Greeting(Strict):
    say: list[Text] = Field(min_length=1)
    source: Source


class SymptomCheck(Strict):
    greeting: Greeting
    start: Text
    nodes: dict[str, Node] = Field(min_length=1)


class EmergencyGuidance(Strict):
    source: Source
    opening: Text
    steps: list[Text] = Field(min_length=1)
    closing: Text
    reminder: Text
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
    phrases: list[Text] = Field(min_length=1)


class SideCues(Strict):
    right: Text
    left: Text


class Cues(Strict):
    """The short words of the routine, kept here so they can be reviewed and translated."""

    side: SideCues
    set: Text
    hold: Text
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
    cool_down: Phase
    summary: Summary
    paused: Paused
    stop_signs: dict[str, StopSign] = Field(min_length=1)


@dataclass(frozen=True)
class Dialogs:
    """Everything the dialog machine needs, checked and cross-referenced."""

    phrases: Phrases
    check: SymptomCheck
    emergency: EmergencyGuidance
    routine: RoutineFile
    directory: Path

    def question_nodes(self) -> dict[str, Question]:
        nodes = {k: v for k, v in self.check.nodes.items() if isinstance(v, Question)}
        return nodes | dict(self.routine.setup)


# --- YAML with line numbers --------------------------------------------------------


class _ClinicianLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: a phrase written `yes` or `no` stays a word."""


_ClinicianLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ClinicianLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)


def _parse(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DialogError(f"{path}: file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogError(f"{path}: cannot be read ({exc})") from None
    loader = _ClinicianLoader(text)  # a SafeLoader subclass
    try:
        tree = loader.get_single_node()  # composed once: the lines, then the data from it
        data = loader.construct_document(tree) if tree is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DialogError(f"{path}{where}: not valid YAML: {exc.problem}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise DialogError(f"{path}: expected a mapping of keys at the top level")
    duplicates = _duplicate_keys(tree)
    if duplicates:
        raise DialogError("\n".join(
            f"{path}, line {key.start_mark.line + 1}: '{key.value}' is written twice "
            "(the second would silently replace the first)" for key in duplicates
        ))
    return data, tree


def _duplicate_keys(node: yaml.Node | None) -> list[yaml.Node]:
    """A copied question left with the same name would hide the first one: find such keys."""
    found: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                found.append(key)
            seen.add(key.value)
            found += _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _duplicate_keys(item)
    return found


def _line_of(tree: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a key path through the composed YAML to the line it sits on."""
    node = tree
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            key = next((k for k, _ in node.value if k.value == str(part)), None)
            if match is None:
                continue  # a discriminator tag or a missing key: stay on the parent
            line = key.start_mark.line + 1 if key is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(
            node.value
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def _describe(error: dict[str, Any]) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        return f"unknown key '{loc[-1]}'"
    if kind == "missing":
        return f"'{loc[-1]}' is missing"
    if kind == "too_short":
        return "must not be empty"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.startswith("literal_error"):
        return f"{message} (got {error.get('input')!r})"
    return message


Parsed = dict[Path, tuple[Any, yaml.Node | None]]


def _validate(model: type[M], path: Path, parsed: Parsed) -> tuple[M, yaml.Node | None]:
    data, tree = parsed[path] = _parse(path)
    try:
        return model.model_validate(data), tree
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if p not in ("question", "message", "str"))
            line = _line_of(tree, loc)
            place = " > ".join(str(p) for p in loc) or "top level"
            where = f", line {line}" if line else ""
            problems.append(f"{path}{where} ({place}): {_describe(error)}")
        raise DialogError("\n".join(dict.fromkeys(problems))) from None


# --- Cross-references --------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: Path, tree: yaml.Node | None, loc: tuple[Any, ...], what: str) -> None:
        line = _line_of(tree, loc)
        where = f", line {line}" if line else ""
        self.items.append(f"{path}{where} ({' > '.join(map(str, loc))}): {what}")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _walk_strings(value: Any, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        return [(loc, value)]
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _walk_strings(v, (*loc, k))]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _walk_strings(v, (*loc, i))]
    return []


def _check_destinations(
    nodes: dict[str, Question | Message], known: set[str], path: Path, tree: Any,
    problems: _Problems, section: str,
) -> None:
    order = list(nodes)
    for index, (name, node) in enumerate(nodes.items()):
        fields = (
            ("if_yes", "if_no", "if_unclear", "if_no_answer")
            if isinstance(node, Question) else ("then",)
        )
        for field in fields:
            target = getattr(node, field)
            loc = (section, name, field)
            if target == "next" and index == len(order) - 1:
                problems.add(path, tree, loc, "'next' used on the last entry: nothing follows")
            elif target not in known and target not in SPECIAL_DESTINATIONS:
                choices = ", ".join(sorted(known | set(SPECIAL_DESTINATIONS)))
                problems.add(
                    path, tree, loc, f"goes to '{target}', which does not exist (known: {choices})"
                )


def _check_phrase_clashes(
    dialogs: Dialogs, problems: _Problems, files: dict[str, tuple[Path, Any]]
) -> None:
    """Answers, commands and the routine's stop signs: one phrase, one meaning, across files."""
    from assistant.understanding import normalize  # local: understanding imports this module

    owner: dict[str, tuple[str, str]] = {}  # words -> (meaning, where it was first written)
    groups: list[tuple[str, tuple[str, ...], list[str]]] = [
        ("phrases.yaml", ("answers", k), v) for k, v in dialogs.phrases.answers.items()
    ] + [("phrases.yaml", ("commands", k), v) for k, v in dialogs.phrases.commands.items()] + [
        ("routine.yaml", ("stop_signs", k, "phrases"), s.phrases)
        for k, s in dialogs.routine.stop_signs.items()
    ]
    for file, loc, phrases in groups:
        name = loc[1]
        for i, phrase in enumerate(phrases):
            key = normalize(phrase.replace("{emergency_number}", "911"))
            if key in owner and owner[key][0] != name:
                meaning, where = owner[key]
                problems.add(
                    *files[file], (*loc, i),
                    f"phrase '{phrase}' for '{name}' already means '{meaning}' ({where}): "
                    "one phrase, one meaning",
                )
            path, tree = files[file]
            owner.setdefault(key, (name, f"{path.name}, line {_line_of(tree, (*loc, i))}"))


def load_dialogs(directory: str | Path = DEFAULT_DIALOG_DIR) -> Dialogs:
    """Load and fully validate the dialog files, or raise DialogError saying what is wrong."""
    folder = Path(directory)
    paths = {name: folder / name for name in DIALOG_FILES}
    parsed: Parsed = {}
    phrases, phrases_tree = _validate(Phrases, paths["phrases.yaml"], parsed)
    check, check_tree = _validate(SymptomCheck, paths["symptom_check.yaml"], parsed)
    emergency, _ = _validate(EmergencyFile, paths["emergency.yaml"], parsed)
    routine, routine_tree = _validate(RoutineFile, paths["routine.yaml"], parsed)
    dialogs = Dialogs(phrases, check, emergency.emergency, routine, folder)

    problems = _Problems()
    check_path, routine_path = paths["symptom_check.yaml"], paths["routine.yaml"]
    for index, exercise in enumerate(routine.exercises):
        if exercise.only_if and exercise.only_if not in routine.setup:
            problems.add(routine_path, routine_tree, ("exercises", index, "only_if"),
                         f"'{exercise.only_if}' is not a set-up question")
    clash = set(check.nodes) & set(routine.setup)
    for name in sorted(clash):
        problems.add(routine_path, routine_tree, ("setup", name),
                     "name already used in symptom_check.yaml")
    for name in sorted(set(check.nodes) & set(SPECIAL_DESTINATIONS)):
        problems.add(check_path, check_tree, ("nodes", name), "name is reserved")
    for name in sorted(set(routine.setup) & {*SPECIAL_DESTINATIONS, "start"}):
        problems.add(routine_path, routine_tree, ("setup", name), "name is reserved")
    if check.start not in check.nodes:
        problems.add(check_path, check_tree, ("start",), f"'{check.start}' is not a node below")
    _check_destinations(
        dict(check.nodes), set(check.nodes), check_path, check_tree, problems, "nodes"
    )
    _check_destinations(
        dict(routine.setup), set(routine.setup) | {"start"}, routine_path, routine_tree,
        problems, "setup",
    )
    _check_phrase_clashes(dialogs, problems, {
        "phrases.yaml": (paths["phrases.yaml"], phrases_tree),
        "routine.yaml": (routine_path, routine_tree),
    })
    for path in paths.values():
        data, tree = parsed[path]
        for loc, text in _walk_strings(data):
            try:
                unknown = _placeholders(text) - PLACEHOLDERS
            except ValueError as exc:  # "{emergency_number" without its closing brace
                problems.add(path, tree, loc, f"broken placeholder: {exc}")
                continue
            if unknown:
                names = ", ".join(sorted(unknown))
                problems.add(path, tree, loc, f"unknown placeholder {{{names}}}")
    if problems.items:
        raise DialogError("\n".join(problems.items))
    return dialogs
