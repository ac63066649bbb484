"""Whole conversations as data: what the user answers, and where the conversation must end.

The red-flag vignettes are generated from dialogs/symptom_check.yaml, so a red
flag added there is covered without touching this file; the hand-written ones
live in tests/vignettes.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Conversation, Converse, Reply, path_to

from assistant.dialog_data import DISPOSITION_RANK, Dialogs, Message, Question, load_dialogs
from assistant.routine_plan import plan_routine
from assistant.transcript import Outcome

VIGNETTES = yaml.safe_load((Path(__file__).parent / "vignettes.yaml").read_text(encoding="utf-8"))
SILENCE = "(silence)"
TURN_LIMIT = 3000
_DIALOGS = load_dialogs()


def _check_questions(dialogs: Dialogs) -> dict[str, Question]:
    return {n: q for n, q in dialogs.check.nodes.items() if isinstance(q, Question)}


def _leads_to(dialogs: Dialogs, destination: str) -> str | None:
    """The level of care a destination gives at once (None: another question, or nothing)."""
    if destination == "emergency":
        return "emergency"
    node = dialogs.check.nodes.get(destination)
    return node.outcome if isinstance(node, Message) else None


RED_FLAGS = [n for n, q in _check_questions(_DIALOGS).items() if q.red_flag]
# Questions asked only when another's answer leads to them (not "next").
_FOLLOW_UPS = {getattr(q, f) for q in _check_questions(_DIALOGS).values()
               for f in ("if_yes", "if_unclear", "if_no_answer")} & set(_check_questions(_DIALOGS))
URGENT = [n for n, q in _check_questions(_DIALOGS).items()
          if _leads_to(_DIALOGS, q.if_yes) == "urgent"]


def short_state(state: str) -> str:
    return state.rsplit(".", 1)[-1]


def run_vignette(converse: Converse, dialogs: Dialogs, vignette: dict[str, Any]) -> Conversation:
    """Play the vignette's replies, state by state, until the session ends."""
    conv = converse(emergency_number=vignette.get("emergency_number", "911"))
    queues = {state: list(replies) for state, replies in vignette.get("replies", {}).items()}
    default = vignette.get("default", "no")
    questions = set(dialogs.question_nodes()) | {"check_in"}
    for _ in range(TURN_LIMIT):
        if conv.finished:
            return conv
        key = short_state(conv.state)
        if queues.get(key):
            reply: Reply = queues[key].pop(0)
        else:
            reply = default if key in questions else None
        conv.reply(None if reply == SILENCE else reply)
    raise AssertionError(f"{vignette['name']}: did not end after {TURN_LIMIT} turns")


def routine_lines(dialogs: Dialogs) -> set[str]:
    """Everything said only while exercising, or to start exercising."""
    routine = dialogs.routine
    lines = {b.text for b in plan_routine(routine, can_stand=True)}
    lines |= {routine.check_in.ask, routine.check_in.which, routine.paused.say}
    lines |= {q.ask for q in routine.setup.values()}
    lines |= {r.text for r in routine.reminders}
    return lines


def asked(dialogs: Dialogs, conv: Conversation, question: str) -> bool:
    head = dialogs.question_nodes()[question].ask.split("{", 1)[0]  # "{routine_minutes}" varies
    return any(line.startswith(head) for line in conv.says)


def assert_in_order(says: list[str], wanted: list[str]) -> None:
    position = 0
    for part in wanted:
        found = next((i for i in range(position, len(says)) if part in says[i]), None)
        assert found is not None, f"{part!r} not said (in order) in:\n" + "\n".join(says)
        position = found + 1


def check_invariants(dialogs: Dialogs, conv: Conversation) -> None:
    """No exercise after an emergency; the level of care only ever goes up."""
    ranks = [DISPOSITION_RANK[d] for d in conv.outcomes]
    assert ranks == sorted(set(ranks)), f"outcomes went down or repeated: {conv.outcomes}"
    exercise = routine_lines(dialogs)
    emergency_seen = False
    for turn in conv.turns:
        if emergency_seen:
            assert not exercise & set(turn.says), f"exercise after the emergency: {turn.says}"
        emergency_seen |= any(
            isinstance(e, Outcome) and e.disposition == "emergency" for e in turn.events
        )


def check_guidance(dialogs: Dialogs, conv: Conversation, number: str) -> None:
    """Said in full, with the configured number, after the emergency outcome; then it ends there."""
    events = conv.events
    assert any(isinstance(e, Outcome) and e.disposition == "emergency" for e in events)
    steps = [s.replace("{emergency_number}", number) for s in dialogs.emergency.steps]
    assert_in_order(conv.says, [dialogs.emergency.opening, *steps])
    assert any("{emergency_number}" in s for s in dialogs.emergency.steps), "no number to call"
    assert any(number in line for line in conv.says if line in steps)
    assert conv.state in ("emergency", "goodbye")


