"""Silero VAD (the `silero-vad` package's ONNX model, run with onnxruntime) as a speech
detector, for the benchmarks only: measured side by side with assistant.vad's detector
(bench/side_by_side.md, "Silero VAD as the speech detector").

The package's own Python code imports torch, which is not installed here (it is far too
big for this): `silero-vad` is installed without its dependencies (scripts/setup.sh) and
only its model file is used, the loop of its `OnnxWrapper` (silero_vad/utils_vad.py)
redone with numpy. Silero VAD: MIT licence, github.com/snakers4/silero-vad.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from assistant.vad import SAMPLE_RATE, frame_bytes
from bench.micro_vad import ProbabilityHold

SILERO_VERSION = "6.2.3"  # the version measured; scripts/setup.sh installs this one
SILERO_MODEL = "silero_vad/data/silero_vad.onnx"  # what load_silero_vad(onnx=True) loads
WINDOW = 512  # samples the model takes at 16 kHz (32 ms) ...
CONTEXT = 64  # ... after the last 64 samples of the window before (zeros at first)

# --- Silero VAD, measured against "voiced" -------------------------------------------------
# Chosen on speaker half 0 by micro-vad's rule (first 20 clips a label; quiet, tv 10 dB,
# household 10 dB; as recorded and slowed; the gate alone, as `python -m bench.hearing_side
# --gate --half 0 --per-label 20` measures it): the setting that loses the fewest spoken
# turns in a quiet room, ties going to the one that opens for the fewest noise turns. None
# lost (of 118) at 0.1, 0.2 and 0.3 with a 90 ms hold; 2 at 0.3, 0.5, 0.7 and 0.5 or 0.7
# with the hold. Of the three, 0.3 + hold 90 opened for the fewest noises (14 of 108, all
# with the television on; 0.2: 15, 0.1: 20; the pitch detector: 2).
SILERO_THRESHOLD = 0.3
SILERO_HOLD_MS = 90


def silero_model_path() -> Path:
    """The ONNX model inside the installed `silero-vad` package (not imported: its
    __init__ needs torch)."""
    from importlib.metadata import distribution

    return Path(str(distribution("silero-vad").locate_file(SILERO_MODEL)))


_SESSIONS: dict[int, Any] = {}  # process id -> the model, loaded once a process


def _model() -> Any:
    """The model's onnxruntime session, one a process (a session holds no state between
    calls: the state is passed in and out; loading one costs about 30 ms of CPU, as much
    as a few seconds of audio through it, and a bench makes a detector for every turn)."""
    session = _SESSIONS.get(os.getpid())
    if session is None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = _SESSIONS[os.getpid()] = onnxruntime.InferenceSession(
            str(silero_model_path()), sess_options=options, providers=["CPUExecutionProvider"])
    return session


class SileroVad:
    """Speech or not from Silero VAD's ONNX model.

    The model takes 512 samples (32 ms) of 16 kHz audio as floats in [-1, 1], after the
    64 samples that came before them, with a recurrent state, and returns a speech
    probability. Frames of any length are buffered into those windows; a frame is speech
    when the highest probability of the windows it completed (the last one's, if it
    completed none) reaches `threshold`, or did within the last `hold_ms` (smoothing
    over a word's quiet consonants, as micro-vad's hold does).
    """

    def __init__(self, frame_ms: int = 30, threshold: float = SILERO_THRESHOLD,
                 hold_ms: int = SILERO_HOLD_MS, sample_rate: int = SAMPLE_RATE) -> None:
        if sample_rate != SAMPLE_RATE or frame_ms <= 0:
            raise ValueError("this Silero VAD takes 16 kHz audio in frames of at least 1 ms")
        self._session = _model()
        self._rate = np.array(SAMPLE_RATE, dtype=np.int64)
        self.frame_ms = frame_ms
        self.sample_rate = sample_rate
        self.frame_bytes = frame_bytes(frame_ms, sample_rate)
        self.threshold = threshold
        self._hold = ProbabilityHold(threshold, hold_ms // frame_ms)
        self._state = np.zeros((2, 1, 128), dtype=np.float32)  # the model's recurrent state
        self._context = np.zeros(CONTEXT, dtype=np.float32)  # the last window's last samples
        self._pending = np.zeros(0, dtype=np.float32)  # samples not yet in a window
        self.probability = 0.0  # of the last frame (its windows' highest)

    def is_speech(self, frame: bytes) -> bool:
        samples = np.frombuffer(frame[:len(frame) // 2 * 2], dtype=np.int16)
        self._pending = np.concatenate([self._pending, samples.astype(np.float32) / 32768.0])
        completed = []
        while len(self._pending) >= WINDOW:
            window = np.concatenate([self._context, self._pending[:WINDOW]])[np.newaxis, :]
            out, self._state = self._session.run(
                None, {"input": window, "state": self._state, "sr": self._rate})
            completed.append(float(out[0, 0]))
            self._context = window[0, -CONTEXT:]
            self._pending = self._pending[WINDOW:]
        if completed:
            self.probability = max(completed)
        return self._hold(self.probability)

    def reset(self) -> None:
        self._state[:] = 0
        self._context[:] = 0
        self._pending = self._pending[:0]
        self._hold.reset()
        self.probability = 0.0


def silero_available() -> str:
    """"" when Silero VAD can be used here, else why not."""
    try:
        import onnxruntime  # noqa: F401 - only checking that it is there
    except ImportError as exc:
        return f"the onnxruntime package is not installed ({exc})"
    try:
        path = silero_model_path()
    except ImportError as exc:  # importlib.metadata.PackageNotFoundError
        return f"the silero-vad package is not installed ({exc})"
    if not path.is_file():
        return f"the silero-vad package has no model at {path}"
    return ""
