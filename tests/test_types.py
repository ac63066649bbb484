"""The code says what it is: `mypy --strict` over the package and `ruff` over the project,
clean, as part of the test command (a type error is a bug found before a user finds it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_strict_finds_nothing_in_the_package() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "assistant"], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.slow
def test_ruff_finds_nothing() -> None:
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
