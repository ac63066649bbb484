"""Rooms and speakers for the side-by-side benchmarks: the same clip, heard in other places.

Everything here is deterministic (seeded numpy, sox without dither), so two runs on
the same clips give the same audio and the same figures.

* Rooms
  - quiet: the clip as recorded, padded with noise at its own noise floor
    (bench.hearing.padded_turn);
  - television at 10 and 5 dB: babble of many talkers plus music. The talkers are
    other clips of the same set (every label that is not an answer or a noise:
    `_unknown_` and, in the full set, the other command words), each scaled to
    the same speech level (+-3 dB at random), placed at random times so that about
    five overlap at any moment; built twice, once from each speaker half
    (bench.hearing.speaker_half), and a clip is always mixed with the other half's
    babble, so no one hears themselves. The music is synthetic: chords of
    harmonic tones with a bass line and a hi-hat, 4 dB below the talkers;
  - household noise at 10 dB: the set's own recorded background noise (the
    `_silence_` clips that hold a noise source rather than a quiet room: RMS at least
    300; a running tap, dishes, an exercise bike, white and pink noise), never the
    clip being scored itself;
  - reverberant: sox's `reverb` (reverberance 50 %, HF damping 50 %, room scale
    100 %, the defaults) applied to the whole turn.
  Signal-to-noise ratios are computed on the speech-active RMS of the clip (its 10 ms
  frames at least 12 dB above its own floor and within 40 dB of its peak) against the
  RMS of the noise over the turn. A noise clip being scored (no speech) gets the noise
  at the level a typical clip of the set would get.
* Speakers
  - as recorded;
  - slowed by 30 % (sox `tempo 0.7`: same pitch, 1/0.7 times as long);
  - two words with a pause: the word, a pause of 0.5-1 s (room noise), the same word
    again, by the same speaker (another recording of theirs when the set has one);
    both words cut to their spoken part first, so the pause is the pause.
  Noise clips (`_silence_`) are the same for every speaker.
"""

from __future__ import annotations

import subprocess
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.hearing import SAMPLE_RATE, Clip, centred, floor_noise, speaker_half

ROOMS = ("quiet", "tv 10 dB", "tv 5 dB", "household 10 dB", "reverberant")
SPEAKERS = ("as recorded", "slowed 30%", "two words")
NOISE_SNR_DB = {"tv 10 dB": 10.0, "tv 5 dB": 5.0, "household 10 dB": 10.0}
ANSWER_LABELS = frozenset({"yes", "no", "stop", "_silence_"})  # never babble
HOUSEHOLD_MIN_RMS = 300.0  # a `_silence_` clip at least this loud holds a noise source
PAD_S = 1.0  # room noise before and after each answer
PRIME_S = 2.0  # the room heard before the turn (the detector adapts to it)
BABBLE_S = 40.0
TALKERS = 5  # about this many voices at once in the babble
MUSIC_BELOW_DB = 4.0
SLOW_TEMPO = 0.7
PAUSE_S = (0.5, 1.0)


def samples_of(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16).astype(np.float64)


def pcm_of(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16).tobytes()


def seed_of(*parts: object) -> int:
    """A fixed seed for a combination of names and numbers (the same in every process)."""
    return zlib.crc32("|".join(map(str, parts)).encode())


