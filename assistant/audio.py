"""Microphone and loudspeaker through sounddevice (PortAudio).

Why this module is small and defensive: the people using the assistant cannot
walk over to check a cable, so every device problem must turn into a plain
`AudioDeviceError` sentence the session can log and say, and the assistant must
be able to wait for the device to come back instead of crashing.

Devices are named by a *spec*:

* ``None``: ``$ASSISTANT_INPUT_DEVICE`` / ``$ASSISTANT_OUTPUT_DEVICE`` if set,
  else PortAudio's default device;
* an index (``3`` or ``"3"``) or a case-insensitive part of a device name
  (``"USB"``), as shown by `list_devices`;
* ``"pulse:NAME"``: the ALSA ``pulse`` device routed to PulseAudio sink or
  source ``NAME``. PortAudio only sees ALSA devices; the ``pulse`` one comes
  from the Debian package libasound2-plugins and forwards to PulseAudio, which
  picks the sink/source from ``PULSE_SINK`` / ``PULSE_SOURCE`` when the stream
  is opened. We set those variables just for the moment of opening, so the
  microphone and the loudspeaker can point at different places.

Found on PulseAudio 16 + PortAudio 19.6 (Debian 12), and why the code does what
it does:

* When a stream's device is killed, PortAudio's ALSA thread stops and calls the
  finished callback (and prints "Expression ... failed" lines to stderr); we
  turn "finished but we did not stop it" into `AudioDeviceError`.
* When a PulseAudio sink/source is removed while in use, PulseAudio *moves* the
  stream to another device instead of failing it; PortAudio never notices. Only
  a stall (no callbacks for ``stall_s``) is detectable; we treat it as failure.
* Opening ``pulse:NAME`` for a missing NAME fails at open ("Input/output
  error"), which is what `Loudspeaker.wait_for_device` and
  `Microphone.reopen_when_available` poll for.
* On paComplete PortAudio drops roughly the last ``latency`` seconds still
  queued instead of draining them, so playback appends that much silence.
* Underruns over the pulse plugin do not just click: PortAudio and the plugin
  then race through the rest of the buffer and the prompt is lost. With 50 ms
  of latency that happened to 12 of 15 one-second sounds on a loaded 2-core
  machine, with 100 ms to none, so 100 ms (20 ms blocks) is the default; the
  sound still starts within ~10-20 ms because the buffer is filled at once.
  ``latency="high"`` underflows at start and loses audio too.
* alsa-lib prints "underrun occurred" on stderr for every underrun; we send
  alsa-lib's messages to `logging` (debug) instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

DeviceKind = Literal["input", "output"]

PORTAUDIO_MISSING = (
    "The sound library PortAudio is not installed, so the assistant cannot use the "
    "microphone or loudspeaker. Install the Debian package libportaudio2 "
    "(sudo apt-get install libportaudio2) or run scripts/setup-system.sh. ({detail})"
)

_ENV_SPEC = {"input": "ASSISTANT_INPUT_DEVICE", "output": "ASSISTANT_OUTPUT_DEVICE"}
_PULSE_ENV = {"input": "PULSE_SOURCE", "output": "PULSE_SINK"}
_WORDS = {"input": "microphone", "output": "loudspeaker"}
START_GRACE_S = 3.0  # a device may take this long to deliver its first block (USB, Bluetooth)
_PA_INVALID_SAMPLE_RATE = -9997
_PA_INVALID_CHANNEL_COUNT = -9998

_open_lock = threading.Lock()  # guards PULSE_* env changes and PortAudio re-scans
_open_streams = 0  # streams of this module that are open; a re-scan would kill them


class AudioDeviceError(RuntimeError):
    """A microphone or loudspeaker is missing or failed; `str()` is for a human.

    Raised while running (device unplugged, stalled, refused to open): the
    device may come back, see `Microphone.reopen_when_available` and
    `Loudspeaker.wait_for_device`.
    """

    def __init__(self, message: str, device: str | None = None) -> None:
        super().__init__(message)
        self.device = device


class AudioSetupError(AudioDeviceError):
    """Sound cannot work as configured (no PortAudio, no such device): fix, then restart."""


def require_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio into an install hint.

    sounddevice raises a bare ``OSError('PortAudio library not found')`` at
    import time when libportaudio2 is absent; nobody reading that at a bedside
    would know what to install.
    """
    try:
        import sounddevice
    except OSError as exc:
        raise AudioSetupError(PORTAUDIO_MISSING.format(detail=exc)) from exc
    _route_alsa_messages()
    module: ModuleType = sounddevice
    return module


