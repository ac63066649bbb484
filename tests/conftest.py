"""Shared fixtures for the dialog core: the real dialogs (loaded once) and a conversation driver."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.dialog import DialogMachine, Turn
from assistant.dialog_data import Dialogs, load_dialogs
from assistant.ports import Heard
from assistant.transcript import Event, Outcome

Reply = str | None  # None: nothing was said before the deadline (time_up)


@dataclass
class Conversation:
    """The dialog machine driven turn by turn, keeping every turn it returned."""

    machine: DialogMachine
    turns: list[Turn] = field(default_factory=list)
    now: float = 0.0

    def __post_init__(self) -> None:
        self.turns.append(self.machine.start(self.now))

    @property
    def last(self) -> Turn:
        return self.turns[-1]

    @property
    def finished(self) -> bool:
        return self.last.listening is None

    @property
    def state(self) -> str:
        return self.machine.state

    @property
    def says(self) -> list[str]:
        return [line for turn in self.turns for line in turn.says]

    @property
    def events(self) -> list[Event]:
        return [event for turn in self.turns for event in turn.events]

    @property
    def outcomes(self) -> list[str]:
        return [e.disposition for e in self.events if isinstance(e, Outcome)]

    def reply(self, text: Reply, confidence: float | None = None) -> Turn:
        """Say `text` halfway to the deadline (at most 1 s later), or let the deadline pass."""
        listening = self.last.listening
        assert listening is not None, "the session is already over"
        if text is None:
            self.now = max(self.now, listening.until)
            turn = self.machine.time_up(self.now)
        else:
            self.now += min(1.0, max(0.0, (listening.until - self.now) / 2))
            turn = self.machine.hear(Heard(text, confidence), self.now)
        self.turns.append(turn)
        return turn

    def replies(self, texts: Iterable[Reply]) -> Conversation:
        for text in texts:
            self.reply(text)
        return self

    def answer_until(self, state: str, answer: Reply = "no", limit: int = 200) -> Conversation:
        """Give the same answer to everything until the machine listens in `state`."""
        for _ in range(limit):
            if self.state == state and not self.finished:
                return self
            self.reply(answer)
        raise AssertionError(f"never reached {state}; stuck in {self.state}")

    def silence_until(self, state: str, limit: int = 3000) -> Conversation:
        """Say nothing (the routine's beats run on) until the machine listens in `state`."""
        return self.answer_until(state, None, limit)

    def follow(self, answers: dict[str, str], state: str, limit: int = 200) -> Conversation:
        """Answer each question by name from `answers` (else silence) until listening in `state`."""
        for _ in range(limit):
            if self.state == state and not self.finished:
                return self
            assert not self.finished, f"the session ended on the way to {state}"
            self.reply(answers.get(self.state.rsplit(".", 1)[-1]))
        raise AssertionError(f"never reached {state}; stuck in {self.state}")

    def finish(self, limit: int = 3000) -> int:
        """Say nothing until the session ends; return how many turns that took."""
        for used in range(limit):
            if self.finished:
                return used
            self.reply(None)
        raise AssertionError(f"the session did not end after {limit} silences ({self.state})")


Converse = Callable[..., Conversation]


def path_to(dialogs: Dialogs, target: str) -> dict[str, str]:
    """The shortest yes/no answers (no where possible) that lead to a question, or "running",
    found by walking the compiled flow the machine is generated from."""
    flow = dialogs.graph

    def settle(name: str | None) -> str | None:  # messages move on by themselves
        node = flow.nodes.get(name or "")
        if node is not None and node.kind == "message":
            proceed = flow.route(node.name, "proceed")
            return settle(proceed.to if proceed else None)
        return name

    start = settle(flow.route(flow.start, "begin").to)  # type: ignore[union-attr]
    assert start is not None
    paths: dict[str, dict[str, str]] = {start: {}}
    queue = [start]
    while queue:
        here = queue.pop(0)
        if here.rsplit(".", 1)[-1] == target:
            return paths[here]
        if flow.nodes[here].kind != "question":
            continue
        for answer in ("no", "yes"):
            route = flow.route(here, answer)
            there = settle(route.to if route else None)
            if there is not None and there not in paths:
                paths[there] = paths[here] | {here.rsplit(".", 1)[-1]: answer}
                queue.append(there)
    raise AssertionError(f"no yes/no path leads to {target}")


@pytest.fixture(scope="session", autouse=True)
def own_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tests' own configuration and data folders (XDG), for every run.py they start: a
    developer's own configuration file is never read, and their history never written."""
    home = tmp_path_factory.mktemp("xdg")
    saved = {key: os.environ.get(key) for key in ("XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ["XDG_DATA_HOME"] = str(home / "share")
    yield home
    if shutil.which("pulseaudio"):
        # The virtual sound card's daemon, if this run started one: it belongs to these
        # folders (its socket and cookie live under them), and would otherwise outlive the run.
        subprocess.run(["pulseaudio", "--kill"], capture_output=True, timeout=30, check=False)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def dialogs() -> Dialogs:
    return load_dialogs()


@pytest.fixture(scope="session")
def converse(dialogs: Dialogs) -> Converse:
    """converse(replies=(), emergency_number="911", min_confidence=0.0) -> Conversation."""

    def start(replies: Iterable[Reply] = (), emergency_number: str = "911",
              min_confidence: float = 0.0) -> Conversation:
        machine = DialogMachine(dialogs, emergency_number, min_confidence=min_confidence)
        return Conversation(machine).replies(replies)

    return start


# Modules that need real audio parts (the virtual sound card, the synthesizer, a recognizer):
# `pytest -m "not audio and not slow"` runs the core in seconds.
AUDIO_MODULES = {"test_asr_pocketsphinx", "test_asr_vosk", "test_audio", "test_real_voices",
                 "test_tts", "test_vad", "test_voice_e2e", "test_wake_phrase", "test_vosk_korean",
                 "test_screen_voice", "test_hearing_side", "test_kiosk_voice",
                 "test_mllr", "test_moonshine_engine"}
SLOW_MODULES = {"test_text_mode", "test_machine_properties", "test_types", "test_package",
                "test_corpus", "test_benches", "test_screen_browser", "test_history_runs",
                "test_report_browser", "test_alerts_broker", "test_kiosk"}


# The suite runs on two processes (pytest-xdist, `-n 2 --dist loadfile` in pyproject.toml):
# each module whole on one process, so one virtual sound card per module and costly module
# fixtures built once. xdist hands out the modules with the most tests first, so the voice
# modules (few tests, each waiting on speech played in real time) run last, side by side,
# when the computing ones are done. Measured from clean clones: 12 m 58 s that way, 13 m 02 s
# with the voice modules first (`--no-loadscope-reorder`), and then a voice kiosk beside the
# benchmarks took 5.04 s to restart against its 5 s bound.


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__ if item.module else ""  # type: ignore[attr-defined]
        if module in AUDIO_MODULES:
            item.add_marker(pytest.mark.audio)
        if module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


# Modules that keep a processor busy for a minute or more and wait on nothing (benchmarks,
# the recognizer over hundreds of clips, the type checker). They run at a lower priority, so
# the voice sessions beside them, which must keep up with sound in real time, are not starved.
BACKGROUND_MODULES = {"test_hearing_side", "test_benches", "test_types", "test_corpus",
                      "test_machine_properties", "test_flow_safety"}


@pytest.fixture(autouse=True, scope="module")
def _in_the_background(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.module.__name__ not in BACKGROUND_MODULES:
        yield
        return
    before = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, min(before + 10, 19))
    try:
        yield
    finally:
        with contextlib.suppress(PermissionError):  # only root may raise it back
            os.setpriority(os.PRIO_PROCESS, 0, before)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for the page tests of one module (tests/browser.py)."""
    from browser import chromium
    from playwright import sync_api as playwright_api

    with playwright_api.sync_playwright() as p:
        running = chromium(p)
        yield running
        running.close()
