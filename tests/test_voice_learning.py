"""Learning the voice of the person at home (assistant/voice_learning.py, --learn-voice).

What a person notices: they are asked for each word by name, and asked again when the
assistant heard something else; a word never heard as itself is left out, not learned
wrong; the learned voice replaces the usual one only if it hears their held-out words no
worse, and they are told which; what was recorded is kept; the assistant then listens with
it at home, never at a kiosk, and a damaged learned voice does not stop it listening. The
end-to-end test learns one real speaker's voice from the repository's clips with Debian's
sphinxtrain (scripts/setup-system.sh).
"""

from __future__ import annotations

import argparse
import json
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from assistant.asr.adaptation import missing_tools
from assistant.dialog_data import Dialogs
from assistant.listening import TurnListener
from assistant.ports import Heard, Vocabulary
from assistant.vad import VoiceActivity
from assistant.voice_learning import (
    CHECK_FILE,
    TRANSFORM_FILE,
    VOICE_FOLDER,
    Check,
    Recording,
    Take,
    check_and_learn,
    collect_takes,
    folds,
    learn_voice,
    learned_voice,
    usable,
    wanted_takes,
)
from assistant.voice_learning_mode import dialog_urgency
from bench.hearing import load_clips

ONE_VOICE = Path(__file__).resolve().parent / "clips" / "one_voice"
FRAME_BYTES = 960  # 30 ms of 16 kHz int16


@dataclass
class Lines:
    words: list[str]
    takes: int = 2
    intro: str = "Let me learn your voice."
    say_word: str = "Please say: {word}."
    again: str = "Sorry. Please say: {word}."
    skipped: str = "Never mind."
    learning: str = "Learning."
    learned: str = "Learned."
    kept_usual: str = "Kept the usual."
    failed: str = "Failed."
    stopped: str = "Stopped."


@dataclass
class ScriptedEars:
    """The person: answers each request with the next of the answers the test gave."""

    answers: list[Heard | None]
    said: list[str] = field(default_factory=list)

    def say(self, text: str) -> object:
        self.said.append(text)
        return None

    def record(self, word: str, vocabulary: Vocabulary, seconds: float
               ) -> tuple[Heard | None, bytes]:
        heard = self.answers.pop(0)
        return heard, b"\x01\x00" * 8000 if heard is not None else b""


# --- the pure core ---------------------------------------------------------------------


def test_every_word_is_asked_for_once_before_any_is_asked_again() -> None:
    assert wanted_takes(["yes", "no", "stop"], 2) == [
        ("yes", 1), ("no", 1), ("stop", 1), ("yes", 2), ("no", 2), ("stop", 2)]


def test_only_the_word_asked_for_said_aloud_is_learned_from() -> None:
    assert usable("I don't know", Heard("i dont know", 0.3))  # unsure is why we learn
    assert not usable("no", Heard("yes", 0.99))
    assert not usable("no", Heard("no", None, "touch"))
    assert not usable("no", None)


def test_the_learned_voice_is_tested_on_takes_it_did_not_learn_from() -> None:
    takes = [Take(w, n, b"") for n in (1, 2) for w in ("yes", "no")] + [Take("stop", 1, b"")]
    for learn, test in folds(takes):
        assert not set(map(id, learn)) & set(map(id, test))
        assert {t.number for t in test} in ({1}, {2})
    assert len(folds(takes)) == 2


def test_a_learned_voice_is_kept_only_if_it_hears_no_worse_on_enough_takes() -> None:
    assert Check(5, 5, 8, 16, 1.0).keep
    assert not Check(6, 5, 8, 16, 1.0).keep
    assert not Check(0, 3, 3, 6, 1.0).keep  # too few takes to tell
    assert not Check(5, 7, 8, 16, 1.0, denied_before=0, denied_after=1).keep  # a new "no"


# --- the session with stand-ins ----------------------------------------------------------


