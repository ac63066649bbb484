"""Brings the dialog machine to a moment of the corpus, says the utterance, and names the effect.

The moment is reached the way a person would reach it (answers, silence, the
routine's beats), never by setting the machine's state; the effect is read
from what the person would notice next: what was said, and where it went.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from conftest import Conversation

from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs, Question
from assistant.dialog_model import CHECK_IN, PAUSED, RUNNING, UNWELL, WHICH
from assistant.route_effects import VOICE_CHANGES  # slower, louder, normal speed...
from assistant.transcript import HeardEvent, Outcome

ROUTINE_PATH = {"offer_routine": "yes", "can_stand": "yes", "ready": "yes"}


def _route_to(dialogs: Dialogs, target: str) -> dict[str, str]:
    """Answers that lead to the question `target` ("no" wherever it can)."""
    special = {"blood_thinner": {"head_knock": "yes"},
               "new_with_symptoms": {"weakness_new": "yes"},
               "ready_again": {**ROUTINE_PATH, "ready": "not yet"},
               "waiting": {**ROUTINE_PATH, "ready": "not yet", "ready_again": "not yet"}}
    answers = dict(special.get(target, {}))
    if target in ("can_stand", "ready") or target in dialogs.routine.setup:
        answers = {**ROUTINE_PATH, **answers}
    answers.pop(target, None)
    return answers


def reach(machine: DialogMachine, dialogs: Dialogs, at: str) -> Conversation:
    """A conversation listening at the corpus moment `at`."""
    conv = Conversation(machine)
    questions = dialogs.question_nodes()
    if at in questions:
        state_name = at
        answers = _route_to(dialogs, at)
        return _answer_until(conv, answers, lambda c: c.state.endswith("." + state_name))
    if at == "guidance":
        conv.reply("yes")
        assert conv.state == "emergency"
        return conv
    if at == "help":
        conv.reply("help")
        assert conv.state == "help"
        return conv
    if at == "ask_if_new":
        _answer_until(conv, {}, lambda c: c.state == "check.face")
        conv.reply("my face has drooped on one side for years, since my stroke")
        assert machine.model.pending is not None and machine.model.pending.kind == "ask_if_new"
        return conv
    if at in ("exercise", "paused", "ask_unwell"):
        _answer_until(conv, ROUTINE_PATH, lambda c: c.state == RUNNING)
        for _ in range(400):  # into the first exercise's counting
            if any(line.startswith("Two.") for line in conv.last.says):
                break
            conv.reply(None)
        if at == "paused":
            conv.reply("pause")
            assert conv.state == PAUSED
        if at == "ask_unwell":
            conv.reply("stop")
            assert conv.state == UNWELL
        return conv
    if at in ("check_in", "which"):
        _answer_until(conv, ROUTINE_PATH, lambda c: c.state == CHECK_IN)
        if at == "which":
            conv.reply("yes")
            assert conv.state == WHICH
        return conv
    raise AssertionError(f"unknown moment {at}")


def _answer_until(conv: Conversation, answers: dict[str, str], there: Any) -> Conversation:
    for _ in range(600):
        if there(conv) and not conv.finished:
            return conv
        assert not conv.finished, "the session ended on the way"
        name = conv.state.rsplit(".", 1)[-1]
        if conv.state == RUNNING:
            conv.reply(None)
        else:
            conv.reply(answers.get(name, "no"))
    raise AssertionError("moment not reached")


@dataclass(frozen=True)
class Effect:
    name: str
    detail: str


def effect_of(conv: Conversation, dialogs: Dialogs, before: str, said: list[str],
              heard: HeardEvent) -> Effect:
    """What the person notices after the utterance, in the corpus's words."""
    machine = conv.machine
    model = machine.model
    state = conv.state
    guidance = dialogs.emergency
    outcomes = [e.disposition for e in conv.last.events if isinstance(e, Outcome)]
    text = " | ".join(said)
    if before == "emergency":
        if state == "goodbye":
            return Effect("goodbye", text)
        if guidance.support in said:
            return Effect("support", text)
        if any(line in said for line in (guidance.reminder.replace(
                "{emergency_number}", "911"), guidance.calm_reminder)):
            return Effect("remind", text)
        if heard.understood == "next":
            return Effect("next_step", text)
        if heard.understood in ("emergency", "help") and guidance.steps[0].replace(
                "{emergency_number}", "911") in said:
            return Effect("remind", text)  # it cannot call: "Please call 911 now"
        if heard.understood == "repeat":
            return Effect("repeat", text)
        if heard.understood in VOICE_CHANGES:
            return Effect("voice", text)
        if heard.understood == "what_can_i_say":
            return Effect("options", text)
        return Effect(heard.understood, text)
    if state == "emergency" and before != "emergency":
        return Effect("emergency", text)
    if model.pending is not None and heard.understood in ("ask_if_new", "confirm", "no"):
        kind = model.pending.kind
        return Effect({"ask_if_new": "ask_if_new", "confirm": "confirm",
                       "confirm_no": "confirm"}[kind], text)
    if heard.understood in ("repeat",):
        return Effect("repeat", text)
    if heard.understood in VOICE_CHANGES:
        return Effect("voice", text)
    if heard.understood in ("what_can_i_say",):
        return Effect("options", text)
    if heard.understood == "help" or state == "help":
        return Effect("help", text)
    if state == UNWELL and before != UNWELL:
        return Effect("ask_unwell", text)
    if heard.understood == "stop_sign" and state == WHICH:  # no sign named: which is it?
        return Effect("ask_which" if before != WHICH else "reask", text)
    if heard.understood == "stop_sign" or (
            state == "goodbye" and "urgent" in outcomes and before.startswith("routine.")):
        return Effect("stop_routine", text)
    if heard.understood in ("pause", "resume", "skip"):
        return Effect(heard.understood, text)
    if before in (RUNNING, CHECK_IN) and state == RUNNING:
        return Effect("continue", text)
    if before == PAUSED and state == PAUSED:
        return Effect("remind", text)
    if heard.understood == "stop" or (state == "goodbye" and heard.understood not in (
            "yes", "no", "unsure", "unclear")):
        return Effect("goodbye", text)
    if heard.understood in ("unsure", "unclear") and state == before:
        return Effect("reask", text)
    if heard.understood in ("yes", "no"):
        return Effect(heard.understood, text)
    return Effect(heard.understood, text)


@cache
def question_routes(dialogs: Dialogs) -> dict[str, Question]:
    return dict(dialogs.question_nodes())
