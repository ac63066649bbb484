"""The idle assistant wakes for "hello helper" and not for a television talking nearby.

Runs the real wake-phrase path without devices: the voice-activity gate, the
turn listener and pocketsphinx with the one-phrase vocabulary, on speech
synthesized in the simulated user's voice and on real recorded words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from simulated_user import spoken

from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer
from assistant.listening import TurnListener
from assistant.ports import Vocabulary
from assistant.vad import VoiceActivity
from bench.hearing import load_clips

WAKE_PHRASE = "hello helper"  # the --wake-phrase default
CHATTER = [
    "hello everyone and welcome back", "help her with the dishes", "hello", "helper",
    "tell her hello", "hello hello", "yellow pepper", "hell of a day",
    "hello there how are you", "that will help her", "the weather tomorrow will be sunny",
]


@pytest.fixture(scope="module")
def recognizer() -> PocketsphinxRecognizer:
    return PocketsphinxRecognizer(partials=False)


def wakes(recognizer: PocketsphinxRecognizer, speech: npt.NDArray[np.int16]) -> bool:
    """Whether this sound, heard in a quiet room, would start a session."""
    room = np.random.default_rng(0).normal(0, 20, 16000).astype(np.int16)
    audio = np.concatenate([room, speech, room, room]).tobytes()
    listener = TurnListener(recognizer, VoiceActivity(), Vocabulary((WAKE_PHRASE,)),
                            min_confidence=recognizer.min_confidence)
    for start in range(0, len(audio), 960):
        heard = listener.feed(audio[start:start + 960])
        if heard is not None and heard.text == WAKE_PHRASE and \
                (heard.confidence or 0) >= recognizer.min_confidence:
            return True
    return False


def test_the_wake_phrase_wakes_it(recognizer: PocketsphinxRecognizer) -> None:
    assert wakes(recognizer, spoken(WAKE_PHRASE))


@pytest.mark.parametrize("words", CHATTER)
def test_chatter_does_not_wake_it(recognizer: PocketsphinxRecognizer, words: str) -> None:
    assert not wakes(recognizer, spoken(words))


def test_real_voices_saying_other_words_do_not_wake_it(
        recognizer: PocketsphinxRecognizer) -> None:
    clips = load_clips(Path(__file__).resolve().parent / "clips" / "speech_commands",
                       labels=["_unknown_"], per_label=40)
    woke = [c.path for c in clips if wakes(recognizer, np.frombuffer(c.pcm, np.int16))]
    assert not woke
