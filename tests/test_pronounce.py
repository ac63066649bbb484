"""Words the pronunciation dictionary lacks get a pronunciation from words it has, so the
phrases people use for their symptoms ("my leg is paralysed", "it tingles") can be heard."""

from __future__ import annotations

import pytest

from assistant.asr.pronounce import derived_pronunciation

DICTIONARY = {
    "paralyzed": "P EH R AH L AY Z D", "tingle": "T IH NG G AH L", "droop": "D R UW P",
    "breathless": "B R EH TH L AH S", "dodge": "D AA JH", "thunder": "TH AH N D ER",
    "clap": "K L AE P", "stammer": "S T AE M ER", "woozy": "W UW Z IY", "fizz": "F IH Z",
    "horse": "HH AO R S", "kick": "K IH K", "head": "HH EH D", "my": "M AY", "gam": "G AE M",
    "d": "D IY", "v": "V IY", "t": "T IY", "color": "K AH L ER", "swim": "S W IH M",
}


@pytest.mark.parametrize(("word", "phones"), [
    ("paralysed", "P EH R AH L AY Z D"),  # British spelling, read as the American one
    ("colour", "K AH L ER"),
    ("tingles", "T IH NG G AH L Z"),  # -s after a voiced sound is Z
    ("droops", "D R UW P S"),  # ... after a voiceless one S
    ("horses", "HH AO R S IH Z"),  # ... after a hiss IH Z
    ("kicked", "K IH K T"),
    ("tingled", "T IH NG G AH L D"),
    ("headed", "HH EH D IH D"),
    ("stammering", "S T AE M ER IH NG"),
    ("fizzing", "F IH Z IH NG"),
    ("swimmy", "S W IH M IY"),  # doubled consonant
    ("dodgy", "D AA JH IY"),  # silent e
    ("wooziness", "W UW Z IY N AH S"),  # y -> i
    ("breathlessness", "B R EH TH L AH S N AH S"),
    ("thunderclap", "TH AH N D ER K L AE P"),  # two known words
    ("dvt", "D IY V IY T IY"),  # letters of an abbreviation
    ("gammy", "G AE M IY"),  # an ending, not "gam" + "my"
])
def test_a_missing_word_is_derived_from_known_words(word: str, phones: str) -> None:
    assert derived_pronunciation(word, DICTIONARY.get) == phones


@pytest.mark.parametrize("word", ["zorblax", "qwx", "kwyjibo", "tingl", "don't"])
def test_a_word_that_fits_no_rule_stays_missing(word: str) -> None:
    assert derived_pronunciation(word, DICTIONARY.get) is None
