"""`python -m bench.screen [--answers N]`: the response gap with and without the screen open.

The same spoken "no" answers as `bench.voice.response_gaps`, first by voice alone, then
with `--screen` and the page open in headless Chromium (Debian's, driven by Playwright)
on the same machine, so the browser's rendering competes with the voice for the CPU.
The gap is measured from outside (microphone and loudspeaker monitors), as ever.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import voice

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentiles(gaps: list[float]) -> dict[str, float]:
    if not gaps:
        return {"p50": float("nan"), "p95": float("nan"), "n": 0}
    return {"p50": round(float(np.percentile(gaps, 50)), 1),
            "p95": round(float(np.percentile(gaps, 95)), 1), "n": len(gaps)}


def gaps_with_and_without_screen(answers: int, tmp: Path) -> dict[str, dict[str, float]]:
    from playwright.sync_api import Error, sync_playwright

    without, _, _ = voice.response_gaps(answers, tmp / "voice")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        page = browser.new_page()
        port = _free_port()
        opened: list[int] = []

        def open_page(session: Any, proc: subprocess.Popen[bytes]) -> None:
            if opened and opened[-1] == proc.pid:
                return
            try:
                page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                opened.append(proc.pid)
            except Error:
                pass  # not serving yet

        with_page, _, _ = voice.response_gaps(
            answers, tmp / "screen", extra=("--screen", "--screen-port", str(port)),
            also=open_page)
        browser.close()
    return {"voice alone": _percentiles(without),
            "with the page open": _percentiles(with_page)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screen", description=__doc__)
    parser.add_argument("--answers", type=int, default=20, help="spoken answers per run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        figures = gaps_with_and_without_screen(args.answers, Path(folder))
    print(f"{'response gap (ms)':24} {'p50':>8} {'p95':>8} {'answers':>8}")
    for name, row in figures.items():
        print(f"{name:24} {row['p50']:>8} {row['p95']:>8} {row['n']:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
