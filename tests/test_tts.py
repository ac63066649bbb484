"""Speech synthesis: what a listener would notice (length, speed, loudness) and the cache."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant import tts
from assistant.ports import VoiceChange

PROMPT = "Please sit down on a sturdy chair before we start."  # 10 words


def audible_seconds(speech: tts.Speech, threshold: float = 10 ** (-40 / 20)) -> float:
    loud = np.flatnonzero(np.abs(speech.samples) > threshold)
    return 0.0 if len(loud) == 0 else (loud[-1] - loud[0]) / speech.samplerate


def level_db(speech: tts.Speech) -> float:
    x = speech.samples.astype(np.float64)
    return float(20 * np.log10(np.sqrt(np.mean(x**2))))


@pytest.fixture
def synth(tmp_path: Path) -> tts.Synthesizer:
    return tts.Synthesizer(cache_dir=tmp_path / "tts")


def test_prompt_becomes_speech_of_plausible_length(synth: tts.Synthesizer) -> None:
    speech = synth.synthesize(PROMPT)
    assert speech.source == "engine"
    assert speech.samplerate == 22050
    assert speech.samples.dtype == np.float32
    # 10 words at about 150 words a minute: a few seconds, not a blip, not a drone.
    assert 2.0 < audible_seconds(speech) < 6.0
    assert -30 < level_db(speech) < -10
    # Silence is trimmed, so playback starts with the voice and stops soon after it.
    assert speech.duration - audible_seconds(speech) < 0.25


def test_defaults_suit_older_listeners(synth: tts.Synthesizer) -> None:
    assert synth.settings.rate == 150
    assert synth.settings.volume == 1.0


def test_repeated_prompt_is_served_from_the_cache(tmp_path: Path) -> None:
    first_synth = tts.Synthesizer(cache_dir=tmp_path / "tts")
    first = first_synth.synthesize(PROMPT)
    again = first_synth.synthesize(PROMPT)
    assert (first.source, again.source) == ("engine", "memory")
    assert first_synth.stats.synthesized == 1
    assert np.array_equal(first.samples, again.samples)

    # A new process (new synthesizer) finds it on disk.
    later = tts.Synthesizer(cache_dir=tmp_path / "tts")
    from_disk = later.synthesize("  Please sit down on a sturdy chair   before we start. ")
    assert from_disk.source == "disk"
    assert later.stats.synthesized == 0
    assert np.array_equal(first.samples, from_disk.samples)


def test_prefetch_warms_the_cache(synth: tts.Synthesizer) -> None:
    texts = ["Are you in pain right now?", "Lift your right foot.", "Lift your right foot."]
    assert not synth.is_cached(texts[0])
    assert synth.prefetch(texts) == 2
    assert all(synth.is_cached(t) for t in texts)
    assert synth.synthesize(texts[0]).source == "memory"
    assert synth.prefetch(texts) == 0
    assert synth.stats.synthesized == 2


def test_prefetch_in_the_background_never_synthesizes_a_prompt_twice(
    synth: tts.Synthesizer,
) -> None:
    texts = [f"Exercise number {n}." for n in range(4)]
    worker = threading.Thread(target=synth.prefetch, args=(texts,))
    worker.start()
    spoken = [synth.synthesize(t) for t in reversed(texts)]  # the session, meanwhile
    worker.join()
    assert synth.stats.synthesized == len(texts)
    assert all(s.duration > 0.5 for s in spoken)


def test_memory_cache_is_bounded_and_disk_takes_over(tmp_path: Path) -> None:
    synth = tts.Synthesizer(cache_dir=tmp_path, memory_bytes=1)  # room for one prompt
    synth.synthesize("First prompt.")
    synth.synthesize("Second prompt.")
    assert synth.synthesize("Second prompt.").source == "memory"
    assert synth.synthesize("First prompt.").source == "disk"
    assert synth.stats.synthesized == 2


def test_slower_makes_speech_longer_and_faster_shorter(synth: tts.Synthesizer) -> None:
    normal = audible_seconds(synth.synthesize(PROMPT))
    synth.change(VoiceChange(rate_steps=-2))
    assert synth.settings.rate == 120
    slower = audible_seconds(synth.synthesize(PROMPT))
    synth.change(VoiceChange(rate_steps=+4))
    assert synth.settings.rate == 180
    faster = audible_seconds(synth.synthesize(PROMPT))
    assert slower > normal * 1.12
    assert faster < normal * 0.9


def test_rate_stays_within_bounds(synth: tts.Synthesizer) -> None:
    synth.change(VoiceChange(rate_steps=-20))
    assert synth.settings.rate == tts.MIN_RATE_WPM == 110
    synth.change(VoiceChange(rate_steps=+20))
    assert synth.settings.rate == tts.MAX_RATE_WPM == 200


def test_louder_and_softer_change_the_level_without_clipping(synth: tts.Synthesizer) -> None:
    normal = synth.synthesize(PROMPT)
    synth.change(VoiceChange(volume_steps=+2))
    louder = synth.synthesize(PROMPT)
    synth.change(VoiceChange(volume_steps=-4))
    softer = synth.synthesize(PROMPT)
    assert level_db(louder) > level_db(normal) + 3
    assert level_db(softer) < level_db(normal) - 5
    assert np.abs(louder.samples).max() < 1.0
    # Volume is a gain on the same synthesis: no new engine run for it.
    assert synth.stats.synthesized == 1


def test_volume_stays_within_bounds(synth: tts.Synthesizer) -> None:
    synth.change(VoiceChange(volume_steps=+30))
    assert synth.settings.volume == pytest.approx(tts.MAX_VOLUME)
    assert np.abs(synth.synthesize("Louder.").samples).max() < 1.0
    synth.change(VoiceChange(volume_steps=-60))
    assert synth.settings.volume == pytest.approx(tts.MIN_VOLUME)


def test_voice_can_be_chosen_by_id_or_language(tmp_path: Path) -> None:
    ids = {v.id for v in tts.list_voices()}
    assert "gmw/en-us" in ids
    assert tts.find_voice("en-us").id == "gmw/en-us"
    american = tts.Synthesizer(voice="en-us", cache_dir=tmp_path)
    british = tts.Synthesizer(voice="gmw/en", cache_dir=tmp_path)
    assert american.settings.voice == "gmw/en-us"
    a, b = american.synthesize("Tomato."), british.synthesize("Tomato.")
    assert (a.source, b.source) == ("engine", "engine")  # a voice is part of the cache key
    assert not np.array_equal(a.samples[: len(b.samples)], b.samples[: len(a.samples)])


def test_unknown_voice_is_refused_with_suggestions() -> None:
    with pytest.raises(tts.TtsSetupError) as err:
        tts.Synthesizer(voice="english-xx-nonexistent", disk_cache=False)
    assert "english-xx-nonexistent" in str(err.value)
    assert "voices_table" in str(err.value)


def test_pyttsx3_chatter_is_not_printed(
    synth: tts.Synthesizer, capfd: pytest.CaptureFixture[str]
) -> None:
    synth.synthesize("Nothing on the console, please.")
    out, _ = capfd.readouterr()
    assert "Audio saved to" not in out


def test_each_synthesis_uses_its_own_rate_and_voice() -> None:
    # pyttsx3 alone loses rate changes after the first prompt (see assistant.tts).
    def seconds(voice: str, rate: int, path: Path) -> float:
        tts.synthesize_to_wav(PROMPT, voice, rate, path)
        samples, samplerate = tts.read_wav(path)
        return len(samples) / samplerate

    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "x.wav"
        order = [(110, "gmw/en"), (200, "gmw/en"), (150, "gmw/en-us"), (110, "gmw/en")]
        lengths = [seconds(voice, rate, wav) for rate, voice in order]
    assert lengths[0] > lengths[2] > lengths[1]
    assert lengths[3] == pytest.approx(lengths[0], abs=0.05)


def test_one_engine_for_the_process(tmp_path: Path) -> None:
    a = tts.Synthesizer(cache_dir=tmp_path)
    b = tts.Synthesizer(cache_dir=tmp_path)
    assert a.settings.voice == b.settings.voice
    assert tts.engine() is tts.engine()
    assert tts.engine_init_seconds() is not None


def test_missing_espeak_names_the_packages(tmp_path: Path) -> None:
    # A fresh interpreter where loading the eSpeak library fails, as without libespeak-ng1.
    code = textwrap.dedent(
        """
        import ctypes
        real = ctypes.cdll.LoadLibrary
        def no_espeak(name):
            if "espeak" in str(name):
                raise OSError(f"{name}: cannot open shared object file")
            return real(name)
        ctypes.cdll.LoadLibrary = no_espeak
        from assistant.tts import Synthesizer, TtsSetupError
        try:
            Synthesizer(disk_cache=False)
        except TtsSetupError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert "espeak-ng" in done.stdout and "libespeak-ng1" in done.stdout, done.stderr