_alsa_handler: Any = None  # must stay referenced while alsa-lib may call it


def _route_alsa_messages() -> None:
    """Send alsa-lib's error prints (e.g. "underrun occurred") to logging, once."""
    global _alsa_handler
    if _alsa_handler is not None:
        return
    import ctypes
    import ctypes.util

    # void handler(const char *file, int line, const char *function, int err, const char *fmt, ...)
    handler_type = ctypes.CFUNCTYPE(
        None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
    )

    def handler(file: bytes, line: int, function: bytes, err: int, fmt: bytes) -> None:
        log.debug("alsa-lib %s: %s (%d)", (function or b"").decode(), (fmt or b"").decode(), err)

    _alsa_handler = handler_type(handler)
    try:
        name = ctypes.util.find_library("asound")
        if name:
            ctypes.CDLL(name).snd_lib_error_set_handler(_alsa_handler)
    except (OSError, AttributeError):
        pass  # no ALSA (another platform): nothing to quiet


@dataclass(frozen=True)
class Device:
    """A resolved PortAudio device, plus the PulseAudio target when routed via ``pulse``."""

    index: int
    name: str
    kind: DeviceKind
    default_samplerate: float
    pulse_name: str | None = None

    @property
    def label(self) -> str:
        if self.pulse_name is not None:
            return f"pulse:{self.pulse_name}"
        return f"#{self.index} {self.name!r}"


def _devices(sd: ModuleType) -> list[dict[str, Any]]:
    return [dict(d) for d in sd.query_devices()]


def _channels_key(kind: DeviceKind) -> str:
    return "max_input_channels" if kind == "input" else "max_output_channels"


def _pulse_names(kind: DeviceKind) -> list[str]:
    """PulseAudio sinks (output) or sources (input), if pactl can tell us."""
    if shutil.which("pactl") is None:
        return []
    what = "sources" if kind == "input" else "sinks"
    try:
        out = subprocess.run(
            ["pactl", "list", "short", what], capture_output=True, text=True, timeout=3
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split("\t")[1] for line in out.splitlines() if line.count("\t") >= 1]


def list_devices() -> str:
    """A table of sound devices for ``--list-devices`` (and for error messages)."""
    sd = require_sounddevice()
    devices = _devices(sd)
    default_in, default_out = sd.default.device
    hostapis = [h["name"] for h in sd.query_hostapis()]
    lines = ["   #  name                                 in  out   rate  host API"]
    for i, d in enumerate(devices):
        mark = (">" if i == default_out else " ") + ("<" if i == default_in else " ")
        lines.append(
            f"{mark} {i:2d}  {d['name'][:35]:35s}  {d['max_input_channels']:3d} "
            f"{d['max_output_channels']:4d}  {d['default_samplerate']:5.0f}  "
            f"{hostapis[d['hostapi']]}"
        )
    lines.append("(> default output, < default input)")
    if any(d["name"] == "pulse" for d in devices):
        sinks, sources = _pulse_names("output"), _pulse_names("input")
        if sinks or sources:
            lines.append("PulseAudio, use as pulse:NAME:")
            lines.extend(f"  output pulse:{n}" for n in sinks)
            lines.extend(f"  input  pulse:{n}" for n in sources if not n.endswith(".monitor"))
    return "\n".join(lines)


