"""Text mode end to end: `run.py --text` in a subprocess, answers piped in, transcript read back.

The runs start together (module fixture) so the whole file takes about as long as one run.
"""

from __future__ import annotations

import io
import json
import shutil
import signal
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
    return piped_script(dialogs, {k: [v] for k, v in answers.items()}, check_in=check_in,
                        default=None)


def piped_script(dialogs: Dialogs, replies: dict[str, list[str]], default: str | None = "no",
                 check_in: str = "no", limit: int = 60) -> list[str]:
    """Lines to pipe: each state's replies in order (then `default`), one per time it listens;
    the routine's beats read none. Stops at the first moment with nothing left to say."""
    conv = Conversation(DialogMachine(dialogs))
    queues = {k: list(v) for k, v in replies.items()}
    lines: list[str] = []
    while not conv.finished and len(lines) < limit:
        listening = conv.last.listening
        assert listening is not None
        if listening.timed:
            conv.reply(None)
            continue
        name = conv.state.rsplit(".", 1)[-1]
        queue = queues.get(name)
        reply = queue.pop(0) if queue else (check_in if name == "check_in" else default)
        if reply is None or conv.state == "emergency":
            break
        lines.append(reply)
        conv.reply(reply)
    return lines


# A dozen conversations as older adults have them (issue 9): what they say, piped in as
# typed, and the level of care the session must end in, with words it must say.
CONVERSATIONS: dict[str, tuple[dict[str, list[str]], str, list[str]]] = {
    "cant_lift_foot": ({"sudden_onset": ["I can't lift my foot off the floor since lunch"]},
                       "emergency", ["You told me about"]),
    "droop_that_passed": ({"face": ["it was drooping this morning but it's better now"]},
                          "emergency", ["This could be an emergency."]),
    "denied_chest_pain": ({"chest_pain": ["there's no pain in my chest at all"],
                           "offer_routine": ["no thanks"]}, "routine",
                          ["Would you like to do some gentle seated exercises"]),
    "hard_of_hearing": ({"sudden_onset": ["sorry?", "eh?", "no"], "offer_routine": ["no"]},
                        "routine", ["Since yesterday, did your leg suddenly get weak?"]),
    "worst_headache": ({"headache": ["worst headache I've ever had"]}, "emergency",
                       ["You told me about a sudden, very bad headache."]),
    "speech_in_passing": ({"offer_routine": [
        "no thanks, but my speech has been funny since breakfast"]}, "emergency",
        ["You told me about trouble with speech."]),
    "hedges_never_no": ({"arm": ["I couldn't say", "I'm not positive"]}, "emergency",
                        ["Let me ask it another way.", "I couldn't get a clear answer"]),
    "long_standing_tingling": ({"spreading": [
        "my toes have tingled ever since my sugar went up years ago", "no, same as always"],
        "offer_routine": ["no"]}, "routine", ["Is it new, or worse today?"]),
    "self_correction": ({"arm": ["no... wait, yes, this morning it did"]}, "emergency",
                        ["You told me about a weak or numb arm."]),
    "another_language": ({"sudden_onset": ["si", "no"], "offer_routine": ["no"]}, "routine",
                         ["Sorry, I didn't understand."]),
    "someone_else": ({"chest_pain": ["my husband has chest pain", "no"],
                      "offer_routine": ["no"]}, "routine", ["Sorry, I didn't understand."]),
    "check_in_sentences": ({"offer_routine": ["yes please"], "can_stand": ["I managed with help"],
                            "ready": ["okay"]}, "emergency",
                           ["Good.", "Stop now, and stay seated."]),
}
CHECK_INS = {"check_in_sentences": ["doing alright", "my chest feels heavy"]}


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
    for name, (replies, _, _) in CONVERSATIONS.items():
        script = piped_script(dialogs, {**replies, "check_in": CHECK_INS.get(name, [])})
        started[name] = _start(tmp, name, script)
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
    assert run.seconds < 60, "time scale 0: no waiting (the routine plans about 15 minutes)"
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
    assert run.transcript[-1]["type"] == "end" and run.transcript[-1]["reason"] == "end of input"


def test_every_session_starts_with_its_own_record(runs: dict[str, Run]) -> None:
    ids = set()
    for run in runs.values():
        if not run.transcript:
            continue
        first, last = run.transcript[0], run.transcript[-1]
        assert first["type"] == "session" and first["options"]["text"] is True
        assert first["started"][:4].isdigit() and "T" in first["started"]
        assert last["type"] == "end"
        ids.add(first["id"])
    assert len(ids) == len([r for r in runs.values() if r.transcript])


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_what_people_really_say_ends_where_it_must(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    check_clean(run)
    _, disposition, lines = CONVERSATIONS[name]
    assert run.outcomes()[-1] == disposition, run.stdout
    said = run.said()
    position = 0
    for line in lines:
        position = next((i for i in range(position, len(said)) if line in said[i]), -1) + 1
        assert position, f"{line!r} not said, in order:\n" + "\n".join(said)
    heard = [e for e in run.transcript if e["type"] == "heard" and e["text"]]
    assert heard and all("understood" in e and "meaning" in e for e in heard)
    if disposition == "emergency":
        assert not [e for e in run.transcript if e["type"] == "exercise" and e["t"] >
                    next(o["t"] for o in run.transcript if o["type"] == "outcome"
                         and o["disposition"] == "emergency")]


def test_typed_text_is_recorded_verbatim_even_when_it_means_nothing(dialogs: Dialogs) -> None:
    clock = FakeClock()
    voice = TextVoice(clock, io.StringIO("...\nno\n\u0434\u0430\nno\n"), io.StringIO())
    transcript = Transcript(clock=clock)
    Session(DialogMachine(dialogs), voice, clock, transcript).run()
    heard = [(e["text"], e["understood"]) for e in transcript.of_type("heard")]
    assert heard[:4] == [("...", "unclear"), ("no", "no"), ("\u0434\u0430", "unclear"),
                         ("no", "no")]


def test_ctrl_c_says_and_writes_the_safety_net_first(tmp_path: Path, dialogs: Dialogs) -> None:
    transcript = tmp_path / "interrupted.jsonl"
    process = subprocess.Popen(
        [sys.executable, "run.py", "--text", "--transcript", str(transcript)], cwd=REPO,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as a person's terminal has it: a suite started in the background (`.ci/run &`)
        # hands its children Ctrl-C ignored, and Python then never raises it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdout is not None
    for _ in range(20):  # wait for the first question
        if "Did your leg" in process.stdout.readline():
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in err
    events = [json.loads(line) for line in transcript.read_text("utf-8").splitlines()]
    net = dialogs.phrases.prompts.goodbye_safety_net.text.replace("{emergency_number}", "911")
    assert f"Assistant: {net}" in out
    assert [e["type"] for e in events[-2:]] == ["say", "end"]
    assert events[-2]["text"] == net and events[-1]["reason"] == "interrupted"


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
    def listen(self, vocabulary: Vocabulary, seconds: float) -> Heard | None:
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
