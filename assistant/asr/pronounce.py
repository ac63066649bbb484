"""Pronunciations for words a pronunciation dictionary lacks, from words it has.

The bundled US English dictionary of pocketsphinx has "paralyzed", "tingle",
"droop" and "breathless", but not the words older British and American
speakers use for their symptoms: "paralysed", "tingles", "droops",
"breathlessness", "dodgy", "thunderclap". Without a pronunciation a phrase
cannot be offered to the recognizer at all, so "my leg is paralysed" could
only be typed. Rather than a hand-kept list, the missing word is derived:

* a British spelling read as its American one ("paralysed" -> "paralyzed",
  "colour" -> "color");
* a known stem and a regular ending ("tingle" + s, "stammer" + ing,
  "woozy" + ness, "dodge" + y), the ending's sounds chosen by the stem's last
  sound (-s is S after "k", Z after a vowel, IH Z after "s");
* two known words joined ("thunder" + "clap");
* letters spelled out for an abbreviation without vowels ("dvt").

No derivation is a guess at an arbitrary spelling: each is a known word's
pronunciation plus regular English endings, so a word that fits none stays
missing (and is reported once, as before).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

Lookup = Callable[[str], "str | None"]

VOICELESS = {"P", "T", "K", "F", "TH", "HH"}
SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}
BRITISH = ((r"ys(e|ed|es|ing)$", r"yz\1"), (r"is(e|ed|es|ing|ation)$", r"iz\1"),
           (r"our(s|ed|ing)?$", r"or\1"), (r"tre$", "ter"), (r"ogue$", "og"))
MAX_DEPTH = 2  # "headedness": head + ed + ness


def _plural(stem: str) -> str:
    last = stem.split()[-1]
    return "IH Z" if last in SIBILANTS else "S" if last in VOICELESS else "Z"


def _past(stem: str) -> str:
    last = stem.split()[-1]
    return "IH D" if last in ("T", "D") else "T" if last in VOICELESS | SIBILANTS - {
        "Z", "ZH", "JH"} else "D"


# ending -> the sounds it adds, given the stem's pronunciation
ENDINGS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("ness", lambda stem: "N AH S"),
    ("ing", lambda stem: "IH NG"),
    ("ly", lambda stem: "L IY"),
    ("es", _plural),
    ("ed", _past),
    ("s", _plural),
    ("d", _past),
    ("y", lambda stem: "IY"),
)


def _stems(stem: str) -> Iterator[str]:
    """What a stem was before its ending was added: "tingl" -> "tingle", "swimm" -> "swim",
    "woozi" -> "woozy"."""
    yield stem
    yield stem + "e"
    if len(stem) > 2 and stem[-1] == stem[-2]:
        yield stem[:-1]
    if stem.endswith("i"):
        yield stem[:-1] + "y"


def derived_pronunciation(word: str, lookup: Lookup, depth: int = 0) -> str | None:
    """Phones for `word` from the dictionary's own words (see the module), or None."""
    if not word.isalpha() or not word.isascii():
        return None
    known = lookup(word)
    if known is not None or depth > MAX_DEPTH:
        return known
    for pattern, american in BRITISH:
        spelled = re.sub(pattern, american, word)
        if spelled != word and (phones := lookup(spelled)) is not None:
            return phones
    for ending, sounds in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            for stem in _stems(word[:-len(ending)]):
                phones = derived_pronunciation(stem, lookup, depth + 1)
                if phones is not None:
                    return f"{phones} {sounds(phones)}"
    for cut in range(4, len(word) - 3):  # parts of 4 letters or more: not "gam" + "my"
        first, second = lookup(word[:cut]), lookup(word[cut:])
        if first is not None and second is not None:
            return f"{first} {second}"
    if depth == 0 and len(word) <= 4 and not re.search(r"[aeiouy]", word):
        letters = [lookup(letter) for letter in word]
        if all(letters):
            return " ".join(str(p) for p in letters)
    return None
