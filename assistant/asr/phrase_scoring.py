"""How likely Moonshine finds each phrase of the moment, and when that confirms the grammar
recognizer's answer: pure (token pieces, sums of log-probabilities, one rule).

Why: Moonshine writes what it hears freely; with a television or a kitchen behind the
answer it often writes something that is no phrase at all ("Long.", "Now,"), and the
answer was lost even when pocketsphinx, held to the phrases of the moment, heard it right.
Made to *say* each phrase instead (the decoder fed the phrase's tokens, teacher-forced),
the same model tells how likely that phrase is on this audio. pocketsphinx's phrase is
taken when Moonshine finds it both close to what it wrote itself and the likeliest of
the phrases it was asked about: two different models then point at the same phrase.
Measured (bench/side_by_side.md, "Moonshine scoring the phrases"): thresholds chosen on
one half of the bench's speakers, checked on the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

WORD_START = "\u2581"  # the pieces' mark for a space before a word (SentencePiece)
END_OF_TEXT = 2  # Moonshine's </s>
START_OF_TEXT = 1  # Moonshine's <s>
FIRST_PIECE = 3  # 0-2 are <unk>, <s>, </s>
LONGEST_PIECE = 24  # bytes: no piece of Moonshine's tokenizer is longer
# The phrase is taken only when Moonshine scores it at most this far (natural log) below its
# own free transcript and below the best phrase it was asked about (chosen on speaker
# half A of the bench's clips, checked on half B: bench/side_by_side.md).
WITHIN_WRITTEN = 4.0
WITHIN_BEST = 0.5
RIVALS = 12  # besides the phrase checked, this many phrases likeliest by their first piece

FloatArray = npt.NDArray[np.float32]


def read_pieces(data: bytes) -> list[bytes]:
    """Moonshine's tokenizer.bin: each piece's length (one byte, or two: 7 bits + the next
    byte's 8) and then its bytes, in token order."""
    pieces: list[bytes] = []
    at = 0
    while at < len(data):
        size = data[at]
        at += 1
        if size >= 0x80:
            size = (size & 0x7F) | (data[at] << 7)
            at += 1
        pieces.append(data[at:at + size])
        at += size
    return pieces


class Spelling:
    """Text to Moonshine's token ids and back."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.pieces = list(pieces)
        self._ids = {piece: index for index, piece in enumerate(self.pieces)
                     if index >= FIRST_PIECE}

    def tokens(self, text: str) -> tuple[int, ...]:
        """The fewest pieces that spell the text (what the tokenizer nearly always does)."""
        spelled = b"".join(WORD_START.encode() + word.encode() for word in text.split())
        best: list[tuple[int, ...] | None] = [None] * (len(spelled) + 1)
        best[0] = ()
        for start in range(len(spelled)):
            before = best[start]
            if before is None:
                continue
            for stop in range(start + 1, min(len(spelled), start + LONGEST_PIECE) + 1):
                piece = self._ids.get(spelled[start:stop])
                known = best[stop]
                if piece is not None and (known is None or len(before) + 1 < len(known)):
                    best[stop] = (*before, piece)
        found = best[-1]
        if found is None:
            raise ValueError(f"{text!r} cannot be spelled with Moonshine's pieces")
        return found

    def text(self, ids: Sequence[int]) -> str:
        """What the ids write ("\u2581Yes" "," -> "Yes,")."""
        written = b"".join(self.pieces[i] for i in ids if i >= FIRST_PIECE)
        return written.decode("utf-8", "replace").replace(WORD_START, " ").strip()

    def piece(self, text: str) -> int:
        """The id of one piece, written as is (".", "\u2581Yes")."""
        return self._ids[text.encode()]


NUMBER_WORDS = {"nine one one": "911"}


def written_forms(phrase: str) -> tuple[str, ...]:
    """How Moonshine would write the phrase: a capital first letter, numbers as digits."""
    first = phrase[:1].upper() + phrase[1:]
    forms = [first]
    for words, digits in NUMBER_WORDS.items():
        if words in first.lower():
            at = first.lower().index(words)
            forms.append(first[:at] + digits + first[at + len(words):])
    return tuple(dict.fromkeys(forms))


def log_softmax(logits: FloatArray) -> FloatArray:
    top = logits.max(axis=-1, keepdims=True)
    shifted = logits - top
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # type: ignore[no-any-return]


def said_log_prob(log_probs: FloatArray, tokens: Sequence[int], stops: Sequence[int]
                  ) -> float:
    """Log-probability that the text is `tokens` and nothing more.

    `log_probs[i]`: the decoder's log-probabilities after <s> and the first i tokens, fed
    <s>, the tokens and a full stop. The text may end right after its tokens or after one
    of the `stops` (".", ",", "?", "!"), each followed by the end as after the full stop.
    """
    said = float(sum(log_probs[i, token] for i, token in enumerate(tokens)))
    after = log_probs[len(tokens)]
    end_after_stop = float(log_probs[len(tokens) + 1, END_OF_TEXT])
    stop_then_end = float(np.logaddexp.reduce(after[list(stops)])) + end_after_stop
    return said + float(np.logaddexp(after[END_OF_TEXT], stop_then_end))


def rivals(first_piece: Mapping[str, int], first_log_probs: FloatArray, checked: str,
           count: int = RIVALS) -> list[str]:
    """The phrases to score beside `checked`: the likeliest by their first piece."""
    ranked = sorted((p for p in first_piece if p != checked),
                    key=lambda p: -float(first_log_probs[first_piece[p]]))
    return ranked[:count]


def verified(phrase: str, scores: Mapping[str, float], written: float) -> bool:
    """Moonshine confirms the phrase: close to what it wrote, and the likeliest asked."""
    score = scores.get(phrase)
    if score is None:
        return False
    return (score >= written - WITHIN_WRITTEN
            and score >= max(scores.values()) - WITHIN_BEST)
