"""The voice-activity gate: opens for a voice, stays shut for noise, keeps word onsets."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.vad import SpeechGate, VoiceActivity, frame_level_db, periodicity, segments

FRAME = 960  # bytes in 30 ms at 16 kHz, 16-bit


def frames(pcm: bytes) -> list[bytes]:
    return [pcm[i:i + FRAME] for i in range(0, len(pcm) - FRAME + 1, FRAME)]


def noise(seconds: float, level: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    samples = rng.normal(0, level, int(16000 * seconds))
    return np.clip(samples, -32768, 32767).astype(np.int16).tobytes()


def vowel(seconds: float, pitch_hz: float = 140.0, level: float = 3000.0) -> bytes:
    """A voiced sound: a pitch pulse train through a resonance, like an 'ah'."""
    t = np.arange(int(16000 * seconds)) / 16000
    wave_ = sum(np.sin(2 * np.pi * k * pitch_hz * t) / k for k in range(1, 12))
    wave_ *= 1 + 0.5 * np.sin(2 * np.pi * 700 * t)
    return (wave_ / np.abs(wave_).max() * level).astype(np.int16).tobytes()


def mix(*parts: bytes, room: float = 20.0) -> bytes:
    """Concatenate sounds over a continuous quiet room noise."""
    joined = np.concatenate([np.frombuffer(p, dtype=np.int16) for p in parts]).astype(float)
    joined += np.random.default_rng(7).normal(0, room, len(joined))
    return np.clip(joined, -32768, 32767).astype(np.int16).tobytes()


def test_frame_level_tracks_loudness() -> None:
    assert frame_level_db(b"\0\0" * 480) < 1.0
    assert 35 < frame_level_db(noise(0.03, 100)) < 45
    assert frame_level_db(vowel(0.03)) > 60


def on_offset(pcm: bytes, offset: int) -> bytes:
    """The audio as a microphone with a DC offset records it."""
    shifted = np.frombuffer(pcm, dtype=np.int16).astype(float) + offset
    return np.clip(shifted, -32768, 32767).astype(np.int16).tobytes()


def test_a_microphone_dc_offset_is_not_loudness() -> None:
    """Some microphones record everything a constant away from zero (one of the real
    recordings here: about -2000); that offset is no sound, so it neither counts as
    speech nor hides a voice under the floor it would make."""
    assert frame_level_db(on_offset(b"\0\0" * 480, -2000)) < 1.0
    assert abs(frame_level_db(on_offset(noise(0.03, 100), -2000))
               - frame_level_db(noise(0.03, 100))) < 0.5
    vad = VoiceActivity()
    assert not any(vad.is_speech(f) for f in frames(on_offset(noise(2.0, 20), -2000)))
    assert sum(vad.is_speech(f) for f in frames(on_offset(vowel(0.3, level=1500), -2000))) >= 8


def test_periodicity_tells_a_voice_from_hiss() -> None:
    assert periodicity(vowel(0.03)) < 0.2
    assert periodicity(noise(0.03, 3000)) > 0.4


def test_silence_and_room_noise_are_not_speech() -> None:
    vad = VoiceActivity()
    assert not any(vad.is_speech(f) for f in frames(b"\0\0" * 16000))
    assert not any(vad.is_speech(f) for f in frames(noise(2.0, 20)))


def test_a_voice_is_speech_after_a_quiet_room() -> None:
    vad = VoiceActivity()
    for f in frames(noise(1.0, 20)):
        vad.is_speech(f)
    assert sum(vad.is_speech(f) for f in frames(vowel(0.3))) >= 8


def test_a_steady_loud_hiss_is_not_speech() -> None:
    """A fan or running water: loud, but no pitch, so the recognizer stays idle."""
    for method in ("voiced", "energy"):
        vad = VoiceActivity(method=method)
        hiss = frames(noise(3.0, 2000, seed=3))
        voiced = [vad.is_speech(f) for f in hiss]
        assert not any(voiced[-33:]), method  # the last second, once the floor is learned
    vad = VoiceActivity()
    assert not any(vad.is_speech(f) for f in frames(noise(1.0, 2000, seed=4)))


def test_odd_frame_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        VoiceActivity(frame_ms=25)


def test_gate_opens_with_the_onset_kept_and_closes_after_the_hangover() -> None:
    quiet, word = noise(1.0, 20, seed=1), vowel(0.4)
    gate = SpeechGate(VoiceActivity(), preroll_ms=300, hangover_ms=300)
    outputs = [gate.push(f) for f in frames(mix(quiet, word, noise(1.0, 1)))]
    started = [i for i, o in enumerate(outputs) if o.started]
    ended = [i for i, o in enumerate(outputs) if o.ended]
    assert len(started) == 1 and len(ended) == 1
    opening = outputs[started[0]]
    assert len(opening.audio) >= 10 * FRAME  # 300 ms of pre-roll came with the onset
    open_frames = ended[0] - started[0]
    assert 0.4 * 1000 / 30 <= open_frames + 2 <= (0.4 + 0.3 + 0.1) * 1000 / 30
    assert not outputs[-1].open


def test_a_click_does_not_open_the_gate() -> None:
    click = vowel(0.01)  # a few milliseconds: a tap on the table
    gate = SpeechGate(VoiceActivity(), onset_ms=60)
    audio = mix(noise(1.0, 1), click, noise(1.0, 1))
    assert segments(audio, gate) == []


def test_idle_listening_is_cheap() -> None:
    vad = VoiceActivity()
    quiet = frames(noise(3.0, 20))
    started = time.perf_counter()
    for f in quiet:
        vad.is_speech(f)
    per_frame = (time.perf_counter() - started) / len(quiet)
    assert per_frame < 0.0005  # < 0.5 ms per 30 ms frame: under 2 % of one core


@pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                    reason="espeak-ng and sox are needed to synthesize test speech")
def test_a_spoken_word_is_one_segment_containing_the_whole_word() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        raw, out = Path(scratch) / "raw.wav", Path(scratch) / "word.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(raw), "stop"], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)],
                       check=True)
        with wave.open(str(out), "rb") as w:
            word = w.readframes(w.getnframes())
    audio = mix(noise(1.0, 1), word, noise(1.0, 1))
    spoken = segments(audio, SpeechGate(VoiceActivity()))
    assert len(spoken) == 1
    assert len(spoken[0]) >= len(word) * 0.8  # the "s" before the vowel and the "p" after it
