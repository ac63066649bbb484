"""MLLR adaptation of pocketsphinx's US English model to the Speech Commands voices.

Run: python -m bench.mllr --noise clean|tv|both --out PATH   (--help for the rest)

Trains a global (one class) MLLR mean transform on speaker half 0 of the clips
(bench.hearing.speaker_half) only, so the side-by-side bench can measure it on half 1
(python -m bench.hearing_side --half 1 --mllr PATH). Steps:

1. the model as sphinxtrain's `bw` reads it: a text mdef (pocketsphinx_mdef_convert),
   and mixture_weights rebuilt from the model's `sendump` (8-bit quantized weights,
   the only form the pocketsphinx wheel ships; see mixture_weights_from_sendump);
2. the training audio: every spoken clip of half 0 whose word the dictionary has (the
   command words, and the `_unknown_` clips' own word from the file name), as
   recorded (`clean`), mixed with television babble at 10 dB (`tv`; babble and music
   built from half-0 clips only, with a seed of its own, bench.rooms.babble), or both;
3. features with sphinx_fe as the model's feat.params makes them (no silence removal,
   noise removal on: pocketsphinx's own front end);
4. `bw` (forced alignment, Baum-Welch counts) and `mllr_solve` (the transform).

Needs Debian's sphinxtrain (bw, mllr_solve under /usr/lib/sphinxtrain), sphinxbase-utils
(sphinx_fe) and pocketsphinx (pocketsphinx_mdef_convert): scripts/setup-system.sh.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.asr.adaptation import (
    dictionary_words,
    model_dir,
    prepare_model,
    train_transform,
)
from bench.hearing import CLIPS_DIR, Clip, load_clips, speaker_half
from bench.rooms import (
    ANSWER_LABELS,
    BABBLE_S,
    babble,
    pcm_of,
    samples_of,
    seed_of,
    speech_rms,
)

TRAIN_HALF = 0
# Where the bench's MLLR column looks for a transform when none is named; the assistant
# does not use one (measured: bench/side_by_side.md, "MLLR adaptation").
MLLR_FILE = Path(__file__).resolve().parents[1] / "models" / "pocketsphinx-en-us.mllr"
TV_SNR_DB = 10.0
NOISES = ("clean", "tv", "both")


def shipped_mllr() -> Path | None:
    """The transform placed under models/ (none is committed), or None."""
    return MLLR_FILE if MLLR_FILE.is_file() else None


def spoken_word(clip: Clip) -> str | None:
    """The word said in a clip: its label, or for `_unknown_` the word its file is named
    after ("_unknown_/bed_28497c5b_nohash_0.wav": bed); None for noise."""
    if clip.label == "_silence_":
        return None
    if clip.label == "_unknown_":
        return clip.path.name.split("_", 1)[0]
    return clip.label


def training_clips(clips: Sequence[Clip], known: set[str]) -> list[tuple[Clip, str]]:
    """(clip, word) for every spoken clip of the training half whose word is known."""
    out = []
    for clip in clips:
        word = spoken_word(clip)
        if word is not None and word in known and speaker_half(clip.speaker) == TRAIN_HALF:
            out.append((clip, word))
    return out


def training_babble(clips: Sequence[Clip]) -> np.ndarray:
    """Television babble from half-0 clips only, with a seed the bench's rooms never use."""
    pool = [c for c in clips if c.label not in ANSWER_LABELS
            and speaker_half(c.speaker) == TRAIN_HALF]
    return babble(pool, BABBLE_S, np.random.default_rng(seed_of("mllr training babble")))


def with_babble(clip: Clip, track: np.ndarray, snr_db: float) -> bytes:
    """The clip with a random stretch of `track` at `snr_db` (on its speech-active RMS)."""
    samples = samples_of(clip.pcm)
    rng = np.random.default_rng(seed_of("mllr", clip.path.name))
    start = int(rng.integers(0, len(track) - len(samples)))
    noise = track[start:start + len(samples)]
    noise = noise * speech_rms(samples) / 10 ** (snr_db / 20) / (
        float(np.sqrt((noise ** 2).mean())) or 1.0)
    return pcm_of(samples + noise)


def adapt(clips_dir: Path, noise: str, out: Path, work: Path) -> int:
    """Train the transform into `out`; returns the number of training utterances."""
    model = model_dir()
    clips = load_clips(clips_dir)
    chosen = training_clips(clips, dictionary_words(model / "cmudict-en-us.dict"))
    track = training_babble(clips) if noise in ("tv", "both") else None
    recordings = []
    for clip, word in chosen:
        stem = f"{clip.label}/{clip.path.stem}"
        if noise in ("clean", "both"):
            recordings.append((f"clean/{stem}", clip.pcm, word))
        if track is not None:
            recordings.append((f"tv/{stem}", with_babble(clip, track, TV_SNR_DB), word))
    train_transform(recordings, out, work, prepare_model(model / "en-us", work))
    return len(recordings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mllr",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, default=CLIPS_DIR,
                        help="folder with manifest.csv (default: the shared Speech Commands "
                             "clips)")
    parser.add_argument("--noise", choices=NOISES, default="clean",
                        help="training audio: as recorded, with television babble at 10 dB, "
                             "or both")
    parser.add_argument("--out", type=Path, required=True, help="the MLLR matrix to write")
    parser.add_argument("--work", type=Path,
                        help="keep the intermediate files (features, counts, logs) here")
    args = parser.parse_args(argv)
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        count = adapt(args.clips, args.noise, args.out, args.work)
    else:
        with tempfile.TemporaryDirectory(prefix="mllr-") as scratch:
            count = adapt(args.clips, args.noise, args.out, Path(scratch))
    print(f"{args.out}: global MLLR from {count} utterances of speaker half {TRAIN_HALF} "
          f"({args.noise})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
