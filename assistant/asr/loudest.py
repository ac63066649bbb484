"""The loudest stretch of a turn: the answer, without the quieter room around it.

A person answering close to the assistant is louder than a television across the room,
but the speech detector opens for both, so a turn holds the television's words before and
after the answer, and a recognizer hears them too (Moonshine writes them; pocketsphinx
forces them into a phrase). Kept here: from the first to the last moment within
`within_db` of the loudest tenth of a second, with a margin each side for the word's soft
onset and tail. One span, so a pause inside an answer ("no ... no") stays in it.
Measured in bench/side_by_side.md ("Hearing the loudest stretch again"). Pure: bytes in,
bytes out.
"""

from __future__ import annotations

import numpy as np

from assistant.asr.base import SAMPLE_RATE, SAMPLE_WIDTH

FRAME_MS = 10
SMOOTH_MS = 100  # loudness over a tenth of a second: a syllable, not a click
WITHIN_DB = 4.0
MARGIN_MS = 150


def loudest_stretch(pcm: bytes, within_db: float = WITHIN_DB, margin_ms: int = MARGIN_MS
                    ) -> bytes:
    """16 kHz mono int16 audio cut to its loudest stretch (all of it when too short)."""
    frame = SAMPLE_RATE * FRAME_MS // 1000
    samples = np.frombuffer(pcm[:len(pcm) // SAMPLE_WIDTH * SAMPLE_WIDTH], dtype="<i2")
    frames = len(samples) // frame
    smooth = SMOOTH_MS // FRAME_MS
    if frames < smooth:
        return pcm
    spoken = samples[:frames * frame].astype(np.float64)
    spoken -= spoken.mean()  # a microphone's DC offset is not loudness
    energy = (spoken.reshape(frames, frame) ** 2).mean(1)
    loudness = 10 * np.log10(np.convolve(energy, np.ones(smooth) / smooth, mode="same") + 1e-9)
    loud = np.flatnonzero(loudness >= loudness.max() - within_db)
    margin = margin_ms // FRAME_MS
    start, end = max(0, int(loud[0]) - margin), int(loud[-1]) + 1 + margin
    step = frame * SAMPLE_WIDTH
    return pcm[start * step:] if end >= frames else pcm[start * step:end * step]
