"""Home Assistant's micro-vad (pymicro-vad) as a speech detector: measured, kept on the bench.

The figures (bench/side_by_side.md, "Home Assistant's micro-vad") did not make it the
assistant's detector; these tests keep the bench's detector working on real voices (the
repository's clips: Speech Commands v0.02 test split, Warden 2018, CC BY 4.0,
tests/clips/speech_commands/LICENSE).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.vad import SpeechGate, segments
from bench.hearing import load_clips, padded_turn
from bench.micro_vad import MICRO_VAD_THRESHOLD, MicroVad

pytest.importorskip("pymicro_vad")

CLIPS = Path(__file__).resolve().parent / "clips" / "speech_commands"
FRAME = 960  # 30 ms at 16 kHz, 16-bit


def test_silence_and_a_quiet_room_are_not_speech() -> None:
    vad = MicroVad()
    quiet = np.random.default_rng(0).normal(0, 20, 32000).astype(np.int16).tobytes()
    for pcm in (b"\0\0" * 32000, quiet):
        assert not any(vad.is_speech(pcm[i:i + FRAME]) for i in range(0, len(pcm), FRAME))
        assert vad.probability < MICRO_VAD_THRESHOLD


def test_a_real_yes_opens_the_gate_once_and_a_noise_clip_does_not() -> None:
    clips = load_clips(CLIPS, labels=("yes", "_silence_"), per_label=5)
    opened = {"yes": 0, "_silence_": 0}
    for index, clip in enumerate(clips):
        audio = padded_turn(clip, 1.0, seed=index) if clip.label == "yes" else clip.pcm
        opened[clip.label] += len(segments(audio, SpeechGate(MicroVad()))) > 0
    # measured: 5 of 5 "yes" (quiet, padded with their own floor), 0 of 5 noises
    assert opened == {"yes": 5, "_silence_": 0}


def test_frames_must_be_whole_10_ms_pieces_at_16_khz() -> None:
    with pytest.raises(ValueError):
        MicroVad(frame_ms=25)
    with pytest.raises(ValueError):
        MicroVad(sample_rate=8000)
