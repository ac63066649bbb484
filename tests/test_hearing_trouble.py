"""When the assistant cannot hear an answer, it says so plainly and offers what helps.

An answer heard below the recognizer's confidence floor (a television on, a soft
voice) is not "not understood": the person said something sensible that the
microphone did not carry. The assistant says it could not hear it clearly, offers
the screen's touch answers when a page is open, and, when it keeps happening, says it
is having trouble hearing and what helps. The safe routes stay as they are: a red-flag
question that could not be heard still ends in the call-911 guidance.
"""

from __future__ import annotations

from pathlib import Path

from conftest import Conversation, Converse, path_to

from assistant.dialog_data import Dialogs, Question
from assistant.ports import Heard
from assistant.session import Session
from assistant.transcript import Transcript

FLOOR = 0.7
MUFFLED = 0.2  # a confidence well below the floor


def at(converse: Converse, dialogs: Dialogs, question: str, touch: bool) -> Conversation:
    conv = converse(min_confidence=FLOOR)
    conv.machine.offer_touch(touch)
    for name, answer in path_to(dialogs, question).items():
        conv.answer_until(f"check.{name}", "no")  # the path's own answers
        conv.reply(answer, confidence=0.95)
    conv.answer_until(f"check.{question}", "no")
    return conv


def test_an_answer_not_heard_clearly_is_said_to_be_that_and_the_screen_offered(
        converse: Converse, dialogs: Dialogs) -> None:
    prompts = dialogs.phrases.prompts
    conv = at(converse, dialogs, "sudden_onset", touch=True)
    turn = conv.reply("no", confidence=MUFFLED)
    assert prompts.reask_not_heard in turn.says
    assert prompts.reask_unclear not in turn.says
    assert turn.says[-1] == prompts.touch_offer, turn.says
    touched = conv.machine.hear(Heard("no", source="touch"), conv.now + 1)
    assert conv.state != "check.sudden_onset" and "emergency" not in conv.state, touched.says


def test_without_a_page_open_the_screen_is_not_offered(converse: Converse,
                                                       dialogs: Dialogs) -> None:
    conv = at(converse, dialogs, "sudden_onset", touch=False)
    turn = conv.reply("no", confidence=MUFFLED)
    assert dialogs.phrases.prompts.reask_not_heard in turn.says
    assert dialogs.phrases.prompts.touch_offer not in turn.says


def test_a_clear_answer_that_is_no_answer_is_still_not_understood(converse: Converse,
                                                                  dialogs: Dialogs) -> None:
    conv = at(converse, dialogs, "sudden_onset", touch=True)
    turn = conv.reply("banana", confidence=0.95)
    assert dialogs.phrases.prompts.reask_unclear in turn.says
    assert dialogs.phrases.prompts.touch_offer not in turn.says


def test_a_red_flag_never_heard_still_takes_the_safe_route(converse: Converse,
                                                           dialogs: Dialogs) -> None:
    conv = at(converse, dialogs, "sudden_onset", touch=True)
    conv.reply("no", confidence=MUFFLED)
    conv.reply("no", confidence=MUFFLED)
    assert conv.state == "emergency" and conv.machine.disposition == "emergency"


def test_trouble_that_goes_on_is_named_with_what_helps(converse: Converse,
                                                      dialogs: Dialogs) -> None:
    """Not heard at "Have you hit your head?" twice (its safe route asks about blood
    thinners), then not heard again: the assistant says it is having trouble hearing."""
    prompts = dialogs.phrases.prompts
    assert dialogs.phrases.listening.trouble_after == 2
    for touch, helps in ((True, prompts.touch_offer), (False, prompts.hearing_trouble_help)):
        conv = at(converse, dialogs, "head_knock", touch=touch)
        conv.reply("no", confidence=MUFFLED)
        conv.reply("no", confidence=MUFFLED)
        assert conv.state == "check.blood_thinner"
        turn = conv.reply("no", confidence=MUFFLED)
        node = dialogs.check.nodes["blood_thinner"]
        assert isinstance(node, Question)
        assert turn.says[0] == prompts.hearing_trouble and node.simpler in turn.says
        assert turn.says[-1] == helps, turn.says
        conv.reply("no", confidence=MUFFLED)  # a red flag, never heard: the guidance
        assert conv.machine.disposition == "emergency"


def test_an_answer_heard_clearly_ends_the_trouble(converse: Converse, dialogs: Dialogs) -> None:
    conv = at(converse, dialogs, "head_knock", touch=False)
    conv.reply("no", confidence=MUFFLED)
    conv.reply("yes", confidence=0.95)  # "I have hit my head": on to blood thinners
    turn = conv.reply("no", confidence=MUFFLED)
    assert dialogs.phrases.prompts.reask_not_heard in turn.says
    assert dialogs.phrases.prompts.hearing_trouble not in turn.says


class Page:
    """A screen stand-in with a page open."""

    def show(self, view: object) -> None: ...

    def caption(self, text: str, question: bool) -> None: ...

    def device(self, name: str, working: bool) -> None: ...

    def watched(self) -> bool:
        return True


class MuffledVoice:
    """Every answer comes out muffled (heard far below the floor)."""

    hears_during_waits = True

    def __init__(self) -> None:
        self.said: list[str] = []

    def say(self, text: str, interruptible_by: object = None) -> object:
        from assistant.ports import Spoken

        self.said.append(text)
        return Spoken(0.0, 0.0)

    def listen(self, vocabulary: object, seconds: float) -> Heard:
        return Heard("no", MUFFLED)

    def change_voice(self, change: object) -> None: ...


def test_the_session_offers_the_screen_when_a_page_is_open(dialogs: Dialogs,
                                                          tmp_path: Path) -> None:
    from assistant.clock import FakeClock
    from assistant.dialog import DialogMachine

    voice = MuffledVoice()
    clock = FakeClock()
    machine = DialogMachine(dialogs, "911", min_confidence=FLOOR)
    transcript = Transcript.to_file(tmp_path / "t.jsonl", clock)
    Session(machine, voice, clock, transcript, screen=Page()).run()  # type: ignore[arg-type]
    transcript.close()
    prompts = dialogs.phrases.prompts
    assert prompts.reask_not_heard in voice.said and prompts.touch_offer in voice.said
    assert machine.disposition == "emergency"  # the first question is a red flag
