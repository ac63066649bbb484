"""Learning one voice: an MLLR transform trained on a speaker's own words, tested on a
word of theirs it never saw, in four rooms, and on strangers' words and noise.

Run: python -m bench.enrolment [--clips DIR] [--min-clips N] [--rooms ROOM ...]
                               [--jobs N] [--speakers-limit N]

Why: the assistant lives with one person. A transform trained on many other people's
voices lost in a quiet room (bench/mllr.py); this measures whether one trained on about a
dozen words of the person's own voice (assistant/asr/adaptation.py) hears their "yes"
and "no" better, in which rooms, and whether it takes more of their other words, or a
stranger's words and noise, for an answer.

The clips are Speech Commands v0.02 (Warden 2018, arXiv:1804.03209), CC BY 4.0: see the
LICENSE next to the clips (`--clips`); attribution must be kept wherever the clips or
figures from them are used. They are volunteers' one-word recordings, not older adults;
and the enrolment words come from the same session and microphone as the test word,
the most favourable case (an enrolment at home weeks before the answer is not
measured here).

Method. A speaker takes part with at least `--min-clips` spoken clips (label not
`_silence_`) of which at least one is `yes` or `no`. Leave one out: for each of their
clips, a global MLLR transform of pocketsphinx's model is trained on their OTHER clips
as recorded (transcript: bench.mllr.spoken_word, only words of the dictionary), and the
held-out clip is heard with and without it through the assistant's own turn listener
(bench.hearing.heard_in_turn, the 20-phrase yes/no vocabulary, the recognizer's floor),
in each room (bench.rooms.Rooms(...).turn(clip, room, "as recorded")). Strangers: each
speaker's transform trained on all their clips hears every `_unknown_` and `_silence_`
clip of the OTHER speakers, in quiet and "tv 10 dB" (those of them in `--rooms`); the
same clips heard once without a transform are counted against every speaker they are
strangers to, so both columns count the same (speaker, clip) pairs.

Figures per room, before -> after (without -> with the transform), at the floor:
  yes/no: held-out `yes`/`no` clips heard as a phrase meaning that (bench.hearing
  DEFAULT_INTENTS); stop: `stop` clips heard as stop or goodbye; own other words: the
  speaker's clips of other labels taken as any phrase at all, and which were taken as
  "no"/"nope" (the costly error at a red-flag question). Strangers: `_unknown_` and
  `_silence_` clips taken as any phrase, without and with the transform.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.asr.adaptation import dictionary_words, model_dir, prepare_model, train_transform
from assistant.asr.base import Recognizer
from assistant.asr.pocketsphinx_engine import (
    POCKETSPHINX_MIN_CONFIDENCE,
    PocketsphinxRecognizer,
)
from bench.hearing import (
    CLIPS_DIR,
    DEFAULT_INTENTS,
    YES_NO_VOCABULARY,
    Clip,
    heard_in_turn,
    load_clips,
)
from bench.mllr import spoken_word
from bench.rooms import ROOMS as ALL_ROOMS
from bench.rooms import Rooms, known

ROOMS = ("quiet", "tv 10 dB", "household 10 dB", "reverberant")
STRANGER_ROOMS = ("quiet", "tv 10 dB")
STRANGER_LABELS = ("_unknown_", "_silence_")
ANSWERS = ("yes", "no")
MIN_CLIPS = 6
JOBS = 2
FLOOR = POCKETSPHINX_MIN_CONFIDENCE  # the recognizer's shipped floor (min_confidence)
HELD_OUT, STRANGERS, BASELINE = "held out", "strangers", "baseline"

Hearing = tuple[str, float | None]  # the text heard ("" nothing) and its confidence


@dataclass(frozen=True)
class Task:
    """One job for a worker: a held-out clip, a speaker's strangers, or one stranger clip
    heard without a transform (`index`: of the held-out clip among the speaker's spoken
    clips, or of the stranger clip in the run's list; -1 for all)."""

    kind: str
    speaker: str
    index: int


@dataclass(frozen=True)
class Result:
    """One clip heard in one room; `before`/`after`: without / with the speaker's
    transform (None: not heard that way in this task)."""

    kind: str
    speaker: str  # whose transform (BASELINE: "")
    label: str
    room: str
    clip: str  # the clip's path, to pair a stranger clip with its baseline
    before: Hearing | None
    after: Hearing | None


@dataclass(frozen=True)
class Training:
    """One transform trained: how many utterances, how many seconds."""

    kind: str
    speaker: str
    utterances: int
    seconds: float


@dataclass(frozen=True)
class Count:
    """k of n clips, printed "k/n (share)"."""

    k: int
    n: int

    @property
    def share(self) -> float | None:
        return self.k / self.n if self.n else None

    def __str__(self) -> str:
        share = self.share
        return f"{self.k}/{self.n}" + (f" ({share:.2f})" if share is not None else "")


@dataclass(frozen=True)
class RoomFigures:
    """A room's held-out figures, each (before, after)."""

    room: str
    yes_no: tuple[Count, Count]
    stop: tuple[Count, Count]
    own_other: tuple[Count, Count]
    own_as_no: tuple[list[str], list[str]]  # "go as 'no'", one per clip


# --- choosing speakers and tasks (pure) --------------------------------------------------


def choose_speakers(clips: Sequence[Clip], min_clips: int = MIN_CLIPS,
                    limit: int | None = None) -> dict[str, list[Clip]]:
    """Speakers (in the clip set's order) with enough spoken clips to leave one out and
    a yes or no among them, each with their spoken clips; the first `limit` only."""
    spoken: dict[str, list[Clip]] = {}
    for clip in clips:
        if clip.label != "_silence_":
            spoken.setdefault(clip.speaker, []).append(clip)
    chosen = {speaker: own for speaker, own in spoken.items()
              if len(own) >= min_clips and any(c.label in ANSWERS for c in own)}
    return dict(list(chosen.items())[:limit]) if limit is not None else chosen


def strangers_of(clips: Sequence[Clip], speaker: str) -> list[Clip]:
    """Other speakers' `_unknown_` words and the recorded noise: what must not be taken."""
    return [c for c in clips if c.speaker != speaker and c.label in STRANGER_LABELS]


def training_pairs(own: Sequence[Clip], known_words: set[str], leave_out: int | None = None
                   ) -> list[tuple[Clip, str]]:
    """(clip, word) to train on: the speaker's clips but the held-out one, whose word the
    dictionary has (bw can only align words it can spell)."""
    pairs = []
    for index, clip in enumerate(own):
        word = spoken_word(clip)
        if index != leave_out and word is not None and word in known_words:
            pairs.append((clip, word))
    return pairs


def make_tasks(speakers: Mapping[str, Sequence[Clip]], stranger_clips: int,
               with_strangers: bool = True) -> list[Task]:
    """Every job, longest first so the pool ends evenly: each speaker's strangers (a
    training and many turns), the held-out clips, then the stranger clips' baseline."""
    tasks = [Task(STRANGERS, s, -1) for s in speakers] if with_strangers else []
    tasks += [Task(HELD_OUT, s, i) for s, own in speakers.items() for i in range(len(own))]
    if with_strangers:
        tasks += [Task(BASELINE, "", i) for i in range(stranger_clips)]
    return tasks


# --- counting and formatting (pure) ------------------------------------------------------


def taken(hearing: Hearing | None, floor: float = FLOOR) -> bool:
    """Acted on: some phrase heard at or above the floor."""
    return (hearing is not None and bool(hearing[0]) and hearing[1] is not None
            and hearing[1] >= floor)


def taken_as(hearing: Hearing | None, phrases: Iterable[str], floor: float = FLOOR) -> bool:
    return taken(hearing, floor) and hearing is not None and hearing[0] in tuple(phrases)


def attach_baseline(results: Sequence[Result]) -> list[Result]:
    """The strangers' rows with their clip's hearing without a transform as `before`
    (heard once per clip and room, BASELINE rows), the baseline rows themselves dropped."""
    baseline = {(r.clip, r.room): r.before for r in results if r.kind == BASELINE}
    return [replace(r, before=baseline.get((r.clip, r.room))) if r.kind == STRANGERS else r
            for r in results if r.kind != BASELINE]


def _before_after(rows: Sequence[Result], ok: Callable[[str, Hearing | None], bool]
                  ) -> tuple[Count, Count]:
    return (Count(sum(ok(r.label, r.before) for r in rows), len(rows)),
            Count(sum(ok(r.label, r.after) for r in rows), len(rows)))


def _taken_as_no(rows: Sequence[Result], pick: Callable[[Result], Hearing | None],
                 floor: float) -> list[str]:
    """Which clips were taken as "no" or "nope": "go as 'no'", one per clip."""
    return [f"{r.label} as {h[0]!r}" for r in rows
            if (h := pick(r)) is not None and taken_as(h, DEFAULT_INTENTS["no"], floor)]


def room_figures(results: Sequence[Result], room: str, floor: float = FLOOR) -> RoomFigures:
    """The held-out figures of one room."""
    rows = [r for r in results if r.kind == HELD_OUT and r.room == room]
    answers = [r for r in rows if r.label in ANSWERS]
    stops = [r for r in rows if r.label == "stop"]
    others = [r for r in rows if r.label not in (*ANSWERS, "stop")]
    return RoomFigures(
        room,
        _before_after(answers, lambda label, h: taken_as(h, DEFAULT_INTENTS[label], floor)),
        _before_after(stops, lambda _label, h: taken_as(h, DEFAULT_INTENTS["stop"], floor)),
        _before_after(others, lambda _label, h: taken(h, floor)),
        (_taken_as_no(others, lambda r: r.before, floor),
         _taken_as_no(others, lambda r: r.after, floor)))


def stranger_figures(results: Sequence[Result], room: str, label: str,
                     floor: float = FLOOR) -> tuple[Count, Count]:
    """Strangers' clips of one label taken as any phrase: without, with the transform
    (rows already paired with their baseline: attach_baseline)."""
    rows = [r for r in results if r.kind == STRANGERS and r.room == room and r.label == label]
    return _before_after(rows, lambda _label, h: taken(h, floor))


def format_trainings(trainings: Sequence[Training]) -> str:
    """Median and max seconds and utterances per training, held-out and full apart."""
    lines = []
    for kind, what in ((HELD_OUT, "leave-one-out"), (STRANGERS, "all clips")):
        group = [t for t in trainings if t.kind == kind]
        if not group:
            continue
        seconds = [t.seconds for t in group]
        words = [t.utterances for t in group]
        spread = f"{min(words)}" + (f"-{max(words)}" if max(words) > min(words) else "")
        lines.append(
            f"training ({what}): {len(group)} transform(s), {spread} utterances each "
            f"(median {statistics.median(words):g}); seconds median "
            f"{statistics.median(seconds):.2f}, max {max(seconds):.2f}")
    return "\n".join(lines)


def format_room(figures: RoomFigures, floor: float = FLOOR) -> str:
    """One room's block: each figure before -> after."""
    def row(name: str, pair: tuple[Count, Count]) -> str:
        return f"  {name:<38} {pair[0]!s:>14}  ->  {pair[1]!s}"

    lines = [f"{figures.room}  (before -> after the transform, floor {floor:.2f})",
             row("yes/no heard right", figures.yes_no),
             row("stop heard as stop/goodbye", figures.stop),
             row("own other words taken as any phrase", figures.own_other)]
    for when, listed in zip(("before", "after"), figures.own_as_no, strict=True):
        grouped = Counter(listed).most_common()
        lines.append(textwrap.fill(
            f"own other words taken as no/nope, {when}: {len(listed)}"
            + (" (" + ", ".join(f"{what} x{n}" for what, n in grouped) + ")" if listed else ""),
            width=96, initial_indent="    ", subsequent_indent="      "))
    return "\n".join(lines)


def format_strangers(results: Sequence[Result], rooms: Sequence[str],
                     floor: float = FLOOR) -> str:
    """Strangers' words and noise taken as any phrase, k/n, without and with the transform."""
    lines = ["strangers (other speakers' clips; each speaker's transform from all their "
             "clips)",
             f"  {'room':<16} {'clips':<10} {'without':>16}  {'with':>16}"]
    for room in rooms:
        for label in STRANGER_LABELS:
            without, with_ = stranger_figures(results, room, label, floor)
            lines.append(f"  {room:<16} {label:<10} {without!s:>16}  {with_!s:>16}")
    return "\n".join(lines)


def format_report(results: Sequence[Result], trainings: Sequence[Training],
                  rooms: Sequence[str], floor: float = FLOOR) -> str:
    """The whole table: timings, a block per room, the strangers."""
    paired = attach_baseline(results)
    blocks = [format_trainings(trainings)]
    blocks += [format_room(room_figures(paired, room, floor), floor) for room in rooms]
    stranger_rooms = [r for r in STRANGER_ROOMS if r in rooms]
    if any(r.kind == STRANGERS for r in paired) and stranger_rooms:
        blocks.append(format_strangers(paired, stranger_rooms, floor))
    return "\n\n".join(b for b in blocks if b)


# --- training and hearing ------------------------------------------------------------------


@dataclass
class Setting:
    """What every worker needs, built once in the parent (the pool forks it)."""

    clips: list[Clip]
    speakers: dict[str, list[Clip]]
    strangers: list[Clip]  # `_unknown_` and `_silence_` clips strangers to a speaker
    rooms: list[str]
    noise: Rooms
    known_words: set[str]
    model: Path  # prepared once (prepare_model)
    scratch: Path


_SETTING: list[Setting] = []
_BASELINE: list[Recognizer] = []


def _set(setting: Setting) -> None:
    _SETTING[:] = [setting]


def baseline() -> Recognizer:
    """pocketsphinx without a transform, made once per process (loading takes a while)."""
    if not _BASELINE:
        _BASELINE.append(PocketsphinxRecognizer(partials=False))
    return _BASELINE[0]


def hear(setting: Setting, recognizer: Recognizer, clip: Clip, room: str) -> Hearing:
    """The clip as an answer in the room, through the assistant's turn listener."""
    turn = setting.noise.turn(clip, room, "as recorded")
    text, confidence, _ = heard_in_turn(recognizer, YES_NO_VOCABULARY, turn.audio, turn.prime,
                                        recognizer.min_confidence)
    return text, confidence


def enrolled(setting: Setting, pairs: Sequence[tuple[Clip, str]], name: str
             ) -> tuple[Recognizer, float]:
    """pocketsphinx with a transform trained on `pairs`, and the seconds the training took."""
    work = setting.scratch / name
    recordings = [(f"{clip.label}/{clip.path.stem}", clip.pcm, word) for clip, word in pairs]
    started = time.perf_counter()
    transform = train_transform(recordings, work / "transform.mllr", work, setting.model)
    seconds = time.perf_counter() - started
    recognizer = PocketsphinxRecognizer(partials=False, mllr=transform)
    shutil.rmtree(work, ignore_errors=True)  # the decoder has read the transform
    return recognizer, seconds


def run_task(task: Task) -> tuple[list[Result], Training | None]:
    """One task in this process (the setting installed by _set)."""
    setting = _SETTING[0]
    if task.kind == BASELINE:
        clip = setting.strangers[task.index]
        return [Result(BASELINE, "", clip.label, room, str(clip.path),
                       hear(setting, baseline(), clip, room), None)
                for room in STRANGER_ROOMS if room in setting.rooms], None
    own = setting.speakers[task.speaker]
    leave_out = task.index if task.kind == HELD_OUT else None
    pairs = training_pairs(own, setting.known_words, leave_out)
    recognizer, seconds = enrolled(setting, pairs, f"{task.speaker}-{task.index}")
    training = Training(task.kind, task.speaker, len(pairs), seconds)
    if task.kind == HELD_OUT:
        test = own[task.index]
        return [Result(HELD_OUT, task.speaker, test.label, room, str(test.path),
                       hear(setting, baseline(), test, room),
                       hear(setting, recognizer, test, room))
                for room in setting.rooms], training
    return [Result(STRANGERS, task.speaker, clip.label, room, str(clip.path), None,
                   hear(setting, recognizer, clip, room))
            for clip in strangers_of(setting.clips, task.speaker)
            for room in STRANGER_ROOMS if room in setting.rooms], training


def measure(clips: Sequence[Clip], speakers: Mapping[str, Sequence[Clip]],
            rooms: Sequence[str] = ROOMS, jobs: int = JOBS, with_strangers: bool = True,
            progress: bool = False, noise: Rooms | None = None
            ) -> tuple[list[Result], list[Training]]:
    """Every task, in `jobs` forked processes (in this one for jobs <= 1). `noise`: the
    rooms' noise if already built for these clips."""
    with tempfile.TemporaryDirectory(prefix="enrolment-") as scratch_dir:
        scratch = Path(scratch_dir)
        setting = Setting(list(clips), {s: list(own) for s, own in speakers.items()},
                          [c for c in clips if c.label in STRANGER_LABELS
                           and any(c.speaker != s for s in speakers)], list(rooms),
                          noise or Rooms(clips),
                          dictionary_words(model_dir() / "cmudict-en-us.dict"),
                          prepare_model(model_dir() / "en-us", scratch / "base"), scratch)
        tasks = make_tasks(setting.speakers, len(setting.strangers),
                           with_strangers and any(r in rooms for r in STRANGER_ROOMS))
        _set(setting)
        if jobs <= 1:
            parts = [run_task(task) for task in tasks]
        else:
            from multiprocessing import get_context

            parts = []
            with get_context("fork").Pool(jobs, _set, (setting,)) as pool:
                for done, part in enumerate(pool.imap_unordered(run_task, tasks), 1):
                    parts.append(part)
                    if progress and (done % max(1, len(tasks) // 10) == 0 or done == len(tasks)):
                        print(f"enrolment: {done}/{len(tasks)} tasks", file=sys.stderr,
                              flush=True)
    results = [r for rows, _ in parts for r in rows]
    trainings = [t for _, t in parts if t is not None]
    return results, trainings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.enrolment",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clips", type=Path, default=CLIPS_DIR,
                        help="folder with manifest.csv (default: the shared Speech Commands "
                             "clips; the tests use tests/clips/speech_commands)")
    parser.add_argument("--min-clips", type=int, default=MIN_CLIPS,
                        help=f"spoken clips a speaker needs to take part (default {MIN_CLIPS})")
    parser.add_argument("--rooms", nargs="+", default=list(ROOMS), metavar="ROOM",
                        help=f"subset of: {', '.join(ALL_ROOMS)} (strangers are heard in "
                             f"those of: {', '.join(STRANGER_ROOMS)})")
    parser.add_argument("--jobs", type=int, default=JOBS, help="processes (default 2)")
    parser.add_argument("--speakers-limit", type=int, metavar="N",
                        help="only the first N speakers (a quick look)")
    args = parser.parse_args(argv)
    if args.min_clips < 2:
        parser.error("--min-clips must be at least 2: one to hold out, one to learn from")
    rooms = known(args.rooms, ALL_ROOMS, "room")
    clips = load_clips(args.clips)
    speakers = choose_speakers(clips, args.min_clips, args.speakers_limit)
    command = shlex.join(["python", "-m", "bench.enrolment",
                          *(sys.argv[1:] if argv is None else argv)])
    held_out = sum(len(own) for own in speakers.values())
    print(f"Learning one voice: {command}")
    print(f"clips: {args.clips} ({len(clips)} clips; Speech Commands v0.02, Warden 2018, "
          f"CC BY 4.0)")
    print(f"speakers: {len(speakers)} with at least {args.min_clips} spoken clips and a "
          f"yes or no; {held_out} held-out clips; "
          f"{sum(c.label in STRANGER_LABELS for c in clips)} stranger clips "
          f"({', '.join(STRANGER_LABELS)})")
    noise = Rooms(clips)
    print(f"rooms: {', '.join(rooms)}; {noise.describe()}", flush=True)
    if not speakers:
        print("no speaker has enough clips")
        return 1
    started = time.monotonic()
    results, trainings = measure(clips, speakers, rooms, args.jobs, progress=True,
                                  noise=noise)
    print(f"({time.monotonic() - started:.0f} s with {args.jobs} jobs)\n")
    print(format_report(results, trainings, rooms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