def resolve_device(spec: Device | str | int | None, kind: DeviceKind) -> Device:
    """Turn a device spec (see module doc) into a `Device`, or explain the choices.

    Raises `AudioSetupError` naming the available devices when nothing matches.
    """
    sd = require_sounddevice()
    if isinstance(spec, Device):
        spec = _spec_of(spec)
    if spec is None or spec == "":
        spec = os.environ.get(_ENV_SPEC[kind]) or None
    devices = _devices(sd)
    key = _channels_key(kind)
    usable = [i for i, d in enumerate(devices) if d[key] > 0]

    def make(i: int, pulse_name: str | None = None) -> Device:
        d = devices[i]
        return Device(i, d["name"], kind, float(d["default_samplerate"]), pulse_name)

    def fail(why: str) -> AudioSetupError:
        return AudioSetupError(
            f"{why}\nAvailable {kind} devices:\n{list_devices()}", device=str(spec)
        )

    if spec is None:
        default = sd.default.device[0 if kind == "input" else 1]
        if default is None or default < 0 or default not in usable:
            raise fail(f"There is no default {_WORDS[kind]} ({kind} device).")
        return make(int(default))
    if isinstance(spec, str) and spec.startswith("pulse:"):
        target = spec.removeprefix("pulse:").strip()
        pulse = [i for i in usable if devices[i]["name"] == "pulse"]
        if not target or not pulse:
            raise fail(
                f"Cannot use {spec!r}: PortAudio has no ALSA 'pulse' device. It needs the "
                "Debian package libasound2-plugins and a running PulseAudio."
            )
        return make(pulse[0], target)
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        if index not in usable:
            raise fail(f"There is no {kind} device number {index}.")
        return make(index)
    wanted = spec.strip().casefold()
    exact = [i for i in usable if devices[i]["name"].casefold() == wanted]
    matches = exact or [i for i in usable if wanted in devices[i]["name"].casefold()]
    if len(matches) == 1:
        return make(matches[0])
    if not matches:
        raise fail(f"No {kind} device matches {spec!r}.")
    names = ", ".join(f"#{i} {devices[i]['name']!r}" for i in matches)
    raise fail(f"{spec!r} matches several {kind} devices ({names}); use the number.")


def _spec_of(device: Device) -> str:
    """A spec that finds the same device again after PortAudio re-numbers devices."""
    return f"pulse:{device.pulse_name}" if device.pulse_name is not None else device.name


@contextlib.contextmanager
def _opening(device: Device) -> Iterator[None]:
    """Hold the open lock and point PULSE_SINK/PULSE_SOURCE at the device's target."""
    var = _PULSE_ENV[device.kind]
    with _open_lock:
        old = os.environ.get(var)
        if device.pulse_name is not None:
            os.environ[var] = device.pulse_name
        try:
            yield
        finally:
            if device.pulse_name is not None:
                if old is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = old


def _count_open(delta: int) -> None:
    global _open_streams
    with _open_lock:
        _open_streams += delta


def _rescan_if_idle(sd: ModuleType) -> None:
    """Let PortAudio see devices plugged in since it started, if no stream would die."""
    with _open_lock:
        if _open_streams == 0:
            sd._terminate()
            sd._initialize()


def _resolve_for_retry(spec: Device | str | int | None, kind: DeviceKind) -> Device:
    try:
        return resolve_device(spec, kind)
    except AudioDeviceError:
        _rescan_if_idle(require_sounddevice())
        return resolve_device(spec, kind)


def _open_hint(device: Device) -> str:
    if device.pulse_name is not None:
        what = "source" if device.kind == "input" else "sink"
        return (
            f"Is the PulseAudio {what} {device.pulse_name!r} there "
            f"(pactl list short {what}s) and PulseAudio running?"
        )
    return "Is it plugged in and not used by another program?"


