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


def test_the_history_benchmark_prints_the_cost_per_event() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.history", "--runs", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "synchronous=FULL (shipped)" in run.stdout and "ms per event" in run.stdout
    assert "The report over eight weeks" in run.stdout


def test_the_alert_benchmark_prints_delivery_and_restart_times() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.alerts", "--runs", "1", "--down", "0.5"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for figure in ("alert raised -> delivered (PUBACK), broker up",
                   "broker listening again -> on the staff dashboard",
                   "keyboard kiosk killed -> apology said, waiting again"):
        assert figure in run.stdout and "median" in run.stdout


def test_the_hearing_benchmark_prints_its_figures_on_the_tests_own_clips() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.hearing", "--clips",
                          str(REPO / "tests" / "clips" / "speech_commands"), "--per-label", "3",
                          "--jobs", "1"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "turn listener" in run.stdout and "yes+no" in run.stdout


def test_the_engine_benchmark_prints_load_time_and_memory_for_every_engine() -> None:
    run = subprocess.run([sys.executable, "-m", "bench.engines", "--runs", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "model load, s" in run.stdout and "peak RSS, MB" in run.stdout
    assert "pocketsphinx " in run.stdout and "vosk-ko " in run.stdout
    assert "moonshine " in run.stdout and "tiny-en" in run.stdout


def test_the_hearing_side_by_side_prints_its_tables_on_the_tests_own_clips() -> None:
    """`python -m bench --hearing`: every room, speaker and recognizer, on one clip a label,
    then endpointing side by side (the figures themselves: tests/test_hearing_side.py)."""
    run = subprocess.run([sys.executable, "-m", "bench", "--hearing", "--clips",
                          str(REPO / "tests" / "clips" / "speech_commands"), "--per-label", "1",
                          "--synthesized", "1", "--jobs", "1"], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for title in ("yes/no accuracy", "false accepts on other words", "false accepts on noise",
                  "real-time factor"):
        assert title in out
    for column in ("this project", "plain JSGF", "kws default", "kws tuned",
                   "this project + WebRTC NS", "this project + SpeexDSP NS", "ratio"):
        assert column in out
    assert "Vosk (English)" in out  # its column, or the reason it is left out
    assert "MLLR" in out  # likewise
    assert "this project + microVAD" in out  # a column (pymicro-vad is a dev dependency)
    assert "this project + Silero VAD" in out  # a column (scripts/setup.sh installs it)
    assert "moonshine tiny" in out and "moonshine + pocketsphinx" in out  # the default's
    for room in ("quiet", "tv 10 dB", "tv 5 dB", "household 10 dB", "reverberant"):
        assert room in out
    for speaker in ("as recorded", "slowed 30%", "two words"):
        assert speaker in out
    assert "Endpointing side by side" in out
    assert out.count("this project + microVAD") >= 5  # 4 tables' heads and endpointing rows
    assert out.count("this project + Silero VAD") >= 5
    assert "this project, Moonshine+sphinx" in out  # an endpointing row
    usage = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert usage.returncode == 0 and "--hearing" in usage.stdout, usage.stderr
    for endpointer in ("this project (TurnListener)", "Home Assistant 0.7 s",
                       "Home Assistant relaxed 1.25 s", "OpenVoiceOS 0.5 s"):
        assert endpointer in out
