"""How the two English recognizers' opinions become one answer, and what the dialog then
does with it (assistant/asr/moonshine_engine.py phrase_said, assistant/asr/cross_checked.py):
pure rules, no model loaded. The real models are in test_moonshine_engine.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from assistant.asr.base import AsrSetupError, Hypothesis, phrase_table
from assistant.asr.cross_checked import (
    AGREED_CONFIDENCE,
    VERIFY_CHECKER_MIN,
    Opinions,
    cross_check,
    loudest_check,
)
from assistant.asr.moonshine_engine import phrase_said
from assistant.ports import Vocabulary

DIALOGS = Path(__file__).resolve().parents[1] / "dialogs"


# --- the transcript and the phrases of the moment (no model) ------------------------------


@pytest.fixture(scope="module")
def phrases() -> dict[tuple[str, ...], str]:
    return phrase_table(Vocabulary(("yes", "no", "chest pain", "I don't know", "call 911",
                                    "stop")))


@pytest.mark.parametrize(("transcript", "phrase"), [
    ("Yes.", "yes"), ("yes", "yes"), ("NO!", "no"), ("I don't know.", "I don't know"),
    ("Call 911.", "call 911"), ("Call nine one one", "call 911"),
    ("No, no.", "no"), ("Yes yes yes", "yes"), ("Uh, no.", "no"), ("Um... stop", "stop"),
])
def test_a_transcript_that_is_a_phrase_is_that_phrase(
        phrases: dict[tuple[str, ...], str], transcript: str, phrase: str) -> None:
    assert phrase_said(transcript, phrases) == phrase


@pytest.mark.parametrize("transcript", [
    "No chest pain.",  # a denial: never the symptom alone
    "Oh no",  # an exclamation, not a denial
    "Yes, no.", "No. Yes.",  # two answers: unclear, asked again
    "Now.", "Go.", "Know.",  # sound-alikes are other words
    "Yes, I think so", "I'm going to", "You", "", "...",
])
def test_anything_else_is_not_an_answer(phrases: dict[tuple[str, ...], str],
                                        transcript: str) -> None:
    assert phrase_said(transcript, phrases) == ""


def test_a_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.asr.select import make_recognizer

    monkeypatch.setitem(sys.modules, "moonshine_voice", None)
    monkeypatch.setitem(sys.modules, "moonshine_voice.utils", None)
    with pytest.raises(AsrSetupError, match=r"pip install moonshine-voice==0\.1\.0"):
        make_recognizer("moonshine", None, Path("/nonexistent"), print)


# --- Moonshine checked by pocketsphinx: the rule ---------------------------------------

FLOOR = 0.7
SURE = 0.85  # dialogs/understanding.yaml policy.sure_confidence


def opinions(moonshine: str, again: bool, checker: str, confidence: float,
             transcript: str = "") -> Opinions:
    return Opinions(moonshine, again, Hypothesis(checker, confidence, final=True),
                    transcript or moonshine)


def test_both_models_agreeing_is_sure() -> None:
    final = cross_check(opinions("no", False, "no", 0.3), FLOOR)
    assert final.text == "no" and final.confidence == AGREED_CONFIDENCE >= SURE


SAME = (("yes", "yeah", "yep"), ("no", "nope"), ("not sure", "I don't know"))


def test_two_phrases_of_one_answer_are_agreement() -> None:
    """Moonshine's "yes" and pocketsphinx's "yep": the same answer, sure, as Moonshine wrote
    it; "no" and "not sure" are different answers (a hint only)."""
    final = cross_check(opinions("yes", False, "yep", 0.4), FLOOR, SAME)
    assert final.text == "yes" and final.confidence == AGREED_CONFIDENCE
    final = cross_check(opinions("no", False, "not sure", 0.99), FLOOR, SAME)
    assert (final.confidence or 0.0) < FLOOR
    assert (cross_check(opinions("yes", False, "yep", 0.4), FLOOR).confidence or 0.0) < FLOOR


def test_moonshine_twice_is_taken_but_not_sure() -> None:
    final = cross_check(opinions("no", True, "yes", 0.9), FLOOR)
    assert final.text == "no"
    assert final.confidence is not None and FLOOR <= final.confidence < SURE


@pytest.mark.parametrize("alone", [
    opinions("no", False, "yes", 0.99),  # Moonshine once, the checker heard another
    opinions("", False, "yes", 0.99, "Cat."),  # only the checker: a stranger's word
    opinions("", False, "no", 0.99, "Now."),  # short words sound alike too easily
    opinions("", False, "what can I say", 0.99, "I like that."),  # nothing alike
    opinions("", False, "emergency", 0.5, "They merged and see."),  # checker unsure
    opinions("yeah", True, "", 0.0, "Yeah, yeah."),  # Moonshine's filler, twice
    opinions("yeah", True, "no", 0.55, "Yeah."),  # ... over pocketsphinx's unsure "no"
], ids=["moonshine-once", "stranger", "short", "unlike", "checker-unsure", "filler-twice",
        "filler-over-no"])
def test_one_model_alone_is_a_hint_below_the_floor(alone: Opinions) -> None:
    """Reported (the dialog asks again, or in the routine pauses and asks), never taken."""
    final = cross_check(alone, FLOOR)
    assert final.text in (alone.moonshine, alone.checker.text) and final.text
    assert final.confidence is not None and final.confidence < FLOOR


def test_moonshines_yeah_is_taken_only_when_pocketsphinx_hears_a_yes_too() -> None:
    """Moonshine writes "Yeah" for what it cannot make out: heard twice over a television
    it was a "no" 10 times of 43 (bench/side_by_side.md), so alone it is only a hint (the
    question is asked again); with pocketsphinx's "yep" it is an agreed "yes"."""
    alone = cross_check(opinions("yeah", True, "", 0.0, "Yeah."), FLOOR, SAME)
    assert (alone.confidence or 0.0) < FLOOR
    agreed = cross_check(opinions("yeah", False, "yep", 0.6, "Yeah."), FLOOR, SAME)
    assert agreed.text == "yeah" and agreed.confidence == AGREED_CONFIDENCE