def check_expectations(dialogs: Dialogs, conv: Conversation, vignette: dict[str, Any]) -> None:
    expect = vignette["expect"]
    number = vignette.get("emergency_number", "911")

    def filled(text: str) -> str:
        return text.replace("{emergency_number}", number)

    check_invariants(dialogs, conv)
    if "disposition" in expect:
        assert conv.machine.disposition == expect["disposition"], conv.says
    if "at_least" in expect:
        reached = conv.machine.disposition
        assert reached is not None
        assert DISPOSITION_RANK[reached] >= DISPOSITION_RANK[expect["at_least"]], conv.says
    if expect.get("guidance"):
        check_guidance(dialogs, conv, number)
    if "offer" in expect:
        assert asked(dialogs, conv, "offer_routine") == expect["offer"]
    assert_in_order(conv.says, [filled(s) for s in expect.get("says", [])])
    for line in expect.get("not_says", []):
        assert not any(filled(line) in said for said in conv.says), f"said {line!r}"
    for question in expect.get("asked", []):
        assert asked(dialogs, conv, question), f"{question} was not asked"
    for question in expect.get("not_asked", []):
        assert not asked(dialogs, conv, question), f"{question} was asked"
    if "reason" in expect:
        reasons = [e.reason for e in conv.events if isinstance(e, Outcome)]
        assert reasons and expect["reason"] in reasons[-1], reasons
    assert conv.state == expect.get("ends_in", "goodbye")
    assert conv.finished == (conv.state == "goodbye")


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["name"] for v in VIGNETTES])
def test_vignette(converse: Converse, dialogs: Dialogs, vignette: dict[str, Any]) -> None:
    conv = run_vignette(converse, dialogs, vignette)
    check_expectations(dialogs, conv, vignette)


# --- Generated from the data ------------------------------------------------------------


def test_the_data_has_red_flags_and_urgent_questions() -> None:
    assert len(RED_FLAGS) >= 10
    assert RED_FLAGS[0] == "sudden_onset"  # brief §1: this question comes first
    assert len(URGENT) >= 4


@pytest.mark.parametrize("question", RED_FLAGS)
def test_yes_to_a_red_flag_is_the_call_911_guidance(
    converse: Converse, dialogs: Dialogs, question: str
) -> None:
    replies = {q: [a] for q, a in path_to(dialogs, question).items()} | {question: ["yes"]}
    vignette = {"name": question, "replies": replies, "emergency_number": "112"}
    conv = run_vignette(converse, dialogs, vignette)
    topic = dialogs.check.nodes[question].topic  # type: ignore[union-attr]
    check_expectations(dialogs, conv, vignette | {"expect": {
        "disposition": "emergency", "guidance": True, "offer": False, "asked": [question],
        "reason": topic, "not_says": ["911"],
    }})
    on_the_way = path_to(dialogs, question)  # asked only after a yes elsewhere: not before it
    earlier = [q for q in RED_FLAGS[:RED_FLAGS.index(question)]
               if q in on_the_way or q not in _FOLLOW_UPS]
    later = list(_check_questions(dialogs))[list(_check_questions(dialogs)).index(question) + 1:]
    assert all(asked(dialogs, conv, q) for q in earlier), "a red flag before it was skipped"
    assert not any(asked(dialogs, conv, q) for q in later), "the check went on after a yes"


@pytest.mark.parametrize("how", ["unclear", "silence"])
@pytest.mark.parametrize("question", RED_FLAGS + URGENT)
def test_no_clear_answer_to_a_red_flag_never_ends_routine(
    converse: Converse, dialogs: Dialogs, question: str, how: str
) -> None:
    node = dialogs.check.nodes[question]
    assert isinstance(node, Question)
    replies = ["banana", "mmm"] if how == "unclear" else [SILENCE, SILENCE]
    destination = node.if_unclear if how == "unclear" else node.if_no_answer
    safe = _leads_to(dialogs, destination)
    # brief §4: the data itself must send a red flag's unclear answer to urgent care or above.
    assert safe is not None and DISPOSITION_RANK[safe] >= DISPOSITION_RANK["urgent"], destination
    path = {q: [a] for q, a in path_to(dialogs, question).items()} | {question: replies}
    conv = run_vignette(converse, dialogs, {"name": question, "replies": path})
    expect: dict[str, Any] = {"disposition": safe, "at_least": "urgent", "offer": False}
    if safe == "emergency":
        expect["guidance"] = True
    else:
        expect["says"] = [conv.machine.model.fill(line)
                          for line in dialogs.check.nodes[destination].say]  # type: ignore[union-attr]
    check_expectations(dialogs, conv, {"name": question, "expect": expect})
    reask = dialogs.phrases.prompts.reask_unclear if how == "unclear" else \
        dialogs.phrases.prompts.reask_silence
    assert_in_order(conv.says, [node.ask, reask, node.simpler])


def test_every_urgent_question_has_a_hand_written_vignette() -> None:
    covered = {q for v in VIGNETTES for q, replies in v.get("replies", {}).items()
               if v["expect"].get("disposition") == "urgent" and replies
               and replies[0] != SILENCE}
    assert set(URGENT) <= covered, f"no urgent vignette for {set(URGENT) - covered}"
