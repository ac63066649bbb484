"""Learning the voice of the person the assistant lives with: `python run.py --learn-voice`.

Why: pocketsphinx's model was trained on other people. Measured on the shared clips
(leave-one-out, a dozen words of each speaker's own voice; bench/enrolment.py and
bench/side_by_side.md, "Learning one voice"), a transform learned from those words heard
far more of that speaker's "yes" and "no" with a television on and no fewer in a quiet
room, while one learned from a crowd of other voices lost in a quiet room. So the
assistant learns one voice, at home, when asked; a kiosk never does (residents share it).

How, kindly and safely: each word of the data (dialogs/phrases.yaml, `voice_learning`) is
asked for in turn, and asked again, so every word is said twice; a take is learned from
only when the recognizer heard the very word asked for (a wrong transcript would teach
wrong sounds). Before the learned voice replaces the usual one it must prove itself on
takes it did not learn from: trained on the first takes and tested on the second, and the
other way round, it must hear at least as many of them as the usual model does, and take
no more of them for a "no" (the costly error at a red-flag question). If it does not, the
usual model stays and the person is told so. The takes, the transform and
the check are kept under the household's data folder; nothing is sent anywhere. The
dialog's own phrases are listened for all along: an emergency said instead of a word ends
the learning with the call-911 guidance, as it would in a check; "stop" ends it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

from assistant.asr.base import Hypothesis, Recognizer
from assistant.ports import Heard, Vocabulary
from assistant.words import normalize

VOICE_FOLDER = "voice"  # under the household's data folder (--data-dir)
TRANSFORM_FILE = "pocketsphinx.mllr"
CHECK_FILE = "learned.json"
TRIES_PER_TAKE = 2  # a word not heard as itself is asked for once more, then left out
# The learned voice must be tested on at least this many takes it did not learn from.
MIN_CHECKED_TAKES = 4
LISTEN_SECONDS = 8.0


def learned_voice(data_dir: Path) -> Path | None:
    """The transform learned for this household, or None."""
    path = data_dir / VOICE_FOLDER / TRANSFORM_FILE
    return path if path.is_file() else None


def forget_voice(data_dir: Path) -> bool:
    """Delete the learned voice and its recordings; True if there was one."""
    folder = data_dir / VOICE_FOLDER
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True


# --- the pure core ---------------------------------------------------------------------


@dataclass(frozen=True)
class Take:
    """One word as the person said it: the audio the recognizer heard it in."""

    word: str
    number: int  # 1 for the first time this word was said, 2 for the second
    audio: bytes


def wanted_takes(words: Sequence[str], takes: int) -> list[tuple[str, int]]:
    """Every word once, then every word again: (word, take number), in asking order.

    A word is not asked twice in a row, so the second take is said afresh, not copied."""
    return [(word, number) for number in range(1, takes + 1) for word in words]


def usable(asked: str, heard: Heard | None) -> bool:
    """A take can be learned from only if the recognizer heard the word that was asked for
    (at any confidence: it is the usual model that is unsure, which is why we learn)."""
    return heard is not None and heard.source == "voice" and \
        normalize(heard.text) == normalize(asked)


def folds(takes: Sequence[Take]) -> list[tuple[list[Take], list[Take]]]:
    """(learn from, test on) twice: first takes against second takes, and the reverse.
    Only words said both times are tested; every take is learned from in some fold."""
    out = []
    for tested in (2, 1):
        test = [t for t in takes if t.number == tested]
        learn = [t for t in takes if t.number != tested]
        if test and learn:
            out.append((learn, test))
    return out


@dataclass(frozen=True)
class Check:
    """How the learned voice did on takes it had not learned from, against the usual model."""

    heard_before: int  # takes the usual model heard as the word asked for, surely enough
    heard_after: int  # ... and the learned voice
    checked: int
    takes: int  # takes learned from in the end
    seconds: float  # time spent learning and checking
    denied_before: int = 0  # takes of another word the usual model took for "no"
    denied_after: int = 0  # ... and the learned voice (the costly error at a red flag)

    @property
    def keep(self) -> bool:
        """Kept only if, on enough takes, it hears no fewer of them as asked, and takes no
        more of them for a "no", than the usual model."""
        return (self.checked >= MIN_CHECKED_TAKES and self.heard_after >= self.heard_before
                and self.denied_after <= self.denied_before)


# --- adapters --------------------------------------------------------------------------


class Recording:
    """A recognizer that also keeps the audio it last recognized (the take)."""

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner
        self.name = inner.name
        self.min_confidence = inner.min_confidence
        self.interrupt_floor = inner.interrupt_floor
        self._audio = bytearray()
        self.last_audio = b""

    def begin(self, vocabulary: Vocabulary) -> None:
        self._audio.clear()
        self.inner.begin(vocabulary)

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self._audio.extend(pcm)
        return self.inner.accept(pcm)

    def end(self) -> Hypothesis:
        self.last_audio = bytes(self._audio)
        return self.inner.end()


class Ears(Protocol):
    """Saying a line and recording one answer: AudioVoice with a Recording, or a stand-in."""

    def say(self, text: str) -> object: ...

    def record(self, word: str, vocabulary: Vocabulary, seconds: float
               ) -> tuple[Heard | None, bytes]: ...


class Lines(Protocol):
    """What the assistant says while learning (dialogs/phrases.yaml, voice_learning)."""

    words: list[str]
    takes: int
    intro: str
    say_word: str
    again: str
    skipped: str
    learning: str
    learned: str
    kept_usual: str
    failed: str
    stopped: str


# (something heard that was not the word, the word asked for) -> the call-911 guidance if
# it tells of an emergency other than the word itself (the dialog decides, as in a check:
# assistant/voice_learning_mode.py), else [].
Urgent = Callable[[Heard, str], Sequence[str]]
# (transform or None, take) -> the phrase heard surely enough for the dialog, else ""
Hear = Callable[[Path | None, Take], str]
DENIALS = frozenset({"no", "nope", "nah"})
Train = Callable[[Sequence[Take], Path, Path], None]  # (takes, transform out, work folder)


@dataclass
class Collected:
    """The takes heard as asked, and why asking ended early, if it did."""

    takes: list[Take]
    urgent: list[str] = field(default_factory=list)  # call-911 guidance to say at once
    stopped: bool = False  # the person said "stop" (when not asked to)


def collect_takes(ears: Ears, lines: Lines, report: Callable[[str], None],
                  urgent: Urgent = lambda heard, word: [], also: Sequence[str] = ()
                  ) -> Collected:
    """Ask for every word twice and keep the takes heard as the word asked for. Whatever
    else is said is still listened to (`also`: the dialog's own phrases): an emergency ends
    the learning with the call-911 guidance that `urgent` gives, a "stop" ends it politely."""
    vocabulary = Vocabulary(tuple(dict.fromkeys([*lines.words, *also])))
    ears.say(lines.intro)
    out = Collected([])
    for word, number in wanted_takes(lines.words, lines.takes):
        for attempt in range(TRIES_PER_TAKE):
            ears.say((lines.say_word if attempt == 0 else lines.again).format(word=word))
            heard, audio = ears.record(word, vocabulary, LISTEN_SECONDS)
            if usable(word, heard) and audio:
                out.takes.append(Take(word, number, audio))
                break
            report(f"voice learning: asked for {word!r}, heard "
                   f"{heard.text if heard is not None else 'nothing'!r}")
            if heard is not None:
                out.urgent = list(urgent(heard, word))
                out.stopped = normalize(heard.text) == "stop"
                if out.urgent or out.stopped:
                    return out
        else:
            ears.say(lines.skipped)
    return out


def check_and_learn(takes: Sequence[Take], train: Train, hear: Hear, out: Path,
                    work: Path) -> Check:
    """Test a voice learned from part of the takes on the rest (both ways), then, if it
    does no worse than the usual model, learn from every take into `out` (atomically)."""
    started = time.monotonic()
    work.mkdir(parents=True, exist_ok=True)
    right = [0, 0]  # heard as asked: usual model, learned voice
    denied = [0, 0]  # another word taken for "no"
    checked = 0
    for index, (learn, test) in enumerate(folds(takes)):
        transform = work / f"fold{index}.mllr"
        train(learn, transform, work / f"fold{index}")
        for take in test:
            for which, model in enumerate((None, transform)):
                heard = normalize(hear(model, take))
                right[which] += heard == normalize(take.word)
                denied[which] += heard in DENIALS and normalize(take.word) not in DENIALS
            checked += 1
    result = Check(right[0], right[1], checked, len(takes), 0.0, denied[0], denied[1])
    if result.keep:
        fresh = work / "all.mllr"
        train(takes, fresh, work / "all")
        out.parent.mkdir(parents=True, exist_ok=True)
        _move(fresh, out)
    return replace(result, seconds=time.monotonic() - started)


def _move(source: Path, target: Path) -> None:
    """Copy next to the target, then rename: a reader never sees half a transform."""
    partial = target.with_name(target.name + ".new")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def learn_voice(ears: Ears, lines: Lines, data_dir: Path, train: Train, hear: Hear,
                report: Callable[[str], None], urgent: Urgent = lambda heard, word: [],
                also: Sequence[str] = ()) -> Check | None:
    """The whole session: ask, record, check, keep or not, and say which. None: nothing was
    learned (too few takes heard, stopped, an emergency, a failure); the usual model stays."""
    collected = collect_takes(ears, lines, report, urgent, also)
    if collected.urgent:
        for line in collected.urgent:
            ears.say(line)
        return None
    takes = collected.takes
    folder = data_dir / VOICE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # recordings of a person's voice: its owner only, like the records
    _keep_takes(takes, folder / "takes")
    if collected.stopped:
        ears.say(lines.stopped)
        return None
    if sum(len(test) for _, test in folds(takes)) < MIN_CHECKED_TAKES:  # too few to check
        ears.say(lines.kept_usual)
        return None
    ears.say(lines.learning)
    try:
        with tempfile.TemporaryDirectory(prefix="voice-") as scratch:
            check = check_and_learn(takes, train, hear, folder / TRANSFORM_FILE, Path(scratch))
    except Exception as exc:  # noqa: BLE001 - any failure leaves the usual model, said plainly
        report(f"voice learning failed: {exc}")
        ears.say(lines.failed)
        return None
    (folder / CHECK_FILE).write_text(json.dumps(
        {**asdict(check), "kept": check.keep, "when": time.strftime("%Y-%m-%d %H:%M")},
        indent=1), encoding="utf-8")
    report(f"voice learning: heard {check.heard_before} of {check.checked} held-out takes "
           f"before, {check.heard_after} after; taken for 'no' {check.denied_before} before, "
           f"{check.denied_after} after; {'kept' if check.keep else 'not kept'} "
           f"({check.seconds:.1f} s)")
    ears.say(lines.learned if check.keep else lines.kept_usual)
    return check


def _keep_takes(takes: Sequence[Take], folder: Path) -> None:
    from assistant.asr.adaptation import write_wav

    for take in takes:
        write_wav(folder / f"{'_'.join(normalize(take.word).split())}_{take.number}.wav",
                  take.audio)
