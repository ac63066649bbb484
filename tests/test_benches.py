"""The benchmarks still run against the code as it is (they are not timed tests: this only
checks that each prints its figures, so a refactor cannot leave one broken)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_interpretation_benchmark_prints_its_figures() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.interpretation", "--passes", "1",
                          "--hear-passes", "1", "--processes", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "interpret() per utterance: p50" in run.stdout
    assert "DialogMachine.hear() end to end" in run.stdout


def test_the_hearing_benchmark_prints_its_figures_on_the_tests_own_clips() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.hearing", "--clips",
                          str(REPO / "tests" / "clips" / "speech_commands"), "--per-label", "3",
                          "--jobs", "1"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "turn listener" in run.stdout and "yes+no" in run.stdout


def test_the_engine_benchmark_prints_load_time_and_memory_for_both_engines() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.engines", "--runs", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "model load, s" in run.stdout and "peak RSS, MB" in run.stdout
    assert "pocketsphinx " in run.stdout and "vosk-ko " in run.stdout
