"""How Moonshine's scores of the phrases become "it confirms pocketsphinx's phrase"
(assistant/asr/phrase_scoring.py): its tokenizer, the sums, the rule. Pure, no model run;
the real tokenizer file is read where it says so. The scores on real audio are in
test_moonshine_engine.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from assistant.asr.base import phrase_table
from assistant.asr.phrase_scoring import (
    END_OF_TEXT,
    WITHIN_BEST,
    WITHIN_WRITTEN,
    Spelling,
    read_pieces,
    rivals,
    said_log_prob,
    verified,
    written_forms,
)

DIALOGS = Path(__file__).resolve().parents[1] / "dialogs"


def test_pieces_are_read_with_short_and_long_lengths() -> None:
    long_piece = b"x" * 200  # a length of two bytes: 7 bits, then the next 8
    data = bytes([5]) + b"<unk>" + bytes([0]) + bytes([0x80 | (200 & 0x7F), 200 >> 7]) \
        + long_piece + bytes([2]) + b"ab"
    assert read_pieces(data) == [b"<unk>", b"", long_piece, b"ab"]


SMALL = Spelling([b"<unk>", b"<s>", b"</s>", "\u2581".encode(), b"a", b"b", b"o",
                  "\u2581No".encode(), "\u2581N".encode(), b"ope", b"."])


def test_text_is_spelled_with_the_fewest_pieces_and_written_back() -> None:
    assert SMALL.tokens("No") == (7,)  # one piece, not "\u2581" "N" "o"
    assert SMALL.tokens("Nope") == (8, 9)
    assert SMALL.text([7, 10]) == "No."
    with pytest.raises(ValueError, match="cannot be spelled"):
        SMALL.tokens("Yes")


def test_the_dialogs_phrases_can_be_spelled_by_the_real_tokenizer() -> None:
    """The first question's and the routine's phrases: a phrase the scorer could not spell
    would fail the turn. The wheel's tokenizer has a piece for every byte, so none can, and
    its words come back as written."""
    from assistant.asr.moonshine_engine import bundled_model
    from bench.hearing import dialog_vocabulary

    spelling = Spelling(read_pieces((bundled_model() / "tokenizer.bin").read_bytes()))
    phrases = {phrase for moment in (None, "running") for phrase in
               phrase_table(dialog_vocabulary(DIALOGS, moment)[0]).values()}
    assert len(phrases) > 100
    for phrase in phrases:
        for form in written_forms(phrase):
            assert spelling.text(spelling.tokens(form)) == form
    assert spelling.tokens("Yes") == (3869,)  # what Moonshine writes for a clear "yes"


@pytest.mark.parametrize(("phrase", "forms"), [
    ("yes", ("Yes",)), ("I don't know", ("I don't know",)),
    ("call nine one one", ("Call nine one one", "Call 911")),
])
def test_phrases_are_written_as_moonshine_writes(phrase: str,
                                                 forms: tuple[str, ...]) -> None:
    assert written_forms(phrase) == forms


def test_a_phrase_ends_the_text_directly_or_after_a_stop() -> None:
    """log p("No") + log(p(end) + p(".") p(end | ".") + ...), from the decoder's rows."""
    vocab = 12
    rows = np.full((3, vocab), math.log(1e-6), np.float32)
    rows[0, 7] = math.log(0.8)  # "No" first
    rows[1, END_OF_TEXT] = math.log(0.3)  # then the end...
    rows[1, 10] = math.log(0.5)  # ... or "."
    rows[2, END_OF_TEXT] = math.log(0.9)  # and the end after "."
    score = said_log_prob(rows, (7,), (10,))
    assert score == pytest.approx(math.log(0.8) + math.log(0.3 + 0.5 * 0.9), abs=1e-4)
    rows[1, END_OF_TEXT] = rows[1, 10] = math.log(1e-6)  # "No" is not the whole text
    assert said_log_prob(rows, (7,), (10,)) < score - 10


def test_the_rivals_are_the_likeliest_by_their_first_piece() -> None:
    first = {"yes": 1, "yeah": 2, "no": 3, "nope": 4, "stop": 5}
    log_probs = np.log(np.array([0.01, 0.4, 0.3, 0.2, 0.05, 0.04], np.float32))
    assert rivals(first, log_probs, "stop", count=2) == ["yes", "yeah"]
    assert "nope" not in rivals(first, log_probs, "nope", count=4)


@pytest.mark.parametrize(("scores", "written", "taken"), [
    ({"no": -1.0, "yes": -6.0}, -0.8, True),  # the likeliest, as likely as what it wrote
    ({"no": -1.0, "nope": -0.8}, -0.8, True),  # a close second is still confirmed
    ({"no": -2.0, "yes": -2.0 + WITHIN_BEST + 0.1}, -1.0, False),  # another is likelier
    ({"no": -0.9 - WITHIN_WRITTEN - 0.1, "yes": -9.0}, -0.9, False),  # it wrote another
    ({"yes": -0.1}, -0.1, False),  # never scored
])
def test_moonshine_confirms_only_its_likeliest_phrase_close_to_what_it_wrote(
        scores: dict[str, float], written: float, taken: bool) -> None:
    assert verified("no", scores, written) is taken
