"""Better rejection, measured: do rival words or a learned confidence tell a right "yes" or
"no" from a false accept better than the confidence the engine uses today?

Run: python -m bench.rejection   (--rooms, --clips; about 4 minutes a room on one core)

Every clip (Speech Commands v0.02 test split, Warden 2018, CC BY 4.0) is made into a turn
in each room (bench/rooms.py, as recorded), trimmed to its voice and decoded whole by the
assistant's own pocketsphinx engine with the 20-phrase yes/no grammar plus its garbage
words. When it is heard as a yes or no phrase, four scores are read:

* margin: the phrase's acoustic score against the best garbage-only path (what the
  engine's confidence is made of today);
* rival margin: the phrase's score against the best path through its one-sound
  neighbours only ("go", "now", "known", "low" ... for "no"; "yet", "guess" ... for
  "yes"; exact homophones such as "know" left out): an n-best of the words that matter;
* the phrase's own acoustic score per frame, and its length in frames.

Three ways to accept are compared at the same number of false accepts (clips of other
words or noise taken as a yes or no): the margin alone, the rival margin alone, and a
logistic regression over all four, trained on one speaker half and scoring the other
(bench.hearing.speaker_half), so nobody is scored by a model that heard them.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.asr.pocketsphinx_engine import (
    DITHER_RMS,
    FREQUENT_WORDS,
    PocketsphinxRecognizer,
    add_dither,
    build_jsgf,
    phone_distance,
)
from assistant.vad import trim_to_speech
from bench.hearing import CLIPS_DIR, YES_NO_VOCABULARY, Clip, load_clips, speaker_half
from bench.rooms import ROOMS, Rooms, known

MEANINGS = {"yes": "yes", "yeah": "yes", "yep": "yes", "no": "no", "nope": "no"}
FALSE_ACCEPTS_SHOWN = (0, 1, 2, 5, 10)
RIVAL_CAP = 5.0  # a phrase with no rival at all gets this margin
MARGIN_NAMES = ("margin alone", "learned (4 scores)", "rival margin alone")


@dataclass(frozen=True)
class Scores:
    """What one clip was heard as, and the scores of that phrase."""

    label: str
    speaker: str
    meaning: str  # "yes" or "no": what the phrase heard means
    margin: float
    rival: float
    per_frame: float
    frames: int

    @property
    def right(self) -> bool:
        return self.meaning == self.label

    def features(self) -> list[float]:
        return [self.margin, self.rival, self.per_frame, float(self.frames)]


class ScoreReader:
    """The project's engine, decoding a turn with its grammar, its garbage and rivals."""

    def __init__(self) -> None:
        self.engine = PocketsphinxRecognizer(partials=False)
        self.grammar = self.engine._grammar(YES_NO_VOCABULARY)
        self._rivals: dict[str, str] = {}

    def rival_search(self, word: str) -> str:
        """A search of the words one sound away from `word` (never one meaning the same)."""
        if word not in self._rivals:
            own = [p.split() for p in self.engine._pronunciations(word)]
            near = []
            for other in dict.fromkeys((*FREQUENT_WORDS, "go", "know", "now", "known")):
                if other == word or other in MEANINGS:
                    continue
                distances = [phone_distance(p.split(), o)
                             for p in self.engine._pronunciations(other) for o in own]
                if distances and min(distances) == 1:
                    near.append(other)
            name = f"rivals_{word}"
            self.engine._decoder.add_jsgf_string(
                name, build_jsgf((), near + self.engine._noise_words, 1.0))
            self._rivals[word] = name
        return self._rivals[word]

    def decode(self, search: str, audio: bytes) -> tuple[list[str], list[tuple[str, int, float]]]:
        """Words of the best path, and its segments: (word, frames, log acoustic score)."""
        decoder = self.engine._decoder
        decoder.activate_search(search)
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(audio, False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None:
            return [], []
        segments = [(s.word, s.end_frame - s.start_frame + 1, math.log(max(s.ascore, 1e-300)))
                    for s in decoder.seg() or ()]
        return hyp.hypstr.split(), segments

    def scores(self, clip: Clip, turn: bytes) -> Scores | None:
        audio = add_dither(trim_to_speech(turn), DITHER_RMS)
        words, path = self.decode(self.grammar.search, audio)
        phrase = self.grammar.phrases.get(tuple(w.split("(")[0] for w in words))
        meaning = MEANINGS.get(phrase or "")
        if phrase is None or meaning is None or not path:
            return None
        total = sum(s[2] for s in path)
        _, garbage = self.decode(self.grammar.garbage_search, audio)
        _, rivals = self.decode(self.rival_search(phrase), audio)
        spoken = [s for s in path if s[0].split("(")[0] == phrase]
        frames = sum(s[1] for s in spoken) or 1
        return Scores(clip.label, clip.speaker, meaning,
                      total - sum(s[2] for s in garbage) if garbage else 1.0,
                      min(RIVAL_CAP, total - sum(s[2] for s in rivals)) if rivals else RIVAL_CAP,
                      sum(s[2] for s in spoken) / frames, frames)


def logistic(train: np.ndarray, labels: np.ndarray, l2: float = 1.0
             ) -> Callable[[np.ndarray], np.ndarray]:
    """A logistic regression (Newton steps, L2 on standardised features): its score."""
    mean, spread = train.mean(axis=0), train.std(axis=0) + 1e-9

    def design(x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(len(x)), (x - mean) / spread])

    z = design(train)
    weights = np.zeros(z.shape[1])
    penalty = l2 * np.diag([0.0] + [1.0] * (z.shape[1] - 1))
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-z @ weights))
        gradient = z.T @ (p - labels) + penalty @ weights
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        weights -= np.linalg.solve(hessian, gradient)
    def score(x: np.ndarray) -> np.ndarray:
        return np.asarray(design(x) @ weights, dtype=float)

    return score