@pytest.mark.parametrize(("phrase", "transcript"), [
    ("emergency", "They merged and see."), ("call 911", "All time, one one."),
    ("say that again", "Say not again."),
])
def test_a_longer_phrase_moonshine_wrote_alike_is_taken_but_not_sure(
        phrase: str, transcript: str) -> None:
    final = cross_check(opinions("", False, phrase, 0.99, transcript), FLOOR)
    assert final.text == phrase
    assert final.confidence is not None and FLOOR <= final.confidence < SURE


def test_a_phrase_moonshine_verifies_is_taken_but_not_sure() -> None:
    """Moonshine wrote no phrase (the television too: "No, go left."), but made to say the
    phrases of the turn it finds pocketsphinx's the likeliest: taken, not sure."""
    verified = Opinions("", False, Hypothesis("no", VERIFY_CHECKER_MIN, final=True),
                        "No, go left.", True)
    final = cross_check(verified, FLOOR)
    assert final.text == "no"
    assert final.confidence is not None and FLOOR <= final.confidence < SURE
    unverified = Opinions("", False, Hypothesis("no", 0.99, final=True), "No, go left.")
    assert (cross_check(unverified, FLOOR).confidence or 0.0) < FLOOR
    unsure = Opinions("", False, Hypothesis("no", VERIFY_CHECKER_MIN - 0.1, final=True),
                      "Cat.", True)  # pocketsphinx hardly heard it: a hint, verified or not
    assert (cross_check(unsure, FLOOR).confidence or 0.0) < FLOOR


def test_a_phrase_moonshine_wrote_is_never_overruled_by_a_verification() -> None:
    """Moonshine wrote "yes" once; pocketsphinx's "no" is not taken, whatever it says."""
    final = cross_check(Opinions("yes", False, Hypothesis("no", 0.99, final=True), "Yes.",
                                 True), FLOOR)
    assert (final.confidence or 0.0) < FLOOR


# --- the loudest stretch heard again (assistant/asr/loudest.py) -----------------------------

WHOLE_HINT = Hypothesis("what", 0.69, final=True)  # the whole turn: a hint below the floor


@pytest.mark.parametrize("stretch", [
    opinions("no", False, "nope", 0.4),  # both models: one answer
    opinions("no", True, "", 0.0),  # Moonshine twice
    Opinions("", False, Hypothesis("no", VERIFY_CHECKER_MIN, final=True), "Go, go.", True),
], ids=["agreed", "moonshine-twice", "verified"])
def test_an_answer_heard_in_the_loudest_stretch_is_taken_but_not_sure(
        stretch: Opinions) -> None:
    """Not sure: the stretch may have left out a quieter end ("no ... feeling"), so a
    red-flag "no" found there is confirmed ("Just to be sure"), never taken at once."""
    final = loudest_check(stretch, WHOLE_HINT, [("yes", "yep"), ("no", "nope")])
    assert final.text == "no"
    assert final.confidence is not None and FLOOR <= final.confidence < SURE


