"""pocketsphinx behind the Recognizer interface: what a user would notice.

Speech is synthesized with espeak-ng and padded with a quiet room's noise,
then passed through the same voice-activity gate the assistant uses. The
synthetic voice is not what the accuracy figures are about (see
test_real_voices.py); these tests check the mechanics: the grammar hears the
phrases of the moment, refuses strangers, and switches vocabulary cheaply.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import wave
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.asr.base import Hypothesis, Recognizer, spoken_words
from assistant.asr.pocketsphinx_engine import (
    POCKETSPHINX_MIN_CONFIDENCE,
    PocketsphinxRecognizer,
    build_jsgf,
    phone_distance,
)
from assistant.ports import Vocabulary
from bench.hearing import gated_audio

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are needed to synthesize test speech")

YES_NO = Vocabulary(("yes", "yeah", "yep", "no", "nope", "not sure", "I don't know", "help",
                     "repeat", "say that again", "stop", "goodbye", "emergency", "call 911",
                     "ambulance", "slower", "faster", "louder", "softer", "what can I say"))


@cache
def synthesize(text: str, speed: int = 150, voice: str = "en-us") -> bytes:
    """16 kHz mono speech for `text` (espeak-ng, US English voice unless told)."""
    with tempfile.TemporaryDirectory() as scratch:
        raw, out = Path(scratch) / "raw.wav", Path(scratch) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
                       check=True, capture_output=True)
        # -R: sox dithers when it converts, from a fixed seed, so the same text always
        # gives the same samples (and a test the same result)
        subprocess.run(["sox", "-R", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)],
                       check=True, capture_output=True)
        with wave.open(str(out), "rb") as wav:
            return wav.readframes(wav.getnframes())


def in_room(pcm: bytes, seed: int = 0, level: float = 20.0, pad_s: float = 1.0) -> bytes:
    """The sound with a quiet room's noise around it, as a microphone would hear it."""
    rng = np.random.default_rng(seed)
    samples = np.frombuffer(pcm, dtype=np.int16).astype(float)
    n = int(16000 * pad_s)
    joined = np.concatenate([rng.normal(0, level, n), samples + rng.normal(0, level, len(samples)),
                             rng.normal(0, level, n)])
    return np.clip(joined, -32768, 32767).astype(np.int16).tobytes()


