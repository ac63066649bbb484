"""Turning what was heard into one meaning, using only the phrases in the dialog data.

Safety decides ties: an emergency word beats everything, a symptom report
beats an answer, and a reply that says both "yes" and "no" is unclear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
UNCLEAR = "unclear"


def normalize(text: str) -> str:
    """Lower-case words without punctuation; digits spoken one by one ("911" -> "nine one one")."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    text = re.sub(r"\d", lambda m: f" {DIGIT_WORDS[int(m.group())]} ", text)
    text = text.replace("'", "")
    return " ".join(re.findall(r"[a-z]+", text))


def spoken_number(number: str) -> str:
    """How a recognizer hears an emergency number: digit by digit."""
    return normalize(number)


@dataclass(frozen=True)
class Understood:
    intent: str  # an answer, a command, a stop sign, or "unclear"
    phrase: str | None = None


class PhraseBook:
    """Phrases of every meaning, matched as whole words; the longest phrase wins."""

    def __init__(self, meanings: Mapping[str, Iterable[str]], priority: Iterable[str]) -> None:
        self._phrases: dict[str, dict[tuple[str, ...], str]] = {}
        for intent, phrases in meanings.items():
            table = self._phrases.setdefault(intent, {})
            for phrase in phrases:
                words = tuple(normalize(phrase).split())
                if words:
                    table[words] = phrase
        self._priority = list(priority)
        self._open: dict[tuple[str, ...], tuple[str, ...]] = {}

    def phrases_for(self, intents: Iterable[str]) -> tuple[str, ...]:
        """Every phrase of these meanings, in the form a recognizer grammar takes."""
        seen: dict[str, None] = {}
        for intent in intents:
            for words in self._phrases.get(intent, {}):
                seen[" ".join(words)] = None
        return tuple(seen)

    def open_phrases(self, intents: Iterable[str]) -> tuple[str, ...]:
        """Phrases whose meaning can still change if the speaker goes on ("i do" / "i do not")."""
        active = tuple(intents)
        cached = self._open.get(active)
        if cached is None:
            phrases = [tuple(p.split()) for p in self.phrases_for(active)]
            meaning = {p: self.understand(" ".join(p), active).intent for p in phrases}
            cached = tuple(" ".join(short) for short in phrases if any(
                len(long) > len(short) and long[:len(short)] == short
                and meaning[long] != meaning[short] for long in phrases))
            self._open[active] = cached
        return cached

    def understand(self, text: str, intents: Iterable[str]) -> Understood:
        words = normalize(text).split()
        active = [i for i in intents if i in self._phrases]
        matches: list[tuple[int, int, str, tuple[str, ...]]] = []  # (length, start, intent, phrase)
        for intent in active:
            for phrase in self._phrases[intent]:
                n = len(phrase)
                for start in range(len(words) - n + 1):
                    if tuple(words[start:start + n]) == phrase:
                        matches.append((n, start, intent, phrase))
        taken: set[int] = set()
        chosen: list[tuple[int, str, tuple[str, ...]]] = []
        for n, start, intent, phrase in sorted(matches, key=lambda m: (-m[0], m[1])):
            span = set(range(start, start + n))
            if not span & taken:
                taken |= span
                chosen.append((start, intent, phrase))
        if not chosen:
            return Understood(UNCLEAR)
        found = {intent: " ".join(phrase) for _, intent, phrase in sorted(chosen)}
        for intent in self._priority:
            if intent in found:
                return Understood(intent, found[intent])
        if len(found) > 1:
            return Understood(UNCLEAR, text)  # "yes ... no": two answers at once
        intent, phrase = next(iter(found.items()))
        return Understood(intent, phrase)