def test_a_word_heard_as_another_is_asked_again_then_left_out() -> None:
    ears = ScriptedEars([Heard("yes", 0.9), Heard("go", 0.8), Heard("no", 0.4),
                         None, Heard("yes", 0.9)])
    lines = Lines(["yes", "no", "stop"], takes=1)
    takes = collect_takes(ears, lines, lambda message: None).takes
    assert [t.word for t in takes] == ["yes", "no"]
    assert ears.said == ["Let me learn your voice.", "Please say: yes.", "Please say: no.",
                         "Sorry. Please say: no.", "Please say: stop.",
                         "Sorry. Please say: stop.", "Never mind."]


def test_an_emergency_said_instead_of_a_word_ends_learning_with_the_guidance(
        dialogs: Dialogs, tmp_path: Path) -> None:
    urgent, phrases = dialog_urgency(dialogs, "911")
    assert {"chest pain", "call nine one one"} <= set(phrases)  # listened for all along
    ears = ScriptedEars([Heard("yes", 0.9), Heard("i can't breathe", 0.42)])
    check = learn_voice(ears, Lines(["yes", "no", "stop"]), tmp_path, lambda *a: None,
                        lambda *a: "", lambda message: None, urgent, phrases)
    assert check is None
    guidance = " ".join(ears.said[ears.said.index("Please say: no.") + 1:])
    assert "call 911" in guidance.lower(), ears.said  # a doubtful hearing is still urgent
    assert learned_voice(tmp_path) is None and not (tmp_path / VOICE_FOLDER).exists()


def test_a_denial_or_an_answer_said_instead_of_a_word_is_no_emergency(dialogs: Dialogs) -> None:
    urgent, _ = dialog_urgency(dialogs, "911")
    assert urgent(Heard("no chest pain", 0.95), "no") == []
    assert urgent(Heard("yes", 0.95), "no") == []
    assert urgent(Heard("call nine one one", 0.3), "yes")
    # asked to say "call 911" and heard as "911": the word was said, not an emergency told;
    # but an emergency of another kind is one
    assert urgent(Heard("nine one one", 0.9), "call nine one one") == []
    assert urgent(Heard("i can't breathe", 0.9), "call nine one one")


def test_stop_said_instead_of_a_word_ends_learning_and_keeps_what_was_said(
        tmp_path: Path) -> None:
    ears = ScriptedEars([Heard("yes", 0.9), Heard("stop", 0.8)])
    check = learn_voice(ears, Lines(["yes", "no", "stop"]), tmp_path, lambda *a: None,
                        lambda *a: "", lambda message: None)
    assert check is None and ears.said[-1] == "Stopped."
    assert [p.name for p in (tmp_path / VOICE_FOLDER / "takes").iterdir()] == ["yes_1.wav"]


def _takes(words: list[str], numbers: tuple[int, ...] = (1, 2)) -> list[Take]:
    return [Take(w, n, b"\x00\x01" * 100) for n in numbers for w in words]


def test_a_voice_that_hears_worse_is_not_kept_and_the_old_one_stays(tmp_path: Path) -> None:
    out = tmp_path / "voice" / TRANSFORM_FILE
    out.parent.mkdir()
    out.write_text("the voice learned last month")
    trained: list[int] = []

    def train(takes: object, transform: Path, work: Path) -> None:
        trained.append(len(takes))  # type: ignore[arg-type]
        transform.write_text("new")

    check = check_and_learn(_takes(["yes", "no", "stop"]), train,
                            lambda transform, take: take.word if transform is None else "",
                            out, tmp_path / "w")
    assert (check.heard_before, check.heard_after, check.checked) == (6, 0, 6)
    assert not check.keep
    assert out.read_text() == "the voice learned last month"
    assert trained == [3, 3]  # the two checks; nothing learned from everything


