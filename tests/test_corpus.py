"""What older adults really say, at every moment, and what must happen next.

The corpus (tests/corpus/utterances.yaml, see its README) is written from the
clinical reference, not from the code. Each utterance is said at its moment,
reached as a person would reach it, and the effect is read from what the
assistant says and does next.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Conversation
from corpus_driver import effect_of, reach

from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs, load_dialogs
from assistant.dialog_model import WHICH
from assistant.transcript import HeardEvent

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "utterances.yaml").read_text("utf-8"))
_DIALOGS = load_dialogs()
RED_FLAG_LEVEL = {n for n, s in _DIALOGS.words.symptoms.items() if s.level == "emergency"}


def said_at(entry: dict[str, Any]) -> tuple[Conversation, str, HeardEvent]:
    conv = reach(DialogMachine(_DIALOGS), _DIALOGS, entry["at"])
    before = conv.state
    conv.reply(entry["say"])
    heard = next(e for e in conv.last.events if isinstance(e, HeardEvent))
    return conv, before, heard


def ids(entry: dict[str, Any]) -> str:
    return f"{entry['at']}: {entry['say']}"


@pytest.mark.parametrize("entry", CORPUS, ids=ids)
def test_the_effect_is_what_the_person_needs(entry: dict[str, Any], dialogs: Dialogs) -> None:
    conv, before, heard = said_at(entry)
    found = effect_of(conv, dialogs, before, conv.last.says, heard)
    wanted = entry["effect"]
    if entry["at"] == "ask_unwell" and wanted == "stop_routine" and found.name != wanted:
        assert conv.state == WHICH, found  # stopped, and asked which it is (§6.6)
    else:
        assert found.name == wanted, (f"{found.name} ({heard.understood}: {heard.why}) "
                                      f"{found.detail}")


COUNTS = {"present": "counts", "passed": "counts"}  # both lead to the same care
BY_ANSWER = {"no": "denied", "confirm": "denied", "yes": "counts", "red_flag": "counts",
             "ask_if_new": "long_standing", "unsure": "uncertain"}


def _family(dialogs: Dialogs, symptom: str, question: str | None) -> set[str]:
    """The symptom, the ones it becomes or is made of, and the ones that answer the same
    question here (at the balance question, "unsteady" is the answer about balance)."""
    words = dialogs.words.symptoms
    family = {symptom}
    for name, s in words.items():
        if s.when_new == symptom or symptom in s.together.values() or name == words[
                symptom].when_new:
            family.add(name)
        if question and question in s.answers and question in words[symptom].answers:
            family.add(name)
    return family


@pytest.mark.parametrize("entry", [e for e in CORPUS if e.get("symptoms")], ids=ids)
def test_every_symptom_is_understood_with_its_assertion(entry: dict[str, Any],
                                                         dialogs: Dialogs) -> None:
    """Each symptom the corpus names is found with its assertion, or, when the words only
    answer the question that names it ("no, my breathing's fine"), the answer says it."""
    _, _, heard = said_at(entry)
    found = [(m["symptom"], COUNTS.get(m["assertion"], m["assertion"]))
             for m in heard.meaning.get("symptoms", [])]
    question = entry["at"] if entry["at"] in dialogs.question_nodes() else None
    for symptom, assertion in entry["symptoms"].items():
        wanted = COUNTS.get(assertion, assertion)
        family = _family(dialogs, symptom, question)
        if any(s in family and a == wanted for s, a in found):
            continue
        answers_here = question in dialogs.words.symptoms[symptom].answers
        red_flag = question is not None and dialogs.question_nodes()[question].red_flag
        if answers_here and assertion in ("passed", "long_standing") and not red_flag and (
                heard.understood == "no"):
            continue  # "it went off after breakfast", to "Do you have any pain right now?"
        said = {BY_ANSWER.get(heard.understood), BY_ANSWER.get(heard.meaning.get("answer", ""))}
        assert answers_here and wanted in said, (
            f"{symptom}: {assertion} not understood; found {found}, did {heard.understood}")


def test_the_acceptance_over_the_whole_corpus(dialogs: Dialogs) -> None:
    """Every present or recently-passed red flag ends in the guidance (at once, or after its
    one confirmation); no denied or long-standing complaint does; no request to hear the
    question again counts as an unclear answer."""
    levels = {n: s.level for n, s in dialogs.words.symptoms.items()}
    counted = {"red flags": 0, "denied or long-standing": 0, "repeat requests": 0}
    for entry in CORPUS:
        conv, before, heard = said_at(entry)
        said = entry.get("symptoms", {})
        if entry["at"] != "guidance" and any(
                levels[s] == "emergency" and a in ("present", "passed") for s, a in said.items()):
            counted["red flags"] += 1
            if conv.state != "emergency":  # its one confirmation: silence is the guidance
                assert conv.machine.model.pending is not None, entry
                conv.reply(None)
            assert conv.state == "emergency", entry
        if said and all(a in ("denied", "long_standing") for a in said.values()):
            counted["denied or long-standing"] += 1
            assert before == "emergency" or conv.state != "emergency", entry
        if entry.get("repeat"):
            counted["repeat requests"] += 1
            assert heard.understood != "unclear", entry
    assert counted["red flags"] >= 100 and counted["denied or long-standing"] >= 60
    assert counted["repeat requests"] >= 20, counted
