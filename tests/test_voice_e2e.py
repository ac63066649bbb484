"""Voice mode end to end on a virtual sound card, judged from the loudspeaker side.

Each test runs `run.py --once` as a separate process on PulseAudio null sinks,
speaks a simulated user's answers into the virtual microphone when the
microphone opens, records the virtual loudspeaker, and checks that the
expected prompt's sound is in that recording (tests/speaker_check.py), not
only that the program wrote it down.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from simulated_user import Script, SpokenSession, Watcher, run_spoken_session
from speaker_check import best_match, prompt_audio
from virtual_audio import (
    RATE,
    VirtualAudio,
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


PRESENT = 0.25  # similarity of a prompt's sound to its best match in the recording


def audible(session: SpokenSession, text: str, start_s: float = 0.0) -> float:
    """How clearly `text`, as the assistant speaks it, is in the loudspeaker recording."""
    recording = session.speaker[int(start_s * RATE):]
    return best_match(recording, prompt_audio(text, int(FAST[1])))[0]


def end_when(done: Callable[[SpokenSession], bool]) -> Watcher:
    """End the assistant once the test has seen what it came for."""

    def watch(session: SpokenSession, proc: subprocess.Popen[bytes]) -> None:
        if done(session) and proc.poll() is None:
            proc.terminate()

    return watch


def said(session: SpokenSession, text: str) -> bool:
    return any(e["text"] == text for e in session.of_type("say"))


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
    first_step = dialogs.emergency.steps[0].format(emergency_number="911")
    guidance = audible(session, first_step, answered_at)
    next_question = audible(session, question_text(dialogs, "cannot_move"), answered_at)
    assert guidance >= PRESENT and guidance > 2 * next_question


def test_silence_leads_to_a_spoken_reprompt(rig: VirtualAudio, tmp_path: Path,
                                            dialogs: Dialogs) -> None:
    simpler = dialogs.question_nodes()["sudden_onset"].simpler
    session = run_spoken_session(rig, answers({}), tmp_path, extra=FAST,
                                 during=end_when(lambda s: said(s, simpler)))
    assert [e["understood"] for e in session.of_type("heard")][:1] == ["silence"]
    assert audible(session, dialogs.phrases.prompts.reask_silence) >= PRESENT
    assert audible(session, simpler) >= PRESENT


def test_spoken_answers_carry_confidences(rig: VirtualAudio, tmp_path: Path) -> None:
    def two_answers(session: SpokenSession) -> bool:
        return sum(1 for e in session.of_type("heard") if e["text"]) >= 2

    session = run_spoken_session(
        rig, answers({"sudden_onset": ["no"], "cannot_move": ["yes"]}), tmp_path, extra=FAST,
        during=end_when(two_answers))
    heard = [e for e in session.of_type("heard") if e["text"]]
    assert [e["understood"] for e in heard][:2] == ["no", "yes"]
    assert all(isinstance(e["confidence"], float) for e in heard)
    assert "emergency" in session.dispositions
    assert np.max(np.abs(session.speaker)) > 0.05  # the assistant was audible at all
