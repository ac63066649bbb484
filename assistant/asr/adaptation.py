"""Adapting pocketsphinx's US English model to one voice: a global MLLR transform.

Why: measured on the shared clips (bench/enrolment.py, bench/side_by_side.md "Learning one
voice"), a transform trained on about a dozen words of the person's own voice heard "yes"
and "no" far better with a television on, and no worse in a quiet room; one trained on
many other people's voices lost in a quiet room (bench/mllr.py). So the assistant learns
the voice of the one person it lives with (assistant/enrolment.py), never a crowd's.

The field's own tools do it, Debian's sphinxtrain (`bw`: forced alignment and Baum-Welch
counts; `mllr_solve`: the transform), sphinxbase-utils (`sphinx_fe`: features exactly as
the decoder makes them) and pocketsphinx (`pocketsphinx_mdef_convert`); all installed by
scripts/setup-system.sh. The wheel's model ships its mixture weights only as `sendump`,
so `bw`'s `mixture_weights` are rebuilt from it first.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
SPHINXTRAIN = Path("/usr/lib/sphinxtrain")
TOOLS = ("bw", "mllr_solve", "sphinx_fe", "pocketsphinx_mdef_convert")
# sphinx_fe's options matching the model's feat.params (sphinx_fe rejects the feature
# options there, such as -feat and -svspec, which are bw's).
FRONT_END = ("-lowerf", "-upperf", "-nfilt", "-transform", "-lifter", "-remove_noise")
# pocketsphinx stores a mixture weight w as round(-ln(w) / (ln(1.0001) * 2**10)), 8 bits.
SENDUMP_LOG_STEP = 1024 * float(np.log(1.0001))


class AdaptationUnavailable(RuntimeError):
    """A tool is missing or failed; the message says what to install or what went wrong."""


def model_dir() -> Path:
    """pocketsphinx's bundled model folder (en-us/ and the dictionary)."""
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


def tool_path(name: str) -> str | None:
    """Where a tool is: on PATH, or among sphinxtrain's (/usr/lib/sphinxtrain)."""
    return shutil.which(name) or (str(SPHINXTRAIN / name)
                                  if (SPHINXTRAIN / name).exists() else None)


def missing_tools() -> list[str]:
    return [name for name in TOOLS if tool_path(name) is None]


def tool(name: str) -> str:
    found = tool_path(name)
    if found is None:
        raise AdaptationUnavailable(
            f"{name} is not installed: run scripts/setup-system.sh (Debian's sphinxtrain, "
            f"sphinxbase-utils and pocketsphinx).")
    return found


def run(command: Sequence[str], log: Path | None = None) -> None:
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if log is not None:
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise AdaptationUnavailable(f"{Path(command[0]).name} failed ({done.returncode}):\n{tail}")


def prepare_model(model: Path, work: Path) -> Path:
    """A folder bw can read: the model's files, a text mdef and mixture_weights."""
    out = work / "model"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("means", "variances", "transition_matrices", "feat.params", "noisedict"):
        shutil.copy(model / name, out / name)
    run([tool("pocketsphinx_mdef_convert"), "-text", str(model / "mdef"), str(out / "mdef")])
    mixture_weights_from_sendump(model / "sendump", out / "mixture_weights")
    return out


def dictionary_words(dictionary: Path) -> set[str]:
    with open(dictionary, encoding="utf-8") as lines:
        return {line.split(" ", 1)[0] for line in lines if line.strip()}


def write_wav(path: Path, pcm: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)


def train_transform(recordings: Sequence[tuple[str, bytes, str]], out: Path, work: Path,
                    model: Path | None = None) -> Path:
    """Train a global MLLR transform into `out` from (name, 16 kHz int16 audio, transcript)
    recordings; transcripts are words of pocketsphinx's dictionary ("i don't know").
    `model`: an already prepared model folder (prepare_model), to train many in a row."""
    if not recordings:
        raise ValueError("no recordings to learn from")
    bundled = model_dir()
    hmm = model if model is not None else prepare_model(bundled / "en-us", work)
    params = feat_params(hmm)
    ids, transcripts = [], []
    for name, pcm, words in recordings:
        write_wav(work / "wav" / f"{name}.wav", pcm)
        ids.append(name)
        transcripts.append(f"<s> {words} </s> ({Path(name).name})")
    (work / "train.fileids").write_text("\n".join(ids) + "\n", encoding="utf-8")
    (work / "train.transcription").write_text("\n".join(transcripts) + "\n", encoding="utf-8")
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
         "-varnorm", params["-varnorm"], "-dictfn", str(bundled / "cmudict-en-us.dict"),
         "-fdictfn", str(hmm / "noisedict"), "-ctlfn", str(work / "train.fileids"),
         "-lsnfn", str(work / "train.transcription"), "-cepdir", str(work / "feat"),
         "-cepext", "mfc", "-accumdir", str(accum)], work / "bw.log")
    out.parent.mkdir(parents=True, exist_ok=True)
    run([tool("mllr_solve"), "-meanfn", str(hmm / "means"), "-varfn", str(hmm / "variances"),
         "-outmllrfn", str(out), "-accumdir", str(accum)], work / "mllr_solve.log")
    return out
