"""Eight weeks of one household's sessions, held with the real dialog machine and kept by
the real history adapter, each at its own date: the report's tests read them back.

Most weeks have the two sessions the brief asks for (§6); one week has none, one has
one, one has three. Along the way: a routine stopped ("stop please"), a pause and a skip,
a red flag mid-routine (an emergency), a swollen calf (urgent), and a routine declined.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from conftest import Conversation, Reply, path_to

from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.history import History
from assistant.transcript import SessionEnd, SessionStart

TODAY = date(2026, 11, 27)  # a Friday; the report's eighth week is the one it is in
FIRST_MONDAY = date(2026, 10, 5)
# (week, weekday, what happens)
PLAN: list[tuple[int, int, str]] = [
    (0, 0, "routine"), (0, 3, "routine"),
    (1, 1, "routine"), (1, 4, "stopped"),
    (2, 2, "paused"),
    (3, 0, "routine"), (3, 2, "declined"), (3, 4, "routine"),
    (4, 1, "red_flag"), (4, 5, "routine"),
    # week 5: none
    (6, 0, "urgent"), (6, 3, "routine"),
    (7, 0, "routine"), (7, 2, "paused"),
]


def _mid_routine(events: dict[int, str]) -> Callable[[Conversation, int], Reply]:
    """In the routine: silence through the beats and the call-911 guidance, "no" at the
    check-ins, and the given words at the given beat."""

    def answer(conv: Conversation, beat: int) -> Reply:
        if beat in events:
            return events[beat]
        listening = conv.last.listening
        if conv.state == "emergency" or (listening is not None and listening.timed):
            return None
        return "no"

    return answer


SCRIPTS = {
    "routine": _mid_routine({}),
    "stopped": _mid_routine({40: "stop please", 41: "no"}),
    "paused": _mid_routine({25: "wait a minute", 26: "carry on", 60: "skip"}),
    "red_flag": _mid_routine({150: "my chest hurts"}),
}


def hold(dialogs: Dialogs, history: History, kind: str, started: datetime, number: int) -> None:
    """One session, its events kept as they happen at their time of day."""
    conv = Conversation(DialogMachine(dialogs))
    clock = {"at": started}
    history.now = lambda: clock["at"].isoformat(timespec="seconds")
    history.record(SessionStart(f"s{number:02}", started.isoformat(timespec="seconds"),
                                {"text": True}))

    def keep_last() -> None:
        clock["at"] = started + timedelta(seconds=conv.now)
        for event in conv.last.events:
            history.record(event)

    keep_last()
    if kind == "urgent":
        answers = path_to(dialogs, "calf") | {"calf": "yes"}
    elif kind == "declined":
        answers = path_to(dialogs, "offer_routine") | {"offer_routine": "no"}
    else:
        answers = path_to(dialogs, "running") | {"can_stand": "yes"}
    while not conv.finished and not conv.state.startswith("routine.running"):
        conv.reply(answers.get(conv.state.rsplit(".", 1)[-1], "no"))
        keep_last()
    script = SCRIPTS.get(kind)
    beat = 0
    while not conv.finished:
        conv.reply(script(conv, beat) if script else None)
        keep_last()
        beat += 1
    history.record(SessionEnd("goodbye", conv.machine.disposition))


def eight_weeks(dialogs: Dialogs, folder: Path) -> History:
    history = History.open(folder)
    zone = timezone(timedelta(hours=-5))
    for number, (week, weekday, kind) in enumerate(PLAN):
        day = FIRST_MONDAY + timedelta(weeks=week, days=weekday)
        started = datetime(day.year, day.month, day.day, 10, 30, tzinfo=zone)
        hold(dialogs, history, kind, started, number)
    return history
