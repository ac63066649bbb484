"""MLLR adaptation of pocketsphinx's model (assistant/asr/adaptation.py, bench/mllr.py).

The adaptation itself was measured and not adopted (bench/side_by_side.md, "MLLR
adaptation"); these tests keep the experiment repeatable: the mixture weights rebuilt
from the wheel's sendump, training only on speaker half 0, and a transform trained
end to end (Debian's sphinxtrain, sphinxbase-utils and pocketsphinx, from
scripts/setup-system.sh) that the project's engine loads and still hears yes and no with.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from assistant.asr import adaptation
from bench import hearing_side, mllr
from bench.hearing import load_clips, speaker_half

CLIPS = Path(__file__).resolve().parent / "clips" / "speech_commands"
TOOLS = adaptation.TOOLS
# Measured (commit of this test) with
#   python -m bench.mllr --clips tests/clips/speech_commands --noise clean --out T
#   python -m bench.hearing_side --clips tests/clips/speech_commands --half 1 --rooms quiet \
#       --speakers "as recorded" --recognizers "this project" "this project + MLLR" --mllr T
# the repository's half-1 yes/no clips in a quiet room: 33 of 40 (0.825) with the
# transform trained on its half-0 clips (91 utterances), 34 of 40 without. One clip of
# drift allowed.
ADAPTED_QUIET_FLOOR = 0.80


def test_mixture_weights_are_rebuilt_from_the_sendump(tmp_path: Path) -> None:
    model = adaptation.model_dir() / "en-us"
    out = tmp_path / "mixture_weights"
    senones, streams, densities = adaptation.mixture_weights_from_sendump(model / "sendump", out)
    assert (senones, streams, densities) == (5126, 3, 128)
    data = out.read_bytes()
    start = data.index(b"endhdr\n") + len(b"endhdr\n")
    assert struct.unpack_from("<I", data, start)[0] == 0x11223344
    dims = np.frombuffer(data, np.uint32, 4, start + 4)
    assert dims.tolist() == [senones, streams, densities, senones * streams * densities]
    table = np.frombuffer(data, np.float32, int(dims[3]), start + 20).reshape(
        senones, streams, densities)
    assert np.allclose(table.sum(axis=2), 1.0, atol=1e-4)
    checksum = struct.unpack_from("<I", data, len(data) - 4)[0]
    assert checksum == adaptation.s3_checksum(np.concatenate([dims, table.view(np.uint32).ravel()]))


def test_training_takes_only_speaker_half_0_and_only_spoken_words() -> None:
    clips = load_clips(CLIPS)
    words = adaptation.dictionary_words(adaptation.model_dir() / "cmudict-en-us.dict")
    chosen = mllr.training_clips(clips, words)
    assert chosen and all(speaker_half(c.speaker) == mllr.TRAIN_HALF for c, _ in chosen)
    assert all(c.label != "_silence_" for c, _ in chosen)
    unknown = [(c, w) for c, w in chosen if c.label == "_unknown_"]
    assert unknown and all(c.path.name.startswith(f"{w}_") for c, w in unknown)


@pytest.mark.skipif(any(adaptation.tool_path(t) is None for t in TOOLS),
                    reason="sphinxtrain, sphinxbase-utils or pocketsphinx (Debian) missing: "
                           "scripts/setup-system.sh")
def test_a_transform_trained_on_half_0_is_loaded_and_half_1_is_still_heard(
        tmp_path: Path) -> None:
    transform = tmp_path / "adapted.mllr"
    count = mllr.adapt(CLIPS, "clean", transform, tmp_path / "work")
    assert count == 91
    lines = transform.read_text(encoding="utf-8").split("\n")
    assert lines[:3] == ["1", "3", "13"]  # one class, three streams of 13
    everything = load_clips(CLIPS)
    scored = [c for c in everything if c.label in ("yes", "no") and speaker_half(c.speaker) == 1]
    heard = hearing_side.run(scored, everything, [hearing_side.PROJECT_MLLR], ["quiet"],
                             ["as recorded"], mllr=transform)
    from assistant.asr.pocketsphinx_engine import POCKETSPHINX_MIN_CONFIDENCE

    cell = hearing_side.cells(heard, scored, {
        hearing_side.PROJECT_MLLR: POCKETSPHINX_MIN_CONFIDENCE})[
        (hearing_side.PROJECT_MLLR, "quiet", "as recorded")]
    assert cell.yes_no_clips == 40
    assert cell.figures.yes_no_accuracy >= ADAPTED_QUIET_FLOOR


def test_the_tools_are_found_where_debian_puts_them() -> None:
    if shutil.which("apt-get") is None:
        pytest.skip("not a Debian machine")
    for name in TOOLS:
        assert adaptation.tool_path(name) is not None, f"{name}: run scripts/setup-system.sh"
