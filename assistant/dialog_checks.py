"""Checks across the dialog files, after each has its right shape.

Every name used in one place must exist in another (destinations, set-up
questions, symptoms, stop signs), every phrase has one meaning, every red-flag
question keeps its unclear answers safe, and every citation names a section
of the clinical reference that exists. Each problem names file, line and key.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from assistant.dialog_data import Dialogs, Message, Question
from assistant.dialog_yaml import Problems, line_of
from assistant.schema import CITATION
from assistant.words import normalize

Files = Mapping[str, tuple[Path, yaml.Node | None, Any]]  # file -> (path, tree, data)

SPECIAL_DESTINATIONS = ("next", "emergency", "routine", "goodbye")
PLACEHOLDERS = {
    "emergency_number", "routine_minutes", "options", "topic", "done", "skipped", "number",
    "seconds", "count", "total", "to_name", "word",
}


def check_dialogs(dialogs: Dialogs, files: Files, reference: Path, problems: Problems) -> None:
    def add(file: str, loc: tuple[Any, ...], what: str) -> None:
        path, tree, _ = files[file]
        problems.add(path, tree, loc, what)

    _names(dialogs, add)
    _destinations(dialogs, add)
    _red_flags(dialogs, add)
    _phrases(dialogs, files, add)
    _symptoms(dialogs, add)
    _stop_signs(dialogs, add)
    _placeholders(files, add)
    _citations(files, reference, add)


Add = Any  # (file, loc, what) -> None


def _names(d: Dialogs, add: Add) -> None:
    check, setup = d.check.nodes, d.routine.setup
    for index, exercise in enumerate(d.routine.exercises):
        if exercise.only_if and exercise.only_if not in setup:
            add("routine.yaml", ("exercises", index, "only_if"),
                f"'{exercise.only_if}' is not a set-up question")
    for name in sorted(set(check) & set(setup)):
        add("routine.yaml", ("setup", name), "name already used in symptom_check.yaml")
    for name in sorted(set(check) & {*SPECIAL_DESTINATIONS, "start"}):
        add("symptom_check.yaml", ("nodes", name), "name is reserved")
    for name in sorted(set(setup) & {*SPECIAL_DESTINATIONS, "start"}):
        add("routine.yaml", ("setup", name), "name is reserved")
    if d.check.start not in check:
        add("symptom_check.yaml", ("start",), f"'{d.check.start}' is not a node below")


def _fields(node: Question | Message) -> tuple[str, ...]:
    if isinstance(node, Question):
        return ("if_yes", "if_no", "if_unclear", "if_no_answer")
    return ("then",)


def _destinations(d: Dialogs, add: Add) -> None:
    sections = (("symptom_check.yaml", "nodes", dict(d.check.nodes), set(d.check.nodes)),
                ("routine.yaml", "setup", dict(d.routine.setup), {*d.routine.setup, "start"}))
    for file, section, nodes, known in sections:
        order = list(nodes)
        for index, (name, node) in enumerate(nodes.items()):
            for field in _fields(node):
                target = getattr(node, field)
                loc = (section, name, field)
                if target == "next" and index == len(order) - 1:
                    add(file, loc, "'next' used on the last entry: nothing follows")
                elif target not in known and target not in SPECIAL_DESTINATIONS:
                    choices = ", ".join(sorted(known | set(SPECIAL_DESTINATIONS)))
                    add(file, loc, f"goes to '{target}', which does not exist (known: {choices})")


def _red_flags(d: Dialogs, add: Add) -> None:
    """A red flag is what its "yes" does: the guidance, and nothing else is marked so."""
    for name, node in d.check.nodes.items():
        if not isinstance(node, Question):
            continue
        loc = ("nodes", name)
        if node.red_flag and node.if_yes != "emergency":
            add("symptom_check.yaml", (*loc, "if_yes"),
                "a red flag's yes must go to the call-911 guidance (if_yes: emergency)")
        elif node.if_yes == "emergency" and not node.red_flag:
            add("symptom_check.yaml", (*loc, "red_flag"),
                "a yes that goes to the call-911 guidance is a red flag: write red_flag: true")


def _phrases(d: Dialogs, files: Files, add: Add) -> None:
    """One phrase, one meaning: answers, requests, commands; and one symptom per phrase."""
    words = d.words
    groups: list[tuple[tuple[Any, ...], str, list[str]]] = [
        (("answers", k), k, v) for k, v in words.answers.items()]
    groups += [(("answers_alone", k), k, v) for k, v in words.answers_alone.items()]
    groups += [(("commands", k), f"command {k}", v) for k, v in words.commands.items()]
    groups += [(("repeat_requests",), "repeat request", words.repeat_requests)]
    _one_meaning(groups, files, add)
    _one_meaning([(("not_symptoms",), "no symptom", words.not_symptoms),
                  *((("symptoms", n, "phrases"), f"symptom {n}", s.phrases)
                    for n, s in words.symptoms.items())], files, add)
    joining = {"and", "but", "or", "so", "then"}  # a phrase is one statement, never half of two
    for n, s in words.symptoms.items():
        for i, text in enumerate(s.phrases):
            ends = text.split()
            if ends[0] in joining or ends[-1] in joining:
                add("understanding.yaml", ("symptoms", n, "phrases", i),
                    f"phrase '{text}' begins or ends with a joining word: write the statement only")


def _one_meaning(groups: list[tuple[tuple[Any, ...], str, list[str]]], files: Files,
                 add: Add) -> None:
    _, tree, _ = files["understanding.yaml"]
    owner: dict[str, tuple[str, str]] = {}
    for loc, meaning, phrases in groups:
        for i, text in enumerate(phrases):
            key = normalize(text.replace("{emergency_number}", "911"))
            if key in owner and owner[key][0] != meaning:
                first, where = owner[key]
                add("understanding.yaml", (*loc, i),
                    f"phrase '{text}' for {meaning} already means {first} ({where}): "
                    "one phrase, one meaning")
            owner.setdefault(key, (meaning, f"line {line_of(tree, (*loc, i))}"))


def _symptoms(d: Dialogs, add: Add) -> None:
    questions = d.question_nodes()
    symptoms = d.words.symptoms
    for name, s in symptoms.items():
        loc = ("symptoms", name)
        for question in s.answers:
            if question not in questions:
                add("understanding.yaml", (*loc, "answers", question),
                    f"'{question}' is not a question of the dialog")
        refs: list[tuple[tuple[str, ...], str]] = []
        if s.when_new:
            refs.append((("when_new",), s.when_new))
        for other, means in s.together.items():
            refs += [(("together", other), other), (("together", other), means)]
        for where, symptom in refs:
            if symptom not in symptoms:
                add("understanding.yaml", (*loc, *where),
                    f"'{symptom}' is not a symptom in this file")
        if s.follow_up:
            asked = questions.get(s.follow_up)
            if asked is None:
                add("understanding.yaml", (*loc, "follow_up"),
                    f"'{s.follow_up}' is not a question of the dialog")
            else:
                for field in _fields(asked):
                    if getattr(asked, field) == "next":  # both places, so either can be mended
                        add("understanding.yaml", (*loc, "follow_up"),
                            f"'{s.follow_up}' leads to 'next', so it cannot be asked out of turn")
                        add("symptom_check.yaml", ("nodes", s.follow_up, field),
                            f"'{s.follow_up}' is asked out of turn ({name} in understanding.yaml):"
                            " it cannot lead to 'next'")
        if s.level == "emergency" and not s.confirm:
            add("understanding.yaml", loc,
                "an emergency-level symptom needs 'confirm': the question that checks it")


def _stop_signs(d: Dialogs, add: Add) -> None:
    symptoms = d.words.symptoms
    seen: dict[str, str] = {}
    for name, sign in d.routine.stop_signs.items():
        loc = ("stop_signs", name)
        if sign.then not in ("emergency", "goodbye", "which"):
            add("routine.yaml", (*loc, "then"),
                "a stop sign ends in emergency or goodbye, or asks which it is (which)")
        if sign.then == "which" and sign.outcome is not None:
            add("routine.yaml", (*loc, "outcome"),
                "then: which has no outcome: the answer to 'which is it?' decides it")
        if (sign.then == "emergency") != (sign.outcome == "emergency"):
            add("routine.yaml", (*loc, "outcome"),
                "outcome: emergency goes with then: emergency, and only with it")
        for i, symptom in enumerate(sign.symptoms):
            if symptom not in symptoms:
                add("routine.yaml", (*loc, "symptoms", i),
                    f"'{symptom}' is not a symptom in understanding.yaml")
                continue
            if symptom in seen:
                add("routine.yaml", (*loc, "symptoms", i),
                    f"'{symptom}' is already a sign of '{seen[symptom]}'")
            seen[symptom] = name
            if symptoms[symptom].level == "emergency" and sign.then != "emergency":
                add("routine.yaml", (*loc, "symptoms", i),
                    f"'{symptom}' is an emergency: its stop sign must go to the guidance")
    for symptom, s in symptoms.items():
        if s.level == "stop" and symptom not in seen:
            add("understanding.yaml", ("symptoms", symptom, "level"),
                f"'{symptom}' is a stop sign, but no stop sign in routine.yaml names it")


def _walk_strings(value: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk_strings(v, (*loc, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_strings(v, (*loc, i))


def _placeholders(files: Files, add: Add) -> None:
    for file, (_, _, data) in files.items():
        for loc, text in _walk_strings(data):
            try:
                names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            except ValueError as exc:  # "{emergency_number" without its closing brace
                add(file, loc, f"broken placeholder: {exc}")
                continue
            unknown = names - PLACEHOLDERS
            if unknown:
                add(file, loc, f"unknown placeholder {{{', '.join(sorted(unknown))}}}")


def _citations(files: Files, reference: Path, add: Add) -> None:
    """Every "clinical reference §N.M" names a section the reference has."""
    try:
        text = reference.read_text(encoding="utf-8")
    except OSError:
        add("phrases.yaml", (), f"the clinical reference {reference} cannot be read")
        return
    sections = set(re.findall(r"^#+ §(\d+(?:\.\d+)?)\b", text, re.MULTILINE))
    for file, (_, _, data) in files.items():
        for loc, value in _walk_strings(data):
            if loc and loc[-1] == "source":
                missing = [n for n in CITATION.findall(value) if n not in sections]
                if missing:
                    add(file, loc, f"cites §{', §'.join(missing)}, which the clinical reference "
                        f"({reference.name}) does not have")
