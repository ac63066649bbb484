"""Silero VAD (its ONNX model on onnxruntime, no torch) as a speech detector: measured, kept
on the bench.

The figures (bench/side_by_side.md, "Silero VAD as the speech detector") say how it does
as the turn listener's detector; these tests keep the bench's detector working on real
voices (the repository's clips: Speech Commands v0.02 test split, Warden 2018, CC BY 4.0,
tests/clips/speech_commands/LICENSE). scripts/setup.sh installs silero-vad (without its
torch) and onnxruntime, so these run wherever the tests run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.vad import SpeechGate, segments
from bench.hearing import load_clips, padded_turn
from bench.silero_vad import SILERO_THRESHOLD, SileroVad, silero_available

if silero_available():
    pytest.skip(silero_available(), allow_module_level=True)

CLIPS = Path(__file__).resolve().parent / "clips" / "speech_commands"
FRAME = 960  # 30 ms at 16 kHz, 16-bit


def test_silence_and_a_quiet_room_are_not_speech() -> None:
    vad = SileroVad()
    quiet = np.random.default_rng(0).normal(0, 20, 32000).astype(np.int16).tobytes()
    for pcm in (b"\0\0" * 32000, quiet):
        assert not any(vad.is_speech(pcm[i:i + FRAME]) for i in range(0, len(pcm), FRAME))
        assert vad.probability < SILERO_THRESHOLD


def test_real_answers_open_the_gate_once_and_recorded_noise_hardly_ever() -> None:
    clips = load_clips(CLIPS, labels=("yes", "no", "_silence_"), per_label=10)
    opened = {"yes": 0, "no": 0, "_silence_": 0}
    for index, clip in enumerate(clips):
        noise = clip.label == "_silence_"
        audio = clip.pcm if noise else padded_turn(clip, 1.0, seed=index)
        turns = segments(audio, SpeechGate(SileroVad()))
        assert noise or len(turns) == 1, f"{clip.path.name}: {len(turns)} turns"
        opened[clip.label] += len(turns) > 0
    # measured: every "yes" and "no" (quiet, padded with their own floor), one noise of
    # ten (_silence_/1746.wav)
    assert opened["yes"] == opened["no"] == 10
    assert opened["_silence_"] <= 1


def test_frames_of_any_size_hear_the_word_at_the_same_time() -> None:
    """The model takes 512 samples at a time; 10, 20 and 30 ms frames (160, 320, 480
    samples) are buffered into the same windows, so the word is found where it is."""
    clip = load_clips(CLIPS, labels=("no",), per_label=1)[0]
    audio = padded_turn(clip, 1.0, seed=0)
    spans = []
    for frame_ms in (10, 20, 30):
        vad = SileroVad(frame_ms=frame_ms, hold_ms=0)
        size = vad.frame_bytes
        speech = np.flatnonzero([vad.is_speech(audio[i:i + size])
                                 for i in range(0, len(audio) - size + 1, size)])
        assert speech.size, f"no speech heard in {frame_ms} ms frames"
        spans.append((int(speech[0]) * frame_ms, (int(speech[-1]) + 1) * frame_ms))
    starts, ends = zip(*spans, strict=True)
    # measured: 1050-2200 ms in 10 ms frames, 1040-2200 in 20, 1050-2190 in 30
    assert max(starts) - min(starts) <= 40 and max(ends) - min(ends) <= 40, spans
    assert min(starts) >= 900 and max(ends) <= 2300, spans  # the word: 1.0-2.0 s


def test_reset_forgets_what_was_heard() -> None:
    clip = load_clips(CLIPS, labels=("yes",), per_label=1)[0]
    audio = padded_turn(clip, 0.2, seed=0)
    fresh, used = SileroVad(hold_ms=0), SileroVad(hold_ms=0)
    for i in range(0, len(audio) - FRAME + 1, FRAME):
        used.is_speech(audio[i:i + FRAME] if i < len(audio) // 2 else audio[i:i + FRAME][:100])
    used.reset()
    for i in range(0, len(audio) - FRAME + 1, FRAME):
        assert fresh.is_speech(audio[i:i + FRAME]) == used.is_speech(audio[i:i + FRAME])
        assert fresh.probability == pytest.approx(used.probability, abs=1e-6)


def test_only_16_khz_and_frames_of_some_length() -> None:
    with pytest.raises(ValueError):
        SileroVad(sample_rate=8000)
    with pytest.raises(ValueError):
        SileroVad(frame_ms=0)
