"""Text to words, the one way every part of the assistant does it.

Typed answers, recognizer output and the phrases in `dialogs/` all pass
through here, so "Can't", "can't" and "cant" are the same word everywhere,
accents and apostrophes do not matter, and "911" is "nine one one" as a
recognizer hears it. Punctuation is kept as a clause mark, because typed
answers use it where a speaker would pause ("no... wait, yes").

Words are letters of any script: a Vosk model for another language (the
Korean one the tests run on) spells its words in Hangul, and folding them to
a-z would silently drop every one. Only Latin letters lose their accents.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
DIGIT_WORDS = NUMBER_WORDS[:10]
CLAUSE_MARK = "|"
_LETTERS = r"[^\W\d_]+"  # letters of any script: \w without digits and "_"
_TOKEN = re.compile(_LETTERS + r"|[.,;:!?\u2026\u2014\u2013]|(?<=\s)-(?=\s)")
_DICTIONARY_WORD = re.compile(r"(?:[^\W\d_]|')+")


def _strip_latin_accents(text: str) -> str:
    """Drop the combining marks on Latin letters of decomposed text ("si" + acute -> "si");
    other scripts keep theirs, so NFC can compose them again (Hangul jamo -> syllables)."""
    kept: list[str] = []
    base = ""
    for char in text:
        if not unicodedata.combining(char):
            base = char
        elif base.isascii():
            continue
        kept.append(char)
    return "".join(kept)


def _fold(text: str, apostrophes: bool = False) -> str:
    """Lower case, Latin accents off ("sí" is "si"), other scripts composed as their
    dictionaries spell them (Hangul syllables, not jamo), curly apostrophes straight (then
    dropped, unless `apostrophes`), digits spoken."""
    text = _strip_latin_accents(unicodedata.normalize("NFKD", text.lower()))
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    if not apostrophes:
        text = text.replace("'", "")
    text = re.sub(r"(?<=\w)-(?=\w)", " ", text)  # light-headed
    return re.sub(r"\d", lambda m: f" {DIGIT_WORDS[int(m.group())]} ", text)


def tokens(text: str) -> list[str]:
    """Words, with `CLAUSE_MARK` where punctuation separated them (never two in a row)."""
    out: list[str] = []
    for piece in _TOKEN.findall(_fold(text)):
        if piece[0].isalpha():
            out.append(piece)
        elif out and out[-1] != CLAUSE_MARK:
            out.append(CLAUSE_MARK)
    while out and out[-1] == CLAUSE_MARK:
        out.pop()
    return out


def normalize(text: str) -> str:
    """Lower-case words without punctuation; digits spoken one by one ("911" -> "nine one one")."""
    return " ".join(t for t in tokens(text) if t != CLAUSE_MARK)


def dictionary_words(text: str) -> tuple[str, ...]:
    """The words as a pronunciation dictionary spells them: folded as `normalize` does, but
    with their apostrophes ("don't", "i'm"), which the dictionaries keep."""
    words = _DICTIONARY_WORD.findall(_fold(text, apostrophes=True))
    return tuple(w.strip("'") for w in words if w.strip("'"))


def number_word(n: int) -> str:
    """Counts and rests are said in words: "thirty", not "30"."""
    if 0 <= n < len(NUMBER_WORDS):
        return NUMBER_WORDS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS_WORDS[tens - 2] + (f"-{NUMBER_WORDS[ones]}" if ones else "")
    return str(n)


def spoken_number(number: str) -> str:
    """How a recognizer hears an emergency number: digit by digit."""
    return normalize(number)


Phrase = tuple[str, ...]


class PhraseIndex:
    """Phrases (word tuples) with a label each, found in a word list, longest first.

    Built once from the dialog data; `find` is the hot path of interpretation,
    so phrases are indexed by their first word.
    """

    def __init__(self, labelled: Iterable[tuple[Phrase, str]], skip: Iterable[str] = ()) -> None:
        self._skip = frozenset(skip)  # words that may come between a phrase's words ("a bit")
        self._by_first: dict[str, list[tuple[Phrase, str]]] = {}
        for phrase, label in labelled:
            if phrase:
                self._by_first.setdefault(phrase[0], []).append((phrase, label))
        for entries in self._by_first.values():
            entries.sort(key=lambda entry: -len(entry[0]))

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def phrases(self) -> Iterator[tuple[Phrase, str]]:
        for entries in self._by_first.values():
            yield from entries

    def at(self, words: Sequence[str], start: int, end: int | None = None) -> list[
            tuple[Phrase, str]]:
        """Every phrase that begins at `start` and ends by `end`, longest first."""
        stop = len(words) if end is None else end
        found = []
        for phrase, label in self._by_first.get(words[start], ()):
            n = len(phrase)
            if start + n <= stop and tuple(words[start:start + n]) == phrase:
                found.append((phrase, label))
        return found

    def spans_at(self, words: Sequence[str], start: int, end: int) -> list[tuple[int, str]]:
        """(end, label) of every phrase beginning at `start`, skipping the skip words
        between its words ("feel a bit sick" is "feel sick")."""
        if not self._skip:
            return [(start + len(p), label) for p, label in self.at(words, start, end)]
        found = []
        for phrase, label in self._by_first.get(words[start], ()):
            i = start + 1
            for word in phrase[1:]:
                while i < end and words[i] != word and words[i] in self._skip:
                    i += 1
                if i >= end or words[i] != word:
                    break
                i += 1
            else:
                found.append((i, label))
        return found

    def find(self, words: Sequence[str], start: int = 0, end: int | None = None,
             overlapping: bool = False) -> list[tuple[int, int, str]]:
        """(start, end, label) of the matches in words[start:end], in order. Unless
        `overlapping`, no two share a word: longer phrases win, then earlier ones."""
        stop = len(words) if end is None else end
        every = [(i, finish, label) for i in range(start, stop)
                 for finish, label in self.spans_at(words, i, stop)]
        if overlapping:
            return every
        taken = [False] * (stop + 1)
        chosen = []
        for begin, finish, label in sorted(every, key=lambda m: (m[0] - m[1], m[0])):
            if not any(taken[begin:finish]):
                taken[begin:finish] = [True] * (finish - begin)
                chosen.append((begin, finish, label))
        return sorted(chosen)


def phrase(text: str) -> Phrase:
    """A phrase from the dialog data, as the words `tokens` makes of it."""
    return tuple(t for t in tokens(text) if t != CLAUSE_MARK)