def noise_burst(seconds: float = 0.4, level: float = 6000.0, seed: int = 1) -> bytes:
    """A cough-like burst: loud broadband noise with a quick attack and decay."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    envelope = np.minimum(1.0, np.linspace(0, 20, n)) * np.exp(-np.linspace(0, 4, n))
    return np.clip(rng.normal(0, level, n) * envelope, -32768, 32767).astype(np.int16).tobytes()


def hear(recognizer: Recognizer, vocabulary: Vocabulary, audio: bytes,
         gate: bool = True) -> tuple[Hypothesis, list[Hypothesis]]:
    """One turn as the assistant runs it: gate, 30 ms chunks, final answer; plus partials."""
    if gate:
        audio = gated_audio(audio)
    recognizer.begin(vocabulary)
    partials = []
    for start in range(0, len(audio), 960):
        partial = recognizer.accept(audio[start:start + 960])
        if partial is not None:
            partials.append(partial)
    return recognizer.end(), partials


@pytest.fixture(scope="module")
def recognizer() -> PocketsphinxRecognizer:
    return PocketsphinxRecognizer()


def test_it_is_a_recognizer(recognizer: PocketsphinxRecognizer) -> None:
    assert isinstance(recognizer, Recognizer)
    assert recognizer.name == "pocketsphinx"
    assert recognizer.min_confidence == POCKETSPHINX_MIN_CONFIDENCE


@pytest.mark.parametrize("said", ["yes", "no", "help"])
def test_short_answers_are_heard(recognizer: PocketsphinxRecognizer, said: str) -> None:
    final, _ = hear(recognizer, YES_NO, in_room(synthesize(said)))
    assert final.final
    assert final.text == said
    assert final.confidence is not None and 0.0 < final.confidence <= 1.0


@pytest.mark.parametrize(("said", "phrase"), [
    ("call nine one one", "call 911"),
    ("say that again", "say that again"),
    ("I don't know", "I don't know"),
    ("stop", "stop"),
])
def test_phrases_come_back_spelled_as_the_vocabulary_spells_them(
        recognizer: PocketsphinxRecognizer, said: str, phrase: str) -> None:
    final, _ = hear(recognizer, YES_NO, in_room(synthesize(said)))
    assert final.text == phrase
    assert final.confidence is not None and final.confidence >= recognizer.min_confidence


def test_partials_show_a_complete_phrase_before_the_turn_ends(
        recognizer: PocketsphinxRecognizer) -> None:
    """The turn listener ends a turn early once a whole phrase has been heard."""
    final, partials = hear(recognizer, YES_NO, in_room(synthesize("call nine one one")))
    assert final.text == "call 911"
    assert partials and partials[-1].text == "call 911" and not partials[-1].final


@pytest.mark.parametrize("stray", ["banana", "purple", "window", "kitchen"])
def test_a_stray_word_is_not_forced_into_an_answer(recognizer: PocketsphinxRecognizer,
                                                   stray: str) -> None:
    final, _ = hear(recognizer, YES_NO, in_room(synthesize(stray)))
    assert final.text == "" or (final.confidence or 0.0) < recognizer.min_confidence


def test_a_cough_is_not_an_answer(recognizer: PocketsphinxRecognizer) -> None:
    """Through the whole path (gate, then recognizer): a burst of noise is not a yes."""
    final, _ = hear(recognizer, YES_NO, in_room(noise_burst()))
    assert final.text == "" or (final.confidence or 0.0) < recognizer.min_confidence


def test_silence_is_nothing(recognizer: PocketsphinxRecognizer) -> None:
    final, _ = hear(recognizer, YES_NO, in_room(b"", pad_s=1.5), gate=False)
    assert final.text == ""
    recognizer.begin(YES_NO)
    assert recognizer.end() == Hypothesis("", 0.0, final=True)


def test_a_word_outside_the_current_vocabulary_is_not_heard(
        recognizer: PocketsphinxRecognizer) -> None:
    yes = in_room(synthesize("yes"))
    only_commands = Vocabulary(("stop", "help", "repeat"))
    final, _ = hear(recognizer, only_commands, yes)
    assert final.text == "" or final.confidence < recognizer.min_confidence
    final, _ = hear(recognizer, Vocabulary(("yes", "no")), yes)
    assert final.text == "yes"


def test_switching_back_to_a_vocabulary_is_cheap(recognizer: PocketsphinxRecognizer) -> None:
    """Grammars are compiled once per vocabulary; later turns only activate them."""
    first, second = Vocabulary(("pause", "resume", "stop")), Vocabulary(("yes", "no", "stop"))
    for vocabulary in (first, second):
        recognizer.begin(vocabulary)
        recognizer.end()
    started = time.perf_counter()
    for _ in range(50):
        for vocabulary in (first, second):
            recognizer.begin(vocabulary)
            recognizer.end()
    per_switch = (time.perf_counter() - started) / 100
    assert per_switch < 0.005
    final, _ = hear(recognizer, second, in_room(synthesize("no")))
    assert final.text == "no"


def test_unknown_words_are_reported_and_their_phrase_dropped() -> None:
    messages: list[str] = []
    recognizer = PocketsphinxRecognizer(notify=messages.append, partials=False)
    vocabulary = Vocabulary(("yes", "zorblax now", "no"))
    assert recognizer.dropped_phrases(vocabulary) == ["zorblax now"]
    assert any("zorblax" in m and "zorblax now" in m for m in messages)
    told = len(messages)
    recognizer.dropped_phrases(Vocabulary(("yes", "zorblax later", "stop")))
    assert len(messages) == told, "told once per word, not at every moment"
    final, _ = hear(recognizer, vocabulary, in_room(synthesize("no")))
    assert final.text == "no"


def test_accept_before_begin_is_a_programming_error() -> None:
    recognizer = PocketsphinxRecognizer(partials=False)
    with pytest.raises(RuntimeError):
        recognizer.accept(b"\0\0" * 480)


def test_phrases_written_without_apostrophes_are_heard(recognizer: PocketsphinxRecognizer) -> None:
    """The dialog core writes "i dont know" and "im fine"; the dictionary has don't and i'm."""
    assert recognizer.dictionary_forms("dont") == ["don't"]
    assert "i'm" in recognizer.dictionary_forms("im")
    vocabulary = Vocabulary(("yes", "no", "i dont know", "thats right"))
    assert recognizer.dropped_phrases(vocabulary) == []
    final, _ = hear(recognizer, vocabulary, in_room(synthesize("I don't know")))
    assert final.text == "i dont know"


def test_written_phrases_become_the_words_that_are_spoken() -> None:
    assert spoken_words("Call 911!") == ("call", "nine", "one", "one")
    assert spoken_words("I don\u2019t know") == ("i", "don't", "know")
    assert spoken_words("  What can I say? ") == ("what", "can", "i", "say")


def test_grammar_offers_every_phrase_and_a_garbage_branch() -> None:
    grammar = build_jsgf(["yes", "call nine one one", "(im | i'm) ready"], ["the", "bird"], 1e-20)
    assert "/1/ yes" in grammar and "/1/ call nine one one" in grammar
    assert "/1/ (im | i'm) ready" in grammar
    assert "/1e-20/ <garbage>" in grammar and "<garbage> = the | bird;" in grammar


def test_sound_alikes_of_short_answers_are_not_garbage(
        recognizer: PocketsphinxRecognizer) -> None:
    garbage = recognizer._garbage_for({("no",): "no", ("yes",): "yes"},
                                      {"no": ["no"], "yes": ["yes"]})
    assert "know" not in garbage and "now" not in garbage and "yet" not in garbage
    assert {"the", "house", "water"} <= set(garbage)  # ordinary words stay garbage
    assert "go" not in garbage  # one sound from "no"
    assert phone_distance(["N", "OW"], ["N", "AW"]) == 1


@pytest.mark.parametrize("said", ["I have chest pain", "I've got chest pain", "my chest is tight"])
def test_chest_pain_told_in_a_sentence_is_heard_at_the_first_question(
        recognizer: PocketsphinxRecognizer, said: str) -> None:
    """People say "I have chest pain" rather than "chest pain"; by voice a phrase is only
    heard whole, so the dialog lists those forms, and they must reach the call-911 guidance."""
    from assistant.dialog import DialogMachine
    from assistant.dialog_data import load_dialogs

    machine = DialogMachine(load_dialogs(Path(__file__).resolve().parents[1] / "dialogs"), "911")
    listening = machine.start(0.0).listening
    assert listening is not None
    final, _ = hear(recognizer, listening.vocabulary, in_room(synthesize(said)))
    _, decision = machine.understand(final.text)
    assert (decision.action, decision.symptom) == ("red_flag", "chest_pain"), final.text
    assert final.confidence is not None and final.confidence >= POCKETSPHINX_MIN_CONFIDENCE


@cache
def _listening_at(moment: str) -> tuple[Any, Vocabulary]:
    """A dialog machine listening at a moment of the corpus, and that moment's vocabulary."""
    from corpus_driver import reach

    from assistant.dialog import DialogMachine
    from assistant.dialog_data import load_dialogs

    dialogs = load_dialogs(Path(__file__).resolve().parents[1] / "dialogs")
    machine = DialogMachine(dialogs, "911")
    listening = reach(machine, dialogs, moment).last.listening
    assert listening is not None
    return machine, listening.vocabulary


