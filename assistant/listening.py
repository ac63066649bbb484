"""One turn of listening, frame by frame: wait for speech, recognize, decide when it ended.

Audio in, decision out, no devices: tests feed recorded audio. The recognizer
only works while the voice-activity gate says someone speaks (idle listening
costs almost nothing). A turn ends quickly only once a complete expected phrase,
heard surely, that nothing said next could turn around, is followed by a short
pause; after anything else ("i don't", "no" that may go on to "no feeling", a
guess, nothing complete) it waits patiently, so a slow speaker's pause inside an
answer does not cut them off (bench/endpointing.py measures both).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.asr.base import Recognizer
from assistant.ports import Heard, Vocabulary
from assistant.vad import SpeechDetector, SpeechGate
from assistant.words import normalize

UNINTELLIGIBLE = "(unintelligible)"  # speech was heard, but none of the expected phrases


@dataclass(frozen=True)
class Endpointing:
    """Turn-taking timings, in milliseconds of audio."""

    frame_ms: int = 30
    preroll_ms: int = 300  # audio kept from before speech began, so onsets are not cut
    onset_ms: int = 90  # this much voiced audio in a row starts a turn (not a click)
    settle_ms: int = 60  # a pause this long: recognize what was said so far, ahead of the end
    recheck_ms: int = 300  # ... and again if that was unsure, now with the whole tail of the word
    complete_pause_ms: int = 150  # silence after a complete, sure answer that ends the turn
    hesitation_ms: int = 720  # ... after a complete answer heard above the floor but not sure
    open_pause_ms: int = 1500  # ... after an open phrase ("i don't", maybe "... know")
    patience_ms: int = 1500  # silence that ends the turn otherwise (slow speakers)
    # A complete answer ends the turn quickly only when heard at least this sure (the
    # dialog's own "sure" level, dialogs/understanding.yaml policy.sure_confidence).
    sure_confidence: float = 0.85
    # A pause this long inside a turn is shortened to `kept_pause_ms` when the turn as said
    # is not heard surely: a slow "I don't ... know" is recognized as if said at one go.
    squeeze_from_ms: int = 300
    kept_pause_ms: int = 180
    # ... and what is heard that way is reported as just below "sure", so a "no" to a red
    # flag found only by taking the pause out is confirmed ("Just to be sure"), never taken
    # at once (a stranger's words in a long turn can be squeezed into one too).
    squeezed_doubt: float = 0.01

    @property
    def squeezed_confidence(self) -> float:
        return self.sure_confidence - self.squeezed_doubt
    max_utterance_ms: int = 8000
    # A turn also ends once it is longer than the longest phrase could take a slow speaker
    # (this per word, plus the slack): no phrase can be heard in it any more, and in a noisy
    # room the wake listener would otherwise decode the same 8 s of clatter again and again.
    ms_per_word: int = 800
    phrase_slack_ms: int = 1500


class TurnListener:
    """Feed 16 kHz mono int16 frames; `feed` returns the answer once the turn has ended.

    Speed without cutting anyone off: at the first short pause, what was said so
    far is recognized at once (while the pause goes on), so when the pause is
    long enough to end the turn the answer is already known. How long "long
    enough" is depends on that answer: short after a sure "yes", a little
    longer after an answer heard less surely, longest after "i don't" or "no"
    (which "know" or "feeling" would turn around), after a guess below the
    floor and when nothing complete was heard. A result below the floor is
    recognized again a little later, with the fading end of the word. If the
    speaker goes on, the turn's audio is recognized again as a whole.
    The silence of a pause is held back from the recognizer until speech
    resumes, so the early result and the final one see the same audio.
    """

    def __init__(self, recognizer: Recognizer, vad: SpeechDetector, vocabulary: Vocabulary,
                 timing: Endpointing | None = None, min_confidence: float = 0.0) -> None:
        self.recognizer = recognizer
        self.vad = vad
        self.timing = timing or Endpointing()
        self.min_confidence = min_confidence
        t = self.timing
        # A recognizer may say how long to wait after an answer it heard, but not surely: the
        # Moonshine pair's "not sure" answers include Moonshine hearing a whole answer in the
        # first word of a slow phrase ("not ..." as "Yeah"), so it waits as after "i don't".
        self._hesitation_ms: int = getattr(recognizer, "unsure_pause_ms", t.hesitation_ms)
        self._complete = {normalize(p) for p in vocabulary.phrases}
        self._open = {normalize(p) for p in vocabulary.open_phrases}
        self._vocabulary = vocabulary
        longest = max((len(p.split()) for p in self._complete), default=0)
        self.max_turn_ms = min(t.max_utterance_ms, longest * t.ms_per_word + t.phrase_slack_ms)
        # the turn opens as every spoken stretch does (the one gate): onset and pre-roll
        self._gate = SpeechGate(vad, preroll_ms=t.preroll_ms, onset_ms=t.onset_ms,
                                frame_ms=t.frame_ms)
        self.speaking = False
        self._turn: list[bytes] = []  # audio given to the recognizer in this turn
        self._held: list[bytes] = []  # silence not yet given to it
        self._early: Heard | None = None  # the result at the current pause, if recognized
        self._decoded_at = 0  # ms into the pause when `_early` was recognized
        self._before: Heard | None = None  # an answer heard before they went on, if any
        self._went_on_at = 0  # where in `_turn` they went on after it
        self._pauses: list[tuple[int, int]] = []  # long pauses inside the turn, in `_turn`
        self._silent_ms = 0
        self._spoken_ms = 0

    def feed(self, frame: bytes) -> Heard | None:
        t = self.timing
        if not self.speaking:
            opened = self._gate.push(frame)
            if not opened.started:
                return None
            self.speaking = True
            self.recognizer.begin(self._vocabulary)
            self._give(list(opened.frames))
            self._spoken_ms = len(self._turn) * t.frame_ms
            return None
        voiced = self.vad.is_speech(frame)
        self._spoken_ms += t.frame_ms
        if voiced:
            if self._early is not None:  # they went on: hear the whole turn again
                if self._accepted(self._early):
                    self._before, self._went_on_at = self._early, len(self._turn)
                self._early = None
                self._restart()
            self._give([*self._held, frame])
            self._held.clear()
            if self._silent_ms >= t.squeeze_from_ms:
                resumed = len(self._turn) - 1
                self._pauses.append((resumed - self._silent_ms // t.frame_ms, resumed))
            self._silent_ms = 0
        else:
            self._held.append(frame)
            self._silent_ms += t.frame_ms
            if self._early is None and self._silent_ms >= t.settle_ms:
                self._recognize_so_far()
            elif self._early is not None and self._silent_ms >= t.recheck_ms > self._decoded_at \
                    and not self._accepted(self._early):
                self._recognize_so_far()  # unsure early on: again, with the word's tail
        ended = self._silent_ms >= self._pause_after(self._early)
        if ended or self._spoken_ms >= self.max_turn_ms:
            return self.finish()
        return None

    def _recognize_so_far(self) -> None:
        if self._early is not None:  # the recognizer ended its utterance: start it again
            self._restart()
        self._give(self._held)
        self._held.clear()
        self._early = self._answer()
        self._decoded_at = self._silent_ms

    def _restart(self) -> None:
        """A new utterance holding this turn's audio so far (recognizers end theirs on `end`)."""
        self.recognizer.begin(self._vocabulary)
        for chunk in self._turn:
            self.recognizer.accept(chunk)

    def _give(self, frames: list[bytes]) -> None:
        for chunk in frames:
            self.recognizer.accept(chunk)
        self._turn += frames

    def _pause_after(self, heard: Heard | None) -> int:
        """How long a pause after `heard` ends the turn: quickly only after a complete
        answer that nothing said next could turn around, heard surely."""
        t = self.timing
        if heard is None or heard.text == UNINTELLIGIBLE:
            return t.patience_ms
        text = normalize(heard.text)
        if not self._accepted(heard):
            return t.patience_ms  # nothing complete, or only a guess: they may go on
        if text in self._open:
            return t.open_pause_ms  # "i don't": a slow speaker may be about to say "know"
        sure = heard.confidence is None or heard.confidence >= t.sure_confidence
        return t.complete_pause_ms if sure else self._hesitation_ms

    def _accepted(self, heard: Heard) -> bool:
        """A complete phrase heard at or above the floor (it would be taken as the answer)."""
        return normalize(heard.text) in self._complete and (
            heard.confidence is None or heard.confidence >= self.min_confidence)

    def _answer(self) -> Heard:
        """The whole turn recognized; but an answer said again after a pause ("no ... no")
        is that answer, not a longer phrase the two together happen to sound like ("no
        feeling"): what was said after the pause is also recognized on its own. And a
        phrase with a long pause inside that is not heard surely is heard again with the
        pause shortened."""
        whole = self._final()
        before = self._before
        if before is not None:
            again = self._recognize(self._turn[self._went_on_at:])
            if self._accepted(again) and normalize(again.text) == normalize(before.text):
                return before
        if self._accepted(whole) or not self._pauses:
            return whole
        squeezed = self._recognize(self._squeezed())
        # Only a phrase a pause can be inside, heard surely: a stranger's word said twice
        # ("bird ... bird") squeezed together let as many as 0.7 of them in as answers.
        spans_the_pause = len(normalize(squeezed.text).split()) >= 2
        sure = squeezed.confidence is None or squeezed.confidence >= self.timing.sure_confidence
        if not (spans_the_pause and sure and self._accepted(squeezed)):
            return whole
        doubtful = min(squeezed.confidence or 1.0, self.timing.squeezed_confidence)
        return replace(squeezed, confidence=doubtful)

    def _recognize(self, frames: list[bytes]) -> Heard:
        self.recognizer.begin(self._vocabulary)
        for chunk in frames:
            self.recognizer.accept(chunk)
        return self._final()

    def _squeezed(self) -> list[bytes]:
        """The turn with each long pause inside it shortened (its two ends kept): a slow
        speaker's answer as if said at one go, which the recognizer's models know."""
        side = max(1, self.timing.kept_pause_ms // self.timing.frame_ms // 2)
        frames, at = [], 0
        for start, end in self._pauses:
            frames += self._turn[at:start + side]
            at = max(start + side, end - side)
        return frames + self._turn[at:]

    def _final(self) -> Heard:
        final = self.recognizer.end()
        text = final.text.strip()
        return Heard(text or UNINTELLIGIBLE, final.confidence if text else 0.0)

    def finish(self) -> Heard:
        """End the turn now (time is up, or the pause said so) and give the final answer."""
        heard = self._early or self._answer()
        self.speaking = False
        self._gate.reset()
        self._silent_ms = self._spoken_ms = 0
        self._turn, self._held, self._early, self._decoded_at = [], [], None, 0
        self._before, self._went_on_at, self._pauses = None, 0, []
        return heard
