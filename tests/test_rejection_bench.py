"""The rejection benchmark (bench/rejection.py): a learned confidence is only ever scored
on people it was not trained on, and the benchmark prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.hearing import speaker_half
from bench.rejection import Scores, accepted_right, cross_fitted

REPO = Path(__file__).resolve().parent.parent
SPEAKERS = {half: [s for s in (f"spk{i}" for i in range(40)) if speaker_half(s) == half][:6]
            for half in (0, 1)}


def row(speaker: str, right: bool, margin: float) -> Scores:
    return Scores("yes", speaker, "yes" if right else "no", margin, 0.0, -1.0, 30)


def test_each_speaker_half_is_scored_by_a_model_trained_on_the_other() -> None:
    """Half 0: a high margin means right; half 1 the opposite. Scored by the model of half
    0, half 1's wrong rows come out on top; a model that had seen half 1 could not say so."""
    rows = [row(s, right, margin) for s in SPEAKERS[0]
            for right, margin in ((True, 1.0), (False, -1.0))]
    rows += [row(s, right, margin) for s in SPEAKERS[1]
             for right, margin in ((True, -1.0), (False, 1.0))]
    scores = cross_fitted(rows)
    half_one = [(r.right, score) for r, score in zip(rows, scores, strict=True)
                if speaker_half(r.speaker) == 1]
    assert min(s for right, s in half_one if not right) > max(s for right, s in half_one if right)


def test_accepting_counts_right_answers_within_the_false_accepts_allowed() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    right = np.array([True, False, True, True])
    assert accepted_right(scores, right, answers=4, false_accepts=0) == 0.25
    assert accepted_right(scores, right, answers=4, false_accepts=1) == 0.75


@pytest.mark.slow
def test_the_rejection_benchmark_prints_its_table_on_the_tests_own_clips() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.rejection", "--clips",
                          "tests/clips/speech_commands", "--per-label", "10", "--rooms",
                          "quiet"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "margin alone" in run.stdout and "learned (4 scores)" in run.stdout
    assert "clips heard as a yes/no phrase" in run.stdout
