"""Smart Turn v3.2 in the endpointing bench (bench/smart_turn.py): the model hears what it
was trained on, and its column measures Pipecat's end-of-turn rule.

The features are computed here with numpy; a mistake in them would not crash anything, the
model would just guess, so they are checked against the implementation Pipecat ships beside
the model (loaded from its file: the package's own imports are not installed). Clips: the
repository's Speech Commands v0.02 test clips (CC BY 4.0, tests/clips/speech_commands/LICENSE)
and espeak-ng phrases.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import distribution
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from bench import endpointing
from bench.hearing import load_clips
from bench.rooms import samples_of
from bench.smart_turn import SAMPLE_RATE, WINDOW_S, log_mel, smart_turn_available

CLIPS = Path(__file__).resolve().parent / "clips" / "speech_commands"
pytestmark = pytest.mark.skipif(bool(smart_turn_available()), reason=smart_turn_available())

# Measured (commit of this test): .venv/bin/python -m bench.endpointing --clips
# tests/clips/speech_commands --per-label 10 --endpointers "Pipecat Smart Turn v3.2":
# one word (20) gap median 301 ms, none cut off; phrases with a 0.6-1.2 s pause inside (60)
# cut off 3 of 60, gap median 3010 ms (the model takes espeak-ng's slow speech for
# unfinished and the 3 s of silence end the turn).
ONE_WORD_GAP_MEDIAN_MS = 500.0
PAUSED_PHRASE_CUT_OFF_CEILING = 0.1
PAUSED_PHRASE_GAP_MEDIAN_MIN_MS = 2500.0


def _pipecat_features() -> ModuleType:
    path = Path(str(distribution("pipecat-ai").locate_file(
        "pipecat/audio/turn/smart_turn/_whisper_features.py")))
    spec = importlib.util.spec_from_file_location("pipecat_whisper_features", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_model_hears_the_features_it_was_trained_with() -> None:
    clip = next(c for c in load_clips(CLIPS) if c.label == "yes")
    samples = samples_of(clip.pcm) / 32768.0
    window = np.pad(samples, (WINDOW_S * SAMPLE_RATE - len(samples), 0)).astype(np.float32)
    ours = log_mel(window)
    theirs = _pipecat_features().compute_whisper_log_mel_features(window, do_normalize=True)
    assert ours.shape == theirs.shape == (80, 800)
    assert float(np.abs(ours - theirs).max()) < 1e-4


@pytest.fixture(scope="module")
def smart_turn_rows() -> dict[str, endpointing.Row]:
    answers = endpointing.clip_answers(CLIPS, 10) + endpointing.synthesized_answers()
    decisions, intents = endpointing.measure(answers, [endpointing.SMART_TURN])
    return {row.kind: row for row in endpointing.rows(decisions, intents)}


def test_a_finished_word_ends_the_turn_soon_after_the_pause_begins(
        smart_turn_rows: dict[str, endpointing.Row]) -> None:
    one_word = smart_turn_rows["one word"]
    assert one_word.answers == 20 and one_word.cut_off == 0.0
    assert one_word.gap_p50_ms <= ONE_WORD_GAP_MEDIAN_MS


def test_a_pause_inside_a_slow_phrase_is_mostly_waited_through(
        smart_turn_rows: dict[str, endpointing.Row]) -> None:
    phrases = smart_turn_rows[endpointing.KINDS[3]]
    assert phrases.answers == 60
    assert phrases.cut_off <= PAUSED_PHRASE_CUT_OFF_CEILING
    assert phrases.gap_p50_ms >= PAUSED_PHRASE_GAP_MEDIAN_MIN_MS
