"""Voice-activity gate: the recognizer only works while someone speaks.

Idle listening must cost almost no CPU on a small home computer, so every
30 ms frame first goes through a cheap speech/non-speech decision and only
voiced audio (plus a little before and after it) reaches the recognizer.

Detectors, measured on the real clips (`python -m bench.hearing --vad`):

* ``"voiced"`` (default): loudness above an adaptive noise floor, *and* the
  voice's periodicity (a pitch between 70 and 400 Hz, found with the YIN
  difference function) within the last 300 ms. Every answer the assistant
  expects has a vowel, while fans, running water, hiss and most clatter have
  no pitch. On the clips it opened for 99.3 % of the spoken words and for
  2.5 % of the noise recordings (energy alone: 99.5 % and 12.5 %), so the
  recognizer is not even started for most noises.
* ``"energy"``: loudness above the adaptive floor only. Ignores steady noise
  once adapted, but any loud sound opens it.
* ``"webrtc"``: the WebRTC detector bundled with pocketsphinx 5
  (``pocketsphinx.Vad``, no extra package). It opened for every word but also
  for 60-72 % of the noise recordings: it calls most steady noise speech.
* ``"both"``: WebRTC and energy together (99.5 % and 10 %: hardly better than
  energy alone). The ``webrtcvad-wheels`` package on PyPI is the same WebRTC
  algorithm, so it is not needed.

* Home Assistant's neural micro-vad (``pymicro-vad``, a dev dependency; bench/micro_vad.py),
  measured side by side and not adopted (bench/side_by_side.md): it calls television
  babble speech (the gate opened for 46-76 % of turns with the television alone, against
  6-11 %), never opened for some clear answers, and its probability outlasts the end of
  speech, so turns ended later (response gap p95 1520 -> 3314 ms) and were heard less
  well. About 350-400 microseconds per 30 ms frame, against about 40-60.

Cost: the loudness test is about 30 microseconds per 30 ms frame in pure
Python; the pitch test (about 55 microseconds, numpy) only runs on frames
that are already loud, so quiet idle listening costs the loudness test alone.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

SAMPLE_RATE = 16000
Method = Literal["voiced", "energy", "webrtc", "both"]


class _FrameDetector(Protocol):
    def __call__(self, frame: bytes) -> bool: ...


class SpeechDetector(Protocol):
    """Speech or not, one frame at a time (`VoiceActivity`, or a test's stand-in)."""

    def is_speech(self, frame: bytes) -> bool: ...


def frame_bytes(frame_ms: int, sample_rate: int = SAMPLE_RATE) -> int:
    """Bytes in one frame of 16-bit mono audio."""
    return sample_rate * frame_ms // 1000 * 2


def periodicity(frame: bytes, sample_rate: int = SAMPLE_RATE, low_hz: float = 70.0,
                high_hz: float = 400.0) -> float:
    """How far from periodic the frame is: YIN's minimum cumulative-mean-normalized difference.

    Near 0 for a voiced vowel (the waveform repeats at the pitch period), about
    0.5-1 for noise. Only pitch periods between `high_hz` and `low_hz` count.
    """
    x = np.frombuffer(frame[: len(frame) // 2 * 2], dtype=np.int16).astype(np.float64)
    n = len(x)
    shortest = max(2, int(sample_rate / high_hz))
    longest = min(n // 2, int(sample_rate / low_hz))
    if n < 4 or longest <= shortest:
        return 1.0
    x -= x.mean()
    spectrum = np.fft.rfft(x, 2 * n)
    autocorrelation = np.fft.irfft(spectrum * np.conj(spectrum))[: longest + 1]
    energy = np.concatenate(([0.0], np.cumsum(x * x)))
    lags = np.arange(longest + 1)
    # d(tau) = sum over j < n - tau of (x[j] - x[j + tau])^2
    difference = energy[n - lags] + (energy[n] - energy[lags]) - 2.0 * autocorrelation
    difference[0] = 0.0
    running_mean = np.cumsum(difference[1:]) / lags[1:]
    normalized = difference[1:] / np.maximum(running_mean, 1e-9)
    return float(normalized[shortest - 1:longest].min())


def frame_level_db(frame: bytes) -> float:
    """Loudness of a 16-bit frame in dB re one LSB (silence ~0, a quiet voice ~50, shouting ~85).

    Pure Python on purpose (``array`` + ``math``): a 30 ms frame takes a few
    microseconds, cheaper than converting to numpy for such small buffers.
    """
    samples = array("h")
    samples.frombytes(frame[: len(frame) // 2 * 2])
    if not samples:
        return 0.0
    mean = math.fsum(samples) / len(samples)
    # around the mean: a microphone's DC offset is not sound (one real recording's offset
    # of -2000 hid a whole "yes" under the noise floor it made)
    power = max(0.0, math.fsum(s * s for s in samples) / len(samples) - mean * mean)
    return 10.0 * math.log10(power + 1.0)


class NoiseFloor:
    """Tracks the room's background level so steady noise is not taken for a voice.

    Falls quickly to quieter levels (a pause between words reveals the floor)
    and rises slowly (a fan switched on is learned in a few seconds, while a
    two-second answer barely moves it).
    """

    def __init__(self, rise_db_per_s: float = 3.0, fall: float = 0.3,
                 frame_ms: int = 30, initial_db: float | None = None) -> None:
        self.level_db = initial_db
        self._rise = rise_db_per_s * frame_ms / 1000.0
        self._fall = fall

    def update(self, level_db: float) -> float:
        """Feed one frame's level; return the floor to compare that frame against."""
        if self.level_db is None:
            self.level_db = level_db
        elif level_db < self.level_db:
            self.level_db += (level_db - self.level_db) * self._fall
        else:
            self.level_db = min(level_db, self.level_db + self._rise)
        return self.level_db


class VoiceActivity:
    """Speech or not, per frame of 16 kHz mono int16 audio.

    `frame_ms` must be 10, 20 or 30 (what the WebRTC detector accepts); frames of
    another length are judged by loudness only. `margin_db` is how far above the
    room's floor a frame must be, and `min_level_db` an absolute floor below
    which nothing is speech (digital silence, a muted microphone). For
    "voiced", a loud frame is speech if a frame with pitch (`periodicity` at
    most `voicing_threshold`) was heard within `voicing_window_ms`: the "s" of
    "yes" counts, a hiss alone does not. `aggressiveness` 0-3 is the WebRTC mode.
    """

    def __init__(self, frame_ms: int = 30, method: Method = "voiced", aggressiveness: int = 3,
                 margin_db: float = 9.0, min_level_db: float = 36.0,
                 voicing_threshold: float = 0.35, voicing_window_ms: int = 300,
                 sample_rate: int = SAMPLE_RATE) -> None:
        if frame_ms not in (10, 20, 30):
            raise ValueError(f"frame_ms must be 10, 20 or 30, not {frame_ms}")
        self.frame_ms = frame_ms
        self.sample_rate = sample_rate
        self.frame_bytes = frame_bytes(frame_ms, sample_rate)
        self.method: Method = method
        self.margin_db = margin_db
        self.min_level_db = min_level_db
        self.floor = NoiseFloor(frame_ms=frame_ms)
        self.voicing_threshold = voicing_threshold
        self._voicing_frames = max(1, voicing_window_ms // frame_ms)
        self._since_voiced = self._voicing_frames  # frames since the last frame with pitch
        self._webrtc: _FrameDetector | None = None
        if method in ("webrtc", "both"):
            self._webrtc = _webrtc_detector(aggressiveness, frame_ms, sample_rate)
            if self._webrtc is None:
                self.method = "energy"  # pocketsphinx missing: loudness alone still works

    def is_speech(self, frame: bytes) -> bool:
        """Whether this frame holds a voice; cheap enough to run on every frame, always."""
        level = frame_level_db(frame)
        floor = self.floor.update(level)
        loud = level >= self.min_level_db and level >= floor + self.margin_db
        if self.method == "energy":
            return loud
        if self.method == "voiced":
            if not loud:
                self._since_voiced += 1
                return False
            return self._voiced(frame)
        if len(frame) != self.frame_bytes or self._webrtc is None:
            return loud
        if self.method == "both" and not loud:
            return False  # skip the spectral test: most idle frames end here
        return self._webrtc(frame)

    def _voiced(self, frame: bytes) -> bool:
        """Pitch in this frame, or in one shortly before it (consonants after a vowel)."""
        if periodicity(frame, self.sample_rate) <= self.voicing_threshold:
            self._since_voiced = 0
        else:
            self._since_voiced += 1
        return self._since_voiced < self._voicing_frames

    def reset(self) -> None:
        """Forget the learned room level (a new microphone, a new room)."""
        self.floor = NoiseFloor(frame_ms=self.frame_ms)
        self._since_voiced = self._voicing_frames


def _webrtc_detector(aggressiveness: int, frame_ms: int,
                     sample_rate: int) -> _FrameDetector | None:
    """The WebRTC detector bundled with pocketsphinx, or None when it is not installed."""
    try:
        from pocketsphinx import Vad
    except ImportError:
        return None
    vad = Vad(mode=aggressiveness, sample_rate=sample_rate, frame_length=frame_ms / 1000.0)
    if vad.frame_bytes != frame_bytes(frame_ms, sample_rate):
        return None

    def detect(frame: bytes) -> bool:
        return bool(vad.is_speech(frame))

    return detect


@dataclass(frozen=True)
class GateOutput:
    """What one frame did to the gate: audio to pass on, and whether a turn began or ended."""

    frames: tuple[bytes, ...]  # pre-roll and this frame at onset, this one while open
    voiced: bool  # the detector's verdict on this frame
    started: bool = False
    ended: bool = False

    @property
    def audio(self) -> bytes:
        """The frames passed on, joined (b"" while the gate is closed)."""
        return b"".join(self.frames)

    @property
    def open(self) -> bool:
        return bool(self.frames)


class SpeechGate:
    """Opens on speech, stays open through short pauses, keeps the onset.

    * onset: `onset_ms` of voiced frames in a row open the gate (a click or a
      single loud frame does not);
    * pre-roll: the `preroll_ms` of audio before the onset is passed on with
      it, so the first consonant ("h" of "help") is not cut;
    * hangover: the gate stays open until `hangover_ms` without a voiced frame,
      so a word's quiet ending and a short breath stay in one piece.
    """

    def __init__(self, vad: SpeechDetector | None = None, preroll_ms: int = 300,
                 hangover_ms: int = 300, onset_ms: int = 60, frame_ms: int | None = None
                 ) -> None:
        self.vad: SpeechDetector = vad or VoiceActivity()
        ms: int = frame_ms or int(getattr(self.vad, "frame_ms", 30))
        self.frame_bytes = frame_bytes(ms)
        self._preroll: deque[bytes] = deque(maxlen=max(1, preroll_ms // ms))
        self._hangover_frames = max(1, hangover_ms // ms)
        self._onset_frames = max(1, onset_ms // ms)
        self._voiced_run = 0
        self._quiet_run = 0
        self.speaking = False

    def push(self, frame: bytes) -> GateOutput:
        """Feed one frame (the VoiceActivity's frame size); see GateOutput."""
        voiced = self.vad.is_speech(frame)
        if not self.speaking:
            self._preroll.append(frame)
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run < self._onset_frames:
                return GateOutput((), voiced)
            self.speaking = True
            self._quiet_run = 0
            frames = tuple(self._preroll)
            self._preroll.clear()
            return GateOutput(frames, voiced, started=True)
        self._quiet_run = 0 if voiced else self._quiet_run + 1
        if self._quiet_run >= self._hangover_frames:
            self.speaking = False
            self._voiced_run = 0
            return GateOutput((frame,), voiced, ended=True)
        return GateOutput((frame,), voiced)

    def reset(self) -> None:
        """Close the gate and forget buffered audio (a new turn starts from silence)."""
        self._preroll.clear()
        self._voiced_run = self._quiet_run = 0
        self.speaking = False


def speech_span(pcm: bytes, frame_ms: int = 30, margin_db: float = 9.0,
                voicing_threshold: float = 0.35, voicing_window_ms: int = 300,
                sample_rate: int = SAMPLE_RATE) -> tuple[int, int] | None:
    """(start, end) byte offsets of the voiced stretch of a finished recording, or None.

    Offline version of the "voiced" test for a whole utterance: the room level
    is the quietest tenth of its frames (no adaptation lag), a frame counts if
    it is loud and a frame with pitch lies within `voicing_window_ms` before
    or after it (so the "s" of "yes" and the "h" of "help" count).
    """
    size = frame_bytes(frame_ms, sample_rate)
    chunks = [pcm[i:i + size] for i in range(0, len(pcm) - size + 1, size)]
    if not chunks:
        return None
    levels = np.array([frame_level_db(c) for c in chunks])
    floor = float(np.percentile(levels, 10))
    loud = (levels >= floor + margin_db) & (levels >= 36.0)
    pitched = np.array([bool(is_loud) and periodicity(c, sample_rate) <= voicing_threshold
                        for c, is_loud in zip(chunks, loud, strict=True)])
    if not pitched.any():
        return None
    reach = max(1, voicing_window_ms // frame_ms)
    near_pitch = np.zeros(len(chunks), dtype=bool)
    for index in np.flatnonzero(pitched):
        near_pitch[max(0, index - reach):index + reach + 1] = True
    speech = np.flatnonzero(loud & near_pitch)
    return int(speech[0]) * size, (int(speech[-1]) + 1) * size


def trim_to_speech(pcm: bytes, before_ms: int = 300, after_ms: int = 300,
                   sample_rate: int = SAMPLE_RATE) -> bytes:
    """The recording cut to its voiced stretch plus margins; unchanged if no voice is found.

    A recognizer given a long tail of room noise after a short "no" starts
    hearing words in the noise; the turn listener may pass up to 1.5 s of it.
    """
    span = speech_span(pcm, sample_rate=sample_rate)
    if span is None:
        return pcm
    per_ms = sample_rate * 2 // 1000
    start = max(0, span[0] - before_ms * per_ms)
    end = min(len(pcm), span[1] + after_ms * per_ms)
    return pcm[start:end]


def segments(pcm: bytes, gate: SpeechGate) -> list[bytes]:
    """The spoken stretches of a recording as the gate passes them on (bench and tests).

    A stretch still open at the end of the recording is returned as well.
    """
    size = gate.frame_bytes
    out: list[bytes] = []
    current: list[bytes] = []
    for start in range(0, len(pcm) - size + 1, size):
        step = gate.push(pcm[start:start + size])
        if step.audio:
            current.append(step.audio)
        if step.ended:
            out.append(b"".join(current))
            current = []
    if current:
        out.append(b"".join(current))
    return out
