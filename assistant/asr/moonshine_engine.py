"""Offline English recognition with Moonshine (a small neural transcriber), kept to the
phrases valid in each turn.

Why: pocketsphinx's English model is the only other English one this project can install
from a package registry, and it hears older and noisier voices badly (bench/side_by_side.md).
`moonshine-voice` 0.1.0 carries Moonshine's tiny English model (MIT licence) inside its
wheel, so it works offline with nothing to download.

Moonshine transcribes freely; it has no grammar. The turn's audio (already cut by the
assistant's own turn listener) is transcribed whole, by the model run directly with ONNX
Runtime (assistant/asr/moonshine_onnx.py; greedy, as the library does), and the transcript
is kept only when, word for word, it is one of the phrases valid now:
anything else ("go", a television's "so", a hallucinated "you" on noise) is "" (unclear),
never the nearest answer.

Confidence: the model reports none (this wheel has no word-timing model). A phrase is
heard surely only when the same phrase is heard again with the turn's first
`RECHECK_TRIM_MS` left out (a second opinion on slightly different audio); heard once only,
it is reported at `ONCE_CONFIDENCE`, above the floor but below "sure", so a "no" to a red
flag heard that way is confirmed ("Just to be sure"). Measured: bench/side_by_side.md.

Asked about another recognizer's phrase (`verifies`), the same model scores the phrases of
the turn on the same audio (assistant/asr/phrase_scoring.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.asr.base import (
    SAMPLE_RATE,
    SAMPLE_WIDTH,
    AsrSetupError,
    Hypothesis,
    RecognizerUnavailable,
    phrase_key,
    phrase_table,
)
from assistant.asr.phrase_scoring import rivals, verified
from assistant.ports import Vocabulary
from assistant.words import CLAUSE_MARK, tokens

if TYPE_CHECKING:
    from assistant.asr.moonshine_onnx import Written
    from assistant.asr.phrase_scoring import FloatArray

MOONSHINE_PACKAGE = "moonshine-voice==0.1.0"  # the last release with the model in its wheel
MODEL_FOLDER = "tiny-en"
SURE_CONFIDENCE = 0.95  # heard twice, the second time without the turn's first moment
ONCE_CONFIDENCE = 0.75  # heard once: above the floor, below the dialog's "sure" (0.85)
MOONSHINE_MIN_CONFIDENCE = 0.7
MOONSHINE_INTERRUPT_FLOOR = 0.7
RECHECK_TRIM_MS = 150
MIN_AUDIO_MS = 100  # shorter than this, nothing is written (the encoder needs some audio)
MIN_AUDIO_BYTES = SAMPLE_RATE * SAMPLE_WIDTH * MIN_AUDIO_MS // 1000
# Hesitation sounds left out before matching ("uh, no" is "no"); never "oh" ("oh no" is not
# a denial) nor anything with a meaning of its own.
FILLERS = frozenset({"uh", "um", "er", "erm", "hmm", "mm"})


def phrase_said(transcript: str, phrases: dict[tuple[str, ...], str]) -> str:
    """The phrase of the turn that the transcript is, word for word, or "".

    Said more than once ("no, no", "yes yes yes") it is still that phrase; two different
    phrases ("yeah, no") or any other word make it "" (unclear): the recognizer never
    picks the nearest answer for the person.
    """
    words = [w for w in tokens(transcript) if w not in FILLERS]
    plain = tuple(w for w in words if w != CLAUSE_MARK)
    if not plain:
        return ""
    whole = phrases.get(phrase_key(plain))
    if whole is not None:
        return whole
    for size in range(1, len(plain) // 2 + 1):
        if len(plain) % size == 0:
            first = plain[:size]
            if first * (len(plain) // size) == plain and phrase_key(first) in phrases:
                return phrases[phrase_key(first)]
    return ""


def bundled_model() -> Path:
    """The tiny English model inside the installed moonshine-voice wheel."""
    try:
        from moonshine_voice.utils import get_assets_path
    except ImportError as exc:
        raise RecognizerUnavailable(
            f"The moonshine-voice package is not installed ({exc}); install it with: "
            f"pip install {MOONSHINE_PACKAGE}") from exc
    path = Path(get_assets_path()) / MODEL_FOLDER
    if not (path / "encoder_model.ort").is_file():
        raise AsrSetupError(
            f"The installed moonshine-voice has no English model in {path} (later releases "
            f"download it): install {MOONSHINE_PACKAGE}.")
    return path


class MoonshineRecognizer:
    """Moonshine's transcript of the whole turn, taken only when it is a phrase of the turn;
    asked, it also tells whether it confirms another recognizer's phrase (`verifies`)."""

    name = "moonshine"
    min_confidence = MOONSHINE_MIN_CONFIDENCE
    interrupt_floor = MOONSHINE_INTERRUPT_FLOOR

    def __init__(self, model_dir: Path | None = None) -> None:
        path = model_dir or bundled_model()
        try:
            from assistant.asr.moonshine_onnx import MoonshineModel
        except ImportError as exc:
            raise RecognizerUnavailable(
                f"ONNX Runtime, which runs the Moonshine model, is not installed ({exc}); "
                f"install it with: pip install onnxruntime") from exc
        try:
            self._model = MoonshineModel(path)
        except Exception as exc:  # ONNX Runtime raises its own errors for a broken file
            raise AsrSetupError(f"The Moonshine model in {path} could not be loaded ({exc}).") \
                from exc
        self._phrases: dict[tuple[str, ...], str] = {}
        self._first_pieces: dict[str, int] = {}
        self._audio: list[bytes] = []
        self._heard: tuple[bytes, FloatArray, Written] | None = None  # the last audio written
        self.last_transcript = ""

    def begin(self, vocabulary: Vocabulary) -> None:
        self._phrases = phrase_table(vocabulary)
        self._audio = []
        self._heard = None

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self._audio.append(pcm)
        return None  # no partials: the turn listener recognizes at pauses

    def end(self) -> Hypothesis:
        audio = self.turn_audio()
        first = self.phrase_in(audio)
        if not first:
            return Hypothesis("", 0.0, final=True)
        sure = self.heard_again(audio, first)
        return Hypothesis(first, SURE_CONFIDENCE if sure else ONCE_CONFIDENCE, final=True)

    def turn_audio(self) -> bytes:
        """The audio given since `begin`, handed over once (the utterance is over)."""
        audio = b"".join(self._audio)
        self._audio = []
        return audio

    def heard_again(self, audio: bytes, phrase: str) -> bool:
        """The same phrase heard in the audio without its first RECHECK_TRIM_MS."""
        trim = SAMPLE_RATE * SAMPLE_WIDTH * RECHECK_TRIM_MS // 1000
        return len(audio) > 2 * trim and self.phrase_in(audio[trim:]) == phrase

    def _written(self, audio: bytes) -> tuple[FloatArray, Written]:
        """The encoder's states for the audio and what Moonshine writes (kept for `verifies`)."""
        import numpy as np

        if self._heard is not None and self._heard[0] == audio:
            return self._heard[1], self._heard[2]
        samples = np.frombuffer(audio[:len(audio) // SAMPLE_WIDTH * SAMPLE_WIDTH],
                                dtype="<i2").astype(np.float32) / 32768.0
        states = self._model.encode(samples)
        written = self._model.write(states, len(samples) / SAMPLE_RATE)
        self._heard = (audio, states, written)
        return states, written

    def transcribe(self, audio: bytes) -> str:
        """What Moonshine hears in 16 kHz mono int16 audio, as it writes it."""
        if len(audio) < MIN_AUDIO_BYTES:
            return ""
        return self._written(audio)[1].text

    def phrase_in(self, audio: bytes) -> str:
        """The phrase of the turn the audio is, word for word, or ""."""
        self.last_transcript = self.transcribe(audio)
        return phrase_said(self.last_transcript, self._phrases)

    def verifies(self, audio: bytes, phrase: str) -> bool:
        """Moonshine, made to say each likely phrase of the turn, finds this one likeliest
        and close to what it wrote (assistant/asr/phrase_scoring.py `verified`)."""
        phrases = set(self._phrases.values())
        if phrase not in phrases or len(audio) < MIN_AUDIO_BYTES:
            return False
        states, written = self._written(audio)
        for each in phrases - self._first_pieces.keys():
            self._first_pieces[each] = self._model.first_piece(each)
        first = {each: self._first_pieces[each] for each in phrases}
        asked = [phrase, *rivals(first, written.first_log_probs, phrase)]
        return verified(phrase, self._model.scores(states, asked), written.log_prob)
