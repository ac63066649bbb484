"""The one small interface every speech recognizer offers the rest of the assistant.

Audio goes in as 16 kHz mono 16-bit PCM bytes; text comes out, limited to the
phrases valid in the current dialog state (`Vocabulary`), with a confidence
the caller compares against `min_confidence` to decide "clear" or "unclear".

Why limited: an older adult answering a yes/no question is best served by a
recognizer that can only hear the answers that make sense now, plus a way to
say "that was none of them" (cough, radio, another word) instead of forcing the
nearest answer. Both engines implement that "none of them" path; `end()`
returns an empty text for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from assistant.ports import Vocabulary
from assistant.words import dictionary_words

SAMPLE_RATE = 16000  # Hz; every engine is fed this, mono, signed 16-bit little-endian
SAMPLE_WIDTH = 2  # bytes per sample



@dataclass(frozen=True)
class Hypothesis:
    """What the recognizer thinks was said so far (partial) or in the whole turn (final).

    `text` is one of the vocabulary's phrases exactly as the vocabulary spells
    it (so callers can compare strings), or "" when nothing in the vocabulary
    was said. `confidence` is 0..1, None when the engine cannot tell (partials).
    """

    text: str
    confidence: float | None
    final: bool


@runtime_checkable
class Recognizer(Protocol):
    """A speech recognizer whose model is loaded once and whose vocabulary changes per turn.

    Optional: `unsure_pause_ms`, the silence the turn listener waits after an answer this
    recognizer heard above its floor but not surely (assistant/listening.py; the listener's
    own `Endpointing.hesitation_ms` otherwise).
    """

    name: str
    min_confidence: float  # below this a final answer should be treated as unclear
    # Heard above this while the assistant talks, an interrupt phrase ("stop", "help") cuts
    # the prompt short and is handed on with its confidence (below `min_confidence` the
    # dialog asks, or pauses the routine and asks): never dropped as if nothing was said.
    interrupt_floor: float

    def begin(self, vocabulary: Vocabulary) -> None:
        """Start a new utterance, hearing only these phrases (cheap: grammars are cached)."""
        ...

    def accept(self, pcm: bytes) -> Hypothesis | None:
        """Feed audio; return the partial result so far, or None if nothing yet."""
        ...

    def end(self) -> Hypothesis:
        """Finish the utterance; text "" when nothing in the vocabulary was said."""
        ...


class AsrSetupError(RuntimeError):
    """A recognizer cannot be started; the message tells the user what to do."""


class RecognizerUnavailable(AsrSetupError):
    """The engine's Python package is missing or broken."""


def spoken_words(phrase: str) -> tuple[str, ...]:
    """The words a recognizer must hear for a written phrase: lower case, digits spoken
    one by one ("911" -> nine one one, as the dialog data says it is heard), apostrophes
    kept (pronunciation dictionaries list "don't" and "i'm"); folded by assistant.words,
    the one normaliser."""
    return dictionary_words(phrase)


def phrase_key(words: Iterable[str]) -> tuple[str, ...]:
    """Words without apostrophes: "i'm ready" and "im ready" are the same phrase.

    The dialog core normalizes its phrases that way ("thats right"), while
    pronunciation dictionaries spell "that's"; results are matched on this key.
    """
    return tuple(w.replace("'", "") for w in words)


def apostrophe_forms(word: str) -> list[str]:
    """The word as written, then every spelling with one apostrophe added or removed.

    "dont" -> dont, d'ont, do'nt, don't; a dictionary keeps the real ones.
    """
    bare = word.replace("'", "")
    forms = [word, bare] + [bare[:i] + "'" + bare[i:] for i in range(1, len(bare))]
    return list(dict.fromkeys(forms))


def phrase_table(vocabulary: Vocabulary) -> dict[tuple[str, ...], str]:
    """phrase_key(spoken words) -> the phrase as the vocabulary wrote it (first one wins).

    Only `phrases`: the voice layer builds a separate Vocabulary from the
    interrupt phrases when it listens for barge-in.
    """
    table: dict[tuple[str, ...], str] = {}
    for phrase in vocabulary.phrases:
        key = phrase_key(spoken_words(phrase))
        if key and key not in table:
            table[key] = phrase
    return table


def clamp01(value: float) -> float:
    """Confidence values are probabilities-like numbers in [0, 1]."""
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


class UnknownWords:
    """Tells the user, once per word, that a phrase cannot be heard because a word is missing
    from the engine's vocabulary: the same words come back at every moment of every session,
    and a message each time would bury the ones that matter."""

    def __init__(self, notify: Callable[[str], None], where: str) -> None:
        self._notify = notify
        self._where = where  # "its pronunciation dictionary", "the Vosk model's vocabulary"
        self.told: set[str] = set()

    def missing(self, phrase: str, words: Iterable[str]) -> None:
        new = [w for w in words if w not in self.told]
        if new:
            self.told.update(new)
            self._notify(f'The speech recognizer cannot hear "{phrase}": {", ".join(new)} '
                         f"is not in {self._where} (typed, it is understood).")

