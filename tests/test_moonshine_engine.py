"""Moonshine behind the Recognizer interface, on its real tiny English model, alone and
checked by pocketsphinx (what `auto` uses without a Vosk model).

What a user would notice: short answers are heard surely; a stranger's word, a cough or
silence is never an answer; a phrase heard only once is not "sure", so a "no" to a red
flag heard that way is confirmed; a sentence is understood, or asked about, never
mistaken. The rules alone are in test_cross_check.py, the figures on real voices in
test_hearing_side.py; these tests check the mechanics, with espeak-ng's voice (which
Moonshine hears worse than people: "emergency" is written "They merged and see").
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_asr_pocketsphinx import YES_NO, hear, in_room, noise_burst, synthesize

from assistant.asr.base import AsrSetupError, Hypothesis, Recognizer
from assistant.asr.cross_checked import (
    AGREED_CONFIDENCE,
    HEARD_TWICE_CONFIDENCE,
    CrossCheckedRecognizer,
)
from assistant.asr.moonshine_engine import (
    MOONSHINE_MIN_CONFIDENCE,
    ONCE_CONFIDENCE,
    SURE_CONFIDENCE,
    MoonshineRecognizer,
)
from assistant.ports import Vocabulary

NEEDS_SPEECH = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are needed to synthesize test speech")
DIALOGS = Path(__file__).resolve().parents[1] / "dialogs"


def test_a_folder_without_the_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AsrSetupError, match="could not be loaded"):
        MoonshineRecognizer(tmp_path)


# --- the real model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def recognizer() -> MoonshineRecognizer:
    return MoonshineRecognizer()


def test_it_is_a_recognizer_chosen_by_name(recognizer: MoonshineRecognizer) -> None:
    """`--engine moonshine` is Moonshine checked by pocketsphinx, on the same floor."""
    from assistant.asr.select import make_recognizer

    assert isinstance(recognizer, Recognizer)
    chosen = make_recognizer("moonshine", None, Path("/nonexistent"), print)
    assert isinstance(chosen, CrossCheckedRecognizer) and isinstance(chosen, Recognizer)
    assert chosen.min_confidence == MOONSHINE_MIN_CONFIDENCE == recognizer.min_confidence


@NEEDS_SPEECH
@pytest.mark.parametrize(("said", "phrase"), [
    ("yes", "yes"), ("no", "no"), ("I don't know", "I don't know"),
])
def test_answers_are_heard_surely(recognizer: MoonshineRecognizer, said: str,
                                  phrase: str) -> None:
    final, partials = hear(recognizer, YES_NO, in_room(synthesize(said)))
    assert final == Hypothesis(phrase, SURE_CONFIDENCE, final=True), recognizer.last_transcript
    assert partials == []  # no partials: the turn listener recognizes at pauses


@NEEDS_SPEECH
@pytest.mark.parametrize("stray", ["banana", "purple", "window", "kitchen"])
def test_a_stray_word_is_not_an_answer(recognizer: MoonshineRecognizer, stray: str) -> None:
    final, _ = hear(recognizer, YES_NO, in_room(synthesize(stray)))
    assert final.text == "", recognizer.last_transcript


@NEEDS_SPEECH
def test_a_cough_and_silence_are_not_answers(recognizer: MoonshineRecognizer) -> None:
    final, _ = hear(recognizer, YES_NO, in_room(noise_burst()))
    assert final.text == ""
    final, _ = hear(recognizer, YES_NO, in_room(b"", pad_s=1.5), gate=False)
    assert final.text == ""
    recognizer.begin(YES_NO)
    assert recognizer.end() == Hypothesis("", 0.0, final=True)


@NEEDS_SPEECH
def test_a_word_outside_the_moment_is_not_heard(recognizer: MoonshineRecognizer) -> None:
    yes = in_room(synthesize("yes"))
    final, _ = hear(recognizer, Vocabulary(("stop", "help", "repeat")), yes)
    assert final.text == ""
    final, _ = hear(recognizer, Vocabulary(("yes", "no")), yes)
    assert final.text == "yes"


def test_heard_only_once_it_is_above_the_floor_but_not_sure(
        recognizer: MoonshineRecognizer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second hearing (without the turn's first moment) disagrees: the answer stands,
    reported below the dialog's "sure", so a red-flag "no" is checked."""
    from assistant.dialog_data import load_dialogs

    sure = load_dialogs(DIALOGS).words.policy.sure_confidence
    heard = iter(["No.", "Cough."])
    monkeypatch.setattr(recognizer, "transcribe", lambda audio: next(heard))
    recognizer.begin(YES_NO)
    recognizer.accept(b"\0\0" * 16000)
    final = recognizer.end()
    assert final.text == "no"
    assert final.confidence is not None
    assert MOONSHINE_MIN_CONFIDENCE <= final.confidence == ONCE_CONFIDENCE < sure


CLIPS = Path(__file__).resolve().parent / "clips" / "speech_commands"


