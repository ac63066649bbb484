"""Smart Turn v3.2 (Pipecat's end-of-turn model) as an endpointer, for the benchmarks only:
measured side by side with this project's turn listener (bench/endpointing.py;
bench/side_by_side.md, "Smart Turn v3.2 deciding the end of the turn").

Smart Turn reads the last 8 s of a turn and gives the probability that the speaker has
finished: a Whisper-tiny encoder over 80 log-mel bands, trained on finished and
unfinished sentences (their wording and their prosody). Pipecat runs it once the speech
detector has heard 0.2 s of silence; "complete" above 0.5 ends the turn, otherwise it
waits for more speech or for 3 s of silence. Its model ships inside the `pipecat-ai`
wheel (BSD 2-Clause, github.com/pipecat-ai/smart-turn); the package itself needs
dozens of others (an OpenAI client, numba, ...), so scripts/setup.sh installs it without
its dependencies and only the model file is used: the features are computed here with
numpy, as Whisper's feature extractor does.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

SMART_TURN_VERSION = "1.14.0"  # the pipecat-ai measured; scripts/setup.sh installs this one
SMART_TURN_MODEL = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
SAMPLE_RATE = 16000
WINDOW_S = 8  # the model hears the last 8 s, zeros before a shorter turn
N_FFT, HOP, N_MELS = 400, 160, 80  # Whisper's 25 ms windows every 10 ms, 80 bands
# Pipecat's SmartTurnParams and turn analyzer defaults, as it ships them
COMPLETE_ABOVE = 0.5
ASK_AFTER_MS = 200  # silence before the model is asked (its VAD's stop_secs)
GIVE_UP_AFTER_MS = 3000  # silence that ends the turn whatever the model says
PRE_SPEECH_MS = 500  # audio kept from before speech began


def smart_turn_model_path() -> Path:
    """The ONNX model inside the installed `pipecat-ai` package (not imported: its
    dependencies are not installed)."""
    from importlib.metadata import distribution

    return Path(str(distribution("pipecat-ai").locate_file(SMART_TURN_MODEL)))


def smart_turn_available() -> str:
    """Empty when the model can be run, else why not."""
    try:
        path = smart_turn_model_path()
    except Exception:  # noqa: BLE001 - not installed, whatever importlib says
        return f"pipecat-ai {SMART_TURN_VERSION} is not installed (scripts/setup.sh installs it)"
    if not path.is_file():
        return f"no Smart Turn model at {path}"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "onnxruntime is not installed"
    return ""


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear to 1 kHz, logarithmic above (as Whisper's filters)."""
    mel = 3.0 * hz / 200.0
    above = hz >= 1000.0
    return np.where(above, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) * 27.0 / np.log(6.4),
                    mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    hz = 200.0 * mel / 3.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(np.log(6.4) / 27.0 * (mel - 15.0)), hz)


@cache
def mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, Slaney-normalized (equal area)."""
    bins = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(8000.0)),
                                   N_MELS + 2))
    widths = np.diff(edges)
    rising = (bins[None, :] - edges[:-2, None]) / widths[:-1, None]
    falling = (edges[2:, None] - bins[None, :]) / widths[1:, None]
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    filters: np.ndarray = triangles * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return filters


def log_mel(samples: np.ndarray) -> np.ndarray:
    """Whisper's input features for float samples in [-1, 1]: normalized to zero mean and
    unit variance, |STFT|^2 of centred, reflect-padded Hann windows, 80 mel bands, log10,
    at most 8 below the loudest, scaled by (x + 4) / 4; the last frame dropped."""
    x = (samples - samples.mean()) / np.sqrt(samples.var() + 1e-7)
    padded = np.pad(x, N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = np.hanning(N_FFT + 1)[:-1]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    mel = np.log10(np.maximum(mel_filters() @ power.T, 1e-10))[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    features: np.ndarray = ((mel + 4.0) / 4.0).astype(np.float32)
    return features


_SESSIONS: dict[int, Any] = {}  # process id -> the model, loaded once a process


def _model() -> Any:
    session = _SESSIONS.get(os.getpid())
    if session is None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = _SESSIONS[os.getpid()] = onnxruntime.InferenceSession(
            str(smart_turn_model_path()), options, providers=["CPUExecutionProvider"])
    return session


def complete_probability(pcm: bytes) -> float:
    """How sure the model is that the turn in `pcm` (16 kHz mono int16) is finished."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    length = WINDOW_S * SAMPLE_RATE
    samples = samples[-length:]
    samples = np.pad(samples, (length - len(samples), 0))
    features = log_mel(samples)[None]
    return float(_model().run(None, {"input_features": features})[0].reshape(-1)[0])
