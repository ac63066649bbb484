"""What an utterance is made of, and what its interpretation holds.

An utterance is cut into clauses (a statement each: "no chest pain, but my
arm went numb" is two) at punctuation and at the words that begin a new
statement; its interpretation is the answer words, requests and commands,
and every symptom mentioned with its assertion.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.lexicon import AnswerWord, Lexicon
from assistant.words import CLAUSE_MARK

Assertion = Literal["present", "passed", "denied", "long_standing", "uncertain",
                    "hypothetical", "other_person"]
COUNTING = ("present", "passed")  # a red flag that is, or came and went recently
Span = tuple[int, int, str]


@dataclass(frozen=True)
class Mention:
    """A symptom named in the utterance, and whether the person says they have it."""

    symptom: str
    assertion: Assertion
    words: str
    cue: str | None = None  # the words that decided the assertion

    @property
    def counts(self) -> bool:
        return self.assertion in COUNTING


@dataclass(frozen=True)
class Interpretation:
    text: str
    answer: AnswerWord | None = None
    corrected: bool = False  # the answer changed within the utterance ("no... wait, yes")
    soft: bool = False  # a soft "no" ("I don't think so", "not that I know of")
    decisive: bool = False  # the answer is in this question's own words ("gradually")
    repeat: bool = False
    acknowledged: bool = False  # "I've called", "they're on their way", "thank you"
    commands: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = field(default=())
    words: int = 0

    def record(self) -> dict[str, Any]:
        """What the transcript keeps, so a clinician can see why."""
        out: dict[str, Any] = {}
        if self.answer:
            out["answer"] = self.answer
        if self.corrected:
            out["corrected"] = True
        if self.soft:
            out["soft"] = True
        if self.repeat:
            out["repeat"] = True
        if self.acknowledged:
            out["acknowledged"] = True
        if self.commands:
            out["commands"] = list(self.commands)
        if self.mentions:
            out["symptoms"] = [
                {"symptom": m.symptom, "assertion": m.assertion, "words": m.words}
                | ({"cue": m.cue} if m.cue else {}) for m in self.mentions]
        return out


@dataclass(frozen=True)
class Clause:
    """One statement of an utterance: words[start:end]."""

    start: int
    end: int


def split_clauses(marked: list[str], lex: Lexicon) -> tuple[list[str], list[Clause]]:
    """Words without punctuation, and where each clause begins and ends."""
    words: list[str] = []
    bounds = [0]
    i = 0
    while i < len(marked):
        word = marked[i]
        following = marked[i + 1] if i + 1 < len(marked) else None
        if word == CLAUSE_MARK:
            bounds.append(len(words))
            i += 1
            continue
        breaks = lex.breaks.at(marked, i)
        if breaks and words and i + len(breaks[0][0]) < len(marked):
            bounds.append(len(words))
            i += len(breaks[0][0])
            continue
        if word == "and" and following in lex.new_statement_words:
            bounds.append(len(words))
            i += 1
            continue
        opens = len(words) == bounds[-1]
        words.append(word)
        if opens and word in lex.answer_openers and following in lex.new_statement_words:
            bounds.append(len(words))  # "no my chest hurts": "no", then a new statement
        i += 1
    bounds.append(len(words))
    edges = sorted(set(bounds))
    return words, [Clause(a, b) for a, b in itertools.pairwise(edges) if b > a]


NEGATIVE_WORDS = frozenset({
    "no", "not", "never", "nothing", "none", "without", "nor", "neither", "cannot", "dont",
    "doesnt", "didnt", "cant", "couldnt", "wont", "wouldnt", "shouldnt", "isnt", "arent",
    "wasnt", "werent", "havent", "hasnt", "hadnt", "aint", "mustnt", "neednt"})


def negative(word: str) -> bool:
    """A word that denies: "no", "never", or a contraction such as "haven't" (written havent)."""
    return word in NEGATIVE_WORDS


def gap(a: Span, b: Span) -> int:
    """Words between two non-overlapping spans; -1 if they overlap."""
    if a[1] <= b[0]:
        return b[0] - a[1]
    if b[1] <= a[0]:
        return a[0] - b[1]
    return -1