def test_a_voice_that_hears_as_well_is_learned_from_every_take(tmp_path: Path) -> None:
    out = tmp_path / "voice" / TRANSFORM_FILE
    trained: list[int] = []

    def train(takes: object, transform: Path, work: Path) -> None:
        trained.append(len(takes))  # type: ignore[arg-type]
        transform.parent.mkdir(parents=True, exist_ok=True)
        transform.write_text(f"learned from {len(takes)}")  # type: ignore[arg-type]

    check = check_and_learn(_takes(["yes", "no", "stop"]), train,
                            lambda transform, take: take.word if (
                                take.word != "stop" or transform is not None) else "",
                            out, tmp_path / "w")
    assert (check.heard_before, check.heard_after, check.checked) == (4, 6, 6)
    assert check.keep and out.read_text() == "learned from 6"
    assert trained == [3, 3, 6]


def test_a_voice_that_takes_another_word_for_no_is_not_kept(tmp_path: Path) -> None:
    out = tmp_path / "voice" / TRANSFORM_FILE

    def train(takes: object, transform: Path, work: Path) -> None:
        transform.write_text("new")

    def hear(transform: Path | None, take: Take) -> str:  # hears better, but "stop" as "no"
        return "no" if transform is not None and take.word == "stop" else (
            take.word if transform is not None or take.word == "yes" else "")

    check = check_and_learn(_takes(["yes", "no", "stop"]), train, hear, out, tmp_path / "w")
    assert (check.heard_before, check.heard_after) == (2, 4)
    assert (check.denied_before, check.denied_after) == (0, 2)
    assert not check.keep and not out.exists()


def test_too_few_words_heard_keeps_the_usual_voice_and_says_so(tmp_path: Path) -> None:
    ears = ScriptedEars([Heard("yes", 0.9), None, None, None, None, None])
    check = learn_voice(ears, Lines(["yes", "no", "stop"], takes=1), tmp_path,
                        lambda *a: None, lambda *a: "", lambda message: None)
    assert check is None
    assert ears.said[-1] == "Kept the usual."
    assert learned_voice(tmp_path) is None


def test_a_failure_while_learning_is_said_and_the_takes_are_kept(tmp_path: Path) -> None:
    words = ["yes", "no", "stop"]
    ears = ScriptedEars([Heard(w, 0.9) for w in words * 2])

    def broken(*args: object) -> None:
        raise RuntimeError("bw failed")

    reports: list[str] = []
    check = learn_voice(ears, Lines(words), tmp_path, broken, lambda *a: "", reports.append)
    assert check is None and ears.said[-1] == "Failed."
    assert any("bw failed" in r for r in reports)
    assert stat.S_IMODE((tmp_path / VOICE_FOLDER).stat().st_mode) == 0o700  # owner only
    kept = sorted(p.name for p in (tmp_path / VOICE_FOLDER / "takes").iterdir())
    assert kept == ["no_1.wav", "no_2.wav", "stop_1.wav", "stop_2.wav", "yes_1.wav",
                    "yes_2.wav"]


# --- one real voice, learned end to end ----------------------------------------------------


