"""The history and the preferences across real runs of `run.py --text` (subprocesses).

A session killed (SIGKILL) mid-routine leaves a readable file with every exercise done up
to the kill; a reader (the report) reads while a session writes; "slower" said in one
session is in force in the next; and `run.py report` shows the sessions just held.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import Conversation, Reply, path_to

from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.history import history_path

REPO = Path(__file__).resolve().parent.parent


def answered(conv: Conversation) -> list[str]:
    """What was typed in a conversation (silences left out), as lines to pipe."""
    heard = [t.events[0] for t in conv.turns[1:] if t.events]
    return [e.text for e in heard if getattr(e, "text", None)]  # type: ignore[attr-defined]


def routine_lines(dialogs: Dialogs, first: list[Reply] | None = None) -> list[str]:
    conv = Conversation(DialogMachine(dialogs)).replies(first or [])
    conv.follow(path_to(dialogs, "running") | {"can_stand": "yes"}, "routine.running")
    return answered(conv) + ["no"] * 12  # the check-ins ("Any pain?")


def short_lines(dialogs: Dialogs, first: list[Reply]) -> list[str]:
    """Say `first`, then "no" to every question, no routine: a short session."""
    conv = Conversation(DialogMachine(dialogs)).replies(first)
    conv.answer_until("check.offer_routine").reply("no")
    conv.finish()
    return answered(conv)


@dataclass
class Home:
    """One household: its own configuration and data folders."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = os.environ | {"XDG_CONFIG_HOME": str(self.root / "config"),
                                 "XDG_DATA_HOME": str(self.root / "share")}

    @property
    def data(self) -> Path:
        return self.root / "share" / "leg-assistant"

    def start(self, lines: list[str], *args: str, name: str = "run") -> subprocess.Popen[str]:
        command = [sys.executable, "run.py", "--text", "--transcript",
                   str(self.root / f"{name}.jsonl"), *args]
        process = subprocess.Popen(command, cwd=REPO, env=self.env, stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert process.stdin is not None
        process.stdin.write("".join(f"{line}\n" for line in lines))
        process.stdin.flush()
        return process

    def run(self, lines: list[str], *args: str, name: str = "run") -> list[dict[str, Any]]:
        process = self.start(lines, "--time-scale", "0", *args, name=name)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        return self.transcript(name)

    def transcript(self, name: str) -> list[dict[str, Any]]:
        text = (self.root / f"{name}.jsonl").read_text("utf-8")
        return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


def count(db: sqlite3.Connection, sql: str) -> int:
    return int(db.execute(sql).fetchone()[0])


def wait_for(path: Path, sql: str, at_least: int, process: subprocess.Popen[str],
             seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the session ended before it could be killed"
        if path.exists():
            db = sqlite3.connect(path, timeout=5)
            try:
                if count(db, sql) >= at_least:
                    return
            except sqlite3.OperationalError:
                pass  # the tables are being created
            finally:
                db.close()
        time.sleep(0.02)
    raise AssertionError(f"never reached {at_least} for {sql}")


def test_killed_mid_routine_keeps_every_exercise_done(dialogs: Dialogs, home: Home) -> None:
    process = home.start(routine_lines(dialogs), "--time-scale", "0.01", name="killed")
    path = history_path(home.data)
    done = "SELECT count(*) FROM routine_events WHERE kind = 'done'"
    try:
        wait_for(path, done, 2, process)
        time.sleep(0.3)  # into the third exercise's repetitions
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    transcript = home.transcript("killed")
    reps: dict[tuple[str, str, int], int] = {}
    for event in transcript:
        if event["type"] == "exercise":
            key = (event["name"], event["side"] or "", event["set"] or 1)
            reps[key] = max(reps.get(key, 0), event["rep"])
    kept = {(name, side, set_no): done for name, side, set_no, done in db.execute(
        "SELECT name, side, set_no, reps_done FROM exercises")}
    last = next(e for e in reversed(transcript) if e["type"] == "exercise")
    last_key = (last["name"], last["side"] or "", last["set"] or 1)
    # Every repetition counted is in the file, but perhaps the very last (being written).
    for key, rep in reps.items():
        assert kept.get(key, 0) >= (rep - 1 if key == last_key else rep), key
    exercises_done = [e["exercise"] for e in transcript
                      if e["type"] == "routine" and e["kind"] == "done"]
    assert len(exercises_done) >= 2
    assert [x for (x,) in db.execute("SELECT exercise FROM routine_events WHERE kind = 'done' "
                                      "ORDER BY rowid")] == exercises_done
    started, ended = db.execute("SELECT started, ended FROM sessions").fetchone()
    assert started and ended is None  # it never said goodbye
    db.close()
    # The next session opens the same file and writes on.
    home.run(short_lines(dialogs, []), name="after")
    db = sqlite3.connect(path)
    assert count(db, "SELECT count(*) FROM sessions") == 2
    db.close()


def test_a_reader_reads_while_a_session_writes(dialogs: Dialogs, home: Home) -> None:
    process = home.start(routine_lines(dialogs), "--time-scale", "0.005", name="busy")
    path = history_path(home.data)
    seen: list[int] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
                seen.append(count(reader, "SELECT coalesce(sum(reps_done), 0) FROM exercises"))
                reader.close()
            except sqlite3.Error as exc:
                errors.append(exc)
            time.sleep(0.01)

    try:
        wait_for(path, "SELECT count(*) FROM exercises", 1, process)
        thread = threading.Thread(target=read)
        thread.start()
        _, err = process.communicate(timeout=120)
        stop.set()
        thread.join()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert not errors, errors[:3]
    assert seen == sorted(seen) and len(set(seen)) > 10, "the reader saw the routine go on"


def spacing(transcript: list[dict[str, Any]], beats: int = 12) -> float:
    planned = [e["planned"] for e in transcript if e["type"] == "timing"]
    return float(planned[beats] - planned[0])


def test_slower_is_in_force_in_the_next_session_and_a_report_shows_them(
        dialogs: Dialogs, home: Home) -> None:
    first = home.run(short_lines(dialogs, ["slower please"]), name="first")
    assert first[0]["type"] == "session" and "remembered" not in first[0]["options"]
    second = home.run(routine_lines(dialogs), name="second")
    assert second[0]["options"]["remembered"] == {"rate_steps": -1, "volume_steps": 0}
    # Without keeping records (as on a shared device) nothing is carried over.
    plain = home.run(routine_lines(dialogs), "--no-keep-records", name="plain")
    assert "remembered" not in plain[0]["options"]
    assert spacing(second) == pytest.approx(1.25 * spacing(plain))  # the routine is slower
    home.run(short_lines(dialogs, ["back to your normal speed"]), name="reset")
    after = home.run(short_lines(dialogs, []), name="after")
    assert "remembered" not in after[0]["options"]
    # Acceptance: the sessions just held are in the report.
    out = home.root / "report.html"
    report = subprocess.run([sys.executable, "run.py", "report", "--out", str(out)], cwd=REPO,
                            env=home.env, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    page = out.read_text("utf-8")
    assert "<strong>4</strong> sessions in 8 weeks" in page  # "plain" kept nothing
    assert "<strong>7</strong> of 7 planned exercises completed" in page
    assert page.count("Routine: no warning sign found") == 4

