"""Home Assistant's neural micro-vad (the `pymicro-vad` package) as a speech detector,
for the benchmarks only: measured side by side with assistant.vad's detector and not
adopted (bench/side_by_side.md; assistant/vad.py says why)."""

from __future__ import annotations

from assistant.vad import SAMPLE_RATE, frame_bytes

# --- Home Assistant's micro-vad (pymicro-vad), measured against "voiced" -------------------
# Chosen on speaker half 0 (first 20 clips a label; quiet, tv 10 dB, household 10 dB; as
# recorded and slowed; `python -m bench.hearing_side --gate --half 0 --per-label 20`) as the
# setting that loses the fewest spoken turns in a quiet room: at 0.5 (a common default) the
# gate never opened for 12.7 % of them (at 0.3: 9.3 %, 0.7: 16.1 %); at 0.1 with a 90 ms
# hold, 1.7 % (the pitch detector: 0 %). Lower thresholds open a little more often for the
# television alone (0.50 -> 0.58 of noise turns; the pitch detector: 0.06).
MICRO_VAD_THRESHOLD = 0.1
MICRO_VAD_HOLD_MS = 90


class ProbabilityHold:
    """Speech while a detector's probability reaches `threshold`, and for `frames` frames
    after it last did (smoothing over a word's quiet consonants)."""

    def __init__(self, threshold: float, frames: int) -> None:
        self.threshold = threshold
        self._frames = frames
        self._since = frames + 1  # frames since the probability last reached the threshold

    def __call__(self, probability: float) -> bool:
        self._since = 0 if probability >= self.threshold else self._since + 1
        return self._since <= self._frames

    def reset(self) -> None:
        self._since = self._frames + 1


class MicroVad:
    """Speech or not from Home Assistant's neural micro-vad (the `pymicro-vad` package).

    It takes 10 ms of 16 kHz int16 at a time and returns a speech probability (-1 while
    it is still filling its window). A 30 ms frame is three of its frames; the frame is
    speech when the highest of their probabilities reaches `threshold`, or did within
    the last `hold_ms` (smoothing over a word's quiet consonants).
    """

    def __init__(self, frame_ms: int = 30, threshold: float = MICRO_VAD_THRESHOLD,
                 hold_ms: int = MICRO_VAD_HOLD_MS, sample_rate: int = SAMPLE_RATE) -> None:
        if sample_rate != SAMPLE_RATE or frame_ms % 10:
            raise ValueError("micro-vad takes 16 kHz audio in multiples of 10 ms")
        from pymicro_vad import MicroVad as _Model

        self._model = _Model()
        self.frame_ms = frame_ms
        self.sample_rate = sample_rate
        self.frame_bytes = frame_bytes(frame_ms, sample_rate)
        self.threshold = threshold
        self._hold = ProbabilityHold(threshold, hold_ms // frame_ms)
        self._chunk = frame_bytes(10, sample_rate)
        self.probability = -1.0  # of the last frame (its highest 10 ms probability)

    def is_speech(self, frame: bytes) -> bool:
        chunk = self._chunk
        self.probability = max((self._model.process_10ms(frame[i:i + chunk])
                                for i in range(0, len(frame) - chunk + 1, chunk)),
                               default=-1.0)
        return self._hold(self.probability)

    def reset(self) -> None:
        self._model.reset()
        self._hold.reset()


def micro_vad_available() -> str:
    """"" when pymicro-vad can be used here, else why not."""
    try:
        import pymicro_vad  # noqa: F401 - only checking that it is there
    except ImportError as exc:
        return f"the pymicro-vad package is not installed ({exc})"
    return ""
