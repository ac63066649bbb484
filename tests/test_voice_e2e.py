"""Voice mode end to end on a virtual sound card, judged from the loudspeaker side.

Each test runs `run.py --once` as a separate process on PulseAudio null sinks,
speaks a simulated user's answers into the virtual microphone when the
microphone opens, records the virtual loudspeaker, and checks that the
expected prompt's sound is in that recording (tests/speaker_check.py), not
only that the program wrote it down.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from simulated_user import Assistant, Script, SpokenSession, Watcher, run_spoken_session, spoken
from speaker_check import presence, prompt_audio
from virtual_audio import (
    RATE,
    SpeakerRecorder,
    VirtualAudio,
    play_into_mic,
    pulseaudio_installed,
    replug,
    require_rig,
    rig_while,
    unplug,
)

from assistant.dialog_data import Dialogs, Question
from assistant.voice_mode import MICROPHONE_LOST
from assistant.words import number_word

pytestmark = pytest.mark.skipif(not pulseaudio_installed(),
                                reason="PulseAudio is not installed (scripts/setup.sh installs it)")
FAST = ("--rate", "190")  # the tests' own pace; the default for users is about 150 words a minute


@pytest.fixture(scope="module")
def rig() -> Iterator[VirtualAudio]:
    require_rig()
    with rig_while("e2e") as audio:
        yield audio


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


def audible(session: SpokenSession, text: str, start_s: float = 0.0,
            rate: int | None = int(FAST[1])) -> float:
    """How clearly `text`, as the assistant speaks it, is in the loudspeaker recording
    (`rate`: the speaking rate the session used; None: the default)."""
    recording = session.speaker[int(start_s * RATE):]
    return presence(recording, prompt_audio(text, rate))


def end_when(done: Callable[[SpokenSession], bool]) -> Watcher:
    """End the assistant once the test has seen what it came for."""

    def watch(session: SpokenSession, proc: Assistant) -> None:
        if done(session) and proc.poll() is None:
            proc.terminate()

    return watch


def said(session: SpokenSession, text: str) -> bool:
    return any(e["text"] == text for e in session.of_type("say"))


def count_cue(dialogs: Dialogs, number: int) -> str:
    """What the assistant says to count a rep ("Two.")."""
    return dialogs.routine.cues.count.format(number=number_word(number)).capitalize()


def question_text(dialogs: Dialogs, name: str) -> str:
    node = dialogs.question_nodes()[name]
    assert isinstance(node, Question)
    return node.ask


@pytest.mark.parametrize("engine", ["pocketsphinx", "auto"])
def test_sudden_onset_yes_ends_in_spoken_call_911_guidance(rig: VirtualAudio, tmp_path: Path,
                                                            dialogs: Dialogs, engine: str) -> None:
    """With pocketsphinx, and with what a user gets without choosing (no Vosk model here:
    Moonshine checked by pocketsphinx)."""
    first_step = dialogs.emergency.steps[0].format(emergency_number="911")
    session = run_spoken_session(
        rig, answers({"sudden_onset": ["yes"]}), tmp_path, engine=engine,
        extra=(*FAST, "--emergency-number", "911"), during=end_when(lambda s: said(s, first_step)))
    assert "emergency" in session.dispositions
    heard = [e for e in session.of_type("heard") if e["text"]]
    assert heard and heard[0]["understood"] == "yes" and heard[0]["confidence"] is not None
    assert ("checked by pocketsphinx" in session.stderr) == (engine == "auto"), session.stderr
    answered_at = session.answered[0][0] - session.speaker_started
    guidance = audible(session, first_step, answered_at)
    next_question = audible(session, question_text(dialogs, "chest_pain"), answered_at)
    assert guidance >= PRESENT > next_question, (guidance, next_question)


def test_silence_leads_to_a_spoken_reprompt(rig: VirtualAudio, tmp_path: Path,
                                            dialogs: Dialogs) -> None:
    simpler = dialogs.question_nodes()["sudden_onset"].simpler
    session = run_spoken_session(rig, answers({}), tmp_path, extra=FAST,
                                 during=end_when(lambda s: said(s, simpler)))
    assert [e["understood"] for e in session.of_type("heard")][:1] == ["silence"]
    assert audible(session, dialogs.phrases.prompts.reask_silence) >= PRESENT
    assert audible(session, simpler) >= PRESENT


def test_spoken_answers_carry_confidences(rig: VirtualAudio, tmp_path: Path) -> None:
    # "no" again if a doubtful "no" to a red flag is confirmed ("Just to be sure: ...")
    session = run_spoken_session(
        rig, answers({"sudden_onset": ["no", "no"], "chest_pain": ["yes"]}), tmp_path,
        extra=FAST, during=end_when(lambda s: "emergency" in s.dispositions))
    heard = [e for e in session.of_type("heard") if e["text"]]
    understood = [e["understood"] for e in heard]
    assert understood[0] == "no" and understood[-1] == "yes", heard
    assert all(isinstance(e["confidence"], float) for e in heard)
    assert "emergency" in session.dispositions
    assert np.max(np.abs(session.speaker)) > 0.05  # the assistant was audible at all



# --- What people really say, by voice (issue 9) ------------------------------------------------


def test_i_cant_move_my_leg_by_voice_ends_in_spoken_guidance(rig: VirtualAudio, tmp_path: Path,
                                                              dialogs: Dialogs) -> None:
    first_step = dialogs.emergency.steps[0].format(emergency_number="911")
    session = run_spoken_session(
        rig, answers({"sudden_onset": ["I can't move my leg"]}), tmp_path, extra=FAST,
        during=end_when(lambda s: said(s, first_step)))
    heard = [e for e in session.of_type("heard") if e["text"]]
    assert heard and heard[0]["understood"] in ("yes", "red_flag"), heard
    assert "emergency" in session.dispositions
    assert audible(session, first_step) >= PRESENT


def test_no_chest_pain_by_voice_is_a_no_not_the_guidance(rig: VirtualAudio, tmp_path: Path,
                                                         dialogs: Dialogs) -> None:
    breathing = question_text(dialogs, "breathing")
    # "no" to a confirmation ("Just to be sure: ..."), if an answer was heard with doubt
    session = run_spoken_session(
        rig, answers({"sudden_onset": ["no"], "chest_pain": ["no chest pain"]}, after="no"),
        tmp_path, extra=FAST, during=end_when(lambda s: said(s, breathing)))
    heard = [(e["text"], e["understood"]) for e in session.of_type("heard") if e["text"]]
    assert heard[0][1] == "no" and ("no chest pain", "no") in heard, heard
    assert "emergency" not in session.dispositions
    assert audible(session, breathing) >= PRESENT
    assert not said(session, dialogs.emergency.opening)


def test_what_by_voice_says_the_question_again(rig: VirtualAudio, tmp_path: Path,
                                               dialogs: Dialogs) -> None:
    question = question_text(dialogs, "sudden_onset")

    def asked_twice(session: SpokenSession) -> bool:
        return sum(1 for e in session.of_type("say") if e["text"] == question) >= 2

    session = run_spoken_session(rig, answers({"sudden_onset": ["what?"]}), tmp_path,
                                 extra=FAST, during=end_when(asked_twice))
    heard = [e for e in session.of_type("heard") if e["text"]]
    assert heard and heard[0]["understood"] == "repeat", heard
    answered_at = session.answered[0][0] - session.speaker_started
    assert audible(session, question, answered_at) >= PRESENT  # said again after "what?"
    assert not said(session, dialogs.phrases.prompts.reask_unclear), "a request, not unclear"


WARM_UP_SCALE = 0.2  # waits (the warm-up's beats) five times shorter; speech at its pace


def test_all_no_reaches_the_routine_and_counts_reps_aloud(rig: VirtualAudio, tmp_path: Path,
                                                          dialogs: Dialogs) -> None:
    def counted(session: SpokenSession) -> list[int]:
        return list(dict.fromkeys(e["rep"] for e in session.of_type("exercise")))

    session = run_spoken_session(
        rig, answers({"offer_routine": ["yes"], "can_stand": ["no"], "ready": ["yes"]},
                     default="no"), tmp_path, timeout=600,
        extra=(*FAST, "--time-scale", str(WARM_UP_SCALE)),  # a short warm-up
        during=end_when(lambda s: len(counted(s)) >= 3))
    heard = [(e["text"], e["understood"], e["confidence"]) for e in session.of_type("heard")]
    assert session.dispositions[-1:] == ["routine"], (heard, session.of_type("error"))
    assert counted(session)[:3] == [1, 2, 3]
    first = dialogs.routine.exercises[0]
    assert audible(session, first.how) >= PRESENT
    counts = [audible(session, count_cue(dialogs, n)) for n in (1, 2, 3)]
    assert min(counts) >= PRESENT, counts
    # How long the whole check takes a person with no red flag, by voice at the tests'
    # pace, answers included: from the first word to the answer to the exercise offer.
    says = session.of_type("say")
    offer = next(e for e in session.of_type("heard") if e["text"] and e["t"] > next(
        s["t"] for s in says if s["text"].startswith("Would you like to do some gentle")))
    asked = [s for s in says if s["text"].endswith("?") and s["t"] < offer["t"]]
    sure = dialogs.words.policy.confirm_lead
    # event times are session time (real time / the scale); a prompt's own length is real
    real = (offer["t"] - says[0]["t"]) * WARM_UP_SCALE + says[0]["ended"] - says[0]["started"]
    print(f"\nno-red-flag check by voice: {real:.1f} s, {len(asked)} questions of which "
          f"{sum(s['text'].startswith(sure) for s in asked)} confirmations of a doubtful "
          f"'no', at {FAST[1]} words a minute", flush=True)


def test_help_spoken_while_the_assistant_talks_interrupts_it(rig: VirtualAudio, tmp_path: Path,
                                                             dialogs: Dialogs) -> None:
    help_question = dialogs.phrases.prompts.help_question

    class SayHelpMidPrompt:
        """Says "please help" 1.5 s after the assistant's first sound: inside its second
        sentence. (eSpeak's "please help" is heard at 0.99-1.0 wherever it starts; its bare
        "help" at 0.41-0.99, which the dialog would rightly ask about instead.)"""

        said = False

        def __call__(self, session: SpokenSession, proc: Assistant) -> None:
            recorder = session.recorder
            assert recorder is not None
            if not self.said:
                first = recorder.wait_for_sound(timeout=0)
                if first is not None and time.monotonic() >= recorder.time_at(first) + 1.5:
                    self.said = True
                    play_into_mic(rig, spoken("please help"), wait=False)
            if said(session, help_question) and proc.poll() is None:
                proc.terminate()

    session = run_spoken_session(rig, answers({}), tmp_path, extra=FAST,
                                 during=SayHelpMidPrompt())
    cut_short = [e for e in session.of_type("say") if e["interrupted_by"]]
    assert [e["interrupted_by"] for e in cut_short] == ["please help"]
    assert [e["name"] for e in session.of_type("state")][:2] == ["check.sudden_onset", "help"]
    interrupted = prompt_audio(cut_short[0]["text"], int(FAST[1]))
    # 5.5 s long; "please help" ends about 2.5 s in: its last third (from 3.7 s) is never played
    last_third = len(interrupted) * 2 // 3
    began = presence(session.speaker, interrupted[:RATE])
    played_to_the_end = presence(session.speaker, interrupted[last_third:])
    assert began >= PRESENT > played_to_the_end, (began, played_to_the_end)
    assert audible(session, help_question) >= PRESENT


# --- devices failing mid-session (a rig of their own: these tests unplug its devices) -------


@pytest.fixture(scope="module")
def fault_rig() -> Iterator[VirtualAudio]:
    require_rig()
    with rig_while("e2e_faults") as audio:
        yield audio


def errors(session: SpokenSession) -> list[str]:
    return [e["message"] for e in session.of_type("error")]


LONG_ANSWER = "yes, I think it came on quite suddenly, yesterday morning, after breakfast"


def test_microphone_failing_mid_answer_is_reported_and_the_session_resumes(
        fault_rig: VirtualAudio, tmp_path: Path, dialogs: Dialogs) -> None:
    guidance = dialogs.emergency.steps[0].format(emergency_number="911")

    class UnplugMidAnswer:
        """Starts a long answer, pulls the microphone 0.3 s in (seconds of it still to come,
        so a busy machine's late unplug still lands mid-answer; the speaker then falls
        silent), plugs it back, and answers again."""

        step = "wait for the question"

        def __call__(self, session: SpokenSession, proc: Assistant) -> None:
            if self.step == "wait for the question" and session.of_type("listen"):
                answering = play_into_mic(fault_rig, spoken(LONG_ANSWER), wait=False)
                time.sleep(0.3)
                unplug(fault_rig, "mic")
                answering.stop()
                time.sleep(2.0)
                replug(fault_rig)
                self.step = "wait for the microphone"
            elif self.step == "wait for the microphone" and any(
                    "microphone is back" in m for m in errors(session)):
                play_into_mic(fault_rig, spoken("yes"), wait=False)
                self.step = "answered"
            elif said(session, guidance) and proc.poll() is None:
                proc.terminate()

    session = run_spoken_session(fault_rig, answers({}), tmp_path, extra=FAST,
                                 during=UnplugMidAnswer())
    assert any("microphone stopped working" in m for m in errors(session)), errors(session)
    assert audible(session, MICROPHONE_LOST) >= PRESENT  # told aloud, not only printed
    before = [e for e in session.events if e["t"] < session.of_type("error")[0]["t"]]
    recorded = [e["type"] for e in before if e["type"] != "session"]
    assert recorded[:2] == ["state", "say"]  # nothing recorded was lost
    assert [e["understood"] for e in session.of_type("heard")] == ["yes"]
    assert "emergency" in session.dispositions
    assert audible(session, guidance) >= PRESENT


def test_loudspeaker_failing_mid_prompt_is_reported_and_the_prompt_repeated(
        fault_rig: VirtualAudio, tmp_path: Path, dialogs: Dialogs) -> None:
    guidance = dialogs.emergency.steps[0].format(emergency_number="911")
    greeting = dialogs.check.greeting.say[0].replace("{to_name}", "")  # no name set

    class UnplugMidPrompt:
        """Pulls the loudspeaker 1 s into the greeting; records it again once it is back."""

        after: SpeakerRecorder | None = None

        def __call__(self, session: SpokenSession, proc: Assistant) -> None:
            recorder = session.recorder
            assert recorder is not None
            if self.after is None:
                first = recorder.wait_for_sound(timeout=0)
                if first is not None and time.monotonic() >= recorder.time_at(first) + 1.0:
                    unplug(fault_rig, "speaker")
                    time.sleep(2.0)
                    replug(fault_rig)
                    self.after = SpeakerRecorder(fault_rig).start()
            elif said(session, guidance) and proc.poll() is None:
                proc.terminate()

    watcher = UnplugMidPrompt()
    session = run_spoken_session(fault_rig, answers({"sudden_onset": ["yes"]}), tmp_path,
                                 extra=FAST, during=watcher)
    assert watcher.after is not None
    after = watcher.after.stop()
    assert any("loudspeaker" in m and "not working" in m for m in errors(session))
    assert any("Repeating the last prompt" in m for m in errors(session))
    assert [e["text"] for e in session.of_type("say")][:1] == [greeting]
    rate = int(FAST[1])
    assert presence(after, prompt_audio(greeting, rate)) >= PRESENT  # said again, whole
    assert "emergency" in session.dispositions
    assert presence(after, prompt_audio(guidance, rate)) >= PRESENT