class Microphone:
    """16 kHz mono 16-bit capture in small blocks, for the recognizer.

    A PortAudio callback appends each block (with its capture time) to a
    bounded buffer; `read` takes them off. Blocks are 20 ms by default: short
    enough for a quick end-of-speech decision, long enough to be cheap in Python.
    """

    def __init__(
        self,
        device: Device | str | int | None = None,
        *,
        samplerate: int = 16000,
        block_ms: int = 20,
        latency: float = 0.1,
        stall_s: float = 2.0,
        max_buffer_s: float = 30.0,
    ) -> None:
        self.spec = _spec_of(device) if isinstance(device, Device) else device
        self.samplerate = samplerate
        self.block_frames = samplerate * block_ms // 1000
        self.latency = latency
        self.stall_s = stall_s
        self._blocks: deque[tuple[float, bytes]] = deque(
            maxlen=max(1, int(max_buffer_s * 1000 / block_ms))
        )
        self._ready = threading.Condition()
        self._stream: Any = None
        self.device: Device | None = None
        self._finished = threading.Event()
        self._last_block = 0.0
        self._got_block = False
        self.overflows = 0  # PortAudio said input was lost (we were too slow)
        self.dropped_blocks = 0  # nobody read for max_buffer_s; oldest audio dropped

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def __enter__(self) -> Microphone:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Start capturing; raises `AudioDeviceError` if the device can't be opened."""
        if self._stream is not None:
            return
        sd = require_sounddevice()
        device = resolve_device(self.spec, "input")
        with self._ready:
            self._blocks.clear()
        self._finished = threading.Event()
        stream = None
        try:
            with _opening(device):
                stream = sd.RawInputStream(
                    device=device.index,
                    samplerate=self.samplerate,
                    channels=1,
                    dtype="int16",
                    blocksize=self.block_frames,
                    latency=self.latency,
                    callback=self._callback,
                    finished_callback=self._finished.set,
                )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
            raise AudioDeviceError(
                f"Cannot open the microphone {device.label}: {exc}. {_open_hint(device)}",
                device=device.label,
            ) from exc
        self._stream, self.device = stream, device
        self._last_block = time.monotonic()
        self._got_block = False
        _count_open(+1)

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        now = time.monotonic()
        if status.input_overflow:
            self.overflows += 1
        offset = time_info.inputBufferAdcTime - time_info.currentTime
        if time_info.currentTime and -1.0 < offset <= 0.0:
            captured = now + offset  # ADC time of the block's first sample
        else:
            captured = now - frames / self.samplerate
        self._last_block = now
        self._got_block = True
        with self._ready:
            if len(self._blocks) == self._blocks.maxlen:
                self.dropped_blocks += 1
            self._blocks.append((captured, bytes(indata)))
            self._ready.notify_all()

    def close(self) -> None:
        """Stop capturing and release the device. Buffered audio is discarded."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        with contextlib.suppress(Exception):
            stream.abort()
        with contextlib.suppress(Exception):
            stream.close()
        _count_open(-1)
        with self._ready:
            self._blocks.clear()
            self._ready.notify_all()

    def _fail(self, why: str) -> AudioDeviceError:
        label = self.device.label if self.device else str(self.spec)
        self.close()
        return AudioDeviceError(f"The microphone {label} {why}", device=label)

    def _check_health(self) -> None:
        if self._stream is None:
            raise AudioDeviceError("The microphone is not open.", device=str(self.spec))
        if self._finished.is_set() or not self._stream.active:
            raise self._fail("stopped working (unplugged, or the sound system failed).")
        silent = time.monotonic() - self._last_block
        if silent > (self.stall_s if self._got_block else max(self.stall_s, START_GRACE_S)):
            raise self._fail(
                f"has sent no sound for {silent:.1f} s; it may be unplugged or in use "
                "by another program."
            )

    def read_timed(self, timeout: float | None = None) -> tuple[float, bytes] | None:
        """Next block as (capture time of its first sample, monotonic; int16 bytes).

        Returns None if no block came within `timeout`. Raises
        `AudioDeviceError` when the device failed or stalled; blocks captured
        before the failure are still returned first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._ready:
                if not self._blocks:
                    left = 0.1 if deadline is None else deadline - time.monotonic()
                    self._ready.wait(max(0.0, min(0.1, left)))
                if self._blocks:
                    return self._blocks.popleft()
            self._check_health()
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def read(self, timeout: float | None = None) -> bytes | None:
        """Next block of 16-bit mono samples, or None if none came within `timeout`."""
        block = self.read_timed(timeout)
        return None if block is None else block[1]

    def drain(self, until: float | None = None) -> int:
        """Discard audio captured before `until` (monotonic; default now); frames dropped.

        Call it with the loudspeaker's end time (plus an echo margin) so the
        recognizer never hears the assistant's own voice. A future `until`
        waits for that audio to arrive and discards it too.
        """
        until = time.monotonic() if until is None else until
        dropped = 0
        while True:
            with self._ready:
                while self._blocks and self._blocks[0][0] < until:
                    dropped += len(self._blocks.popleft()[1]) // 2
                if self._blocks or self._stream is None:
                    return dropped
                # Audio captured up to `until` may still be in PortAudio's buffer.
                if time.monotonic() >= until + self.latency + self.block_frames / self.samplerate:
                    return dropped
                self._ready.wait(0.01)

    def reopen_when_available(self, poll_s: float = 1.0, timeout: float | None = None) -> None:
        """Close, then keep trying to open until it works (or `timeout` passes)."""
        self.close()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                _resolve_for_retry(self.spec, "input")
                self.open()
                return
            except AudioDeviceError:
                if deadline is not None and time.monotonic() + poll_s > deadline:
                    raise
            time.sleep(poll_s)


@runtime_checkable
class Sound(Protocol):
    """Audio with its own rate, e.g. `assistant.tts.Speech`."""

    @property
    def samples(self) -> npt.NDArray[Any]: ...

    @property
    def samplerate(self) -> int: ...


class Playback(NamedTuple):
    """When the sound really started and ended (monotonic clock), and if it was cut short."""

    started: float
    ended: float
    interrupted: bool