def active_frames(samples: np.ndarray, frame: int = 160) -> np.ndarray:
    """Mask of 10 ms frames that hold speech: 12 dB above the clip's floor, within 40 dB of
    its peak (an energy rule of its own, not the assistant's detector)."""
    usable = centred(samples)[: len(samples) // frame * frame].reshape(-1, frame)
    if not len(usable):
        return np.zeros(0, dtype=bool)
    level = 10 * np.log10((usable ** 2).mean(axis=1) + 1.0)
    floor = float(np.percentile(level, 10))
    return np.asarray(level >= max(floor + 12.0, float(level.max()) - 40.0), dtype=bool)


def speech_bounds(samples: np.ndarray, frame: int = 160) -> tuple[int, int]:
    """(first, last + 1) sample of the spoken part (the whole clip if none is found)."""
    active = np.flatnonzero(active_frames(samples, frame))
    if not len(active):
        return 0, len(samples)
    return int(active[0]) * frame, (int(active[-1]) + 1) * frame


def speech_rms(samples: np.ndarray, frame: int = 160) -> float:
    """RMS over the speech-active frames (the level an SNR is computed on)."""
    mask = active_frames(samples, frame)
    usable = centred(samples)[: len(mask) * frame].reshape(-1, frame)
    chosen = usable[mask] if mask.any() else usable
    return max(float(np.sqrt((chosen ** 2).mean())), 1.0) if len(chosen) else 1.0


def sox(pcm: bytes, *effects: str) -> bytes:
    """Raw 16 kHz mono 16-bit audio through sox effects (no dither: reproducible)."""
    raw = ["-t", "raw", "-r", str(SAMPLE_RATE), "-e", "signed", "-b", "16", "-c", "1"]
    run = subprocess.run(["sox", "-D", *raw, "-", *raw, "-", *effects], input=pcm,
                         capture_output=True, check=True)
    return run.stdout


def reverberant(samples: np.ndarray) -> np.ndarray:
    """The sound in a reverberant room (sox reverb, defaults), at the same overall level."""
    wet = samples_of(sox(pcm_of(samples * 0.5), "reverb"))[: len(samples)]
    wet = np.pad(wet, (0, len(samples) - len(wet)))
    before = float(np.sqrt((samples ** 2).mean())) or 1.0
    after = float(np.sqrt((wet ** 2).mean())) or 1.0
    return wet * before / after


def music(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Something like background music: chords of harmonic tones, a bass line, a hi-hat."""
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n)
    t_all = np.arange(n) / SAMPLE_RATE
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    start = 0
    while start < n:
        length = int(rng.uniform(0.3, 0.8) * SAMPLE_RATE)
        end = min(n, start + length)
        t = t_all[: end - start]
        envelope = np.minimum(1.0, t / 0.02) * np.exp(-t * rng.uniform(1.0, 4.0))
        root = int(rng.choice(scale))
        for step, octave in ((0, 0), (2, 0), (4, 0), (0, -1)):
            degree = scale[(list(scale).index(root) + step) % len(scale)]
            freq = 220.0 * 2 ** ((degree + 12 * octave) / 12)
            for harmonic in range(1, 6):
                if freq * harmonic < SAMPLE_RATE / 2:
                    out[start:end] += (envelope / harmonic
                                       * np.sin(2 * np.pi * freq * harmonic * t
                                                + rng.uniform(0, 2 * np.pi)))
        start = end
    hat_every = int(0.25 * SAMPLE_RATE)
    hat_len = int(0.03 * SAMPLE_RATE)
    for at in range(0, n - hat_len, hat_every):
        burst = np.diff(rng.normal(0, 1, hat_len + 1)) * np.exp(-np.arange(hat_len) / 80)
        out[at:at + hat_len] += 0.3 * burst
    return out


def babble(pool: Sequence[Clip], seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Many talkers at once (clips of `pool` at random places), music 4 dB below them."""
    n = int(seconds * SAMPLE_RATE)
    voices = np.zeros(n)
    if pool:
        words = []
        for clip in pool:
            samples = samples_of(clip.pcm)
            first, last = speech_bounds(samples)
            word = centred(samples[first:last])  # another recording's offset is not sound here
            words.append(word / speech_rms(word))
        placed = 0
        total = TALKERS * n
        while placed < total:
            word = words[int(rng.integers(len(words)))]
            if len(word) >= n:
                continue
            at = int(rng.integers(0, n - len(word)))
            voices[at:at + len(word)] += word * 10 ** (rng.uniform(-3, 3) / 20)
            placed += len(word)
    voices_rms = float(np.sqrt((voices ** 2).mean())) or 1.0
    tune = music(seconds, rng)
    tune *= voices_rms / (float(np.sqrt((tune ** 2).mean())) or 1.0) * 10 ** (-MUSIC_BELOW_DB / 20)
    return voices + tune if pool else tune


@dataclass(frozen=True)
class Turn:
    """One answer as the microphone hears it in a room, and the room heard before it."""

    clip: Clip
    audio: bytes
    prime: bytes  # fed to the speech detector only, before the turn


class Rooms:
    """The noise sources for a set of clips, built once (deterministically) per run."""

    def __init__(self, clips: Sequence[Clip], seed: int = 0) -> None:
        self.clips = list(clips)
        pool = [c for c in self.clips if c.label not in ANSWER_LABELS]
        self.babble = {
            half: babble([c for c in pool if speaker_half(c.speaker) == half], BABBLE_S,
                         np.random.default_rng(seed_of("babble", seed, half)))
            for half in (0, 1)}
        self.household = [c for c in self.clips if c.label == "_silence_"
                          and float(samples_of(c.pcm).std()) >= HOUSEHOLD_MIN_RMS]
        spoken = [speech_rms(samples_of(c.pcm)) for c in self.clips if c.label != "_silence_"]
        self.typical_speech_rms = float(np.median(spoken)) if spoken else 1000.0
        self.by_speaker: dict[tuple[str, str], list[Clip]] = {}
        for clip in self.clips:
            self.by_speaker.setdefault((clip.speaker, clip.label), []).append(clip)
        self._slowed: dict[str, np.ndarray] = {}
        self.babble_talkers = len(pool)

    def describe(self) -> str:
        labels = sorted({c.label for c in self.clips if c.label not in ANSWER_LABELS})
        return (f"babble from {self.babble_talkers} clips ({', '.join(labels) or 'none'}) "
                f"+ synthetic music; household noise from {len(self.household)} recorded "
                f"noise clips")

    # --- speakers ---------------------------------------------------------------------

    def spoken(self, clip: Clip, speaker: str, rng: np.random.Generator) -> np.ndarray:
        samples = samples_of(clip.pcm)
        if speaker == "as recorded" or clip.label == "_silence_":
            return samples
        if speaker == "slowed 30%":
            key = str(clip.path)
            if key not in self._slowed:
                self._slowed[key] = samples_of(sox(clip.pcm, "tempo", str(SLOW_TEMPO)))
            return self._slowed[key]
        if speaker == "two words":
            return self.two_words(clip, rng)[0]
        raise ValueError(f"unknown speaker {speaker!r}")

    def two_words(self, clip: Clip, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """The word, a pause of 0.5-1 s, the word again (the same speaker's other recording
        of it if the set has one); and the sample where the second word begins."""
        samples = samples_of(clip.pcm)
        others = [c for c in self.by_speaker.get((clip.speaker, clip.label), [])
                  if c.path != clip.path]
        second = samples_of(others[0].pcm) if others else samples
        first_end = speech_bounds(samples)[1]
        second_start = speech_bounds(second)[0]
        pause = floor_noise(samples, int(rng.uniform(*PAUSE_S) * SAMPLE_RATE), rng)
        return (np.concatenate([samples[:first_end], pause, second[second_start:]]),
                first_end + len(pause))

    # --- rooms ------------------------------------------------------------------------

    def noise(self, room: str, clip: Clip, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` samples of the room's noise (at its own level)."""
        if room.startswith("tv"):
            track = self.babble[1 - speaker_half(clip.speaker)]
            start = int(rng.integers(0, max(1, len(track) - n)))
            piece = np.resize(track[start:], n)  # wraps round if the track is too short
        elif room.startswith("household"):
            sources = [c for c in self.household if c.path != clip.path]
            if not sources:
                raise ValueError("household noise needs recorded noise clips (_silence_)")
            source = centred(samples_of(sources[int(rng.integers(len(sources)))].pcm))
            piece = np.resize(np.roll(source, int(rng.integers(len(source)))), n)
        else:
            raise ValueError(f"room {room!r} has no noise")
        return piece

    def turn(self, clip: Clip, room: str, speaker: str, seed: int = 0) -> Turn:
        """The clip said by `speaker` in `room`: audio of the turn and the room before it."""
        # the same answer in every room: only the room's own noise differs
        rng = np.random.default_rng(seed_of(clip.path.name, speaker, seed))
        room_rng = np.random.default_rng(seed_of(clip.path.name, room, speaker, seed))
        if clip.label == "_silence_":
            audio = samples_of(clip.pcm)
            prime = audio.copy()
            level = self.typical_speech_rms
        else:
            words = self.spoken(clip, speaker, rng)
            recorded = samples_of(clip.pcm)
            pad = int(PAD_S * SAMPLE_RATE)
            audio = np.concatenate([floor_noise(recorded, pad, rng), words,
                                    floor_noise(recorded, pad, rng)])
            prime = floor_noise(recorded, int(PRIME_S * SAMPLE_RATE), rng)
            level = speech_rms(samples_of(clip.pcm))
        if room in NOISE_SNR_DB:
            noise = self.noise(room, clip, len(prime) + len(audio), room_rng)
            during = float(np.sqrt((noise[len(prime):] ** 2).mean())) or 1.0
            noise *= level / 10 ** (NOISE_SNR_DB[room] / 20) / during  # SNR over the turn
            prime = prime + noise[: len(prime)]
            audio = audio + noise[len(prime):]
        elif room == "reverberant":
            audio = reverberant(audio)
            prime = reverberant(prime)
        elif room != "quiet":
            raise ValueError(f"unknown room {room!r}")
        return Turn(clip, pcm_of(audio), pcm_of(prime))


def known(names: Iterable[str], allowed: Sequence[str], what: str) -> list[str]:
    chosen = list(names)
    wrong = [n for n in chosen if n not in allowed]
    if wrong:
        raise ValueError(f"unknown {what}: {', '.join(wrong)} (choose from {', '.join(allowed)})")
    return chosen
