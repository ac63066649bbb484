"""The history kept at home: what a session leaves in the SQLite file, in-process.

The sessions killed mid-routine, read while they write, and carried over to the next
run are in test_history_runs.py (subprocesses).
"""

from __future__ import annotations

import io
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Conversation, path_to

from assistant.clock import FakeClock
from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.history import (
    MIGRATIONS,
    SCHEMA_VERSION,
    History,
    HistoryError,
    connect,
    history_path,
    schema_version,
)
from assistant.ports import VoiceChange
from assistant.records_cli import run_records
from assistant.session import Session
from assistant.text_voice import TextVoice
from assistant.transcript import SessionEnd, SessionStart, Transcript
from assistant.tts import VoiceSettings


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    kept = History.open(tmp_path)
    yield kept
    kept.close()


def rows(db: sqlite3.Connection, sql: str, *args: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in db.execute(sql, args).fetchall()]


def to_routine(dialogs: Dialogs) -> Conversation:
    conv = Conversation(DialogMachine(dialogs))
    return conv.follow(path_to(dialogs, "running") | {"can_stand": "yes"}, "routine.running")


def keep(history: History, conv: Conversation, session: str = "s1",
         started: str = "2026-11-30T10:00:00+00:00", reason: str = "goodbye") -> None:
    history.record(SessionStart(session, started, {"text": True}))
    for event in conv.events:
        history.record(event)
    history.record(SessionEnd(reason, conv.machine.disposition))


def test_a_whole_session_through_the_loop_is_kept(dialogs: Dialogs, tmp_path: Path) -> None:
    """The session loop passes every event on: the routine done, every rep and hold kept."""
    conv = to_routine(dialogs)
    lines = [t.events[0].text for t in conv.turns[1:]]  # type: ignore[attr-defined]
    source = io.StringIO("".join(f"{line}\n" for line in lines) + "no\n" * 20)
    history = History.open(tmp_path)
    clock = FakeClock()
    session = Session(DialogMachine(dialogs), TextVoice(clock, source, io.StringIO()), clock,
                      Transcript(clock=clock), log=history, preferences=history)
    assert session.run() == "routine"
    db = history.db
    assert rows(db, "SELECT id, end_reason, disposition FROM sessions") == [
        (session.id, "goodbye", "routine")]
    planned = rows(db, "SELECT exercise FROM routine_events WHERE kind = 'planned'")
    done = rows(db, "SELECT exercise FROM routine_events WHERE kind = 'done'")
    assert len(planned) == 7 and done == planned
    extension = rows(db, "SELECT side, reps_done, reps_planned, holds_done, holds_planned "
                         "FROM exercises WHERE name = 'Seated leg extension' ORDER BY side")
    assert extension == [("left", 10, 10, 10, 10), ("right", 10, 10, 10, 10)]
    assert rows(db, "SELECT count(*) FROM routine_events WHERE kind = 'stop'") == [(0,)]
    assert rows(db, "SELECT disposition FROM outcomes") == [("routine",)]
    history.close()


def test_pauses_skips_and_a_stop_are_kept_with_why(dialogs: Dialogs,
                                                   history: History) -> None:
    conv = to_routine(dialogs)
    conv.replies([None] * 30 + ["wait a minute", "carry on"] + [None] * 5 + ["skip"]
                 + [None] * 10 + ["stop please", "no"])
    assert conv.finished
    keep(history, conv)
    db = history.db
    kinds = [k for (k,) in rows(db, "SELECT kind FROM routine_events WHERE kind != 'planned' "
                                    "ORDER BY rowid")]
    assert kinds == ["pause", "resume", "skipped", "stop"]
    pause_why, = rows(db, "SELECT why FROM routine_events WHERE kind = 'pause'")[0]
    assert pause_why == 'pause: "wait a minute"'
    stop, = rows(db, "SELECT exercise, why FROM routine_events WHERE kind = 'stop'")
    assert stop == ("Ankle circles", 'stop: "stop please"')
    skipped, = rows(db, "SELECT exercise FROM routine_events WHERE kind = 'skipped'")
    assert skipped == ("Seated leg extension",)
    # The leg extension got some way before the skip; the reps counted are kept.
    done = rows(db, "SELECT sum(reps_done) FROM exercises WHERE name = 'Seated leg extension'")
    assert 0 < int(done[0][0]) < 20  # type: ignore[call-overload]


