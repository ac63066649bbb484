"""Where the conversation is, in the terms the interpreter and the policy need.

For a state of the flow (and a short question on the way, if any): the kind
of moment, the question asked, whether it is a red flag, what "okay" and
"I'm fine" mean there, which commands act, the symptoms the question is
about, and the question's own answer words ("gradually" to "did it come on
suddenly?"). Derived from the flow and the data, never from a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from assistant.dialog_data import Dialogs
from assistant.dialog_model import Pending
from assistant.flow import CHECK_IN, GUIDANCE, HELP, PAUSED, RUNNING, UNWELL, WHICH, Flow
from assistant.lexicon import Symptom
from assistant.policy import Kind, Moment
from assistant.words import Phrase, PhraseIndex, phrase

# The commands the policy passes on as commands (the rest are answers or red flags).
COMMANDS = frozenset({"help", "stop", "what_can_i_say", "slower", "faster", "louder", "softer",
                      "normal_speed", "normal_volume", "pause", "resume", "skip", "next"})
ROUTINE_KINDS: Mapping[str, Kind] = {RUNNING: "exercise", PAUSED: "paused",
                                     CHECK_IN: "check_in", WHICH: "which",
                                     UNWELL: "ask_unwell"}


def moment_of(flow: Flow, dialogs: Dialogs, state: str, pending: Pending | None,
              triggers: frozenset[str]) -> Moment:
    """The moment for the policy; `triggers`: what the machine accepts in this state."""
    commands = (triggers & COMMANDS) | {"help", "stop"}
    around = state in flow.around_routine
    if pending is not None:
        return Moment("confirm", pending.question, True,
                      commands=frozenset(COMMANDS - {"pause", "resume", "skip", "next"}),
                      around_routine=around)
    if state == GUIDANCE:
        return Moment("guidance", commands=frozenset(commands))
    if state == HELP:
        return Moment("help", red_flag=True, commands=frozenset(commands))
    if state in ROUTINE_KINDS:
        answers_fine = state in (CHECK_IN, UNWELL)
        return Moment(ROUTINE_KINDS[state], okay="no" if state == CHECK_IN else "unclear",
                      fine="no" if answers_fine else "unclear", commands=frozenset(commands),
                      around_routine=True)
    node = flow.nodes[state]
    question = node.question
    assert question is not None, f"{state} does not listen"
    kind: Kind = "setup" if node.scope == "routine" else "question"
    return Moment(kind, state.rsplit(".", 1)[-1], question.red_flag, question.if_okay,
                  question.if_fine, frozenset(commands), around)


def expecting_at(symptoms: Mapping[str, Symptom], state: str,
                 pending: Pending | None) -> frozenset[str]:
    """The symptoms the question being asked is about ("it was drooping" at the face question)."""
    if pending is not None and pending.symptom:
        return frozenset({pending.symptom})
    name = pending.question if pending else state.rsplit(".", 1)[-1]
    return frozenset(n for n, s in symptoms.items() if name in s.answers)


@dataclass(frozen=True)
class OwnWords:
    """The answer words at one question: the general ones, and the question's own."""

    index: PhraseIndex
    own: frozenset[Phrase]


_OWN_WORDS: dict[int, tuple[object, OwnWords]] = {}


def own_words_at(dialogs: Dialogs, state: str, pending: Pending | None) -> OwnWords | None:
    """A question's own words win over the general ones ("I think so" to "can you stand
    safely, without help?" is not a clear yes); None where a question has none."""
    owner: object
    if pending is not None:
        if pending.kind != "ask_if_new":
            return None
        owner = dialogs.words.policy.ask_if_new
    else:
        node = dialogs.graph.nodes.get(state)
        owner = node.question if node else None
    says_yes = list(getattr(owner, "says_yes", []))
    says_no = list(getattr(owner, "says_no", []))
    if not (says_yes or says_no):
        return None
    built = _OWN_WORDS.get(id(owner))
    if built is None or built[0] is not owner:
        words = dialogs.words
        own = frozenset(phrase(t) for t in (*says_yes, *says_no))
        groups = {str(k): [t for t in v if phrase(t) not in own]
                  for k, v in words.answers.items()}
        groups["yes"] += says_yes
        groups["no"] += [*(t for t in words.soft_no if phrase(t) not in own), *says_no]
        index = PhraseIndex((phrase(t), label) for label, texts in groups.items() for t in texts)
        built = _OWN_WORDS[id(owner)] = (owner, OwnWords(index, own))
    return built[1]