def cross_fitted(rows: Sequence[Scores]) -> np.ndarray:
    """Each row's learned score, from a model trained on the other speaker half only."""
    features = np.array([r.features() for r in rows])
    labels = np.array([float(r.right) for r in rows])
    halves = np.array([speaker_half(r.speaker) for r in rows])
    out = np.full(len(rows), -np.inf)
    for half in (0, 1):
        train = halves != half
        if (halves == half).any() and len(set(labels[train])) == 2:
            out[halves == half] = logistic(features[train], labels[train])(
                features[halves == half])
    return out


def accepted_right(scores: np.ndarray, right: np.ndarray, answers: int,
                   false_accepts: int) -> float:
    """The share of the yes/no clips accepted right by the best threshold that takes at
    most `false_accepts` wrong ones."""
    best = 0
    for threshold in np.unique(scores):
        taken = scores >= threshold
        if int((taken & ~right).sum()) <= false_accepts:
            best = max(best, int((taken & right).sum()))
    return best / answers if answers else math.nan


def room_rows(rows: Sequence[Scores], answers: int) -> dict[str, list[float]]:
    right = np.array([r.right for r in rows], dtype=bool)
    ways = {MARGIN_NAMES[0]: np.array([r.margin for r in rows]),
            MARGIN_NAMES[1]: cross_fitted(rows),
            MARGIN_NAMES[2]: np.array([r.rival for r in rows])}
    return {name: [accepted_right(s, right, answers, k) for k in FALSE_ACCEPTS_SHOWN]
            for name, s in ways.items()}


def measure(clips: Sequence[Clip], rooms: Sequence[str],
            out: Callable[[str], None] = print) -> dict[str, dict[str, list[float]]]:
    reader = ScoreReader()
    made = Rooms(clips)
    answers = sum(c.label in ("yes", "no") for c in clips)
    others = len(clips) - answers
    out(f"Yes/no accepted right (of {answers}) with at most N false accepts (other words and "
        f"noise taken as a yes or no, of {others}); learned = logistic regression over "
        f"margin, rival margin, score per frame, length, cross-fitted by speaker half.")
    head = f"{'room':16} {'way to accept':22}" + "".join(f"{f'N={k}':>8}"
                                                           for k in FALSE_ACCEPTS_SHOWN)
    out(head)
    out("-" * len(head))
    table = {}
    for room in rooms:
        started = time.perf_counter()
        rows = [s for c in clips
                if (s := reader.scores(c, made.turn(c, room, "as recorded").audio)) is not None]
        table[room] = room_rows(rows, answers)
        for index, (name, shares) in enumerate(table[room].items()):
            out(f"{room if index == 0 else '':16} {name:22}"
                + "".join(f"{share:8.3f}" for share in shares))
        out(f"{'':16} ({len(rows)} clips heard as a yes/no phrase, "
            f"{time.perf_counter() - started:.0f} s)")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rejection",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, default=CLIPS_DIR)
    parser.add_argument("--per-label", type=int, help="only the first N clips of each label")
    parser.add_argument("--rooms", nargs="+", default=["quiet", "tv 10 dB"], metavar="ROOM",
                        help=f"subset of: {', '.join(ROOMS)}")
    args = parser.parse_args(argv)
    measure(load_clips(args.clips, per_label=args.per_label),
            known(args.rooms, ROOMS, "rooms"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
