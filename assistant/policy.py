"""What an interpretation does at this moment of the conversation: the safety policy.

Pure. The order below is the safety argument, and every step is a rule of
the clinical reference (§4):

1. A present or recently-passed red flag, at any moment: the call-911 guidance.
   (At its own question it is that question's "yes".)
2. "Emergency", "call an ambulance": the guidance.
3. Around the routine, a stop sign said in any words stops it.
4. A red flag said in passing with uncertain words: one short confirmation.
5. A long-standing complaint that matters here: "Is it new, or worse today?"
6. A command given as a command.
7. The answer: the question's own symptom, present or denied, else the answer
   words (the last one said); a doubtful "no" to a red flag is confirmed once.
8. A request to hear it again.
9. Anything else: unclear (asked again, never taken as "no").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from assistant.interpret import Interpretation, Mention
from assistant.lexicon import Symptom

Kind = Literal["question", "help", "guidance", "exercise", "paused", "check_in", "which",
               "confirm", "ask_unwell", "setup"]
Meaning = Literal["yes", "no", "unclear"]


@dataclass(frozen=True)
class Moment:
    """Where the conversation is: what was asked, and what may be said."""

    kind: Kind
    question: str | None = None  # the question's name, when one was asked
    red_flag: bool = False  # a "yes" here is an emergency
    okay: Meaning = "unclear"  # what a bare "okay" means here
    fine: Meaning = "no"  # what "I'm fine" means here
    commands: frozenset[str] = field(default_factory=frozenset)  # commands that act here
    around_routine: bool = False  # a stop sign here stops the routine, or keeps it from starting


@dataclass(frozen=True)
class Decision:
    """What the dialog machine is asked to do, and why (for the transcript)."""

    action: str  # yes, no, unsure, unclear, a command, red_flag, stop_sign, confirm,
    #               ask_if_new, follow_up, repeat, acknowledged
    symptom: str | None = None
    confirm: bool = False  # a "no" to a red flag that is worth confirming once
    why: str = ""


def decide(meaning: Interpretation, moment: Moment, symptoms: Mapping[str, Symptom],
           doubtful: bool = False) -> Decision:
    """The one thing to do with what was said. `doubtful`: the recognizer was unsure, or
    the person had just asked to hear the question again."""
    mentions = sorted(meaning.mentions, key=lambda m: -len(m.words))  # the most precise first
    own = [m for m in mentions if moment.question in symptoms[m.symptom].answers]
    level = {m.symptom: symptoms[m.symptom].level for m in mentions}

    for m in mentions:  # 1
        if m.counts and level[m.symptom] == "emergency" and moment.kind != "guidance":
            if moment.red_flag and m in own and symptoms[m.symptom].answers.get(
                    moment.question or "") == "yes":
                return Decision("yes", m.symptom, why=_said(m))  # its own question's yes
            return Decision("red_flag", m.symptom, why=_said(m))
    if "emergency" in meaning.commands and moment.kind != "guidance":  # 2
        return Decision("emergency", why="asked for emergency help")
    if moment.around_routine:  # 3
        for m in mentions:
            if m.counts and level[m.symptom] == "stop":
                return Decision("stop_sign", m.symptom, why=_said(m))
    for m in mentions:  # 4
        if m.assertion == "uncertain" and level[m.symptom] == "emergency" and m not in own \
                and moment.kind != "guidance":
            return Decision("confirm", m.symptom, why=_said(m))
    for m in mentions:  # 5
        matters = level[m.symptom] == "emergency" or m in own or (
            moment.around_routine and level[m.symptom] == "stop")
        if m.assertion == "long_standing" and matters and moment.kind not in ("guidance",
                                                                              "confirm"):
            return Decision("ask_if_new", m.symptom, why=_said(m))
    if moment.kind == "guidance":
        return _in_guidance(meaning, moment)
    for m in meaning.mentions:  # a complaint with a question of its own, said elsewhere
        follow_up = symptoms[m.symptom].follow_up
        if m.counts and follow_up and follow_up != moment.question and m not in own \
                and moment.kind in ("question", "setup"):
            return Decision("follow_up", m.symptom, why=_said(m))
    answer = answer_to(meaning, moment, own, symptoms)
    informational = ("what_can_i_say",)
    for command in meaning.commands:  # 6
        if command in moment.commands and not (command in informational and (
                answer or meaning.mentions)):
            return Decision(command, why=f"command: {command}")
    if answer is not None:  # 7
        confirm = answer == "no" and moment.red_flag and (
            doubtful or meaning.corrected or meaning.soft)
        return Decision(answer, confirm=confirm, why=_answer_why(meaning, own))
    if meaning.repeat:  # 8
        return Decision("repeat", why="asked to hear it again")
    return Decision("unclear", why="no answer in it")  # 9


def answer_to(meaning: Interpretation, moment: Moment, own: list[Mention],
              symptoms: Mapping[str, Symptom]) -> str | None:
    """yes / no / unsure from the question's own symptoms and the answer words."""
    said = {"okay": moment.okay, "fine": moment.fine}.get(meaning.answer or "", meaning.answer)
    # A complaint that came and went counts for a red flag (a stroke warning), not for a
    # question about now ("Do you feel dizzy right now?").
    by_symptom = [symptoms[m.symptom].answers[moment.question or ""] for m in own
                  if m.assertion == "present" or (m.counts and moment.red_flag)]
    if "yes" in by_symptom and not (meaning.decisive and said in ("no", "unsure")):
        return "yes"  # "no, but it drooped this morning": a present complaint counts
    if said in ("yes", "no", "unsure"):
        return said
    if by_symptom or any(m.assertion == "uncertain" for m in own):
        return "unsure"
    if any(m.assertion == "denied" for m in own):
        return "no"
    return None


def _in_guidance(meaning: Interpretation, moment: Moment) -> Decision:
    """Waiting for the ambulance: it never goes back to questions or exercises."""
    for command in meaning.commands:
        if command in ("resume", "skip"):
            return Decision("next", why=f"command: {command}, in the guidance")
        if command in (*moment.commands, "emergency"):
            return Decision(command, why=f"command: {command}")
    if meaning.repeat:
        return Decision("repeat", why="asked to hear it again")
    if meaning.acknowledged:
        return Decision("acknowledged", why="said they called, or heard")
    return Decision("unclear", why="in the guidance")


def _said(m: Mention) -> str:
    cue = f" ({m.cue})" if m.cue else ""
    return f"{m.symptom}: {m.assertion}{cue}"


def _answer_why(meaning: Interpretation, own: list[Mention]) -> str:
    parts = [_said(m) for m in own]
    if meaning.answer:
        parts.append(f"said {meaning.answer}")
    return "; ".join(parts)
