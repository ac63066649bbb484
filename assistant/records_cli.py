"""`run.py report` and `run.py history`: the caregiver's commands over the records kept.

    run.py report [--data-dir DIR] [--weeks N] [--out report.html]
    run.py history --export csv DIR
    run.py history --forget

The data folder is --data-dir, else `data-dir` in the configuration file, else the XDG
data folder: the same one the sessions write to.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from assistant.config import ConfigError, load_settings
from assistant.history import TABLES, HistoryError, connect, forget_everything, history_path
from assistant.voice_learning import forget_voice


def weeks(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 520:
        raise argparse.ArgumentTypeError("weeks must be between 1 and 520")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description="The records kept at home.")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="a large-print progress report (HTML)")
    report.add_argument("--weeks", type=weeks, default=8, metavar="N",
                        help="how many weeks, this one included (default 8)")
    report.add_argument("--out", default="report.html", metavar="PATH",
                        help="the HTML file to write (default report.html)")
    history = commands.add_parser("history", help="export or delete the records")
    what = history.add_mutually_exclusive_group(required=True)
    what.add_argument("--export", nargs=2, metavar=("csv", "DIR"),
                      help="write every record as CSV files into DIR")
    what.add_argument("--forget", action="store_true",
                      help="delete every record and remembered preference (asks first)")
    for sub in (report, history):
        sub.add_argument("--data-dir", metavar="DIR", help="where the records are kept")
        sub.add_argument("--config", metavar="PATH", help="configuration file")
    return parser


def run_records(argv: list[str], ask: Callable[[str], str] = input) -> int:
    args = build_parser().parse_args(argv)
    from assistant.cli import build_parser as assistant_parser

    try:
        _, settings = load_settings(assistant_parser,
                                    ["--config", args.config] if args.config else [])
    except ConfigError as exc:
        print(f"Cannot read the configuration: {exc}", file=sys.stderr)
        return 2
    data_dir = Path(args.data_dir or settings.args.data_dir).expanduser()
    path = history_path(data_dir)
    try:
        db = connect(path, create=False)
    except HistoryError as exc:
        print(f"{exc} Sessions write it as they happen (unless records are off).",
              file=sys.stderr)
        return 1
    try:
        if args.command == "report":
            return _report(db, args.weeks, Path(args.out), settings.args.name)
        if args.export:
            return _export(db, args.export[0], Path(args.export[1]))
        return _forget(db, path, ask)
    finally:
        db.close()


def _report(db: sqlite3.Connection, weeks_shown: int, out: Path, name: str | None) -> int:
    from assistant.report import read_report, render_report

    page = render_report(read_report(db, weeks_shown), name)
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # health data
    with open(descriptor, "w", encoding="utf-8") as sink:
        sink.write(page)
    print(f"Wrote the report to {out} (open it in a browser; print it from there).")
    return 0


def _export(db: sqlite3.Connection, kind: str, folder: Path) -> int:
    if kind.lower() != "csv":
        print(f"Only csv export is offered, not {kind!r}.", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        cursor = db.execute(f"SELECT * FROM {table} ORDER BY rowid")
        target = folder / f"{table}.csv"
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", newline="", encoding="utf-8") as sink:
            writer = csv.writer(sink)
            writer.writerow([column[0] for column in cursor.description])
            writer.writerows(cursor)
    print(f"Wrote {', '.join(t + '.csv' for t in TABLES)} to {folder}.")
    return 0


def _forget(db: sqlite3.Connection, path: Path, ask: Callable[[str], str]) -> int:
    count = int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])
    try:
        answer = ask(f"Delete every record in {path} ({count} sessions), the remembered "
                     "preferences and the learned voice? This cannot be undone. Type yes to "
                     "delete: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() != "yes":
        print("Nothing was deleted.")
        return 1
    forget_everything(db)
    voice = " and the learned voice" if forget_voice(path.parent) else ""
    print(f"Deleted {count} sessions, the remembered preferences{voice}.")
    return 0
