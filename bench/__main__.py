"""`python -m bench [--quick] [--json PATH]`: speed, listening cost and hearing, in figures.

`python -m bench --hearing [--clips DIR] [--per-label N] [--jobs N]`: hearing and
endpointing side by side with the alternatives, on the same clips (bench/hearing_side.py).

Each figure is the median of several runs (min and max beside it) on the
machine at hand; audio figures are measured from outside, on the virtual
sound card. Not part of the pass/fail tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

TARGETS = {
    "response_gap_ms_p50": "", "response_gap_ms_p95": "<= 300 (stretch 200)",
    "cold_start_s": "<= 1.5", "idle_cpu_percent": "<= 5", "idle_cpu_percent_noisy": "",
    "recognition_rtf": "", "peak_rss_mb": "<= 200", "yes_no_accuracy": ">= 0.97",
    "false_accept_rate": "<= 0.02", "routine_drift_ms": "<= 20",
    "interpretation_ms_p50": "", "interpretation_ms_p95": "<= 5", "hear_ms_p95": "",
    "assertion_accuracy": "", "assertion_accuracy_coarse": "",
}


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "runs": len(values)}


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def _timed(name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        result = work()
    except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the others
        print(f"bench: {name} failed: {exc}", file=sys.stderr, flush=True)
        return {"errors": {name: str(exc)}}
    print(f"bench: {name} done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return result


def measure(quick: bool) -> dict[str, Any]:
    from bench import hearing, routine_drift, voice

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    figures: dict[str, Any] = {"quick": quick, "details": {}}
    runs = 3 if quick else 5

    def memory() -> dict[str, Any]:
        rss = [voice.peak_rss_mb("pocketsphinx", tmp / f"rss{i}") for i in range(3)]
        return {"peak_rss_mb": round(statistics.median(rss), 1),
                "details": {"peak_rss_mb": {**spread(rss), "engine": "pocketsphinx",
                                            "session": "whole: sudden weakness, guidance"}}}

    def gaps() -> dict[str, Any]:
        measured, peak_mb, unnoticed = voice.response_gaps(8 if quick else 40, tmp / "gaps")
        result: dict[str, Any] = {
            "response_gap_ms_p50": round(percentile(measured, 50), 1),
            "response_gap_ms_p95": round(percentile(measured, 95), 1),
            "details": {"response_gap_ms": {**spread(measured), "engine": "pocketsphinx",
                                            "p50": percentile(measured, 50),
                                            "p95": percentile(measured, 95),
                                            "answers_not_noticed": unnoticed}}}
        if quick:  # the quick run takes memory from this session rather than three more
            result["peak_rss_mb"] = round(peak_mb, 1)
            result["details"]["peak_rss_mb"] = {**spread([peak_mb]), "engine": "pocketsphinx",
                                                "session": "the response-gap session"}
        return result

    def cold() -> dict[str, Any]:
        times = voice.cold_start(runs, tmp)
        return {"cold_start_s": round(statistics.median(times), 3),
                "details": {"cold_start_s": spread(times)}}

    def idle() -> dict[str, Any]:
        seconds = 8 if quick else 60
        silent = [voice.idle_cost(seconds, False, tmp) for _ in range(1 if quick else 3)]
        noisy = [voice.idle_cost(seconds, True, tmp) for _ in range(1 if quick else 3)]
        return {"idle_cpu_percent": round(statistics.median(silent), 2),
                "idle_cpu_percent_noisy": round(statistics.median(noisy), 2),
                "details": {"idle_cpu_percent": spread(silent),
                            "idle_cpu_percent_noisy": spread(noisy), "idle_seconds": seconds}}

    def hear() -> dict[str, Any]:
        from assistant.asr.pocketsphinx_engine import (
            POCKETSPHINX_MIN_CONFIDENCE,
            PocketsphinxRecognizer,
        )

        clips = hearing.load_clips(per_label=12 if quick else None)
        report = hearing.evaluate(PocketsphinxRecognizer(partials=False), clips=clips)
        at = report.at(POCKETSPHINX_MIN_CONFIDENCE)
        return {"yes_no_accuracy": round(at.yes_no_accuracy, 4),
                "false_accept_rate": round(at.false_accept_rate, 4),
                "recognition_rtf": round(report.real_time_factor, 4),
                "details": {"hearing": {k: v for k, v in vars(at).items()},
                            "hearing_clips": len(clips)}}

    def drift() -> dict[str, Any]:
        scale = 0.01 if quick else 1.0
        result = routine_drift.routine_drift(scale)
        return {"routine_drift_ms": result["routine_drift_ms"],
                "details": {"routine": {**result, "time_scale": scale}}}

    def interpretation() -> dict[str, Any]:
        from bench import interpretation as interp

        return interp.measure(passes=runs, hear_passes=1 if quick else 3, processes=runs)

    steps = [("cold start", cold), ("response gap", gaps), ("idle listening", idle),
             ("hearing", hear), ("routine timing", drift), ("interpretation", interpretation)]
    if not quick:
        steps.insert(0, ("memory", memory))
    for name, work in steps:
        result = _timed(name, work)
        figures["details"].update(result.pop("details", {}))
        figures.setdefault("errors", {}).update(result.pop("errors", {}))
        figures.update(result)
    return figures


def table(figures: dict[str, Any]) -> str:
    lines = [f"{'figure':28} {'value':>12}  target", "-" * 60]
    for key, target in TARGETS.items():
        value = figures.get(key, "n/a")
        lines.append(f"{key:28} {value!s:>12}  {target}")
    if figures.get("errors"):
        lines.append("errors: " + "; ".join(f"{k}: {v}" for k, v in figures["errors"].items()))
    return "\n".join(lines)


def hearing_side_by_side(args: argparse.Namespace) -> int:
    """`--hearing`: the side-by-side hearing tables, then endpointing side by side."""
    from bench import endpointing, hearing_side
    from bench.rooms import ROOMS, SPEAKERS, known

    hearing_side.side_by_side(args.clips, args.per_label, known(args.rooms, ROOMS, "room"),
                              known(args.speakers, SPEAKERS, "speaker"),
                              known(args.recognizers, hearing_side.RECOGNIZERS, "recognizer"),
                              args.jobs, half=args.half, mllr=args.mllr)
    endpointing.side_by_side(args.clips, args.per_label, args.synthesized)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a reduced run, under two minutes")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    hearing = parser.add_argument_group(
        "hearing side by side", "--hearing: this project against the alternatives on the same "
        "clips, in every room and for every speaker, then endpointing side by side "
        "(bench/hearing_side.py, bench/endpointing.py); only these options apply")
    hearing.add_argument("--hearing", action="store_true",
                         help="print the side-by-side hearing and endpointing tables")
    from bench import endpointing, hearing_side

    hearing_side.add_arguments(hearing)
    endpointing.add_arguments(hearing)
    args = parser.parse_args(argv)
    if args.hearing:
        return hearing_side_by_side(args)
    figures = measure(args.quick)
    print(table(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
