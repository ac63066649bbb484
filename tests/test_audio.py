"""Microphone and loudspeaker on the virtual sound card: what a user would hear and notice.

Each test session gets its own virtual devices (see tests/virtual_audio.py);
tests that unplug a device get a set of their own.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import tts
from assistant.audio import (
    AudioDeviceError,
    AudioSetupError,
    Loudspeaker,
    Microphone,
    Playback,
    list_devices,
    resolve_device,
)
from assistant.ports import VoiceChange

pytest.register_assert_rewrite("virtual_audio")  # before importing it, as it is also a plugin
from virtual_audio import (  # noqa: E402
    RATE,
    SpeakerRecorder,
    VirtualAudio,
    first_audible,
    last_audible,
    play_into_mic,
    replug,
    resample,
    rms_db,
    stall,
    unplug,
    write_wav,
)

# Fixtures virtual_audio, virtual_audio_env, speaker_recorder, fault_audio:
pytest_plugins = ["virtual_audio"]

PROMPT = "Please sit down on a sturdy chair before we start."
SHORT = "Lift your right foot."


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tts.Synthesizer:
    return tts.Synthesizer(cache_dir=tmp_path_factory.mktemp("tts"))


def audible_span(samples: np.ndarray, samplerate: int) -> tuple[int, int]:
    start, end = first_audible(samples, samplerate), last_audible(samples, samplerate)
    assert start is not None and end is not None, "nothing audible"
    return start, end


def play_and_record(
    speaker: Loudspeaker, sound: tts.Speech, recorder: SpeakerRecorder
) -> tuple[Playback, np.ndarray, int]:
    """Play `sound`; return the playback times, what the speaker monitor heard, and its mark."""
    mark = recorder.mark()
    speaker.play(sound)
    playback = speaker.wait(timeout=30)
    recorder.wait_until(playback.ended + 0.2)
    return playback, recorder.samples(mark), mark


def capture(mic: Microphone, until: float) -> tuple[np.ndarray, list[float]]:
    """Read the microphone until a block captured after `until` arrives."""
    blocks: list[tuple[float, bytes]] = []
    while not blocks or blocks[-1][0] < until:
        block = mic.read_timed(timeout=3)
        assert block is not None, "the microphone delivered nothing"
        blocks.append(block)
    pcm = np.frombuffer(b"".join(b for _, b in blocks), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0, [t for t, _ in blocks]


# --- loudspeaker ------------------------------------------------------------------------------


def test_prompt_is_heard_from_the_speaker_for_its_whole_length(
    virtual_audio: VirtualAudio, speaker_recorder: SpeakerRecorder, synth: tts.Synthesizer
) -> None:
    speech = synth.synthesize(SHORT)
    # as the assistant opens it at start-up: the sound system is set up before any prompt
    speaker = Loudspeaker(resolve_device(virtual_audio.output_device, "output"))
    asked = time.monotonic()
    playback, heard, mark = play_and_record(speaker, speech, speaker_recorder)

    start, end = audible_span(heard, RATE)
    s_start, s_end = audible_span(speech.samples, speech.samplerate)
    expected = (s_end - s_start) / speech.samplerate
    assert (end - start) / RATE == pytest.approx(expected, abs=0.1)
    # Reported times match what came out, and the sound started promptly.
    onset = speaker_recorder.time_at(mark + start)
    assert onset - (playback.started + s_start / speech.samplerate) == pytest.approx(0, abs=0.08)
    # ~10 ms when idle, up to 1 s on a busy machine; never the 2 s null-sink stall once seen
    assert playback.started - asked < 1.5
    assert playback.ended - playback.started == pytest.approx(speech.duration, abs=0.1)
    assert not playback.interrupted
    # Same loudness as synthesized (no gain lost on the way).
    assert rms_db(heard[start:end]) == pytest.approx(rms_db(speech.samples[s_start:s_end]), abs=2.0)


def test_stop_cuts_the_prompt_short(
    virtual_audio: VirtualAudio, speaker_recorder: SpeakerRecorder, synth: tts.Synthesizer
) -> None:
    speech = synth.synthesize(PROMPT)  # about 3 s
    speaker = Loudspeaker(virtual_audio.output_device)
    mark = speaker_recorder.mark()
    speaker.play(speech)
    time.sleep(0.6)
    assert speaker.playing()
    speaker.stop()
    playback = speaker.wait(timeout=2)
    assert not speaker.playing()
    assert playback.interrupted
    assert playback.ended - playback.started == pytest.approx(0.6, abs=0.15)
    speaker_recorder.wait_until(playback.ended + 0.5)
    start, end = audible_span(speaker_recorder.samples(mark), RATE)
    assert (end - start) / RATE < 0.8  # not the 3 s prompt
    assert speaker_recorder.time_at(mark + end) - playback.ended < 0.1


def test_slower_prompt_lasts_longer_on_the_speaker(
    virtual_audio: VirtualAudio, speaker_recorder: SpeakerRecorder, tmp_path: Path
) -> None:
    synth = tts.Synthesizer(cache_dir=tmp_path)
    speaker = Loudspeaker(virtual_audio.output_device)
    _, normal, _ = play_and_record(speaker, synth.synthesize(SHORT), speaker_recorder)
    synth.change(VoiceChange(rate_steps=-2))
    _, slower, _ = play_and_record(speaker, synth.synthesize(SHORT), speaker_recorder)
    n0, n1 = audible_span(normal, RATE)
    s0, s1 = audible_span(slower, RATE)
    assert (s1 - s0) > 1.12 * (n1 - n0)


def test_louder_and_softer_change_the_level_on_the_speaker(
    virtual_audio: VirtualAudio, speaker_recorder: SpeakerRecorder, tmp_path: Path
) -> None:
    synth = tts.Synthesizer(cache_dir=tmp_path)
    speaker = Loudspeaker(virtual_audio.output_device)
    levels = []
    for steps in (0, +2, -4):  # normal, 6 dB louder, 6 dB softer than normal
        synth.change(VoiceChange(volume_steps=steps))
        _, heard, _ = play_and_record(speaker, synth.synthesize("Breathe in."), speaker_recorder)
        start, end = audible_span(heard, RATE)
        levels.append(rms_db(heard[start:end]))
    normal, louder, softer = levels
    assert louder > normal + 3
    assert softer < normal - 5


def test_int16_buffer_at_any_rate_plays(
    virtual_audio: VirtualAudio, speaker_recorder: SpeakerRecorder
) -> None:
    rate = 44100
    t = np.arange(int(0.5 * rate)) / rate
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    speaker = Loudspeaker(virtual_audio.output_device)
    mark = speaker_recorder.mark()
    speaker.play(tone, rate)
    playback = speaker.wait(timeout=5)
    speaker_recorder.wait_until(playback.ended + 0.2)
    start, end = audible_span(speaker_recorder.samples(mark), RATE)
    assert (end - start) / RATE == pytest.approx(0.5, abs=0.05)


def test_missing_output_device_is_a_clear_error(synth: tts.Synthesizer) -> None:
    speaker = Loudspeaker("pulse:assistant_no_such_speaker")
    with pytest.raises(AudioDeviceError) as err:
        speaker.play(synth.synthesize(SHORT))
    message = str(err.value)
    assert "loudspeaker" in message and "assistant_no_such_speaker" in message
    assert "pactl list short sinks" in message
    assert not speaker.playing()


def test_unknown_device_name_lists_the_choices() -> None:
    with pytest.raises(AudioSetupError) as err:
        resolve_device("no such sound card", "output")
    assert "No output device matches 'no such sound card'" in str(err.value)
    assert "pulse" in str(err.value)  # the table of what there is


def test_devices_are_listed_with_pulse_targets(virtual_audio: VirtualAudio) -> None:
    table = list_devices()
    assert "pulse" in table
    assert f"pulse:{virtual_audio.speaker}" in table
    assert f"pulse:{virtual_audio.mic}" in table
    assert resolve_device(virtual_audio.output_device, "output").pulse_name == (
        virtual_audio.speaker
    )


def test_default_devices_follow_the_environment(
    virtual_audio_env: VirtualAudio,
    speaker_recorder: SpeakerRecorder,
    synth: tts.Synthesizer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speech = synth.synthesize("Yes.")
    # ASSISTANT_OUTPUT_DEVICE=pulse:<speaker>, as `virtual-audio.sh env` prints.
    assert resolve_device(None, "output").pulse_name == virtual_audio_env.speaker
    _, heard, _ = play_and_record(Loudspeaker(), speech, speaker_recorder)
    assert first_audible(heard, RATE) is not None
    # Only PULSE_SINK: PortAudio's default ALSA device goes through PulseAudio to it.
    monkeypatch.delenv("ASSISTANT_OUTPUT_DEVICE")
    assert resolve_device(None, "output").pulse_name is None
    _, heard, _ = play_and_record(Loudspeaker(), speech, speaker_recorder)
    assert first_audible(heard, RATE) is not None


def test_speaker_unplugged_mid_prompt_then_back(
    fault_audio: VirtualAudio, synth: tts.Synthesizer
) -> None:
    speech = synth.synthesize(PROMPT)
    speaker = Loudspeaker(fault_audio.output_device)
    speaker.play(speech)
    time.sleep(0.5)
    unplug(fault_audio, "speaker")
    with pytest.raises(AudioDeviceError) as err:
        speaker.wait(timeout=5)
    assert "loudspeaker" in str(err.value) and fault_audio.speaker in str(err.value)
    assert not speaker.playing()
    with pytest.raises(AudioDeviceError):
        speaker.play(speech)  # still unplugged

    threading.Timer(0.5, replug, args=(fault_audio,)).start()
    speaker.wait_for_device(poll_s=0.1, timeout=10)
    with SpeakerRecorder(fault_audio) as recorder:
        mark = recorder.mark()
        speaker.play(synth.synthesize(SHORT))
        playback = speaker.wait(timeout=10)
        recorder.wait_until(playback.ended + 0.2)
        assert first_audible(recorder.samples(mark), RATE) is not None


def test_stalled_speaker_is_detected(fault_audio: VirtualAudio, synth: tts.Synthesizer) -> None:
    speaker = Loudspeaker(fault_audio.output_device, stall_s=0.5)
    speaker.play(synth.synthesize(PROMPT))
    time.sleep(0.3)
    stall(fault_audio, "speaker")
    try:
        with pytest.raises(AudioDeviceError) as err:
            speaker.wait(timeout=5)
        assert "stopped taking sound" in str(err.value)
    finally:
        stall(fault_audio, "speaker", False)


# --- microphone -------------------------------------------------------------------------------


def test_spoken_wav_arrives_through_the_microphone_at_16k_in_the_right_place(
    virtual_audio: VirtualAudio, synth: tts.Synthesizer, tmp_path: Path
) -> None:
    speech = synth.synthesize(SHORT)
    voice = resample(speech.samples, speech.samplerate, RATE)
    lead = 0.5
    silence = np.zeros(int(lead * RATE), np.float32)
    wav = write_wav(tmp_path / "user.wav", np.concatenate([silence, voice, silence]), RATE)
    v0, v1 = audible_span(voice, RATE)

    with Microphone(virtual_audio.input_device) as mic:
        assert mic.samplerate == RATE and mic.block_frames == RATE // 50
        time.sleep(0.2)
        played = time.monotonic()
        play_into_mic(virtual_audio, wav)
        heard, starts = capture(mic, until=played + lead + len(voice) / RATE + 0.3)

    # 16 kHz: the number of samples matches the wall-clock span of the blocks.
    span = starts[-1] - starts[0]
    assert (len(heard) - mic.block_frames) / span == pytest.approx(RATE, rel=0.03)
    # The speech is there, as long as it was, and where it was played.
    start, end = audible_span(heard, RATE)
    assert (end - start) / RATE == pytest.approx((v1 - v0) / RATE, abs=0.06)
    onset = starts[start // mic.block_frames] + (start % mic.block_frames) / RATE
    assert onset - (played + lead + v0 / RATE) == pytest.approx(0, abs=0.12)
    assert rms_db(heard[start:end]) == pytest.approx(rms_db(voice[v0:v1]), abs=2.0)


def test_drain_discards_what_was_heard_before(virtual_audio: VirtualAudio) -> None:
    t = np.arange(int(0.4 * RATE)) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 500 * t)
    with Microphone(virtual_audio.input_device) as mic:
        play_into_mic(virtual_audio, tone)
        dropped = mic.drain(until=time.monotonic() + 0.05)
        assert dropped >= len(tone)
        after, _ = capture(mic, until=time.monotonic() + 0.3)
    assert first_audible(after, RATE) is None


def test_microphone_unplugged_mid_capture_then_back(fault_audio: VirtualAudio) -> None:
    mic = Microphone(fault_audio.input_device)
    mic.open()
    try:
        assert mic.read(timeout=2) is not None
        unplug(fault_audio, "mic")
        failed = time.monotonic()
        with pytest.raises(AudioDeviceError) as err:
            for _ in range(500):
                mic.read(timeout=1)
        assert time.monotonic() - failed < 1.5
        assert "microphone" in str(err.value) and fault_audio.mic in str(err.value)
        assert not mic.is_open

        threading.Timer(0.5, replug, args=(fault_audio,)).start()
        mic.reopen_when_available(poll_s=0.1, timeout=10)
        assert mic.is_open
        t = np.arange(int(0.3 * RATE)) / RATE
        played = time.monotonic()
        play_into_mic(fault_audio, 0.3 * np.sin(2 * np.pi * 500 * t))
        heard, _ = capture(mic, until=played + 0.5)
        assert first_audible(heard, RATE) is not None
    finally:
        mic.close()


def test_stalled_microphone_is_detected(fault_audio: VirtualAudio) -> None:
    mic = Microphone(fault_audio.input_device, stall_s=0.5)
    mic.open()
    try:
        assert mic.read(timeout=2) is not None
        stall(fault_audio, "mic")
        with pytest.raises(AudioDeviceError) as err:
            for _ in range(500):
                mic.read(timeout=1)
        assert "no sound" in str(err.value)
    finally:
        stall(fault_audio, "mic", False)
        mic.close()


def test_missing_microphone_is_a_clear_error() -> None:
    with pytest.raises(AudioDeviceError) as err:
        Microphone("pulse:assistant_no_such_mic").open()
    assert "microphone" in str(err.value) and "assistant_no_such_mic" in str(err.value)


# --- installation problems --------------------------------------------------------------------


def test_missing_portaudio_names_the_package() -> None:
    code = textwrap.dedent(
        """
        import ctypes.util
        ctypes.util.find_library = lambda name: None  # as on a system without libportaudio2
        from assistant.audio import AudioSetupError, require_sounddevice
        try:
            require_sounddevice()
        except AudioSetupError as exc:
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
    assert "libportaudio2" in done.stdout, done.stderr