@pytest.mark.parametrize("stretch", [
    opinions("yeah", True, "", 0.0),  # Moonshine twice on a short stretch: its "Yeah"
    opinions("no", False, "yes", 0.99),  # they disagree, Moonshine once
    opinions("", False, "no", 0.99, "Now."),  # pocketsphinx alone
    Opinions("", False, Hypothesis("no", VERIFY_CHECKER_MIN - 0.1, final=True), "Go.", True),
], ids=["moonshine-filler", "disagree", "checker-alone", "checker-unsure"])
def test_anything_less_in_the_stretch_leaves_the_whole_turns_hint(stretch: Opinions) -> None:
    assert loudest_check(stretch, WHOLE_HINT) == WHOLE_HINT


def test_nothing_heard_is_nothing() -> None:
    assert cross_check(opinions("", False, "", 0.0, ""), FLOOR) == Hypothesis("", 0.0, True)


def test_what_the_dialog_does_with_each_level() -> None:
    """A red-flag "no" both models heard is taken; one Moonshine heard twice is checked
    ("Just to be sure"); a hint is never taken as a denial (the question is asked again)."""
    from corpus_driver import reach

    from assistant.dialog import DialogMachine
    from assistant.dialog_data import load_dialogs

    dialogs = load_dialogs(DIALOGS)
    lead = dialogs.words.policy.confirm_lead
    for opinion, checked, taken in [(opinions("no", False, "no", 0.9), False, True),
                                    (opinions("no", True, "", 0.0), True, True),
                                    (opinions("no", False, "", 0.0), True, False)]:
        conv = reach(DialogMachine(dialogs, "911"), dialogs, "chest_pain")
        before = conv.state
        final = cross_check(opinion, FLOOR)
        turn = conv.reply(final.text, final.confidence)
        assert any(line.startswith(lead) for line in turn.says) == checked, turn.says
        assert (conv.state != before) == (taken and not checked), (conv.state, turn.says)




class _BrokenMoonshine:
    """A Moonshine whose library fails mid-session."""

    min_confidence = 0.7
    last_transcript = ""

    def begin(self, vocabulary: Vocabulary) -> None: ...

    def accept(self, pcm: bytes) -> None: ...

    def turn_audio(self) -> bytes:
        return b"\0\0" * 1600

    def phrase_in(self, audio: bytes) -> str:
        raise RuntimeError("onnxruntime: out of memory")


class _Checker:
    name = "pocketsphinx"
    min_confidence = 0.7
    interrupt_floor = 0.5

    def begin(self, vocabulary: Vocabulary) -> None: ...

    def accept(self, pcm: bytes) -> None: ...

    def end(self) -> Hypothesis:
        return Hypothesis("stop", 0.9, final=True)


def test_if_moonshine_fails_it_is_said_once_and_pocketsphinx_hears_alone() -> None:
    from assistant.asr.cross_checked import CrossCheckedRecognizer

    told: list[str] = []
    pair = CrossCheckedRecognizer(_BrokenMoonshine(), _Checker(), told.append)  # type: ignore[arg-type]
    for _ in range(3):
        pair.begin(Vocabulary(("stop", "help")))
        pair.accept(b"\0\0" * 1600)
        assert pair.end() == Hypothesis("stop", 0.9, final=True)  # the "stop" is not lost
    assert len(told) == 1 and "pocketsphinx alone" in told[0] and "out of memory" in told[0]


class _ByLength:
    """A fake model that hears `whole` in the whole turn and `stretch` in anything shorter."""

    def __init__(self, whole: str, stretch: str, turn_bytes: int) -> None:
        self.whole, self.stretch, self.turn_bytes = whole, stretch, turn_bytes
        self.heard: list[int] = []

    def text_for(self, audio: bytes) -> str:
        self.heard.append(len(audio))
        return self.whole if len(audio) >= self.turn_bytes else self.stretch


