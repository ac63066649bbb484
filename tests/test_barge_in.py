"""Speaking over the assistant (assistant/voice_mode.py, `AudioVoice.say`), without audio.

A stand-in loudspeaker plays for a given number of microphone frames; the microphone
delivers words as frames (silence is an empty frame) and a stand-in recognizer hears
them at the confidence the test sets. What a person notices: "stop" or "help" said over a
prompt cuts it short, also when it was heard less surely than an answer would be (the
dialog then asks about it); a sound heard as nothing like them does not.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from assistant.asr.base import Hypothesis
from assistant.audio import Playback
from assistant.clock import RealClock
from assistant.listening import Endpointing
from assistant.ports import Heard, Vocabulary
from assistant.voice_mode import AudioVoice

FRAME_MS = Endpointing().frame_ms
PROMPT_FRAMES = 100  # the prompt plays for this many microphone frames (3 s)
VOCABULARY = Vocabulary(("yes", "no"), interrupt_phrases=("stop", "help"))


class Frames:
    """The microphone: a word said after a moment, then silence."""

    def __init__(self, said: str, after_frames: int = 20) -> None:
        word = [said.encode()] * (300 // FRAME_MS)
        self.frames = [b""] * after_frames + word
        self.given = 0

    def read(self, timeout: float | None = None) -> bytes:
        frame = self.frames[self.given] if self.given < len(self.frames) else b""
        self.given += 1
        return frame

    def drain(self, until: float | None = None) -> int:
        return 0


class Speaker:
    """Plays until the microphone has given `PROMPT_FRAMES` frames, unless stopped."""

    def __init__(self, mic: Frames) -> None:
        self.mic = mic
        self.stopped_at: int | None = None

    def play(self, sound: object) -> None:
        self.started = time.monotonic()

    def playing(self) -> bool:
        return self.stopped_at is None and self.mic.given < PROMPT_FRAMES

    def stop(self) -> None:
        self.stopped_at = self.mic.given

    def wait(self, timeout: float | None = None) -> Playback:
        return Playback(self.started, time.monotonic(), self.stopped_at is not None)


class Recognizer:
    """Hears the word it was given at the confidence the test chose ("" for none)."""

    name = "stand-in"
    min_confidence = 0.7
    interrupt_floor = 0.5

    def __init__(self, confidence: float) -> None:
        self.confidence = confidence
        self.words: list[str] = []

    def begin(self, vocabulary: Vocabulary) -> None:
        self.phrases = set(vocabulary.phrases)
        self.words = []

    def accept(self, pcm: bytes) -> Hypothesis | None:
        if pcm and pcm.decode() not in self.words:
            self.words.append(pcm.decode())
        return None

    def end(self) -> Hypothesis:
        text = " ".join(self.words)
        return Hypothesis(text if text in self.phrases else "", self.confidence, final=True)


class Vad:
    def is_speech(self, frame: bytes) -> bool:
        return frame != b""


class Synthesizer:
    def synthesize(self, text: str) -> Any:
        return text


def say_while(said: str, confidence: float) -> tuple[Heard | None, Speaker]:
    mic = Frames(said)
    speaker = Speaker(mic)
    voice = AudioVoice(mic, speaker, Synthesizer(), Recognizer(confidence),  # type: ignore[arg-type]
                       Vad(), RealClock(), lambda message: None, min_confidence=0.7)
    spoken = voice.say("Did your leg get weak or numb suddenly?", interruptible_by=VOCABULARY)
    return spoken.interrupted_by, speaker


@pytest.mark.parametrize("confidence", [0.95, 0.55])
def test_stop_said_over_a_prompt_cuts_it_short_even_when_heard_unsurely(
        confidence: float) -> None:
    heard, speaker = say_while("stop", confidence)
    assert heard is not None and heard.text == "stop"
    assert heard.confidence == confidence  # the dialog asks about a doubtful one
    assert speaker.stopped_at is not None and speaker.stopped_at < PROMPT_FRAMES


def test_a_sound_heard_as_nothing_like_stop_does_not_cut_the_prompt() -> None:
    heard, speaker = say_while("stop", 0.3)  # below the engine's interrupt floor
    assert heard is None
    assert speaker.stopped_at is None


def test_an_answer_said_over_a_prompt_does_not_cut_it() -> None:
    heard, speaker = say_while("yes", 0.95)  # answers wait for the question to end
    assert heard is None
    assert speaker.stopped_at is None