class Loudspeaker:
    """Plays one buffer at a time, non-blocking, and can be cut short (barge-in)."""

    def __init__(
        self,
        device: Device | str | int | None = None,
        *,
        latency: float = 0.1,
        block_ms: int = 20,
        stall_s: float = 2.0,
    ) -> None:
        self.spec = _spec_of(device) if isinstance(device, Device) else device
        self.latency = latency
        self.block_ms = block_ms
        self.stall_s = stall_s
        self.device: Device | None = None
        self.underflows = 0
        self._lock = threading.Lock()
        self._stream: Any = None
        self._done = threading.Event()
        self._done.set()
        self._buf: npt.NDArray[np.float32] = np.zeros((0, 1), np.float32)
        self._rate = 0
        self._pos = 0
        self._pad = 0
        self._started: float | None = None
        self._ended_est: float | None = None
        self._stopped_at: float | None = None
        self._last_cb = 0.0
        self._result: Playback | None = None

    def playing(self) -> bool:
        """True from `play` until the sound ended, was stopped, or the device failed or stalled.

        After False, `wait` says which (and raises for a failed device).
        """
        return not self._done.is_set() and not self._stalled(time.monotonic())

    def _stalled(self, now: float) -> bool:
        limit = self.stall_s if self._started is not None else max(self.stall_s, START_GRACE_S)
        return now - self._last_cb > limit

    @staticmethod
    def _as_frames(samples: npt.ArrayLike) -> npt.NDArray[np.float32]:
        a = np.asarray(samples)
        if a.dtype == np.int16:
            a = a.astype(np.float32) / 32768.0
        a = np.clip(a.astype(np.float32, copy=False), -1.0, 1.0)
        return a.reshape(-1, 1) if a.ndim == 1 else a

    def play(self, sound: Sound | npt.ArrayLike, samplerate: int | None = None) -> None:
        """Start playing and return at once.

        `sound` is int16 or float in [-1, 1], mono or frames x channels, with
        its `samplerate`; or anything with `.samples` and `.samplerate` (a
        synthesized `assistant.tts.Speech`). Raises `AudioDeviceError` if the
        device can't be opened. A sound still playing is stopped first.
        """
        if self.playing():
            self.stop()
        self._release()
        if isinstance(sound, Sound):
            samples, rate = sound.samples, int(sound.samplerate)
        elif samplerate is None:
            raise TypeError("play() needs the samplerate of a bare sample buffer")
        else:
            samples, rate = np.asarray(sound), int(samplerate)
        sd = require_sounddevice()
        device = resolve_device(self.spec, "output")
        buf = self._as_frames(samples)
        stream = None
        for _attempt in range(3):
            try:
                with _opening(device):
                    stream = sd.OutputStream(
                        device=device.index,
                        samplerate=rate,
                        channels=buf.shape[1],
                        dtype="float32",
                        blocksize=rate * self.block_ms // 1000,
                        latency=self.latency,
                        callback=self._callback,
                        finished_callback=self._on_finished,
                    )
                break
            except sd.PortAudioError as exc:
                code = exc.args[1] if len(exc.args) > 1 else None
                device_rate = int(device.default_samplerate)
                if code == _PA_INVALID_SAMPLE_RATE and rate != device_rate:
                    buf, rate = _resample(buf, rate, device_rate), device_rate
                elif code == _PA_INVALID_CHANNEL_COUNT and buf.shape[1] == 1:
                    buf = np.repeat(buf, 2, axis=1)
                else:
                    raise AudioDeviceError(
                        f"Cannot open the loudspeaker {device.label}: {exc}. {_open_hint(device)}",
                        device=device.label,
                    ) from exc
        if stream is None:
            raise AudioDeviceError(f"Cannot open the loudspeaker {device.label}.", device.label)
        with self._lock:
            self.device, self._stream = device, stream
            self._buf, self._rate, self._pos = buf, rate, 0
            # PortAudio drops about `latency` of queued audio at the end: pad with silence.
            self._pad = int(rate * (stream.latency + 2 * self.block_ms / 1000))
            self._started = self._ended_est = self._stopped_at = None
            self._result = None
            self._done.clear()
            self._last_cb = time.monotonic()
        _count_open(+1)
        try:
            stream.start()
        except sd.PortAudioError as exc:
            self._release()
            self._done.set()
            raise AudioDeviceError(
                f"Cannot start the loudspeaker {device.label}: {exc}. {_open_hint(device)}",
                device=device.label,
            ) from exc

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        now = time.monotonic()
        self._last_cb = now
        if status.output_underflow:
            self.underflows += 1
        delay = time_info.outputBufferDacTime - time_info.currentTime
        if not time_info.currentTime or not 0.0 <= delay < 1.0:
            delay = 0.0
        pos, total = self._pos, len(self._buf)
        if self._started is None:
            self._started = now + delay
        n = max(0, min(frames, total - pos))
        if n:
            outdata[:n] = self._buf[pos : pos + n]
            if pos + n >= total:
                self._ended_est = now + delay + n / self._rate
        outdata[n:] = 0
        self._pos = pos + frames
        if self._pos >= total + self._pad:
            sd = require_sounddevice()
            raise sd.CallbackStop

    def _on_finished(self) -> None:
        self._done.set()

    def stop(self) -> None:
        """Cut the sound off now (barge-in); `wait` then reports interrupted=True."""
        with self._lock:
            stream = self._stream
            if stream is None or self._done.is_set():
                return
            self._stopped_at = time.monotonic()
        with contextlib.suppress(Exception):
            stream.abort()
        self._done.set()

    def _release(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.abort()
            with contextlib.suppress(Exception):
                stream.close()
            _count_open(-1)

    def wait(self, timeout: float | None = None) -> Playback:
        """Block until the sound ended or was stopped.

        Raises `TimeoutError` after `timeout`, and `AudioDeviceError` if the
        device failed or stopped taking audio for `stall_s` while playing.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.wait(0.05):
            now = time.monotonic()
            if self._stalled(now):
                self._release()
                self._done.set()
                raise self._failure(f"stopped taking sound for {now - self._last_cb:.1f} s")
            if deadline is not None and now >= deadline:
                raise TimeoutError("the loudspeaker is still playing")
        if self._result is not None:
            return self._result
        total = len(self._buf)
        stopped_at = self._stopped_at
        self._release()
        now = time.monotonic()
        if stopped_at is None and self._pos < total:
            raise self._failure("stopped during playback (unplugged, or the sound system failed)")
        ended_est = self._ended_est
        if stopped_at is not None:
            interrupted = ended_est is None or stopped_at < ended_est
            ended = stopped_at if interrupted else ended_est or stopped_at
        else:
            interrupted = False
            ended = ended_est if ended_est is not None else now
        started = self._started if self._started is not None else ended
        self._result = Playback(started, max(started, ended), interrupted)
        if not interrupted and ended - started < 0.8 * total / self._rate:
            log.warning(
                "%s: %.2f s of sound went out in %.2f s (%d underflows): the machine was too "
                "busy; consider a larger latency",
                self._label(),
                total / self._rate,
                ended - started,
                self.underflows,
            )
        return self._result

    def _label(self) -> str:
        return self.device.label if self.device else str(self.spec)

    def _failure(self, why: str) -> AudioDeviceError:
        self._result = None
        return AudioDeviceError(f"The loudspeaker {self._label()} {why}.", device=self._label())

    def wait_for_device(self, poll_s: float = 1.0, timeout: float | None = None) -> None:
        """Return once the output device can be opened again (or raise after `timeout`)."""
        sd = require_sounddevice()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                device = _resolve_for_retry(self.spec, "output")
                with _opening(device):
                    probe = sd.OutputStream(
                        device=device.index,
                        samplerate=device.default_samplerate,
                        channels=1,
                        dtype="float32",
                        latency=self.latency,
                    )
                probe.close()
                return
            except (AudioDeviceError, sd.PortAudioError) as exc:
                if deadline is not None and time.monotonic() + poll_s > deadline:
                    if isinstance(exc, AudioDeviceError):
                        raise
                    raise AudioDeviceError(
                        f"The loudspeaker {self.spec} is still not available: {exc}",
                        device=str(self.spec),
                    ) from exc
            time.sleep(poll_s)

    wait_until_available = wait_for_device

    def close(self) -> None:
        """Stop any sound and release the device."""
        self.stop()
        self._release()
        self._done.set()


def _resample(buf: npt.NDArray[np.float32], rate: int, new_rate: int) -> npt.NDArray[np.float32]:
    """Linear resampling, only for devices that refuse the speech's own rate."""
    n = round(len(buf) * new_rate / rate)
    x_old = np.arange(len(buf)) / rate
    x_new = np.arange(n) / new_rate
    cols = [np.interp(x_new, x_old, buf[:, c]) for c in range(buf.shape[1])]
    return np.stack(cols, axis=1).astype(np.float32)