class _FakeMoonshine(_ByLength):
    min_confidence = 0.7
    last_transcript = ""

    def begin(self, vocabulary: Vocabulary) -> None:
        self._audio: list[bytes] = []

    def accept(self, pcm: bytes) -> None:
        self._audio.append(pcm)

    def turn_audio(self) -> bytes:
        return b"".join(self._audio)

    def phrase_in(self, audio: bytes) -> str:
        self.last_transcript = self.text_for(audio)
        return self.last_transcript

    def heard_again(self, audio: bytes, phrase: str) -> bool:
        return False

    def verifies(self, audio: bytes, phrase: str) -> bool:
        return False


class _FakeChecker(_ByLength):
    name = "pocketsphinx"
    min_confidence = 0.7
    interrupt_floor = 0.5

    def begin(self, vocabulary: Vocabulary) -> None:
        self._audio = b""

    def accept(self, pcm: bytes) -> None:
        self._audio += pcm

    def end(self) -> Hypothesis:
        return Hypothesis(self.text_for(self._audio), 0.6, final=True)


def _answer_over_the_room(answer_level: float) -> bytes:
    """1 s of a room, 0.4 s of an answer at `answer_level` times its loudness, 1 s of room."""
    import numpy as np

    rng = np.random.default_rng(3)
    audio = np.concatenate([rng.normal(0, 300, 16000), rng.normal(0, 300 * answer_level, 6400),
                            rng.normal(0, 300, 16000)])
    return audio.astype("<i2").tobytes()


def _pair_hears(audio: bytes, moonshine: tuple[str, str], checker: tuple[str, str]
                ) -> tuple[Hypothesis, _FakeMoonshine, _FakeChecker]:
    from assistant.asr.cross_checked import CrossCheckedRecognizer

    ears = _FakeMoonshine(*moonshine, len(audio)), _FakeChecker(*checker, len(audio))
    pair = CrossCheckedRecognizer(*ears)  # type: ignore[arg-type]
    pair.begin(Vocabulary(("yes", "no", "nope"), same_answers=(("no", "nope"),)))
    pair.accept(audio)
    return pair.end(), *ears


def test_a_turn_not_heard_is_heard_again_in_its_loudest_stretch() -> None:
    """The television's words around the answer misled both models; without them, both
    hear the answer: taken, not sure."""
    audio = _answer_over_the_room(answer_level=4.0)
    final, moonshine, _ = _pair_hears(audio, ("", "no"), ("yes", "nope"))
    assert final.text == "no"
    assert final.confidence is not None and FLOOR <= final.confidence < SURE
    assert len(moonshine.heard) == 2 and moonshine.heard[1] < len(audio) // 2


def test_a_turn_heard_whole_is_not_heard_again() -> None:
    audio = _answer_over_the_room(answer_level=4.0)
    final, moonshine, checker = _pair_hears(audio, ("no", "no"), ("no", "no"))
    assert final.text == "no" and final.confidence == AGREED_CONFIDENCE
    assert moonshine.heard == [len(audio)] and checker.heard == [len(audio)]


def test_a_turn_as_loud_all_through_is_not_heard_again() -> None:
    """Nothing quieter around the answer to leave out: no second hearing (and its CPU)."""
    audio = _answer_over_the_room(answer_level=1.0)
    final, moonshine, _ = _pair_hears(audio, ("", "no"), ("yes", "nope"))
    assert (final.confidence or 0.0) < FLOOR
    assert moonshine.heard == [len(audio)]


class _MoonshineFailingOnTheStretch(_FakeMoonshine):
    def phrase_in(self, audio: bytes) -> str:
        if self.heard:
            raise RuntimeError("onnxruntime: out of memory")
        return super().phrase_in(audio)


def test_if_moonshine_fails_on_the_stretch_pocketsphinx_answer_stands() -> None:
    from assistant.asr.cross_checked import CrossCheckedRecognizer

    audio = _answer_over_the_room(answer_level=4.0)
    told: list[str] = []
    moonshine = _MoonshineFailingOnTheStretch("", "no", len(audio))
    pair = CrossCheckedRecognizer(moonshine, _FakeChecker("yes", "nope", len(audio)),  # type: ignore[arg-type]
                                  told.append)
    pair.begin(Vocabulary(("yes", "no", "nope")))
    pair.accept(audio)
    assert pair.end() == Hypothesis("yes", 0.6, final=True)  # pocketsphinx's, on the whole turn
    assert pair.moonshine_failed and len(told) == 1 and "pocketsphinx alone" in told[0]
