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
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.hearing import CLIPS_DIR, SAMPLE_RATE, Clip, load_clips, speaker_half
from bench.rooms import (
    ANSWER_LABELS,
    BABBLE_S,
    babble,
    pcm_of,
    samples_of,
    seed_of,
    speech_rms,
)

SPHINXTRAIN = Path("/usr/lib/sphinxtrain")
TRAIN_HALF = 0
# Where the bench's MLLR column looks for a transform when none is named; the assistant
# does not use one (measured: bench/side_by_side.md, "MLLR adaptation").
MLLR_FILE = Path(__file__).resolve().parents[1] / "models" / "pocketsphinx-en-us.mllr"
TV_SNR_DB = 10.0
NOISES = ("clean", "tv", "both")
# sphinx_fe's options matching the model's feat.params (sphinx_fe rejects the feature
# options there, such as -feat and -svspec, which are bw's).
FRONT_END = ("-lowerf", "-upperf", "-nfilt", "-transform", "-lifter", "-remove_noise")
# pocketsphinx stores a mixture weight w as round(-ln(w) / (ln(1.0001) * 2**10)), 8 bits.
SENDUMP_LOG_STEP = 1024 * float(np.log(1.0001))


def shipped_mllr() -> Path | None:
    """The transform placed under models/ (none is committed), or None."""
    return MLLR_FILE if MLLR_FILE.is_file() else None


def model_dir() -> Path:
    from pocketsphinx import get_model_path

    return Path(get_model_path("en-us"))


def feat_params(model: Path) -> dict[str, str]:
    words = (model / "feat.params").read_text(encoding="utf-8").split()
    return dict(zip(words[::2], words[1::2], strict=True))


def s3_checksum(words: np.ndarray) -> int:
    """sphinxbase's chksum0: sum = rotl(sum, 20) + word, over 32-bit words."""
    total = 0
    for word in words.astype(np.uint32).tolist():
        total = (((total << 20) | (total >> 12)) + word) & 0xFFFFFFFF
    return total


def mixture_weights_from_sendump(sendump: Path, out: Path) -> tuple[int, int, int]:
    """Write sphinxtrain's `mixture_weights` (float32, senone x stream x density) from
    pocketsphinx's `sendump` (uint8, stream x density x senone, -log weights in steps
    of SENDUMP_LOG_STEP); each senone's weights renormalized (quantization loses about
    5 %). Returns (senones, streams, densities)."""
    data = sendump.read_bytes()
    offset, streams = 0, 1
    while True:
        (length,) = struct.unpack_from("<i", data, offset)
        offset += 4
        if length == 0:
            break
        line = data[offset:offset + length - 1].decode()
        offset += length
        if line.startswith("feature_count "):
            streams = int(line.split()[1])
        if line.startswith("cluster_count ") and int(line.split()[1]) != 0:
            raise ValueError(f"{sendump}: clustered (4-bit) sendump not supported")
    densities, senones = struct.unpack_from("<ii", data, offset)
    offset += 8
    quantized = np.frombuffer(data, np.uint8, streams * densities * senones, offset)
    weights = np.exp(-quantized.reshape(streams, densities, senones) * SENDUMP_LOG_STEP)
    weights /= weights.sum(axis=1, keepdims=True)
    table = np.ascontiguousarray(weights.transpose(2, 0, 1), dtype=np.float32)
    dims = np.array([senones, streams, densities, table.size], dtype=np.uint32)
    checksum = s3_checksum(np.concatenate([dims, np.frombuffer(table.tobytes(), np.uint32)]))
    with open(out, "wb") as f:
        f.write(b"s3\nversion 1.0\nchksum0 yes\nendhdr\n")
        f.write(struct.pack("<I", 0x11223344))
        f.write(dims.tobytes())
        f.write(table.tobytes())
        f.write(struct.pack("<I", checksum))
    return senones, streams, densities


def prepare_model(model: Path, work: Path) -> Path:
    """A folder bw can read: the model's files, a text mdef and mixture_weights."""
    out = work / "model"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("means", "variances", "transition_matrices", "feat.params", "noisedict"):
        shutil.copy(model / name, out / name)
    run([tool("pocketsphinx_mdef_convert"), "-text", str(model / "mdef"), str(out / "mdef")])
    mixture_weights_from_sendump(model / "sendump", out / "mixture_weights")
    return out


