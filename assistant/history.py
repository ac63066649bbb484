"""The history of sessions and the remembered preferences, in one SQLite file.

An edge adapter: the session passes it every event it writes to the transcript,
and it keeps what a caregiver or clinician asks about later — when sessions
happened and how they ended, each outcome and red flag, and the routine (each
exercise's repetitions and holds, pauses, skips, stops and why). Never audio,
never the words of a whole conversation.

Each event is written in its own transaction (autocommit, WAL, synchronous
FULL), so a crash or a power cut loses at most the event being written, and a
reader (the report) can read while a session writes. The schema is versioned
(`PRAGMA user_version`) and migrated forward on opening. The file is created
readable by its owner only (0600; SQLite gives its -wal and -shm files the same
mode), in a folder only the owner can open.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.ports import VoiceChange
from assistant.transcript import (
    Event,
    Exercise,
    HeardEvent,
    Outcome,
    RoutineProgress,
    SessionEnd,
    SessionStart,
    StateEvent,
)

FILE_NAME = "history.sqlite3"
# Each migration takes the file from the version before it to its own (index + 1).
MIGRATIONS: tuple[str, ...] = (
    # 1: sessions, and the repetitions of each exercise.
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY, started TEXT NOT NULL, ended TEXT, end_reason TEXT,
        disposition TEXT, reason TEXT);
    CREATE TABLE exercises (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        name TEXT NOT NULL, side TEXT NOT NULL DEFAULT '', set_no INTEGER NOT NULL DEFAULT 1,
        reps_done INTEGER NOT NULL DEFAULT 0, reps_planned INTEGER,
        PRIMARY KEY (session_id, name, side, set_no));
    """,
    # 2: holds, the routine's plan and events (pauses, skips, stops and why), each outcome
    # and red flag, and the remembered preferences.
    """
    ALTER TABLE sessions ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE exercises ADD COLUMN holds_done INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE exercises ADD COLUMN holds_planned INTEGER;
    ALTER TABLE exercises ADD COLUMN updated TEXT;
    CREATE TABLE routine_events (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        at TEXT NOT NULL, kind TEXT NOT NULL, exercise TEXT, why TEXT);
    CREATE TABLE outcomes (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        at TEXT NOT NULL, disposition TEXT NOT NULL, reason TEXT, said TEXT);
    CREATE TABLE red_flags (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        at TEXT NOT NULL, symptom TEXT, said TEXT);
    CREATE TABLE preferences (name TEXT PRIMARY KEY, value INTEGER NOT NULL, changed TEXT);
    CREATE INDEX sessions_started ON sessions(started);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
TABLES = ("sessions", "exercises", "routine_events", "outcomes", "red_flags", "preferences")
STOPPING = ("stop", "stop_sign", "red_flag", "emergency")


class HistoryError(Exception):
    """The history file cannot be opened or is newer than this program."""


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def history_path(data_dir: str | Path) -> Path:
    return Path(data_dir).expanduser() / FILE_NAME


def connect(path: Path, create: bool = True) -> sqlite3.Connection:
    """The history file, migrated to the current schema (created, owner-only, if missing)."""
    if not path.exists():
        if not create:
            raise HistoryError(f"There is no history at {path} yet.")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        migrate(db)
    except sqlite3.Error as exc:
        raise HistoryError(f"The history file {path} cannot be used: {exc}") from exc
    return db


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, to: int = SCHEMA_VERSION) -> None:
    """Bring the file forward one version at a time, each step all or nothing."""
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise HistoryError(f"the history was written by a newer version (schema {version})")
    for number in range(version + 1, to + 1):
        db.executescript(f"BEGIN IMMEDIATE;\n{MIGRATIONS[number - 1]}\n"
                         f"PRAGMA user_version = {number};\nCOMMIT;")


@dataclass
class _Routine:
    planned: list[str]
    accounted: set[str]
    stopped: bool = False

    @property
    def open(self) -> bool:
        return not self.stopped and not set(self.planned) <= self.accounted


class History:
    """Writes each session's events as they come (`SessionLog`) and keeps preferences
    (`PreferenceStore`). A write that fails is reported once; the session goes on."""

    def __init__(self, db: sqlite3.Connection, now: Callable[[], str] = _now) -> None:
        self.db = db
        self.now = now
        self.session: str | None = None
        self.state = ""
        self.heard: HeardEvent | None = None
        self.exercise: str | None = None
        self.holding: tuple[str, str, int, int] | None = None  # the hold being counted
        self.routine: _Routine | None = None
        self.failed = False

    @classmethod
    def open(cls, data_dir: str | Path) -> History:
        return cls(connect(history_path(data_dir)))

    def close(self) -> None:
        self.db.close()

    # --- SessionLog ------------------------------------------------------------------

    def record(self, event: Event) -> None:
        try:
            self._record(event)
        except sqlite3.Error as exc:
            if not self.failed:
                self.failed = True
                print(f"The history could not be written ({exc}); the session goes on.",
                      file=sys.stderr, flush=True)

    def _record(self, event: Event) -> None:
        if isinstance(event, SessionStart):
            self.session, self.routine, self.state = event.id, None, ""
            self.db.execute("INSERT OR IGNORE INTO sessions (id, started, options) "
                            "VALUES (?, ?, ?)", (event.id, event.started,
                                                 json.dumps(event.options, default=str)))
        elif self.session is None:
            return
        elif isinstance(event, StateEvent):
            self._state(event.name)
        elif isinstance(event, HeardEvent):
            self.heard = event
            routine = self.routine
            if (event.understood in STOPPING and self.state.startswith("routine.")
                    and routine is not None and routine.open):
                self._stop(self._why())  # the words that stopped it, before what follows
            if event.understood == "red_flag":
                self._insert("red_flags", symptom=_flagged(event), said=event.text)
        elif isinstance(event, Outcome):
            self._insert("outcomes", disposition=event.disposition, reason=event.reason,
                         said=self.heard.text if self.heard else None)
        elif isinstance(event, Exercise):
            self._exercise(event)
        elif isinstance(event, RoutineProgress):
            self._progress(event)
        elif isinstance(event, SessionEnd):
            if self.routine is not None and self.routine.open:
                self._stop(f"the session ended: {event.reason}")
            self.db.execute("UPDATE sessions SET ended = ?, end_reason = ?, disposition = ?, "
                            "reason = (SELECT reason FROM outcomes WHERE session_id = ? "
                            "ORDER BY rowid DESC LIMIT 1) WHERE id = ?",
                            (self.now(), event.reason, event.disposition, self.session,
                             self.session))

    def _insert(self, table: str, **values: Any) -> None:
        values = {"session_id": self.session, "at": self.now(), **values}
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        self.db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))

    def _why(self) -> str:
        heard = self.heard
        if heard is None or heard.text is None:
            return "no answer"
        return f"{heard.understood}: \"{heard.text}\""

    def _state(self, name: str) -> None:
        before, self.state = self.state, name
        routine = self.routine
        if routine is None:
            return
        if name == "routine.paused" and before != name:
            self._insert("routine_events", kind="pause", exercise=self.exercise, why=self._why())
        elif before == "routine.paused" and name == "routine.running":
            self._insert("routine_events", kind="resume", exercise=self.exercise, why=None)
        elif name in ("goodbye", "emergency") and routine.open:
            self._stop(self._why())

    def _stop(self, why: str) -> None:
        assert self.routine is not None
        self.routine.stopped = True
        self._insert("routine_events", kind="stop", exercise=self.exercise, why=why)

    def _progress(self, event: RoutineProgress) -> None:
        if event.kind == "planned":
            self.routine = _Routine(list(event.exercises), set())
            for name in event.exercises:
                self._insert("routine_events", kind="planned", exercise=name, why=None)
            return
        if self.routine is not None and event.exercise:
            self.routine.accounted.add(event.exercise)
        why = self._why() if event.kind == "skipped" else None
        self._insert("routine_events", kind=event.kind, exercise=event.exercise, why=why)

    def _exercise(self, event: Exercise) -> None:
        self.exercise = event.name
        side, set_no, rep = event.side or "", event.set or 1, event.rep or 0
        key = (event.name, side, set_no)
        holds_planned = event.of if event.phase == "hold" else None
        holds_done = 0
        if event.phase == "hold":
            self.holding = (*key, rep)
        elif self.holding == (*key, rep):  # the release after a hold: the hold is done
            holds_done, self.holding = rep, None
        self.db.execute(
            "INSERT INTO exercises (session_id, name, side, set_no, reps_done, reps_planned, "
            "holds_done, holds_planned, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (session_id, name, side, set_no) DO UPDATE SET "
            "reps_done = max(reps_done, excluded.reps_done), "
            "reps_planned = coalesce(excluded.reps_planned, reps_planned), "
            "holds_done = max(holds_done, excluded.holds_done), "
            "holds_planned = coalesce(excluded.holds_planned, holds_planned), "
            "updated = excluded.updated",
            (self.session, *key, rep, event.of, holds_done, holds_planned, self.now()))

    # --- PreferenceStore ---------------------------------------------------------------

    def load(self) -> VoiceChange:
        try:
            kept = dict(self.db.execute("SELECT name, value FROM preferences").fetchall())
        except sqlite3.Error:
            return VoiceChange()
        return VoiceChange(int(kept.get("rate_steps", 0)), int(kept.get("volume_steps", 0)))

    def remember(self, change: VoiceChange) -> VoiceChange:
        kept = self.load().after(change)
        try:
            self.db.executemany(
                "INSERT INTO preferences (name, value, changed) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                "changed = excluded.changed",
                [("rate_steps", kept.rate_steps, self.now()),
                 ("volume_steps", kept.volume_steps, self.now())])
        except sqlite3.Error as exc:
            print(f"The preference could not be kept ({exc}).", file=sys.stderr, flush=True)
        return kept


def describe_remembered(data_dir: str | Path) -> str:
    """What the next session starts with ("slower" said before), for --print-config."""
    path = history_path(data_dir)
    if not path.exists():
        return f"Remembered: nothing yet ({path} does not exist)."
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        kept = dict(db.execute("SELECT name, value FROM preferences").fetchall())
    except sqlite3.Error:
        kept = {}
    finally:
        db.close()
    rate, volume = int(kept.get("rate_steps", 0)), int(kept.get("volume_steps", 0))

    def steps(count: int, more: str, less: str) -> str:
        if not count:
            return "as configured"
        word = more if count > 0 else less
        return f"{abs(count)} step{'s' if abs(count) > 1 else ''} {word}"

    return (f"Remembered in {path}: speed {steps(rate, 'faster', 'slower')}, "
            f"volume {steps(volume, 'louder', 'softer')} (\"normal speed\" and "
            "\"normal volume\" go back).")


def _flagged(heard: HeardEvent) -> str | None:
    """The symptom a red flag was about, as the interpretation named it."""
    mentions = heard.meaning.get("symptoms") or []
    present = [m for m in mentions if m.get("assertion") in ("present", "passed")]
    chosen = (present or mentions or [{}])[0]
    return str(chosen.get("symptom")) if chosen.get("symptom") else None


def forget_everything(db: sqlite3.Connection) -> int:
    """Delete every record (sessions and all they hold, and the preferences); the number of
    sessions deleted. The freed pages are wiped (VACUUM) so nothing stays in the file."""
    count = int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])
    db.execute("BEGIN IMMEDIATE")
    for table in reversed(TABLES):
        db.execute(f"DELETE FROM {table}")
    db.execute("COMMIT")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return count
