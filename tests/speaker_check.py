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


def presence(recording: npt.ArrayLike, template: npt.ArrayLike, piece_s: float = 0.5,
             gap_s: float = 0.5) -> float:
    """How clearly the whole template is in the recording, in order: its weakest piece.

    The template is cut into half-second pieces. Each piece, where it is found
    best, anchors a chain: its neighbours are looked for only where they belong,
    just after (or before) the piece found next to them, allowing up to `gap_s`
    of silence in between; the best chain counts. So a dropout of a busy machine
    or a device coming back neither hides a prompt that was spoken (each piece is
    matched on its own) nor lets a prompt that was never played score on chance
    likenesses of the same voice elsewhere in the recording (they are not in
    sequence), and a piece that is said in another line too ("I can't ...") does
    not pull the match away. Measured on synthesized sessions with dropouts:
    spoken prompts 0.60-0.80, prompts never played 0.06-0.14 (one-second pieces
    matched anywhere: up to 0.25).
    """
    x = np.asarray(recording, dtype=np.float64)
    t = np.asarray(template, dtype=np.float64)
    nonzero = np.flatnonzero(t)
    if not len(nonzero):
        return 0.0
    pieces = _pieces(t[nonzero[0]:nonzero[-1] + 1], int(piece_s * RATE))
    found = [best_match(x, piece) for piece in pieces]
    return max(_chain(x, pieces, anchor, found[anchor], int(gap_s * RATE))
               for anchor in range(len(pieces)))


def _chain(x: npt.NDArray[np.float64], pieces: list[npt.NDArray[np.float64]], anchor: int,
           where: tuple[float, int], gap: int) -> float:
    """The weakest piece when the others are looked for in order around the anchor."""
    scores, at = {anchor: where[0]}, {anchor: where[1]}
    early = int(0.05 * RATE)
    for k in range(anchor + 1, len(pieces)):
        lo = max(0, at[k - 1] + len(pieces[k - 1]) - early)
        hi = min(len(x), at[k - 1] + len(pieces[k - 1]) + gap + len(pieces[k]))
        scores[k], offset = best_match(x[lo:hi], pieces[k])
        at[k] = lo + offset
    for k in range(anchor - 1, -1, -1):
        lo = max(0, at[k + 1] - gap - len(pieces[k]))
        hi = min(len(x), at[k + 1] + early)
        scores[k], offset = best_match(x[lo:hi], pieces[k])
        at[k] = lo + offset
    return min(scores.values())


def _pieces(t: npt.NDArray[np.float64], n: int) -> list[npt.NDArray[np.float64]]:
    starts = list(range(0, len(t), n))
    if len(starts) > 1 and len(t) - starts[-1] < n // 2:
        starts.pop()  # a short tail joins the piece before it
    ends = [*starts[1:], len(t)]
    return [t[a:b] for a, b in zip(starts, ends, strict=True)]