class ClipEars:
    """The person is one real speaker of the repository's clips, heard by the assistant's
    own turn listener and pocketsphinx: each asked-for word is their next recording of it."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.clips: dict[str, list[bytes]] = {}
        for clip in load_clips(ONE_VOICE):
            self.clips.setdefault(clip.label, []).append(clip.pcm)
        self.said: list[str] = []

    def say(self, text: str) -> object:
        self.said.append(text)
        return None

    def record(self, word: str, vocabulary: Vocabulary, seconds: float
               ) -> tuple[Heard | None, bytes]:
        assert self.said[-1].endswith(f"say: {word}.")  # the person is told which word
        pcm = self.clips[word].pop(0)
        floor = np.random.default_rng(len(pcm)).normal(0, 30, 16000).astype(np.int16).tobytes()
        audio = floor + pcm + floor + floor
        listener = TurnListener(self.recording, VoiceActivity(), vocabulary)
        heard = None
        for start in range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES):
            heard = listener.feed(audio[start:start + FRAME_BYTES])
            if heard is not None:
                break
        if heard is None and listener.speaking:
            heard = listener.finish()
        return heard, self.recording.last_audio


@pytest.mark.slow
@pytest.mark.skipif(bool(missing_tools()), reason="sphinxtrain, sphinxbase-utils or "
                    "pocketsphinx (Debian) missing: scripts/setup-system.sh")
def test_one_real_voice_is_learned_checked_kept_and_then_heard_with(tmp_path: Path) -> None:
    from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer
    from assistant.asr.select import make_recognizer
    from assistant.voice_learning_mode import pocketsphinx_hearer, pocketsphinx_trainer

    engine = PocketsphinxRecognizer(partials=False)
    ears = ClipEars(Recording(engine))
    words = ["yes", "no", "stop", "down", "left", "on"]
    reports: list[str] = []
    check = learn_voice(ears, Lines(words), tmp_path,
                        pocketsphinx_trainer(engine.dictionary_forms),
                        pocketsphinx_hearer(words), reports.append)
    assert check is not None, reports
    assert check.checked == 12 and check.takes == 12
    assert check.seconds < 60
    recorded = json.loads((tmp_path / VOICE_FOLDER / CHECK_FILE).read_text())
    assert recorded["checked"] == 12 and recorded["kept"] == check.keep
    assert len(list((tmp_path / VOICE_FOLDER / "takes").glob("*.wav"))) == 12
    assert check.keep, reports
    assert ears.said[-1] == "Learned."
    transform = learned_voice(tmp_path)
    assert transform is not None
    notices: list[str] = []
    recognizer = make_recognizer("pocketsphinx", None, tmp_path, notices.append,
                                 download=False, learned_voice=transform)
    assert any("voice learned" in n for n in notices)
    # their third "yes" and "no", never learned from, heard as themselves
    for word, pcm in ((w, ears.clips[w][0]) for w in ("yes", "no")):
        recognizer.begin(Vocabulary(("yes", "no", "stop", "help")))
        recognizer.accept(pcm)
        assert recognizer.end().text == word


# --- where the learned voice is used ---------------------------------------------------------


def test_a_damaged_learned_voice_is_said_and_listening_goes_on(tmp_path: Path) -> None:
    from assistant.asr.select import make_recognizer

    broken = tmp_path / TRANSFORM_FILE
    broken.write_text("not a transform")
    notices: list[str] = []
    recognizer = make_recognizer("pocketsphinx", None, tmp_path, notices.append,
                                 download=False, learned_voice=broken)
    assert any("could not be loaded" in n and "--learn-voice" in n for n in notices)
    recognizer.begin(Vocabulary(("yes", "no")))
    assert recognizer.end().text == ""  # it still works


def _args(tmp_path: Path, **given: object) -> argparse.Namespace:
    values = {"kiosk": False, "learned_voice": True, "data_dir": str(tmp_path), **given}
    return argparse.Namespace(**values)


def test_the_learned_voice_is_used_at_home_and_never_at_a_kiosk(tmp_path: Path) -> None:
    from assistant.voice_mode import _learned_voice

    assert _learned_voice(_args(tmp_path)) is None  # nothing learned yet
    (tmp_path / VOICE_FOLDER).mkdir()
    (tmp_path / VOICE_FOLDER / TRANSFORM_FILE).write_text("x")
    assert _learned_voice(_args(tmp_path)) == tmp_path / VOICE_FOLDER / TRANSFORM_FILE
    assert _learned_voice(_args(tmp_path, kiosk=True)) is None
    assert _learned_voice(_args(tmp_path, learned_voice=False)) is None


def test_a_kiosk_refuses_to_learn_a_voice_and_forget_deletes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    data = ["--data-dir", str(tmp_path)]
    assert main(["--learn-voice", "--kiosk", *data]) == 2
    assert "A kiosk does not learn voices" in capsys.readouterr().err
    assert main(["--learn-voice", "--text", *data]) == 2
    assert "needs the microphone" in capsys.readouterr().err
    (tmp_path / VOICE_FOLDER / "takes").mkdir(parents=True)
    (tmp_path / VOICE_FOLDER / TRANSFORM_FILE).write_text("x")
    assert main(["--forget-voice", *data]) == 0
    assert "deleted" in capsys.readouterr().out
    assert not (tmp_path / VOICE_FOLDER).exists()