def _clip_turns(label: str) -> list[bytes]:
    """The repository's real recordings of a label, with 0.5 s of silence each side."""
    pad = b"\0\0" * 8000
    return [pad + path.read_bytes()[44:] + pad for path in sorted((CLIPS / label).glob("*.wav"))]


def test_moonshine_confirms_the_answer_said_never_the_opposite(
        recognizer: MoonshineRecognizer) -> None:
    """Asked whether a real "yes" is "yes" (and "no" is "no"), it confirms nearly all
    (measured 38 and 38 of 40); the opposite answer never (0 of 80); a stranger's word
    (40 other words) is confirmed as "yes" or as "no" rarely (measured 1 and 2)."""
    confirmed = {("yes", "yes"): 0, ("yes", "no"): 0, ("no", "no"): 0, ("no", "yes"): 0,
                 ("_unknown_", "yes"): 0, ("_unknown_", "no"): 0}
    for label, phrase in confirmed:
        for turn in _clip_turns(label):
            recognizer.begin(YES_NO)
            confirmed[label, phrase] += recognizer.verifies(turn, phrase)
    assert confirmed["yes", "yes"] >= 36 and confirmed["no", "no"] >= 36, confirmed
    assert confirmed["yes", "no"] == confirmed["no", "yes"] == 0, confirmed
    assert confirmed["_unknown_", "yes"] <= 3 and confirmed["_unknown_", "no"] <= 3, confirmed


def test_only_a_phrase_of_the_moment_is_confirmed(recognizer: MoonshineRecognizer) -> None:
    yes = _clip_turns("yes")[0]
    recognizer.begin(Vocabulary(("stop", "help")))
    assert not recognizer.verifies(yes, "yes")
    recognizer.begin(YES_NO)
    assert recognizer.verifies(yes, "yes") and not recognizer.verifies(b"\0\0" * 100, "yes")


# --- Moonshine checked by pocketsphinx: real models ------------------------------------


@pytest.fixture(scope="module")
def cross_checked() -> CrossCheckedRecognizer:
    from assistant.asr.select import make_recognizer

    chosen = make_recognizer("moonshine", None, Path("/nonexistent"), print)
    assert isinstance(chosen, CrossCheckedRecognizer)
    return chosen


@NEEDS_SPEECH
@pytest.mark.parametrize(("said", "phrase", "confidence"), [
    ("yes", "yes", AGREED_CONFIDENCE), ("no", "no", AGREED_CONFIDENCE),
    ("I don't know", "I don't know", AGREED_CONFIDENCE),
    # eSpeak's voice, which Moonshine hears badly: pocketsphinx's phrase, what Moonshine
    # wrote alike (measured: "They merged and see.", "All time, one one.")
    ("emergency", "emergency", HEARD_TWICE_CONFIDENCE),
    ("call nine one one", "call 911", HEARD_TWICE_CONFIDENCE),
])
def test_answers_through_both_models(cross_checked: CrossCheckedRecognizer, said: str,
                                     phrase: str, confidence: float) -> None:
    final, _ = hear(cross_checked, YES_NO, in_room(synthesize(said)))
    assert final == Hypothesis(phrase, confidence, final=True), cross_checked.last


@NEEDS_SPEECH
@pytest.mark.parametrize("stray", ["banana", "purple", "window", "kitchen"])
def test_a_stray_word_is_not_taken_by_both(cross_checked: CrossCheckedRecognizer,
                                           stray: str) -> None:
    final, _ = hear(cross_checked, YES_NO, in_room(synthesize(stray)))
    assert final.text == "" or (final.confidence or 0.0) < cross_checked.min_confidence


@NEEDS_SPEECH
@pytest.mark.parametrize(("moment", "said", "actions"), [
    ("check_in", "I have chest pain", ("red_flag",)),
    ("chest_pain", "no chest pain", ("no",)),
    ("cannot_move", "I can't move my leg", ("yes", "red_flag")),
    ("face", "my face is drooping", ("yes", "red_flag")),
    ("exercise", "I feel dizzy", ("stop_sign",)),
    ("exercise", "emergency", ("emergency",)),
    ("face", "ambulance", ("emergency",)),
])
def test_sentences_are_understood_or_asked_about_never_mistaken(
        cross_checked: CrossCheckedRecognizer, moment: str, said: str,
        actions: tuple[str, ...]) -> None:
    """Through both real models with the moment's real vocabulary, then interpreted as the
    dialog does: the right decision, or (eSpeak's voice is hard for Moonshine) below the
    floor, which the dialog asks about; never another decision taken."""
    from test_asr_pocketsphinx import _listening_at

    machine, vocabulary = _listening_at(moment)
    final, _ = hear(cross_checked, vocabulary, in_room(synthesize(said)))
    _, decision = machine.understand(final.text)
    taken = final.confidence is not None and final.confidence >= cross_checked.min_confidence
    assert decision.action in actions or not taken, f"{final} {cross_checked.last}"
