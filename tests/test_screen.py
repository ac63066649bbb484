"""The screen without a browser: what each moment shows, that every button answers as its
words would, that touches reach the same dialog as typing (first one wins), and that the
server hands a reloading page the current state. The page itself is tested in Chromium
(tests/test_screen_browser.py)."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Literal

from conftest import Conversation, Converse, path_to

from assistant.clock import FakeClock
from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.ports import Heard
from assistant.screen.server import ScreenServer, TouchInbox
from assistant.screen.view import ScreenView, view_of
from assistant.session import Session
from assistant.text_voice import TextVoice
from assistant.transcript import Transcript

ANSWER_ACTIONS = {"yes": "yes", "no": "no", "unsure": "unsure", "repeat": "repeat",
                  "help": "help", "pause": "pause", "resume": "resume", "skip": "skip",
                  "stop": "stop", "unwell": "stop_sign", "next": "next",
                  "acknowledged": "acknowledged"}


def keys(view: ScreenView) -> list[str]:
    return [b.key for b in view.answers]


def test_a_question_offers_yes_no_not_sure_repeat_and_help(converse: Converse) -> None:
    conv = converse()
    view = view_of(conv.machine)
    assert view.mode == "check"
    assert keys(view) == ["yes", "no", "unsure", "repeat", "help"]
    assert [b.label for b in view.answers][:3] == ["Yes", "No", "Not sure"]
    assert view.hint == "You can say yes, no, or not sure."  # speaking works as well


def test_the_routine_shows_its_controls_and_the_exercise(converse: Converse,
                                                         dialogs: Dialogs) -> None:
    conv = converse()
    all_no = {name: "no" for name in dialogs.question_nodes()}
    conv.follow(all_no | path_to(dialogs, "running") | {"can_stand": "yes"}, "routine.running")
    view = view_of(conv.machine)
    assert view.mode == "routine" and keys(view) == ["pause", "skip", "stop", "unwell"]
    assert view.exercise is not None and view.exercise.number == 0  # the warm-up
    conv.reply("skip")
    while view_of(conv.machine).exercise.rep is None:  # type: ignore[union-attr]
        conv.reply(None)
    exercise = view_of(conv.machine).exercise
    assert exercise is not None
    first = dialogs.routine.exercises[0]
    assert (exercise.name, exercise.number, exercise.total) == (first.name, 1, 7)
    assert exercise.rep == 1 and exercise.of == first.reps and exercise.side == "right"
    assert exercise.drawing != "seated", "each exercise has its own drawing"
    conv.reply("pause")
    paused = view_of(conv.machine)
    assert paused.paused and keys(paused) == ["resume", "skip", "stop", "unwell"]


def test_the_guidance_lists_every_step_with_the_current_one(converse: Converse,
                                                            dialogs: Dialogs) -> None:
    conv = converse(["emergency"], emergency_number="112")
    view = view_of(conv.machine)
    assert view.mode == "emergency" and view.guidance is not None
    assert view.guidance.number == "112" and view.guidance.current == 0
    assert view.guidance.steps[0] == dialogs.emergency.steps[0].replace(
        "{emergency_number}", "112")
    conv.reply("next")
    assert view_of(conv.machine).guidance.current == 1  # type: ignore[union-attr]
    assert keys(view_of(conv.machine)) == ["next", "repeat", "acknowledged"]


def test_every_button_means_what_it_says_wherever_it_is_shown(converse: Converse,
                                                              dialogs: Dialogs) -> None:
    """Walk to each kind of moment; each button's words, understood there by the machine,
    do what the button is named for (a touch goes through the same understanding)."""
    conv = converse()
    to_routine = path_to(dialogs, "running") | {"can_stand": "yes"}
    seen: set[str] = set()

    def check(c: Conversation) -> None:
        view = view_of(c.machine)
        for button in view.answers:
            _, decision = c.machine.understand(button.says)
            if button.key in ANSWER_ACTIONS:
                assert decision.action == ANSWER_ACTIONS[button.key], (c.state, button)
            else:  # a stop sign, at "which is it?" (chest pain: a red flag, the guidance)
                assert decision.action in ("stop_sign", "red_flag"), (c.state, button)
                assert c.machine.sign_of[decision.symptom or ""] == button.key
            seen.add(f"{view.mode}:{button.key}")

    for _ in range(40):
        check(conv)
        if conv.state == "routine.running":
            break
        conv.reply(to_routine.get(conv.state.rsplit(".", 1)[-1], "no"))
    conv.reply("pause")
    check(conv)
    conv.reply("resume")
    conv.silence_until("routine.check_in")
    check(conv)
    conv.reply("yes")
    check(conv)  # which is it?
    conv.reply("emergency")
    check(conv)
    assert {"check:no", "routine:pause", "routine:resume", "routine:unwell", "routine:pain",
            "routine:chest_pain", "emergency:acknowledged"} <= seen


def test_touching_i_feel_unwell_stops_the_exercise_and_asks_which_it_is(
        converse: Converse, dialogs: Dialogs) -> None:
    conv = converse().follow(path_to(dialogs, "running") | {"can_stand": "yes"},
                             "routine.running")
    unwell = next(b for b in view_of(conv.machine).answers if b.key == "unwell")
    conv.reply(unwell.says)
    assert conv.state == "routine.which"
    assert conv.says[-2:] == ["Stop now, and stay seated.", dialogs.routine.check_in.which]
    conv.reply("chest pain")
    assert conv.state == "emergency"


def test_a_touch_answers_through_the_same_dialog_recorded_as_touch(dialogs: Dialogs) -> None:
    clock = FakeClock()
    inbox = TouchInbox()
    screen = RecordingScreen(inbox, answers={"check.sudden_onset": "yes"}, default="stop")
    keyboard = io.StringIO("")  # nothing typed: the keyboard closed at once
    transcript = Transcript(clock=clock)
    voice = TextVoice(clock, keyboard, io.StringIO(), touches=inbox)
    disposition = Session(DialogMachine(dialogs), voice, clock, transcript, screen=screen).run()
    assert disposition == "emergency", "the keyboard's end did not end a touch session"
    heard = transcript.of_type("heard")[0]
    assert (heard["text"], heard["source"], heard["confidence"], heard["understood"]) == (
        "yes", "touch", 1.0, "yes")


def test_typing_still_answers_beside_the_screen_and_is_recorded_as_keyboard(
        dialogs: Dialogs) -> None:
    clock = FakeClock()
    inbox = TouchInbox()
    transcript = Transcript(clock=clock)
    voice = TextVoice(clock, io.StringIO("yes\n"), io.StringIO(), touches=inbox)
    screen = RecordingScreen(inbox, answers={"emergency": "stop"})
    assert Session(DialogMachine(dialogs), voice, clock, transcript,
                   screen=screen).run() == "emergency"
    heard = transcript.of_type("heard")[0]
    assert (heard["text"], heard["source"]) == ("yes", "keyboard")


def test_captions_come_before_the_voice_says_them_and_the_question_stands_out(
        dialogs: Dialogs) -> None:
    clock = FakeClock()
    inbox = TouchInbox()
    order: list[str] = []
    screen = RecordingScreen(inbox, order=order, answers={"check.sudden_onset": "no"},
                             default="stop")
    voice = OrderedVoice(clock, io.StringIO(""), io.StringIO(), touches=inbox, order=order)
    Session(DialogMachine(dialogs), voice, clock, Transcript(clock=clock), screen=screen).run()
    first = dialogs.check.nodes[dialogs.check.start].ask  # type: ignore[union-attr]
    assert order.index(f"caption: {first}") == order.index(f"say: {first}") - 1
    questions = [text for text, question in screen.captions if question]
    assert questions[0] == first
    greeting = dialogs.check.greeting.say[0].replace("{to_name}", "")  # no name set
    assert (greeting, False) in screen.captions, "the greeting is a caption, not a question"


def test_the_first_answer_wins_and_a_late_one_is_dropped() -> None:
    inbox = TouchInbox()
    inbox.moment("q1")
    assert inbox.put("q1", "no", "touch")
    assert not inbox.put("q1", "yes", "touch"), "the second answer to one question"
    assert inbox.take() == Heard("no", 1.0, "touch")
    inbox.moment("q2")
    assert not inbox.put("q1", "yes", "touch"), "an answer to a question already answered"
    assert inbox.take() is None
    assert inbox.put("q1", "emergency", "keyboard"), "an emergency is never late"
    assert inbox.take() == Heard("emergency", 1.0, "keyboard")


def test_the_server_gives_a_new_page_the_current_state_and_takes_only_offered_answers(
        converse: Converse) -> None:
    from aiohttp import ClientSession

    conv = converse()
    server = ScreenServer("127.0.0.1", 0)
    server.start()
    try:
        view = view_of(conv.machine)
        server.show(view)
        server.caption("Did your leg suddenly get weak?", question=True)
        with urllib.request.urlopen(server.url + "state", timeout=5) as response:
            state = json.load(response)
        assert state["view"]["moment"] == view.moment
        assert state["captions"][-1]["text"] == "Did your leg suddenly get weak?"
        with urllib.request.urlopen(server.url, timeout=5) as response:
            assert b'aria-live="polite"' in response.read()

        import asyncio

        async def page() -> dict[str, Any]:
            async with ClientSession() as session, session.ws_connect(server.url + "ws") as ws:
                first: dict[str, Any] = json.loads((await ws.receive()).data)
                await ws.send_str(json.dumps({"answer": "drop the table", "moment": view.moment}))
                await ws.send_str(json.dumps({"answer": "no", "moment": view.moment,
                                              "source": "keyboard"}))
                return first

        first = asyncio.run(page())
        assert first["captions"][-1]["question"] is True
        assert server.touches.wait(5) == Heard("no", 1.0, "keyboard")
    finally:
        server.stop()


def test_a_screen_that_nobody_reads_never_slows_the_session(converse: Converse) -> None:
    server = ScreenServer("127.0.0.1", 0)
    server.start()
    try:
        view = view_of(converse().machine)
        began = time.perf_counter()
        for n in range(2000):
            server.caption(f"line {n}", question=False)
            server.show(view)
        assert time.perf_counter() - began < 2.0
    finally:
        server.stop()


# --- fakes -------------------------------------------------------------------------------


@dataclass
class RecordingScreen:
    """Records what the session shows; answers by "touch" at the named moments."""

    inbox: TouchInbox
    answers: dict[str, str] = field(default_factory=dict)
    default: str | None = None  # the answer at every other moment (None: none)
    order: list[str] | None = None
    views: list[ScreenView] = field(default_factory=list)
    captions: list[tuple[str, bool]] = field(default_factory=list)

    def show(self, view: ScreenView) -> None:
        self.views.append(view)
        self.inbox.moment(view.moment)
        state = view.moment.split("|")[0]
        answer = self.answers.pop(state, None) or self.default
        if answer is not None and view.mode != "goodbye":
            threading.Timer(0.01, self.inbox.put, (view.moment, answer, "touch")).start()

    def caption(self, text: str, question: bool) -> None:
        self.captions.append((text, question))
        if self.order is not None:
            self.order.append(f"caption: {text}")

    def device(self, name: Literal["microphone", "loudspeaker"], working: bool) -> None:
        pass

    def watched(self) -> bool:
        return True


class OrderedVoice(TextVoice):
    def __init__(self, *args: Any, order: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order

    def say(self, text: str, interruptible_by: Any = None) -> Any:
        self.order.append(f"say: {text}")
        return super().say(text, interruptible_by)