# Measured when this was written (espeak-ng en-us, 150 words a minute; heard text and
# confidence): "what" at the first question was heard as "what" with confidence 0.07 (0.76
# at 170 words a minute, nothing at 130): the acoustic model finds espeak-ng's "what"
# closer to "want", one of the ordinary words that stand for "none of the phrases". It is
# then unclear, asked again like a repeat request but counted as a try. "pardon" and
# "sorry" are heard with confidence 1.00.
WHAT_IS_UNSURE = pytest.mark.xfail(
    strict=True, reason="espeak-ng's 'what' scores below the floor against the garbage "
                        "word 'want' (confidence 0.07, measured); 'pardon', 'sorry' are heard")


@pytest.mark.parametrize(("moment", "said", "actions"), [
    ("cannot_move", "I can't move my leg", ("yes", "red_flag")),
    ("sudden_onset", "I can't move my leg", ("yes", "red_flag")),
    ("chest_pain", "no chest pain", ("no",)),
    ("arm", "my arm is weak", ("yes", "red_flag")),
    ("face", "my face is drooping", ("yes", "red_flag")),
    ("face", "not drooping", ("no",)),
    ("sudden_onset", "my leg went weak", ("yes", "red_flag")),
    ("check_in", "I'm alright", ("no",)),
    ("check_in", "I have chest pain", ("red_flag",)),
    ("exercise", "I have chest pain", ("red_flag",)),
    ("face", "I have chest pain", ("red_flag",)),
    ("exercise", "I feel dizzy", ("stop_sign",)),
    ("sudden_onset", "pardon", ("repeat",)),
    ("check_in", "sorry?", ("repeat",)),
    pytest.param("sudden_onset", "what", ("repeat",), marks=WHAT_IS_UNSURE),
    pytest.param("face", "what", ("repeat",), marks=WHAT_IS_UNSURE),
    ("exercise", "emergency", ("emergency",)),
    ("face", "ambulance", ("emergency",)),
])
def test_short_sentences_are_heard_at_their_moment_and_understood(
        recognizer: PocketsphinxRecognizer, moment: str, said: str,
        actions: tuple[str, ...]) -> None:
    """By voice, through the real recognizer with the moment's real vocabulary (what the
    grammar lets it hear), then interpreted as the dialog does: the right decision, heard
    clearly enough to be acted on."""
    machine, vocabulary = _listening_at(moment)
    final, _ = hear(recognizer, vocabulary, in_room(synthesize(said)))
    _, decision = machine.understand(final.text)
    assert decision.action in actions, f"heard {final.text!r} ({final.confidence})"
    assert final.confidence is not None and final.confidence >= POCKETSPHINX_MIN_CONFIDENCE, (
        f"heard {final.text!r} with confidence {final.confidence}")


