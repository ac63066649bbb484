"""Text mode end to end: `run.py --text` in a subprocess, answers piped in, transcript read back.

The runs start together (module fixture) so the whole file takes about as long as one run.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import Conversation, path_to

from assistant.clock import FakeClock
from assistant.dialog import DialogMachine
from assistant.dialog_data import DEFAULT_DIALOG_DIR, Dialogs, load_dialogs
from assistant.ports import Heard, Vocabulary
from assistant.session import Session
from assistant.text_voice import TextVoice
from assistant.transcript import Transcript

REPO = Path(__file__).resolve().parent.parent
EVENT_TYPES = {"say", "listen", "heard", "state", "outcome", "exercise"}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    transcript: list[dict[str, Any]]

    def said(self) -> list[str]:
        return [e["text"] for e in self.transcript if e["type"] == "say"]

    def outcomes(self) -> list[str]:
        return [e["disposition"] for e in self.transcript if e["type"] == "outcome"]


def piped_answers(dialogs: Dialogs, answers: dict[str, str], check_in: str = "no") -> list[str]:
    """The lines piped text mode reads: one per question asked (the routine's beats read none)."""
    conv = Conversation(DialogMachine(dialogs))
    lines: list[str] = []
    while not conv.finished:
        listening = conv.last.listening
        assert listening is not None
        if listening.timed:
            conv.reply(None)
            continue
        name = conv.state.rsplit(".", 1)[-1]
        reply = check_in if name == "check_in" else answers.get(name)
        if reply is None:
            break
        lines.append(reply)
        conv.reply(reply)
    return lines


def _start(tmp: Path, name: str, lines: list[str] | None, *args: str) -> tuple[Any, ...]:
    transcript = tmp / f"{name}.jsonl"
    command = [sys.executable, "run.py", "--text", "--time-scale", "0",
               "--transcript", str(transcript), *args]
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    return process, "".join(f"{line}\n" for line in lines or []), transcript, time.monotonic()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    dialogs = load_dialogs()
    tmp = tmp_path_factory.mktemp("text_mode")
    broken = tmp / "broken_dialogs"
    shutil.copytree(DEFAULT_DIALOG_DIR, broken)
    routine = broken / "routine.yaml"
    routine.write_text(routine.read_text("utf-8").replace("    rep_seconds: 3\n", "", 1), "utf-8")
    all_no = {name: "no" for name in dialogs.question_nodes()}
    to_routine = all_no | path_to(dialogs, "running") | {"can_stand": "yes"}
    started = {
        "sudden": _start(tmp, "sudden", ["yes"], "--emergency-number", "112"),
        "all_no": _start(tmp, "all_no", piped_answers(dialogs, all_no)),
        "routine": _start(tmp, "routine", piped_answers(dialogs, to_routine)),
        "cut_short": _start(tmp, "cut_short", ["no", "no"]),
        "broken": _start(tmp, "broken", ["no"], "--dialogs", str(broken)),
    }
    results: dict[str, Run] = {}
    for name, (process, stdin, transcript, began) in started.items():
        out, err = process.communicate(stdin, timeout=60)
        seconds = time.monotonic() - began
        lines = transcript.read_text("utf-8").splitlines() if transcript.exists() else []
        results[name] = Run(process.returncode, out, err, seconds, [json.loads(x) for x in lines])
    yield results


def check_clean(run: Run) -> None:
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not [e for e in run.transcript if e["type"] == "error"]


def test_sudden_onset_yes_is_the_guidance_with_the_number(runs: dict[str, Run],
                                                          dialogs: Dialogs) -> None:
    run = runs["sudden"]
    check_clean(run)
    steps = [s.replace("{emergency_number}", "112") for s in dialogs.emergency.steps]
    for step in steps:
        assert f"Assistant: {step}" in run.stdout
        assert step in run.said()
    assert "Please call 112 now, or ask someone near you to call." in run.stdout
    assert "911" not in run.stdout
    assert run.outcomes() == ["emergency"]
    assert run.said()[-1] == dialogs.phrases.prompts.goodbye


def test_the_transcript_is_json_lines_with_type_and_time(runs: dict[str, Run]) -> None:
    for name in ("sudden", "all_no", "routine", "cut_short"):
        events = runs[name].transcript
        assert events, name
        for event in events:
            assert isinstance(event["type"], str) and isinstance(event["t"], int | float)
        times = [e["t"] for e in events]
        assert times == sorted(times), f"{name}: time goes backwards"
    seen = {e["type"] for name in ("sudden", "routine") for e in runs[name].transcript}
    assert seen >= EVENT_TYPES
    events = runs["sudden"].transcript
    heard = next(i for i, e in enumerate(events) if e["type"] == "heard")
    assert events[heard]["text"] == "yes" and events[heard]["understood"] == "yes"
    assert events[heard + 1] == {"t": events[heard]["t"], "type": "state", "name": "emergency"}, \
        "the state change comes after what caused it"
    states = [e["name"] for e in runs["sudden"].transcript if e["type"] == "state"]
    assert "emergency" in states and states[-1] == "goodbye"


def test_all_no_is_routine_with_the_offer(runs: dict[str, Run], dialogs: Dialogs) -> None:
    run = runs["all_no"]
    check_clean(run)
    assert run.outcomes() == ["routine"]
    offer = dialogs.check.nodes["offer_routine"].ask.split("{")[0]  # type: ignore[union-attr]
    assert any(line.startswith(offer) for line in run.said())
    assert not [e for e in run.transcript if e["type"] == "exercise"]


def test_the_whole_routine_in_text_mode(runs: dict[str, Run], dialogs: Dialogs) -> None:
    run = runs["routine"]
    check_clean(run)
    assert run.seconds < 15, "time scale 0: no waiting"
    said = run.said()
    for exercise in dialogs.routine.exercises:
        assert f"{exercise.name}. {exercise.how}" in said
    assert any(line.startswith("Well done. You did seven of the seven exercises") for line in said)
    assert said[-1] == dialogs.phrases.prompts.goodbye
    exercised = {e["name"] for e in run.transcript if e["type"] == "exercise"}
    assert exercised == {e.name for e in dialogs.routine.exercises}
    assert run.outcomes() == ["routine"]


def test_end_of_input_mid_check_ends_safely(runs: dict[str, Run], dialogs: Dialogs) -> None:
    run = runs["cut_short"]
    check_clean(run)
    outcomes = run.outcomes()
    assert outcomes and outcomes[-1] in ("emergency", "urgent"), outcomes
    assert run.said()[-1] == dialogs.phrases.prompts.goodbye
    silences = [e for e in run.transcript if e["type"] == "heard" and e["text"] is None]
    assert silences, "no input is silence, not a no"


def test_a_broken_dialog_folder_stops_with_a_message(runs: dict[str, Run]) -> None:
    run = runs["broken"]
    assert run.code != 0
    assert "routine.yaml" in run.stderr and "rep_seconds" in run.stderr
    assert "line " in run.stderr
    assert "Traceback" not in run.stderr
    assert "Assistant:" not in run.stdout, "nothing half-loaded talks to the user"


# --- In process: the text voice and the session loop ---------------------------------------


def test_text_voice_prints_prompts_and_echoes_piped_answers(dialogs: Dialogs) -> None:
    clock = FakeClock()
    out = io.StringIO()
    voice = TextVoice(clock, io.StringIO("yeah\n"), out)
    transcript = Transcript(clock=clock)
    assert Session(DialogMachine(dialogs, "112"), voice, clock, transcript).run() == "emergency"
    printed = out.getvalue().splitlines()
    first = dialogs.check.nodes[dialogs.check.start].ask  # type: ignore[union-attr]
    assert printed[printed.index(f"Assistant: {first}") + 1] == "You: yeah"
    assert "Assistant: Please call 112 now, or ask someone near you to call." in printed
    assert not voice.hears_during_waits, "piped lines are answers, not words during a beat"


class BrokenVoice(TextVoice):
    def listen(self, vocabulary: Vocabulary, until: float) -> Heard | None:
        raise OSError("microphone unplugged")


def test_a_failure_is_said_never_silence(dialogs: Dialogs) -> None:
    clock = FakeClock()
    out = io.StringIO()
    transcript = Transcript(clock=clock)
    Session(DialogMachine(dialogs, "112"), BrokenVoice(clock, io.StringIO(), out), clock,
            transcript).run()
    fallback = dialogs.phrases.prompts.error_fallback.text.replace("{emergency_number}", "112")
    assert out.getvalue().splitlines()[-1] == f"Assistant: {fallback}"
    assert "microphone unplugged" in transcript.of_type("error")[0]["message"]
