"""The answer to a short question asked on the way (§4.2, §4.3), decided without side effects.

"Just to be sure: ...?" and "Is it new, or worse today?" are asked in the
middle of a question or a moment, which stays where it is; what the answer
does is a `Step` the machine then carries out: a trigger in that moment, the
guidance for a red flag, asking again once, or going back to what was being
done. A red flag is never lowered: silence or an unclear reply to a
confirmation leads to the guidance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from assistant.dialog_model import Pending
from assistant.flow import ROUTINE_STATES
from assistant.lexicon import Symptom
from assistant.policy import Decision

ANSWERS = ("yes", "no", "unsure", "unclear", "silence")
KEEPING = ("repeat", "what_can_i_say", "slower", "faster", "louder", "softer", "normal_speed",
           "normal_volume")


@dataclass(frozen=True)
class Step:
    do: Literal["trigger", "flag", "reask", "back", "keep"]
    trigger: str = ""  # for "trigger"
    exhausted: bool = False  # take the question's safe route at once, with no re-ask


def resolve(pending: Pending, decision: Decision, attempts: int, repeats: int,
            repeat_limit: int, symptoms: Mapping[str, Symptom],
            stop_sign_for: Mapping[str, str]) -> Step:
    """What the reply to the pending question does."""
    action = decision.action
    if action == "repeat" and repeats >= repeat_limit:
        action = "unclear"  # asked again and again: an unclear reply
    if action in KEEPING:
        return Step("keep", action)
    if pending.kind == "ask_if_new" and attempts < 1 and action in ("unsure", "unclear",
                                                                    "silence"):
        return Step("reask", action)  # "Is it new?" -- "not sure": once more, simpler
    if action == "red_flag":
        return Step("flag", decision.symptom or "")
    if action in ("emergency", "stop", "help"):
        return Step("trigger", action)
    answer = action if action in ANSWERS else "unclear"
    symptom = symptoms[pending.symptom] if pending.symptom else None
    if pending.kind == "confirm_no":
        if answer in ("yes", "no"):
            return Step("trigger", answer)
        return Step("trigger", "silence" if answer == "silence" else "unclear", exhausted=True)
    emergency = symptom is not None and symptom.level == "emergency"
    sign = stop_sign_for.get(symptom.name) if symptom and pending.origin in ROUTINE_STATES \
        and symptom.level == "stop" else None
    if pending.kind == "confirm":
        return Step("back") if answer == "no" else Step("flag", pending.symptom or "")
    if answer == "yes":  # it is new, or worse
        if emergency:
            return Step("flag", pending.symptom or "")
        if pending.question and symptom:
            return Step("trigger", symptom.answers[pending.question])
        return Step("trigger", sign) if sign else Step("back")
    if answer == "no":
        return Step("trigger", "no") if pending.question else Step("back")
    if emergency:
        return Step("flag", pending.symptom or "")
    if pending.question:
        return Step("trigger", "unsure")
    return Step("trigger", sign) if sign else Step("back")