@pytest.mark.parametrize(("moment", "said"), [("sudden_onset", "I can't move my leg"),
                                               ("cannot_move", "I can't move my leg")])
def test_a_british_cant_is_heard(recognizer: PocketsphinxRecognizer, moment: str,
                                 said: str) -> None:
    """British English says "can't" with the vowel of "father"; the US dictionary has only
    the vowel of "cat", so the engine adds the other (EXTRA_PRONUNCIATIONS)."""
    machine, vocabulary = _listening_at(moment)
    final, _ = hear(recognizer, vocabulary, in_room(synthesize(said, voice="en")))
    assert machine.understand(final.text)[1].action in ("yes", "red_flag"), final.text
    assert final.confidence is not None and final.confidence >= POCKETSPHINX_MIN_CONFIDENCE


# Measured when written (espeak-ng "en"): confidence 0.62 at the first question (367
# phrases), below the floor, so there it is asked again (which never lowers urgency); at
# its own question it is heard above the floor.
@pytest.mark.parametrize(("moment", "sure"), [("cannot_move", True), ("sudden_onset", False)])
def test_a_word_missing_from_the_dictionary_is_heard_through_a_derived_pronunciation(
        recognizer: PocketsphinxRecognizer, moment: str, sure: bool) -> None:
    """"paralysed" is not in the US dictionary ("paralyzed" is): its phrases were dropped
    from every grammar, so it could only be typed (assistant/asr/pronounce.py)."""
    said = "my leg is paralysed"
    machine, vocabulary = _listening_at(moment)
    assert said in vocabulary.phrases and said not in recognizer.dropped_phrases(vocabulary)
    final, _ = hear(recognizer, vocabulary, in_room(synthesize(said, voice="en")))
    assert machine.understand(final.text)[1].action in ("yes", "red_flag"), final.text
    if sure:
        assert final.confidence is not None
        assert final.confidence >= POCKETSPHINX_MIN_CONFIDENCE
