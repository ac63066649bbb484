"""Speech synthesis with pyttsx3 + eSpeak NG into sample buffers, with a cache.

Why buffers and not ``engine.say``: the loudspeaker must start, stop (barge-in)
and time every prompt itself, and the same prompts come back all day, so each
prompt is synthesized once into a WAV (`save_to_file` + `runAndWait`), loaded
as numpy, kept in memory and on disk, and played by `assistant.audio.Loudspeaker`.

Defaults suit older listeners: 150 words a minute (eSpeak's own default is
175, pyttsx3 sets 200) and full volume. "slower"/"faster" move the rate by
15 wpm within 110..200; "louder"/"softer" multiply the level by 3 dB within
0.1..2.0. Volume is a gain on the buffer (1.0 = eSpeak's full level, peaks
about -2 dBFS), so changing it never needs a new synthesis; above 1.0 a soft
limiter keeps peaks below full scale, which makes speech louder, not clipped.

What pyttsx3 2.99's ``espeak`` driver does (Debian 12, eSpeak NG 1.51), and
what this module does about it (see `synthesize_to_wav`):

* `pyttsx3.init("espeak")` takes 25-50 ms; eSpeak can only be initialized
  once per process and pyttsx3 keeps engines in a *weak* dict, so we hold the
  one engine for the process ourselves.
* eSpeak runs in asynchronous "retrieval" mode: `runAndWait` may return before
  the WAV is written, and a rate set with `setProperty` before `runAndWait` is
  usually cancelled by the driver's own `stop()` before eSpeak applies it (so
  "slower" did nothing after the first prompt). We set properties on the
  driver, wait until eSpeak is idle (`espeak_IsPlaying`, as `espeak_Synchronize`
  does), and wait for "finished-utterance". A 10-word prompt then takes about
  15 ms.
* `runAndWait()` with nothing queued, once a synthesis has finished, loops
  forever; we never call it without a `save_to_file`.
* The driver prints "Audio saved to <file>" on stdout for every file: hidden.
* It keeps the last text and file name after finishing, so a later `say()`
  from anyone in the process would write into our cache file: cleared.
* Of several `save_to_file` calls queued before one `runAndWait`, only the last
  is synthesized: one file per `runAndWait`.
* An unknown voice is not an exception, only an "error" event, and the old
  voice stays: voices are checked against the voice list here.
* The WAV is 22050 Hz mono 16-bit, with about 250 ms of silence at the end;
  we trim silence to 10 ms before and 100 ms after the speech.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
import wave
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TextIO

import numpy as np
import numpy.typing as npt

from assistant.ports import VoiceChange

log = logging.getLogger(__name__)

DEFAULT_RATE_WPM = 150
RATE_STEP_WPM = 15
MIN_RATE_WPM = 110
MAX_RATE_WPM = 200
DEFAULT_VOLUME = 1.0
VOLUME_STEP = 10 ** (3 / 20)  # 3 dB, a clearly noticeable step
MIN_VOLUME = 0.1
MAX_VOLUME = 2.0
LIMITER_KNEE = 0.85  # eSpeak's own peaks stay below this at volume 1.0
CACHE_FORMAT = 1  # bump when the stored audio changes meaning

ESPEAK_MISSING = (
    "Speech synthesis needs eSpeak NG, which is not installed or does not start. "
    "Install the Debian packages espeak-ng and libespeak-ng1 "
    "(sudo apt-get install espeak-ng libespeak-ng1) or run scripts/setup-system.sh. ({detail})"
)


class TtsSetupError(RuntimeError):
    """Speech synthesis cannot work as configured (no eSpeak, unknown voice)."""


class SynthesisError(RuntimeError):
    """One prompt could not be synthesized."""


@dataclass(frozen=True)
class VoiceInfo:
    id: str  # what --voice takes, e.g. "gmw/en-us"
    name: str
    languages: tuple[str, ...]
    gender: str | None = None


@dataclass(frozen=True)
class VoiceSettings:
    """How prompts sound: voice id (None: eSpeak's default), words a minute, gain."""

    voice: str | None = None
    rate: int = DEFAULT_RATE_WPM
    volume: float = DEFAULT_VOLUME

    def changed(self, change: VoiceChange,
                configured: VoiceSettings | None = None) -> VoiceSettings:
        """Apply "slower"/"louder" steps, staying within the bounds; "normal speed" and
        "normal volume" go back to the `configured` rate and volume first."""
        base = configured or VoiceSettings()
        rate0 = base.rate if change.reset_rate else self.rate
        volume0 = base.volume if change.reset_volume else self.volume
        rate = _clamp(rate0 + change.rate_steps * RATE_STEP_WPM, MIN_RATE_WPM, MAX_RATE_WPM)
        volume = _clamp(volume0 * VOLUME_STEP**change.volume_steps, MIN_VOLUME, MAX_VOLUME)
        return replace(self, rate=int(rate), volume=round(volume, 4))


@dataclass(frozen=True, eq=False)
class Speech:
    """A synthesized prompt: float32 mono samples in [-1, 1], volume already applied."""

    text: str
    samples: npt.NDArray[np.float32]
    samplerate: int
    settings: VoiceSettings
    source: Literal["memory", "disk", "engine"]  # where this copy came from

    @property
    def duration(self) -> float:
        return len(self.samples) / self.samplerate


@dataclass
class CacheStats:
    memory_hits: int = 0
    disk_hits: int = 0
    synthesized: int = 0
    synth_seconds: float = 0.0  # total time spent in the engine
    last_synth_seconds: float = 0.0


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


# --- the one engine ----------------------------------------------------------------------

_engine_lock = threading.RLock()  # eSpeak and pyttsx3 are not thread-safe
_engine: Any = None
_engine_init_seconds: float | None = None
_voices: list[VoiceInfo] | None = None


def engine() -> Any:
    """The process's pyttsx3 engine (espeak driver), created on first use.

    Raises `TtsSetupError` naming the Debian packages when eSpeak NG is missing.
    """
    global _engine, _engine_init_seconds
    with _engine_lock:
        if _engine is None:
            t0 = time.perf_counter()
            try:
                import pyttsx3

                _engine = pyttsx3.init("espeak")
            except (OSError, RuntimeError, ImportError) as exc:
                raise TtsSetupError(ESPEAK_MISSING.format(detail=exc)) from exc
            _engine_init_seconds = time.perf_counter() - t0
            atexit.register(_drop_engine)
            log.debug("pyttsx3 espeak engine ready in %.3f s", _engine_init_seconds)
        return _engine


def _drop_engine() -> None:
    """Let pyttsx3 clean up while the interpreter still works (else its __del__ fails late)."""
    global _engine
    with _engine_lock:
        _engine = None


def engine_init_seconds() -> float | None:
    """How long `pyttsx3.init` took (None before the engine exists)."""
    return _engine_init_seconds


def engine_version() -> str:
    """pyttsx3 and eSpeak NG versions, part of the disk cache key."""
    engine()
    version = "?"
    with contextlib.suppress(Exception):
        from importlib.metadata import version as dist_version

        version = dist_version("pyttsx3")
    espeak = "?"
    with contextlib.suppress(Exception):
        espeak = _espeak().Info(None).decode()
    return f"pyttsx3-{version}/espeak-ng-{espeak}"


def list_voices() -> list[VoiceInfo]:
    """Every voice eSpeak offers, for ``--voice``."""
    global _voices
    with _engine_lock:
        if _voices is None:
            _voices = [
                VoiceInfo(
                    id=str(v.id),
                    name=str(v.name),
                    languages=tuple(str(x) for x in (v.languages or ())),
                    gender=v.gender,
                )
                for v in engine().getProperty("voices")
            ]
        return list(_voices)


def voices_table(language: str = "") -> str:
    """Printable list of voices (optionally only those whose id/language contains `language`)."""
    rows = [
        f"{v.id:28s} {v.name:34s} {','.join(v.languages)}"
        for v in list_voices()
        if language.casefold() in (v.id + " " + " ".join(v.languages)).casefold()
    ]
    return "\n".join([f"{'id (for --voice)':28s} {'name':34s} languages", *rows])


def find_voice(spec: str) -> VoiceInfo:
    """A voice by id ("gmw/en-us"), language ("en-us") or name ("English (America)")."""
    wanted = spec.strip().casefold()
    voices = list_voices()
    for pick in (
        lambda v: v.id.casefold() == wanted,
        lambda v: wanted in (lang.casefold() for lang in v.languages),
        lambda v: v.id.casefold().rsplit("/", 1)[-1] == wanted,
        lambda v: v.name.casefold() == wanted,
    ):
        found = [v for v in voices if pick(v)]
        if found:
            return found[0]
    close = [v for v in voices if wanted in (v.id + " " + v.name).casefold()][:10]
    hint = "\n".join(f"  {v.id}  ({v.name})" for v in close) or "  (none similar)"
    raise TtsSetupError(
        f"There is no voice {spec!r}. Similar voices:\n{hint}\n"
        "All voices: python -c 'from assistant.tts import voices_table; print(voices_table())'"
    )


def default_voice_id() -> str:
    with _engine_lock:
        return str(engine().getProperty("voice") or "gmw/en")


class _HideChatter:
    """Stdout that drops pyttsx3's "Audio saved to <file>" lines and passes the rest."""

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._skip_newline = False

    def write(self, text: str) -> int:
        if text.startswith("Audio saved to "):
            self._skip_newline = True
            return len(text)
        if self._skip_newline and text == "\n":
            self._skip_newline = False
            return len(text)
        self._skip_newline = False
        return self._target.write(text)

    def flush(self) -> None:
        self._target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    old = sys.stdout
    sys.stdout = _HideChatter(old)
    try:
        yield
    finally:
        sys.stdout = old


def _forget_last_job(eng: Any) -> None:
    """Clear pyttsx3 2.99's leftover text/file so no later run rewrites our file."""
    driver = getattr(getattr(eng, "proxy", None), "_driver", None)
    for name in ("_text_to_say", "_save_file"):
        if hasattr(driver, name):
            setattr(driver, name, None)


def _espeak() -> Any:
    from pyttsx3.drivers import _espeak

    return _espeak


def _wait_until_idle(espeak: Any, timeout: float = 10.0) -> None:
    """Like `espeak_Synchronize` (which polls every 20 ms), polling every 2 ms."""
    deadline = time.monotonic() + timeout
    while espeak.IsPlaying() and time.monotonic() < deadline:
        time.sleep(0.002)


def synthesize_to_wav(text: str, voice: str, rate: int, path: Path) -> None:
    """One pyttsx3 file synthesis with the given voice and rate; raises `SynthesisError`.

    pyttsx3 initializes eSpeak in its asynchronous "retrieval" mode: property
    changes and texts go through eSpeak's own command queue and thread. Used as
    documented (`setProperty`, `save_to_file`, `runAndWait`), the rate change
    is queued and then often *cancelled* by the `stop()` inside `runAndWait`'s
    end-of-loop before eSpeak applied it, so "slower" silently did nothing
    after the first prompt. So: wait until eSpeak is idle, set the properties
    on the driver directly, wait until they are applied (eSpeak idle again),
    then `save_to_file` + `runAndWait`, then wait for the file to be finished.
    """
    eng = engine()
    espeak = _espeak()
    driver = getattr(getattr(eng, "proxy", None), "_driver", None)
    with _engine_lock:
        finished = threading.Event()
        errors: list[object] = []

        def on_finished(**_: object) -> None:
            finished.set()

        def on_error(**kw: object) -> None:
            errors.append(kw.get("exception"))

        tokens = [eng.connect("finished-utterance", on_finished), eng.connect("error", on_error)]
        try:
            _wait_until_idle(espeak)
            target = driver if driver is not None else eng
            try:
                target.setProperty("voice", voice)
                target.setProperty("rate", int(rate))
                target.setProperty("volume", 1.0)
            except (ValueError, KeyError) as exc:
                raise SynthesisError(
                    f"eSpeak refused voice {voice!r} / rate {rate}: {exc}"
                ) from exc
            _wait_until_idle(espeak)
            eng.save_to_file(text, str(path))
            with _quiet_stdout():
                eng.runAndWait()
                finished.wait(10.0 + len(text) * 0.05)
                _wait_until_idle(espeak)  # the callback has returned and closed the file
        finally:
            for token in tokens:
                eng.disconnect(token)
            _forget_last_job(eng)
    if errors:
        raise SynthesisError(f"eSpeak could not say {text!r}: {errors[0]}")
    if not finished.is_set() or not path.exists() or path.stat().st_size <= 44:
        raise SynthesisError(f"eSpeak produced no audio for {text!r}")


# --- audio helpers -------------------------------------------------------------------------


def read_wav(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    """A 16-bit WAV as float32 mono samples and its rate."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise SynthesisError(f"{path}: expected 16-bit audio")
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    samples = data.astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if len(samples) == 0:
        raise SynthesisError(f"{path}: no audio")
    return samples, rate


def trim_silence(
    samples: npt.NDArray[np.float32], rate: int, lead_s: float = 0.01, tail_s: float = 0.1
) -> npt.NDArray[np.float32]:
    """Keep at most `lead_s` before and `tail_s` after the audible part (-50 dBFS)."""
    loud = np.flatnonzero(np.abs(samples) > 10 ** (-50 / 20))
    if len(loud) == 0:
        return samples
    start = max(0, int(loud[0]) - int(lead_s * rate))
    end = min(len(samples), int(loud[-1]) + 1 + int(tail_s * rate))
    return samples[start:end]


def apply_volume(samples: npt.NDArray[np.float32], volume: float) -> npt.NDArray[np.float32]:
    """Gain, with a soft limiter above `LIMITER_KNEE` so louder never clips."""
    out = samples * np.float32(volume)
    over = np.abs(out) > LIMITER_KNEE
    if over.any():
        room = 1.0 - LIMITER_KNEE
        mag = LIMITER_KNEE + room * np.tanh((np.abs(out[over]) - LIMITER_KNEE) / room)
        out[over] = np.sign(out[over]) * mag
    return out.astype(np.float32, copy=False)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "leg-assistant" / "tts"


# --- the synthesizer -----------------------------------------------------------------------


class Synthesizer:
    """Text to `Speech`, cached in memory and on disk so repeated prompts start at once.

    Thread-safe: `prefetch` may run in a background thread while the session
    synthesizes; both share the one engine under a lock.
    """

    def __init__(
        self,
        rate: int | None = None,
        volume: float | None = None,
        voice: str | None = None,
        *,
        cache_dir: str | Path | None = None,
        disk_cache: bool = True,
        memory_bytes: int = 64 * 2**20,
    ) -> None:
        engine()  # fail now, with the install hint, not at the first prompt
        voice_id = find_voice(voice).id if voice else default_voice_id()
        self._settings = VoiceSettings(
            voice=voice_id,
            rate=int(_clamp(rate or DEFAULT_RATE_WPM, MIN_RATE_WPM, MAX_RATE_WPM)),
            volume=_clamp(DEFAULT_VOLUME if volume is None else volume, MIN_VOLUME, MAX_VOLUME),
        )
        self._configured = self._settings  # what "normal speed" goes back to
        self._lock = threading.Lock()  # cache and settings
        self._fill_lock = threading.Lock()  # one miss at a time: no prompt synthesized twice
        self._memory: OrderedDict[tuple[str, str, int, float], Speech] = OrderedDict()
        self._memory_bytes = memory_bytes  # ~64 MB: about 20 minutes of prompts
        self._memory_used = 0
        self.stats = CacheStats()
        self._version = engine_version()
        self.cache_dir: Path | None = None
        if disk_cache:
            self.cache_dir = self._usable_dir(Path(cache_dir) if cache_dir else default_cache_dir())

    @staticmethod
    def _usable_dir(path: Path) -> Path | None:
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path):
                pass
            return path
        except OSError as exc:
            log.warning("TTS disk cache off: cannot write to %s (%s)", path, exc)
            return None

    @property
    def settings(self) -> VoiceSettings:
        return self._settings

    def change(self, change: VoiceChange) -> VoiceSettings:
        """Apply "slower", "louder"...: later prompts use the new settings."""
        with self._lock:
            self._settings = self._settings.changed(change, self._configured)
            return self._settings

    def reset(self) -> VoiceSettings:
        """Back to the rate and volume it started with (a kiosk's next resident)."""
        with self._lock:
            self._settings = self._configured
            return self._settings

    def synthesize(self, text: str) -> Speech:
        """The prompt as audio with the current settings; cached."""
        text = " ".join(text.split())
        if not text:
            raise SynthesisError("nothing to say")
        s = self._settings
        assert s.voice is not None
        key = (text, s.voice, s.rate, round(s.volume, 4))
        hit = self._from_memory(key)
        if hit is not None:
            return hit
        with self._fill_lock:
            hit = self._from_memory(key)  # another thread may just have made it
            if hit is not None:
                return hit
            raw, rate, source = self._unit_gain_audio(text, s.voice, s.rate)
        samples = apply_volume(raw, s.volume)
        samples.flags.writeable = False
        speech = Speech(text, samples, rate, s, source)
        with self._lock:
            if key not in self._memory:
                self._memory[key] = speech
                self._memory_used += samples.nbytes
            while self._memory_used > self._memory_bytes and len(self._memory) > 1:
                self._memory_used -= self._memory.popitem(last=False)[1].samples.nbytes
        return speech

    def _from_memory(self, key: tuple[str, str, int, float]) -> Speech | None:
        with self._lock:
            hit = self._memory.get(key)
            if hit is None:
                return None
            self._memory.move_to_end(key)
            self.stats.memory_hits += 1
            return replace(hit, source="memory")

    def prefetch(self, texts: Iterable[str]) -> int:
        """Synthesize ahead (current settings); returns how many were not cached yet."""
        fresh = 0
        for text in texts:
            try:
                if self.synthesize(text).source != "memory":
                    fresh += 1
            except SynthesisError as exc:
                log.warning("prefetch skipped %r: %s", text, exc)
        return fresh

    def is_cached(self, text: str) -> bool:
        """Whether `synthesize(text)` would be served without the engine."""
        text = " ".join(text.split())
        s = self._settings
        assert s.voice is not None
        with self._lock:
            if (text, s.voice, s.rate, round(s.volume, 4)) in self._memory:
                return True
        path = self._disk_path(text, s.voice, s.rate)
        return path is not None and path.exists()

    def _disk_path(self, text: str, voice: str, rate: int) -> Path | None:
        if self.cache_dir is None:
            return None
        ident = json.dumps([CACHE_FORMAT, self._version, voice, rate, text])
        return self.cache_dir / (hashlib.sha256(ident.encode()).hexdigest()[:40] + ".wav")

    def _unit_gain_audio(
        self, text: str, voice: str, rate: int
    ) -> tuple[npt.NDArray[np.float32], int, Literal["disk", "engine"]]:
        """Trimmed audio before the volume gain: from the disk cache, or the engine."""
        path = self._disk_path(text, voice, rate)
        source: Literal["disk", "engine"] = "disk"
        samples: npt.NDArray[np.float32] | None = None
        if path is not None and path.exists():
            try:
                samples, sr = read_wav(path)
            except (OSError, EOFError, wave.Error, SynthesisError) as exc:
                log.warning("TTS cache file %s unreadable (%s); synthesizing again", path, exc)
                path.unlink(missing_ok=True)
        if samples is None:
            source = "engine"
            samples, sr = self._synthesize_fresh(text, voice, rate, path)
        if source == "disk":
            with self._lock:
                self.stats.disk_hits += 1
        return trim_silence(samples, sr), sr, source

    def _synthesize_fresh(
        self, text: str, voice: str, rate: int, path: Path | None
    ) -> tuple[npt.NDArray[np.float32], int]:
        folder = path.parent if path is not None else Path(tempfile.gettempdir())
        last: SynthesisError | None = None
        for _attempt in range(2):
            fd, tmp_name = tempfile.mkstemp(prefix=".synth-", suffix=".wav", dir=folder)
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                t0 = time.perf_counter()
                synthesize_to_wav(text, voice, rate, tmp)
                elapsed = time.perf_counter() - t0
                samples, sr = read_wav(tmp)
                with self._lock:
                    self.stats.synthesized += 1
                    self.stats.synth_seconds += elapsed
                    self.stats.last_synth_seconds = elapsed
                if path is not None:
                    os.replace(tmp, path)  # atomic: readers never see half a file
                return samples, sr
            except (SynthesisError, OSError, EOFError, wave.Error) as exc:
                last = SynthesisError(str(exc))
                log.warning("synthesis of %r failed (%s); retrying once", text, exc)
            finally:
                tmp.unlink(missing_ok=True)
        assert last is not None
        raise last