def test_a_red_flag_in_the_routine_stops_it_and_is_kept(dialogs: Dialogs,
                                                        history: History) -> None:
    conv = to_routine(dialogs)
    conv.replies([None] * 12 + ["my chest hurts"])
    conv.finish()
    keep(history, conv)
    db = history.db
    assert rows(db, "SELECT symptom, said FROM red_flags") == [("chest_pain", "my chest hurts")]
    outcome = rows(db, "SELECT disposition, reason, said FROM outcomes ORDER BY rowid")[-1]
    assert outcome[0] == "emergency" and outcome[2] == "my chest hurts"
    assert "chest pain" in str(outcome[1])
    assert rows(db, "SELECT why FROM routine_events WHERE kind = 'stop'") == [
        ('red_flag: "my chest hurts"',)]
    assert rows(db, "SELECT disposition FROM sessions") == [("emergency",)]


def test_a_session_cut_short_says_how(dialogs: Dialogs, history: History) -> None:
    conv = to_routine(dialogs)
    conv.replies([None] * 20)
    keep(history, conv, reason="interrupted")
    assert rows(history.db, "SELECT why FROM routine_events WHERE kind = 'stop'") == [
        ("the session ended: interrupted",)]
    assert rows(history.db, "SELECT end_reason FROM sessions") == [("interrupted",)]


