"""Offline recognition with Vosk (Kaldi), limited to the phrases valid in each turn.

Vosk is the preferred engine when a model is present: its neural acoustic
model is far more accurate on real voices than pocketsphinx's. Each turn uses
``KaldiRecognizer(model, 16000, grammar)`` with the turn's phrases plus
``[unk]``, Vosk's out-of-vocabulary path, so a stray word becomes ``[unk]``
instead of the nearest answer. Any ``[unk]`` in the result means "not one of
the phrases": the answer is then "" (unclear) rather than a guess. Not every
model has ``[unk]`` (the small Korean one does not): then every sound is
heard as the nearest phrase, so the user is told once, and ``[unk]`` is left
out of the grammar rather than have Vosk warn about it at every turn.

The grammar is UTF-8 JSON with the words as they are written: escaped
(``"\\ub124"`` for "네"), Vosk would look up the escape sequence as a word,
find nothing and drop it.

Confidence is the lowest per-word ``conf`` of the result: one doubtful word
makes the whole phrase doubtful ("call nine one one" with a doubtful "nine").

The model loads once (`VoskRecognizer(model_path)`); recognizers are cached
per vocabulary and `Reset()` between turns, so switching is cheap.

No English Vosk model can be downloaded in the environment this was written
in (the tests run the whole path on the Korean model from PyPI, whose
grammar-limited confidences are 1.0 for clean synthetic speech), so
`VOSK_MIN_CONFIDENCE` is a conventional starting value, not a measured one:
run ``python -m bench.hearing --engine vosk --split`` once an English model is
present and set it from the sweep.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from assistant.asr.base import (
    SAMPLE_RATE,
    AsrSetupError,
    Hypothesis,
    RecognizerUnavailable,
    UnknownWords,
    apostrophe_forms,
    clamp01,
    phrase_key,
    phrase_table,
)
from assistant.ports import Vocabulary

VOSK_MIN_CONFIDENCE = 0.6  # NOT measured (no English model reachable); see module doc
# NOT measured either: pocketsphinx's measured ratio (0.5 of its 0.7), applied to 0.6
VOSK_INTERRUPT_FLOOR = 0.43
UNKNOWN = "[unk]"
MAX_CACHED_RECOGNIZERS = 32


def vosk_grammar(phrases: Iterable[tuple[str, ...]], unknown: bool = True) -> str:
    """The JSON grammar Vosk takes: each phrase (spelled as the model spells it), plus
    "[unk]" when the model has it; non-ASCII words unescaped, as Vosk reads them."""
    return json.dumps([" ".join(words) for words in phrases] + ([UNKNOWN] if unknown else []),
                      ensure_ascii=False)


def spellings(key: tuple[str, ...], known: Callable[[str], bool],
              limit: int = 8) -> list[tuple[str, ...]]:
    """Every way to spell a phrase with words the model knows ("i dont" -> ("i", "don't")).

    Vosk grammars have no alternatives syntax, so each spelling is listed; at
    most `limit` per phrase. Empty when some word is unknown in every spelling.
    """
    options = [[f for f in apostrophe_forms(word) if known(f)] for word in key]
    if not all(options):
        return []
    return list(itertools.islice(itertools.product(*options), limit))


def parse_partial(result_json: str, phrases: Mapping[tuple[str, ...], str]) -> Hypothesis | None:
    """A PartialResult() JSON as a partial Hypothesis: a phrase, or None if nothing usable yet."""
    try:
        text = str(json.loads(result_json).get("partial", ""))
    except (ValueError, AttributeError):
        return None
    words = tuple(text.split())
    if not words or UNKNOWN in words:
        return None
    phrase = phrases.get(phrase_key(words))
    return Hypothesis(phrase, None, final=False) if phrase else None


def parse_final(result_json: str, phrases: Mapping[tuple[str, ...], str]) -> Hypothesis:
    """A Result()/FinalResult() JSON as a final Hypothesis.

    With SetWords(True) the JSON holds ``result``: [{word, conf, start, end}]
    and ``text``. "[unk]" anywhere, an empty text, or words that are not one of
    the phrases all give text "" with confidence 0: not an answer.
    """
    try:
        data: Any = json.loads(result_json)
    except ValueError:
        return Hypothesis("", 0.0, final=True)
    if not isinstance(data, dict):
        return Hypothesis("", 0.0, final=True)
    entries = data.get("result") or []
    words = tuple(str(e.get("word", "")) for e in entries if isinstance(e, dict))
    if not words:
        words = tuple(str(data.get("text", "")).split())
    if not words or UNKNOWN in words:
        return Hypothesis("", 0.0, final=True)
    phrase = phrases.get(phrase_key(words))
    if phrase is None:
        return Hypothesis("", 0.0, final=True)
    confidences = [float(e["conf"]) for e in entries if isinstance(e, dict) and "conf" in e]
    confidence = clamp01(min(confidences)) if confidences else None
    return Hypothesis(phrase, confidence, final=True)


class VoskRecognizer:
    """Recognizer (see assistant.asr.base) backed by one Vosk model loaded from a path.

    `model_path` must be a model directory (see vosk_models.ensure_model): the
    model is always opened by path, never by name or language, because those
    Vosk code paths call sys.exit() when the model is missing.
    """

    name = "vosk"

    def __init__(self, model_path: Path, min_confidence: float = VOSK_MIN_CONFIDENCE,
                 notify: Callable[[str], None] | None = None) -> None:
        try:
            import vosk
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RecognizerUnavailable(
                f"vosk is not installed ({exc}). Install it with: pip install vosk") from exc
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.model_path = Path(model_path)
        try:
            self._model = vosk.Model(model_path=str(self.model_path))
        except Exception as exc:  # vosk raises a bare Exception when loading fails
            raise AsrSetupError(f"Vosk could not load the model in {self.model_path} ({exc}); "
                                "it may be incomplete: delete it and download it again.") from exc
        self.min_confidence = min_confidence
        self.interrupt_floor = min(VOSK_INTERRUPT_FLOOR, min_confidence)
        self._notify = notify or (lambda message: None)
        self._unknown = UnknownWords(self._notify, "the Vosk model's vocabulary")
        self._recognizers: OrderedDict[tuple[str, ...], tuple[Any, dict[tuple[str, ...], str]]]
        self._recognizers = OrderedDict()
        self._current: Any = None
        self._phrases: dict[tuple[str, ...], str] = {}
        self._earlier: Hypothesis | None = None

    def begin(self, vocabulary: Vocabulary) -> None:
        """Start an utterance limited to `vocabulary` (recognizer cached per vocabulary)."""
        key = tuple(vocabulary.phrases)
        cached = self._recognizers.get(key)
        if cached is None:
            cached = self._make(vocabulary)
            self._recognizers[key] = cached
            if len(self._recognizers) > MAX_CACHED_RECOGNIZERS:
                self._recognizers.popitem(last=False)
        else:
            self._recognizers.move_to_end(key)
            cached[0].Reset()
        self._current, self._phrases = cached
        self._earlier = None

    def accept(self, pcm: bytes) -> Hypothesis | None:
        """Feed audio; a finished segment inside the turn is kept for end()."""
        if self._current is None:
            raise RuntimeError("accept() before begin()")
        if self._current.AcceptWaveform(pcm):
            done = parse_final(self._current.Result(), self._phrases)
            if done.text:
                self._earlier = done
            return Hypothesis(done.text, None, final=False) if done.text else None
        return parse_partial(self._current.PartialResult(), self._phrases)

    def end(self) -> Hypothesis:
        """The turn's answer: the last segment that was a phrase, "" if none was."""
        if self._current is None:
            raise RuntimeError("end() before begin()")
        final = parse_final(self._current.FinalResult(), self._phrases)
        if not final.text and self._earlier is not None:
            final = self._earlier
        self._earlier = None
        return final

    def _make(self, vocabulary: Vocabulary) -> tuple[Any, dict[tuple[str, ...], str]]:
        phrases: dict[tuple[str, ...], str] = {}
        spelled: list[tuple[str, ...]] = []

        def known(word: str) -> bool:
            return bool(self._model.vosk_model_find_word(word) >= 0)

        unknown = known(UNKNOWN)
        if not unknown and UNKNOWN not in self._unknown.told:
            self._unknown.told.add(UNKNOWN)
            self._notify(f"The Vosk model in {self.model_path} has no {UNKNOWN} word, so it "
                         "cannot tell other words from the answers: whatever is said will be "
                         "heard as the nearest answer.")
        for key, phrase in phrase_table(vocabulary).items():
            ways = spellings(key, known)
            if not ways:
                missing = [w for w in key if not any(known(f) for f in apostrophe_forms(w))]
                self._unknown.missing(phrase, missing)
                continue
            phrases[key] = phrase
            spelled.extend(ways)
        grammar = vosk_grammar(spelled, unknown)
        recognizer = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, grammar)
        recognizer.SetWords(True)
        return recognizer, phrases
