"""A virtual sound card for tests: PulseAudio null sinks instead of hardware.

``scripts/virtual-audio.sh`` starts PulseAudio (fine as root: a per-user daemon,
socket under /tmp/pulse-*) and creates, for a prefix P (default "assistant"):

* ``P_speaker``: null sink, the loudspeaker; `SpeakerRecorder` records its
  ``.monitor`` with ``parec``;
* ``P_mic_feed``: null sink; `play_into_mic` plays the simulated user into it;
* ``P_mic``: remap source of ``P_mic_feed.monitor``, the microphone;
* two "keeper" loopbacks of silence, because an idle PulseAudio 16 null sink
  runs with 2 s latency and starts any new stream 0..2 s late without them.

How PortAudio (sounddevice) sees these devices: it only lists ALSA devices,
here ``pulse`` and ``default``, both provided by the ALSA PulseAudio plugin of
the Debian package ``libasound2-plugins``. PulseAudio picks the sink/source
from ``PULSE_SINK`` / ``PULSE_SOURCE`` when a stream opens. So the assistant
uses either

* ``--output-device pulse:P_speaker --input-device pulse:P_mic`` (or the
  environment ``ASSISTANT_OUTPUT_DEVICE`` / ``ASSISTANT_INPUT_DEVICE`` with the
  same values): `assistant.audio` opens ALSA ``pulse`` and sets
  ``PULSE_SINK``/``PULSE_SOURCE`` just while opening; or
* the default device with ``PULSE_SINK=P_speaker PULSE_SOURCE=P_mic`` in its
  environment.

`VirtualAudio.env()` gives all four variables, for a subprocess.

Faults: when a PulseAudio sink/source disappears, PulseAudio *moves* its
streams to another device (the program never notices), so `unplug` first kills
the program's streams on the device (PortAudio then reports the failure) and
removes the device in the same ``pacmd`` batch; `replug` creates it again.

Every session of the fixtures gets its own prefix, so parallel test runs (and
engineers) on the same PulseAudio daemon never hear each other. Child
processes (``parec``, ``pacat``) are stopped by the fixtures, the devices are
removed; the daemon stays.

Timing on these devices: the speaker monitor runs up to one sink block (~20 ms)
ahead of real time, so `SpeakerRecorder.time_at` is good to about +-20 ms.
`play_into_mic` uses 100 ms of pacat latency: with 20 ms, a busy machine
made pacat underrun and the "user's" words came out stretched by ~0.1 s.

Fixtures (use ``pytest_plugins = ["virtual_audio"]`` in a test module or the
root conftest, or import the fixture names there): `virtual_audio` (session
devices), `virtual_audio_env` (those as this process's defaults),
`speaker_recorder`, and `fault_audio` (a private set a test may unplug).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "virtual-audio.sh"
RATE = 16000  # what recordings and the simulated user use
Which = Literal["speaker", "mic"]

_children: set[subprocess.Popen[bytes]] = set()
_children_lock = threading.Lock()
_prefix_counter = itertools.count()


def pulseaudio_installed() -> bool:
    """Whether PulseAudio is there at all (a missing pactl/parec later is an error, not a skip)."""
    return any(shutil.which(p) for p in ("pulseaudio", "pactl"))


def _spawn(args: list[str], **kw: object) -> subprocess.Popen[bytes]:
    proc: subprocess.Popen[bytes] = subprocess.Popen(args, **kw)  # type: ignore[call-overload]
    with _children_lock:
        _children.add(proc)
    return proc


def _forget(proc: subprocess.Popen[bytes]) -> None:
    with _children_lock:
        _children.discard(proc)


def reap_children() -> None:
    """Stop every player/recorder this module started that is still running."""
    with _children_lock:
        procs = list(_children)
        _children.clear()
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pactl(*args: str) -> str:
    return subprocess.run(
        ["pactl", *args], check=True, capture_output=True, text=True, timeout=10
    ).stdout


# --- the rig ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VirtualAudio:
    """One set of virtual devices (see module doc), named by `prefix`."""

    prefix: str = "assistant"

    @property
    def speaker(self) -> str:
        return f"{self.prefix}_speaker"

    @property
    def speaker_monitor(self) -> str:
        return f"{self.speaker}.monitor"

    @property
    def mic_feed(self) -> str:
        return f"{self.prefix}_mic_feed"

    @property
    def mic(self) -> str:
        return f"{self.prefix}_mic"

    @property
    def output_device(self) -> str:
        """Device spec for `assistant.audio` / ``--output-device``."""
        return f"pulse:{self.speaker}"

    @property
    def input_device(self) -> str:
        """Device spec for `assistant.audio` / ``--input-device``."""
        return f"pulse:{self.mic}"

    def env(self) -> dict[str, str]:
        """Environment for an assistant process that should use these devices."""
        return {
            "PULSE_SINK": self.speaker,
            "PULSE_SOURCE": self.mic,
            "ASSISTANT_OUTPUT_DEVICE": self.output_device,
            "ASSISTANT_INPUT_DEVICE": self.input_device,
        }

    def _script(self, *args: str) -> str:
        env = {**os.environ, "ASSISTANT_AUDIO_PREFIX": self.prefix}
        done = subprocess.run(
            ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=30
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{SCRIPT.name} {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}"
            )
        return done.stdout

    def start(self) -> VirtualAudio:
        """Start PulseAudio if needed and create whatever devices are missing."""
        self._script("start")
        return self

    def stop(self, keep_daemon: bool = True) -> None:
        """Remove the devices; the daemon stays unless `keep_daemon` is False (see the script)."""
        self._script("stop", *(["--keep-daemon"] if keep_daemon else []))

    def is_up(self) -> bool:
        sinks = _pactl("list", "short", "sinks")
        sources = _pactl("list", "short", "sources")
        names = {line.split("\t")[1] for line in (sinks + sources).splitlines() if "\t" in line}
        return {self.speaker, self.mic_feed, self.mic} <= names


@contextlib.contextmanager
def rig_while(tag: str) -> Iterator[VirtualAudio]:
    """A private rig, started now and removed (with any player or recorder left) afterwards."""
    rig = private_rig(tag).start()
    try:
        yield rig
    finally:
        reap_children()
        rig.stop()


def private_rig(tag: str = "t") -> VirtualAudio:
    """A new, uniquely named device set (not yet started)."""
    return VirtualAudio(f"assistant_{tag}{os.getpid()}_{next(_prefix_counter)}")


# --- playing the user's voice into the microphone ------------------------------------------


class MicPlayer:
    """A WAV or buffer being played into the mic feed (``pacat``)."""

    def __init__(self, rig: VirtualAudio, samples: npt.NDArray[np.int16], samplerate: int) -> None:
        self.duration = len(samples) / samplerate
        self.started = time.monotonic()
        self._proc = _spawn(
            [
                "pacat",
                "--playback",
                f"--device={rig.mic_feed}",
                "--raw",
                "--format=s16le",
                f"--rate={samplerate}",
                "--channels=1",
                "--latency-msec=100",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._feeder = threading.Thread(target=self._feed, args=(samples.tobytes(),), daemon=True)
        self._feeder.start()

    def _feed(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            self._proc.stdin.write(data)
            self._proc.stdin.close()

    def wait(self, timeout: float | None = None) -> None:
        """Until the last sample has been played (pacat drains before exiting)."""
        self._proc.wait(timeout=timeout if timeout is not None else self.duration + 10)
        self._feeder.join(timeout=1)
        _forget(self._proc)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
        self._proc.wait(timeout=5)
        _forget(self._proc)


def play_into_mic(
    rig: VirtualAudio,
    audio: str | Path | npt.ArrayLike,
    samplerate: int = RATE,
    *,
    wait: bool = True,
) -> MicPlayer:
    """Play a WAV file or a mono buffer (int16, or float in [-1, 1]) into the mic feed."""
    if isinstance(audio, str | Path):
        samples, samplerate = read_wav(audio)
    else:
        samples = np.asarray(audio)
    pcm = to_int16(samples)
    player = MicPlayer(rig, pcm, samplerate)
    if wait:
        player.wait()
    return player


# --- recording the loudspeaker -------------------------------------------------------------


class SpeakerRecorder:
    """Records the speaker's monitor in the background at 16 kHz mono (``parec``).

    Sample index i was played at about ``time_at(i)`` (monotonic clock): the
    mapping uses the earliest-arriving chunk, so it errs by the monitor's
    latency (~10 ms here) at most.
    """

    def __init__(self, rig: VirtualAudio, samplerate: int = RATE) -> None:
        self.rig = rig
        self.samplerate = samplerate
        self._chunks: list[bytes] = []
        self._count = 0  # samples so far
        self._t0: float | None = None  # monotonic time of sample 0
        self._lock = threading.Condition()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> SpeakerRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> SpeakerRecorder:
        self._proc = _spawn(
            [
                "parec",
                f"--device={self.rig.speaker_monitor}",
                "--raw",
                "--format=s16le",
                f"--rate={self.samplerate}",
                "--channels=1",
                "--latency-msec=10",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if self.wait_samples(1, timeout=5) is False:
            self.stop()
            raise RuntimeError(f"no audio from {self.rig.speaker_monitor}: is the rig up?")
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        pending = b""
        while True:
            data = self._proc.stdout.read(4096)
            if not data:
                break
            now = time.monotonic()
            data, pending = pending + data, b""
            if len(data) % 2:
                data, pending = data[:-1], data[-1:]
            with self._lock:
                self._chunks.append(data)
                self._count += len(data) // 2
                start = now - self._count / self.samplerate
                self._t0 = start if self._t0 is None else min(self._t0, start)
                self._lock.notify_all()

    def stop(self) -> npt.NDArray[np.float32]:
        """Stop recording; returns everything recorded."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
            self._proc.wait(timeout=5)
            _forget(self._proc)
            self._proc = None
        if self._reader is not None:
            self._reader.join(timeout=2)
            self._reader = None
        return self.samples()

    def mark(self) -> int:
        """The number of samples recorded so far: an index to cut from later."""
        with self._lock:
            return self._count

    def wait_samples(self, count: int, timeout: float = 5.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._count >= count, timeout=timeout)

    def wait_until(self, t: float, timeout: float = 5.0) -> None:
        """Until audio played at monotonic time `t` has been recorded."""
        while time.monotonic() < t:
            time.sleep(min(0.05, max(0.0, t - time.monotonic())))
        self.wait_samples(self.index_at(t) + 1, timeout=timeout)

    def samples(self, start: int = 0, end: int | None = None) -> npt.NDArray[np.float32]:
        """Recorded samples [start, end) as float32 in [-1, 1]."""
        with self._lock:
            data = b"".join(self._chunks)
        pcm = np.frombuffer(data, dtype="<i2")[start:end]
        return pcm.astype(np.float32) / 32768.0

    def time_at(self, index: int) -> float:
        """Monotonic time at which sample `index` was played."""
        with self._lock:
            assert self._t0 is not None, "nothing recorded yet"
            return self._t0 + index / self.samplerate

    def index_at(self, t: float) -> int:
        with self._lock:
            assert self._t0 is not None, "nothing recorded yet"
            return max(0, round((t - self._t0) * self.samplerate))

    def wait_for_sound(
        self, since: int = 0, timeout: float = 5.0, threshold_db: float = -40.0
    ) -> int | None:
        """Index of the first audible sample at or after `since`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            found = first_audible(self.samples(since), self.samplerate, threshold_db)
            if found is not None:
                return since + found
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def save_wav(self, path: str | Path, start: int = 0, end: int | None = None) -> Path:
        return write_wav(path, self.samples(start, end), self.samplerate)


# --- audio helpers -------------------------------------------------------------------------


def to_int16(samples: npt.ArrayLike) -> npt.NDArray[np.int16]:
    a = np.asarray(samples)
    if a.dtype == np.int16:
        return a.reshape(-1)
    return (np.clip(a.astype(np.float32), -1.0, 1.0) * 32767).astype(np.int16).reshape(-1)


def read_wav(path: str | Path) -> tuple[npt.NDArray[np.int16], int]:
    """A 16-bit WAV as mono int16 samples and its rate."""
    with wave.open(str(path), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        assert w.getsampwidth() == 2, f"{path}: only 16-bit WAV is supported"
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return pcm, rate


def write_wav(path: str | Path, samples: npt.ArrayLike, samplerate: int) -> Path:
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(samplerate)
        w.writeframes(to_int16(samples).tobytes())
    return path


def resample(samples: npt.ArrayLike, rate: int, new_rate: int) -> npt.NDArray[np.float32]:
    """Linear resampling, good enough for energy and timing checks."""
    a = np.asarray(samples)
    x = a.astype(np.float32) / 32768.0 if a.dtype == np.int16 else a.astype(np.float32)
    n = round(len(x) * new_rate / rate)
    return np.interp(np.arange(n) / new_rate, np.arange(len(x)) / rate, x).astype(np.float32)


def _window_db(
    x: npt.NDArray[np.float32], samplerate: int, window_ms: float
) -> npt.NDArray[np.float64]:
    win = max(1, int(samplerate * window_ms / 1000))
    n = len(x) // win
    if n == 0:
        return np.zeros(0)
    frames = x[: n * win].astype(np.float64).reshape(n, win)
    rms = np.sqrt((frames**2).mean(axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def rms_db(samples: npt.ArrayLike) -> float:
    """Level in dBFS (float samples in [-1, 1])."""
    x = np.asarray(samples, dtype=np.float64)
    return float(20 * np.log10(max(np.sqrt(np.mean(x**2)) if len(x) else 0.0, 1e-10)))


def first_audible(
    samples: npt.ArrayLike, samplerate: int, threshold_db: float = -40.0, window_ms: float = 10.0
) -> int | None:
    """Start index of the first `window_ms` window louder than `threshold_db`."""
    levels = _window_db(np.asarray(samples, dtype=np.float32), samplerate, window_ms)
    loud = np.flatnonzero(levels > threshold_db)
    return None if len(loud) == 0 else int(loud[0]) * int(samplerate * window_ms / 1000)


def last_audible(
    samples: npt.ArrayLike, samplerate: int, threshold_db: float = -40.0, window_ms: float = 10.0
) -> int | None:
    """End index (exclusive) of the last window louder than `threshold_db`."""
    levels = _window_db(np.asarray(samples, dtype=np.float32), samplerate, window_ms)
    loud = np.flatnonzero(levels > threshold_db)
    return None if len(loud) == 0 else (int(loud[-1]) + 1) * int(samplerate * window_ms / 1000)


def audible_segments(
    samples: npt.ArrayLike,
    samplerate: int,
    threshold_db: float = -40.0,
    min_gap_s: float = 0.3,
    window_ms: float = 10.0,
) -> list[tuple[int, int]]:
    """(start, end) sample ranges of sound, merging gaps shorter than `min_gap_s`."""
    win = int(samplerate * window_ms / 1000)
    levels = _window_db(np.asarray(samples, dtype=np.float32), samplerate, window_ms)
    segments: list[tuple[int, int]] = []
    for i in np.flatnonzero(levels > threshold_db):
        start, end = int(i) * win, (int(i) + 1) * win
        if segments and start - segments[-1][1] < min_gap_s * samplerate:
            segments[-1] = (segments[-1][0], end)
        else:
            segments.append((start, end))
    return segments


def cut(samples: npt.ArrayLike, samplerate: int, start_s: float, end_s: float) -> npt.NDArray:
    x = np.asarray(samples)
    return x[max(0, int(start_s * samplerate)) : max(0, int(end_s * samplerate))]


# --- fault injection -----------------------------------------------------------------------


def _device_of(rig: VirtualAudio, which: Which) -> tuple[str, str]:
    """(pactl kind of stream, device name) for the device `which`."""
    return ("sink-inputs", rig.speaker) if which == "speaker" else ("source-outputs", rig.mic)


def _streams_on(kind: str, device: str, pid: int | None = None) -> list[int]:
    """Program streams (not modules' like the keepers) of `kind` on the named device."""
    listing = "sinks" if kind == "sink-inputs" else "sources"
    devices = json.loads(_pactl("-f", "json", "list", "short", listing))
    ids = {d["index"] for d in devices if d["name"] == device}
    found = []
    for stream in json.loads(_pactl("-f", "json", "list", kind)):
        where = stream.get("sink" if kind == "sink-inputs" else "source")
        props = stream.get("properties", {})
        mine = pid is None or props.get("application.process.id") == str(pid)
        if where in ids and stream.get("client") is not None and mine:
            found.append(int(stream["index"]))
    return found


def client_streams(rig: VirtualAudio, which: Which, pid: int | None = None) -> list[int]:
    """Indexes of program streams on the speaker or mic, optionally only one pid's."""
    kind, name = _device_of(rig, which)
    return _streams_on(kind, name, pid)


def _module_ids(pattern: str) -> list[int]:
    out = _pactl("list", "short", "modules")
    return [
        int(line.split("\t")[0])
        for line in out.splitlines()
        if line.count("\t") >= 2 and pattern in line.split("\t")[2] + " "
    ]


def _pacmd(commands: list[str]) -> None:
    if not commands:
        return
    subprocess.run(
        ["pacmd"],
        input="\n".join(commands) + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=10,
    )


def kill_streams(rig: VirtualAudio, which: Which, pid: int | None = None) -> int:
    """Make the program's streams on the device fail now (the device stays)."""
    kind, _ = _device_of(rig, which)
    ids = client_streams(rig, which, pid)
    verb = "kill-sink-input" if kind == "sink-inputs" else "kill-source-output"
    _pacmd([f"{verb} {i}" for i in ids])
    return len(ids)


def unplug(rig: VirtualAudio, which: Which) -> None:
    """Like pulling the cable: streams on the device fail, and the device is gone.

    Streams are killed and the device removed in one ``pacmd`` batch, so
    PulseAudio never gets to move them to another device.
    """
    kind, _ = _device_of(rig, which)
    verb = "kill-sink-input" if kind == "sink-inputs" else "kill-source-output"
    commands = [f"{verb} {i}" for i in client_streams(rig, which)]
    if which == "speaker":
        # Recorders of the monitor too, or PulseAudio moves them to another source.
        monitor = _streams_on("source-outputs", rig.speaker_monitor)
        commands += [f"kill-source-output {i}" for i in monitor]
        modules = _module_ids(f"sink={rig.speaker} ") + _module_ids(f"sink_name={rig.speaker} ")
    else:
        modules = _module_ids(f"source_name={rig.mic} ")
    _pacmd(commands + [f"unload-module {m}" for m in modules])


def replug(rig: VirtualAudio) -> None:
    """Bring back whatever `unplug` removed."""
    rig.start()


@contextlib.contextmanager
def unplugged(rig: VirtualAudio, which: Which) -> Iterator[None]:
    unplug(rig, which)
    try:
        yield
    finally:
        replug(rig)


def stall(rig: VirtualAudio, which: Which, stalled: bool = True) -> None:
    """Suspend (or resume) the device: streams stay but no audio moves."""
    if which == "speaker":
        _pactl("suspend-sink", rig.speaker, "1" if stalled else "0")
    else:
        _pactl("suspend-source", rig.mic, "1" if stalled else "0")


# --- pytest fixtures (import these names into conftest.py) ---------------------------------


def require_rig() -> None:
    """Skip only when PulseAudio is not installed at all; any other problem fails."""
    if not pulseaudio_installed():
        pytest.skip("PulseAudio is not installed (scripts/setup-system.sh installs it)")


@pytest.fixture(scope="session")
def virtual_audio() -> Iterator[VirtualAudio]:
    """This test session's own virtual speaker and microphone, removed afterwards."""
    require_rig()
    with rig_while("s") as rig:
        yield rig


@pytest.fixture
def speaker_recorder(virtual_audio: VirtualAudio) -> Iterator[SpeakerRecorder]:
    """Recording the session speaker's monitor for the duration of one test."""
    recorder = SpeakerRecorder(virtual_audio).start()
    try:
        yield recorder
    finally:
        recorder.stop()
        reap_children()


@pytest.fixture
def virtual_audio_env(virtual_audio: VirtualAudio, monkeypatch: pytest.MonkeyPatch) -> VirtualAudio:
    """The session devices as this process's defaults (env vars, undone after the test)."""
    for name, value in virtual_audio.env().items():
        monkeypatch.setenv(name, value)
    return virtual_audio


@pytest.fixture
def fault_audio() -> Iterator[VirtualAudio]:
    """A device set of its own for one test, which it may unplug; removed afterwards."""
    require_rig()
    rig = private_rig("f").start()
    try:
        yield rig
    finally:
        reap_children()
        with contextlib.suppress(Exception):
            stall(rig, "speaker", False)
        with contextlib.suppress(Exception):
            stall(rig, "mic", False)
        rig.stop()
