"""Voice mode end to end on a virtual sound card, judged from the loudspeaker side.

Each test runs `run.py --once` as a separate process on PulseAudio null sinks,
speaks a simulated user's answers into the virtual microphone when the
microphone opens, records the virtual loudspeaker, and checks what was
audible there (transcribed with a grammar of the candidate sentences), not
only what the program wrote down.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from simulated_user import Script, SpokenSession, run_spoken_session
from speaker_transcriber import SpeakerTranscriber, words_of
from virtual_audio import (
    RATE,
    VirtualAudio,
    audible_segments,
    private_rig,
    pulseaudio_installed,
    reap_children,
    require_rig,
)

from assistant.dialog_data import Dialogs, Question

pytestmark = pytest.mark.skipif(not pulseaudio_installed(),
                                reason="PulseAudio is not installed (scripts/setup.sh installs it)")
FAST = ("--rate", "190")  # the tests' own pace; the default for users is about 150 words a minute


@pytest.fixture(scope="module")
def rig() -> Iterator[VirtualAudio]:
    require_rig()
    audio = private_rig("e2e").start()
    try:
        yield audio
    finally:
        reap_children()
        audio.stop()


def answers(replies: dict[str, list[str]], default: str | None = None,
            after: str | None = None) -> Script:
    """Replies per state (in order, then `after`); `default` for every other question."""

    def script(state: str, count: int) -> str | None:
        name = state.rsplit(".", 1)[-1]
        if name in replies:
            said = replies[name]
            return said[count] if count < len(said) else after
        if state.startswith("check.") or (state.startswith("routine.") and name not in (
                "running", "paused")):
            return default
        return None

    return script


def heard_on_speaker(session: SpokenSession, candidates: list[str], start_s: float = 0.0) -> str:
    """Decode the loudspeaker recording (from `start_s`) into the candidate sentences."""
    audio = session.speaker[int(start_s * RATE):]
    return SpeakerTranscriber([words_of(c) for c in candidates]).transcribe(audio)


def question_text(dialogs: Dialogs, name: str) -> str:
    node = dialogs.question_nodes()[name]
    assert isinstance(node, Question)
    return node.ask


def test_sudden_onset_yes_ends_in_spoken_call_911_guidance(rig: VirtualAudio, tmp_path: Path,
                                                            dialogs: Dialogs) -> None:
    session = run_spoken_session(
        rig, answers({"sudden_onset": ["yes"], "emergency": ["goodbye"]}), tmp_path,
        extra=(*FAST, "--emergency-number", "911"))
    assert session.exit_code == 0, session.stderr
    assert "emergency" in session.dispositions
    heard = [e for e in session.of_type("heard") if e["text"]]
    assert heard and heard[0]["understood"] == "yes" and heard[0]["confidence"] is not None
    answered_at = session.answered[0][0] - session.speaker_started
    said = heard_on_speaker(session, [
        *dialogs.emergency.steps[:2], dialogs.emergency.opening,
        question_text(dialogs, "cannot_move"), question_text(dialogs, "sudden_onset"),
        dialogs.phrases.prompts.reask_unclear, dialogs.phrases.prompts.goodbye,
    ], start_s=answered_at)
    assert words_of("Call 911 now") in said
    assert words_of(question_text(dialogs, "cannot_move")) not in said


def test_silence_leads_to_a_spoken_reprompt(rig: VirtualAudio, tmp_path: Path,
                                            dialogs: Dialogs) -> None:
    session = run_spoken_session(
        rig, answers({"sudden_onset": ["", "stop"]}), tmp_path, extra=FAST)
    assert session.exit_code == 0, session.stderr
    simpler = dialogs.question_nodes()["sudden_onset"].simpler
    said = heard_on_speaker(session, [
        dialogs.phrases.prompts.reask_silence, simpler, question_text(dialogs, "sudden_onset"),
        *dialogs.check.greeting.say, question_text(dialogs, "cannot_move"),
        dialogs.phrases.prompts.goodbye,
    ])
    assert words_of(dialogs.phrases.prompts.reask_silence) in said
    assert words_of(simpler) in said


def test_help_spoken_while_the_assistant_talks_interrupts_it(rig: VirtualAudio, tmp_path: Path,
                                                             dialogs: Dialogs) -> None:
    from simulated_user import spoken
    from virtual_audio import play_into_mic

    interrupted: list[bool] = []

    def barge_in(session: SpokenSession, _proc: object) -> None:
        if interrupted or session.recorder is None:
            return
        recorded = session.recorder.samples()
        if len(audible_segments(recorded, RATE)) >= 1 and len(recorded) > RATE:
            interrupted.append(True)
            play_into_mic(rig, spoken("help"), wait=False)

    session = run_spoken_session(
        rig, answers({"help": ["no"]}, default="stop"), tmp_path, extra=FAST, during=barge_in)
    assert session.exit_code == 0, session.stderr
    cut = [e for e in session.of_type("say") if e.get("interrupted_by")]
    assert cut, "no prompt was interrupted"
    greeting = " ".join(dialogs.check.greeting.say)
    assert cut[0]["text"] in greeting
    said = heard_on_speaker(session, [
        *dialogs.check.greeting.say, dialogs.phrases.prompts.help_question,
        question_text(dialogs, "sudden_onset"), dialogs.phrases.prompts.goodbye,
    ])
    assert words_of(dialogs.phrases.prompts.help_question) in said
    # The greeting was cut short: its last line was not played before the help question.
    last_line = words_of(dialogs.check.greeting.say[-1])
    help_at = said.index(words_of(dialogs.phrases.prompts.help_question))
    assert last_line not in said[:help_at]


def test_all_no_reaches_the_routine_and_counts_reps_aloud(rig: VirtualAudio, tmp_path: Path,
                                                           dialogs: Dialogs) -> None:
    counted: list[int] = []

    def script(state: str, count: int) -> str | None:
        name = state.rsplit(".", 1)[-1]
        if name in ("offer_routine", "ready"):
            return "yes"
        if name == "running":
            return "stop" if count >= 12 else None  # a few reps, then stop
        return "no"

    session = run_spoken_session(rig, script, tmp_path, extra=FAST, timeout=400)
    assert session.exit_code == 0, session.stderr
    assert session.dispositions == ["routine"]
    reps = [e for e in session.of_type("exercise") if e["phase"] == "rep" and e["rep"]]
    assert reps, "no reps were counted"
    counted = sorted({e["rep"] for e in reps})
    assert counted[:2] == [1, 2]
    first = dialogs.routine.exercises[0]
    started = next(e for e in session.of_type("say") if e["text"].startswith(first.name))
    said = heard_on_speaker(session, [
        f"{first.name}. {first.how}", *dialogs.routine.cues.side.model_dump().values(),
        "One.", "Two.", "Three.", "Four.", "Hold, two.",
        first.release or dialogs.routine.cues.lower,
        dialogs.phrases.prompts.goodbye, dialogs.routine.summary.nothing,
    ], start_s=max(0.0, started["started"] - 1.0) if started.get("started") else 0.0)
    assert "one" in said.split() and "two" in said.split()


def test_spoken_answers_carry_confidences(rig: VirtualAudio, tmp_path: Path) -> None:
    session = run_spoken_session(
        rig, answers({"sudden_onset": ["no"], "cannot_move": ["stop"]}), tmp_path, extra=FAST)
    assert session.exit_code == 0, session.stderr
    heard = [e for e in session.of_type("heard") if e["text"]]
    assert [e["understood"] for e in heard][:2] == ["no", "stop"]
    assert all(isinstance(e["confidence"], float) for e in heard)
    assert np.max(np.abs(session.speaker)) > 0.05  # the assistant was audible at all