def tool_path(name: str) -> str | None:
    """Where a tool is: on PATH, or among sphinxtrain's (/usr/lib/sphinxtrain)."""
    return shutil.which(name) or (str(SPHINXTRAIN / name)
                                  if (SPHINXTRAIN / name).exists() else None)


def tool(name: str) -> str:
    found = tool_path(name)
    if found is None:
        raise SystemExit(f"{name} not found: run scripts/setup-system.sh (Debian's "
                         f"sphinxtrain, sphinxbase-utils and pocketsphinx)")
    return found


def run(command: Sequence[str], log: Path | None = None) -> None:
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if log is not None:
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise SystemExit(f"{Path(command[0]).name} failed ({done.returncode}):\n{tail}")


def spoken_word(clip: Clip) -> str | None:
    """The word said in a clip: its label, or for `_unknown_` the word its file is named
    after ("_unknown_/bed_28497c5b_nohash_0.wav": bed); None for noise."""
    if clip.label == "_silence_":
        return None
    if clip.label == "_unknown_":
        return clip.path.name.split("_", 1)[0]
    return clip.label


def dictionary_words(dictionary: Path) -> set[str]:
    with open(dictionary, encoding="utf-8") as lines:
        return {line.split(" ", 1)[0] for line in lines if line.strip()}


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


def write_wav(path: Path, pcm: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)


def adapt(clips_dir: Path, noise: str, out: Path, work: Path) -> int:
    """Train the transform into `out`; returns the number of training utterances."""
    model = model_dir()
    hmm = prepare_model(model / "en-us", work)
    dictionary = model / "cmudict-en-us.dict"
    clips = load_clips(clips_dir)
    chosen = training_clips(clips, dictionary_words(dictionary))
    track = training_babble(clips) if noise in ("tv", "both") else None
    ids, transcripts = [], []
    for clip, word in chosen:
        stem = f"{clip.label}/{clip.path.stem}"
        versions = []
        if noise in ("clean", "both"):
            versions.append((f"clean/{stem}", clip.pcm))
        if track is not None:
            versions.append((f"tv/{stem}", with_babble(clip, track, TV_SNR_DB)))
        for name, pcm in versions:
            write_wav(work / "wav" / f"{name}.wav", pcm)
            ids.append(name)
            transcripts.append(f"<s> {word} </s> ({Path(name).name})")
    (work / "train.fileids").write_text("\n".join(ids) + "\n", encoding="utf-8")
    (work / "train.transcription").write_text("\n".join(transcripts) + "\n",
                                              encoding="utf-8")
    params = feat_params(hmm)
    front_end = [item for key in FRONT_END for item in (key, params[key])]
    run([tool("sphinx_fe"), "-c", str(work / "train.fileids"), "-di", str(work / "wav"),
         "-do", str(work / "feat"), "-ei", "wav", "-eo", "mfc", "-mswav", "yes",
         "-samprate", str(SAMPLE_RATE), "-remove_silence", "no", "-dither", "no",
         *front_end], work / "sphinx_fe.log")
    accum = work / "accum"
    accum.mkdir(exist_ok=True)
    run([tool("bw"), "-hmmdir", str(hmm), "-moddeffn", str(hmm / "mdef"),
         "-ts2cbfn", f".{params['-model']}.", "-feat", params["-feat"],
         "-svspec", params["-svspec"], "-cmn", params["-cmn"], "-agc", params["-agc"],
         "-varnorm", params["-varnorm"], "-dictfn", str(dictionary),
         "-fdictfn", str(hmm / "noisedict"), "-ctlfn", str(work / "train.fileids"),
         "-lsnfn", str(work / "train.transcription"), "-cepdir", str(work / "feat"),
         "-cepext", "mfc", "-accumdir", str(accum)], work / "bw.log")
    out.parent.mkdir(parents=True, exist_ok=True)
    run([tool("mllr_solve"), "-meanfn", str(hmm / "means"), "-varfn", str(hmm / "variances"),
         "-outmllrfn", str(out), "-accumdir", str(accum)], work / "mllr_solve.log")
    return len(ids)


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
