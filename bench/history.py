"""`python -m bench.history [--runs N]`: what keeping the history costs a session.

A whole session through the routine (every exercise, about 1,200 events) is held
in-process on a fake clock, so only the work of the session itself is timed: without a
history, with the history as shipped (each event its own transaction, WAL,
synchronous=FULL: a power cut loses at most the event being written), and with
synchronous=NORMAL (faster, but a power cut may lose the last transactions). Medians of
N runs each, interleaved; the cost per event is the difference divided by the events.
Also timed: the report over eight weeks of such sessions.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.clock import FakeClock
from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs, load_dialogs
from assistant.history import History
from assistant.session import Session
from assistant.text_voice import TextVoice
from assistant.transcript import Transcript

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _answers(dialogs: Dialogs) -> str:
    from conftest import Conversation, path_to  # the tests' driver finds the way there

    conv = Conversation(DialogMachine(dialogs))
    conv.follow(path_to(dialogs, "running") | {"can_stand": "yes"}, "routine.running")
    lines = [e.text for t in conv.turns[1:] for e in t.events[:1] if getattr(e, "text", None)]
    return "".join(f"{line}\n" for line in lines) + "no\n" * 20  # type: ignore[attr-defined]


def one_session(dialogs: Dialogs, answers: str, folder: Path | None,
                synchronous: str = "FULL") -> tuple[float, int]:
    """Seconds for one whole session, and how many events it wrote."""
    history = None
    if folder is not None:
        history = History.open(folder)
        history.db.execute(f"PRAGMA synchronous={synchronous}")
    clock = FakeClock()
    transcript = Transcript(clock=clock)
    voice = TextVoice(clock, io.StringIO(answers), io.StringIO())
    began = time.perf_counter()
    Session(DialogMachine(dialogs), voice, clock, transcript, log=history,
            preferences=history).run()
    seconds = time.perf_counter() - began
    if history is not None:
        history.close()
    return seconds, len(transcript.events)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    dialogs = load_dialogs()
    answers = _answers(dialogs)
    times: dict[str, list[float]] = {"none": [], "FULL": [], "NORMAL": []}
    events = 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for kind in times:
                folder = None if kind == "none" else Path(tmp) / f"{kind}{run}"
                seconds, events = one_session(dialogs, answers, folder,
                                              kind if kind != "none" else "FULL")
                times[kind].append(seconds)
        median = {kind: statistics.median(values) for kind, values in times.items()}
        print(f"One whole session with the routine: {events} events, median of {args.runs}")
        for kind, label in (("none", "no history (--no-keep-records)"),
                            ("FULL", "history, synchronous=FULL (shipped)"),
                            ("NORMAL", "history, synchronous=NORMAL")):
            extra = (median[kind] - median["none"]) / events * 1000
            print(f"  {label:<38} {median[kind]:6.3f} s   {extra:+.3f} ms per event   "
                  f"x{median[kind] / median['none']:.2f}")
        from eight_weeks import TODAY, eight_weeks

        from assistant.report import read_report, render_report

        kept = eight_weeks(dialogs, Path(tmp) / "weeks")
        spans = []
        for _ in range(args.runs):
            began = time.perf_counter()
            render_report(read_report(kept.db, 8, TODAY))
            spans.append(time.perf_counter() - began)
        kept.close()
        print(f"The report over eight weeks (14 sessions): {statistics.median(spans):.3f} s "
              f"(median of {args.runs}, two SVG charts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
