"""One turn of listening, frame by frame: wait for speech, recognize, decide when it ended.

Audio in, decision out, no devices: tests feed recorded audio. The recognizer
only works while the voice-activity gate says someone speaks (idle listening
costs almost nothing). A turn ends quickly once a complete expected phrase is
followed by a short pause, and patiently otherwise, so a slow speaker's pause
inside an answer does not cut them off.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from assistant.ports import Heard, Vocabulary
from assistant.understanding import normalize

UNINTELLIGIBLE = "(unintelligible)"  # speech was heard, but none of the expected phrases


class Hypothesis(Protocol):
    text: str
    confidence: float | None


class Recognizer(Protocol):
    def begin(self, vocabulary: Vocabulary) -> None: ...

    def accept(self, pcm: bytes) -> Hypothesis | None: ...

    def end(self) -> Hypothesis: ...


class VoiceActivity(Protocol):
    def is_speech(self, frame: bytes) -> bool: ...


@dataclass(frozen=True)
class Endpointing:
    """Turn-taking timings, in milliseconds of audio."""

    frame_ms: int = 30
    preroll_ms: int = 300  # audio kept from before speech began, so onsets are not cut
    onset_ms: int = 90  # this much voiced audio in a row starts a turn (not a click)
    complete_pause_ms: int = 300  # silence after a complete expected phrase ends the turn
    patience_ms: int = 1500  # silence that ends the turn otherwise (slow speakers)
    max_utterance_ms: int = 8000


class TurnListener:
    """Feed 16 kHz mono int16 frames; `feed` returns the answer once the turn has ended."""

    def __init__(self, recognizer: Recognizer, vad: VoiceActivity, vocabulary: Vocabulary,
                 timing: Endpointing | None = None) -> None:
        self.recognizer = recognizer
        self.vad = vad
        self.timing = timing or Endpointing()
        t = self.timing
        self._complete = {normalize(p) for p in vocabulary.phrases}
        self._vocabulary = vocabulary
        self._preroll: deque[bytes] = deque(maxlen=max(1, t.preroll_ms // t.frame_ms))
        self._voiced_run = 0
        self.speaking = False
        self._silent_ms = 0
        self._spoken_ms = 0
        self._complete_heard = False

    def feed(self, frame: bytes) -> Heard | None:
        t = self.timing
        voiced = self.vad.is_speech(frame)
        if not self.speaking:
            self._preroll.append(frame)
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run * t.frame_ms < t.onset_ms:
                return None
            self.speaking = True
            self.recognizer.begin(self._vocabulary)
            frames: Iterable[bytes] = list(self._preroll)
            self._preroll.clear()
        else:
            frames = (frame,)
        for chunk in frames:
            partial = self.recognizer.accept(chunk)
            if partial is not None:
                self._complete_heard = normalize(partial.text) in self._complete
        self._spoken_ms += t.frame_ms
        self._silent_ms = 0 if voiced else self._silent_ms + t.frame_ms
        pause = t.complete_pause_ms if self._complete_heard else t.patience_ms
        if self._silent_ms >= pause or self._spoken_ms >= t.max_utterance_ms:
            return self.finish()
        return None

    def finish(self) -> Heard:
        """End the turn now (time is up, or the pause said so) and give the final answer."""
        final = self.recognizer.end()
        self.speaking = False
        self._voiced_run = self._silent_ms = self._spoken_ms = 0
        self._complete_heard = False
        text = final.text.strip()
        return Heard(text or UNINTELLIGIBLE, final.confidence if text else 0.0)
