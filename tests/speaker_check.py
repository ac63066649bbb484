"""Was a prompt audible on the loudspeaker? Found in the recording by its own sound.

The assistant's transcript is not evidence that a person heard something. The
test synthesizes the expected prompt with the same voice settings and looks
for that waveform in the loudspeaker recording (normalized cross-correlation),
so "the call-911 guidance was spoken" is checked on what really came out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from virtual_audio import RATE, resample

from assistant.tts import DEFAULT_RATE_WPM, Synthesizer

_synthesizers: dict[int, Synthesizer] = {}


def prompt_audio(text: str, rate: int | None = None) -> npt.NDArray[np.float32]:
    """The prompt as the assistant speaks it at `rate` (None: its default rate)."""
    rate = rate or DEFAULT_RATE_WPM
    synthesizer = _synthesizers.setdefault(rate, Synthesizer(rate=rate, disk_cache=False))
    speech = synthesizer.synthesize(text)
    return resample(speech.samples, speech.samplerate, RATE)


def best_match(recording: npt.ArrayLike, template: npt.ArrayLike) -> tuple[float, int]:
    """(similarity 0..1, sample index) of the template's best match in the recording."""
    x = np.asarray(recording, dtype=np.float64)
    t = np.asarray(template, dtype=np.float64)
    t = np.trim_zeros(t - t.mean()) if t.any() else t
    if len(x) < len(t) or not t.any():
        return 0.0, 0
    n = 1 << int(np.ceil(np.log2(len(x) + len(t))))
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(t, n)), n)[: len(x) - len(t) + 1]
    running = np.concatenate([[0.0], np.cumsum(x * x)])
    energy = running[len(t):] - running[: len(x) - len(t) + 1]
    score = np.abs(corr) / (np.sqrt(np.maximum(energy, 1e-12)) * np.linalg.norm(t))
    index = int(np.argmax(score))
    return float(score[index]), index


def presence(recording: npt.ArrayLike, template: npt.ArrayLike, piece_s: float = 1.0) -> float:
    """How clearly the whole template is in the recording: its weakest one-second piece.

    Matching piece by piece, a dropout of a few milliseconds (a busy machine, a
    device coming back) does not hide a prompt that was spoken, while a piece
    that was never played still scores near zero.
    """
    t = np.asarray(template, dtype=np.float64)
    nonzero = np.flatnonzero(t)
    if not len(nonzero):
        return 0.0
    t = t[nonzero[0]:nonzero[-1] + 1]
    n = int(piece_s * RATE)
    starts = list(range(0, len(t), n))
    if len(starts) > 1 and len(t) - starts[-1] < n // 2:
        starts.pop()  # a short tail joins the piece before it
    ends = [*starts[1:], len(t)]
    return min(best_match(recording, t[a:b])[0] for a, b in zip(starts, ends, strict=True))


def was_spoken(recording: npt.ArrayLike, text: str, rate: int, threshold: float = 0.3) -> bool:
    return best_match(recording, prompt_audio(text, rate))[0] >= threshold