def test_the_file_is_the_owners_alone(tmp_path: Path, history: History) -> None:
    history.record(SessionStart("s1", "2026-11-30T10:00:00+00:00"))
    for path in (history_path(tmp_path), tmp_path / "history.sqlite3-wal"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert history.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_first_schema_is_migrated_with_its_records(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    old.execute("INSERT INTO sessions (id, started, ended, end_reason, disposition) "
                "VALUES ('old', '2026-10-01T09:00:00+00:00', '2026-10-01T09:20:00+00:00', "
                "'goodbye', 'routine')")
    old.execute("INSERT INTO exercises (session_id, name, side, set_no, reps_done, "
                "reps_planned) VALUES ('old', 'Ankle circles', 'left', 1, 10, 10)")
    old.commit()
    old.close()
    db = connect(path)
    assert schema_version(db) == SCHEMA_VERSION == 2
    assert rows(db, "SELECT id, end_reason, options FROM sessions") == [
        ("old", "goodbye", "{}")]
    assert rows(db, "SELECT name, reps_done, holds_done, holds_planned FROM exercises") == [
        ("Ankle circles", 10, 0, None)]
    db.execute("INSERT INTO routine_events (session_id, at, kind) VALUES ('old', 'x', 'pause')")
    db.close()


def test_a_history_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()
    with pytest.raises(HistoryError, match="newer version"):
        connect(path)


def test_preferences_are_kept_within_bounds_and_reset(history: History) -> None:
    assert history.load() == VoiceChange()
    history.remember(VoiceChange(rate_steps=-1))
    history.remember(VoiceChange(volume_steps=1))
    assert history.load() == VoiceChange(-1, 1)
    for _ in range(10):  # many "slower"s: one "faster" is still heard next time
        history.remember(VoiceChange(rate_steps=-1))
    assert history.remember(VoiceChange(rate_steps=1)).rate_steps == -2
    assert history.remember(VoiceChange(reset_rate=True)) == VoiceChange(0, 1)
    assert history.remember(VoiceChange(reset_volume=True)) == VoiceChange()


def test_the_synthesizer_goes_back_to_the_configured_voice() -> None:
    configured = VoiceSettings(rate=170, volume=0.8)
    slower = configured.changed(VoiceChange(rate_steps=-2), configured)
    assert slower.rate == 140
    assert slower.changed(VoiceChange(reset_rate=True), configured).rate == 170
    louder = slower.changed(VoiceChange(volume_steps=1), configured)
    back = louder.changed(VoiceChange(reset_volume=True), configured)
    assert back.volume == 0.8 and back.rate == 140


def test_export_writes_every_table_and_forget_asks_first(
        dialogs: Dialogs, tmp_path: Path, history: History) -> None:
    conv = to_routine(dialogs)
    conv.replies([None] * 20 + ["stop", "no"])
    keep(history, conv)
    history.remember(VoiceChange(rate_steps=-1))
    data = ["--data-dir", str(tmp_path)]
    assert run_records(["history", "--export", "csv", str(tmp_path / "csv"), *data]) == 0
    sessions = (tmp_path / "csv" / "sessions.csv").read_text("utf-8").splitlines()
    assert sessions[0].startswith("id,started,ended") and sessions[1].startswith("s1,")
    events = (tmp_path / "csv" / "routine_events.csv").read_text("utf-8")
    assert 'stop,Seated leg extension,"stop: ""stop""' in events
    assert stat.S_IMODE((tmp_path / "csv" / "exercises.csv").stat().st_mode) == 0o600
    assert run_records(["history", "--forget", *data], ask=lambda _: "no") == 1
    assert rows(history.db, "SELECT count(*) FROM sessions") == [(1,)]
    (tmp_path / "voice" / "takes").mkdir(parents=True)  # a voice learned with --learn-voice
    (tmp_path / "voice" / "takes" / "yes_1.wav").write_bytes(b"RIFF")
    assert run_records(["history", "--forget", *data], ask=lambda _: "yes") == 0
    assert not (tmp_path / "voice").exists()
    for table in ("sessions", "exercises", "routine_events", "outcomes", "preferences"):
        assert rows(history.db, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert history.load() == VoiceChange()


class SettingsVoice(TextVoice):
    """Typed text, keeping the voice settings a synthesizer would have (one voice all day)."""

    settings = VoiceSettings()

    def change_voice(self, change: VoiceChange) -> None:
        self.settings = self.settings.changed(change, VoiceSettings())


@pytest.mark.parametrize("remember", [True, False])
def test_one_voice_all_day_starts_each_session_as_remembered(
        dialogs: Dialogs, history: History, remember: bool) -> None:
    """Voice mode keeps one synthesizer for every session: a "slower" is applied once, not
    again at each session; with nothing remembered (a shared device) each starts afresh."""
    clock = FakeClock()
    voice = SettingsVoice(clock, io.StringIO("slower\n"), io.StringIO())
    rates = []
    for _ in range(3):
        Session(DialogMachine(dialogs), voice, clock, Transcript(clock=clock), log=history,
                preferences=history if remember else None).run()
        rates.append(voice.settings.rate)
        voice.source = io.StringIO("")
        voice.at_end = False
        Session(DialogMachine(dialogs), voice, clock, Transcript(clock=clock), log=history,
                preferences=history if remember else None).run()
        rates.append(voice.settings.rate)
        voice.source = io.StringIO("slower\n")
        voice.at_end = False
        if not remember:
            break
    if remember:  # slower, kept; slower again, kept; down to the floor (110 wpm), kept
        assert rates == [135, 135, 120, 120, 110, 110]
    else:
        assert rates == [135, 150]


def test_a_data_folder_that_cannot_be_used_is_said_and_the_session_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import build_parser, open_records

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be", "utf-8")
    args = build_parser().parse_args(["--data-dir", str(blocker / "records")])
    assert open_records(args) is None
    assert "The session goes on without keeping a history." in capsys.readouterr().err
    assert open_records(build_parser().parse_args(["--no-keep-records"])) is None
    assert capsys.readouterr().err == ""
