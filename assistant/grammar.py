"""What a grammar-based recognizer listens for at each moment of the conversation.

A free recognizer (Vosk with a full model) hears any sentence and the
interpreter finds the meaning in it. A grammar recognizer (pocketsphinx, or
Vosk with a per-turn grammar) only hears the phrases it is given, so this
module gives it, for each moment, the short things people really say there:
the answer words, requests to hear it again, the commands that act now, the
words for the symptoms the question is about, and the red flags that must be
heard at any moment. Everything comes from `dialogs/understanding.yaml`.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.interpret import interpret
from assistant.lexicon import Lexicon, Understanding, build_lexicon
from assistant.policy import Moment
from assistant.ports import Vocabulary
from assistant.words import normalize, spoken_number

# Red flags that must be heard at every moment, whatever was asked.
ALWAYS_HEARD = ("chest_pain",)
INTERRUPTS = ("stop", "help", "emergency")


_BUILT: dict[tuple[int, str], tuple[Understanding, Lexicon, Grammar]] = {}


def lexicon_and_grammar(words: Understanding, emergency_number: str) -> tuple[Lexicon, Grammar]:
    """Built once per dialog data and number: every session of a day shares them."""
    key = (id(words), emergency_number)
    built = _BUILT.get(key)
    if built is None or built[0] is not words:
        lexicon = build_lexicon(words, (emergency_number, "911"))
        built = _BUILT[key] = (words, lexicon, Grammar(words, lexicon, emergency_number))
    return built[1], built[2]


class Grammar:
    """Phrases per moment, computed once per kind of moment."""

    def __init__(self, words: Understanding, lexicon: Lexicon, emergency_number: str) -> None:
        self.lexicon = lexicon
        numbers = list(dict.fromkeys((emergency_number, "911")))

        def spoken(texts: Iterable[str]) -> list[str]:
            out = []
            for text in texts:
                for number in numbers:
                    out.append(normalize(text.replace("{emergency_number}",
                                                      spoken_number(number))))
            return list(dict.fromkeys(t for t in out if t))

        self.answers = spoken([t for texts in words.answers.values() for t in texts]
                              + [t for texts in words.answers_alone.values() for t in texts])
        self.repeat = spoken(words.repeat_requests)
        self.commands = {name: spoken(texts) for name, texts in words.commands.items()}
        self.symptoms = {name: spoken(s.phrases) for name, s in words.symptoms.items()}
        self.stop_level = [n for n, s in words.symptoms.items() if s.level == "stop"]
        self.acknowledgements = spoken(words.acknowledgements)
        self._cache: dict[tuple[object, ...], Vocabulary] = {}
        self._meanings: dict[str, tuple[object, ...]] = {}

    def vocabulary(self, moment: Moment, expecting: Iterable[str]) -> Vocabulary:
        about = tuple(sorted(expecting))
        key = (moment.kind, moment.commands, moment.around_routine, about)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._build(moment, about)
        return cached

    def _build(self, moment: Moment, about: tuple[str, ...]) -> Vocabulary:
        phrases = [*self.answers, *self.repeat]
        for name in sorted(moment.commands | {"emergency"}):
            phrases += self.commands.get(name, [])
        heard = {*about, *ALWAYS_HEARD}
        if moment.around_routine:
            heard |= set(self.stop_level)
        for name in sorted(heard):
            phrases += self.symptoms.get(name, [])
        if moment.kind == "guidance":
            phrases += self.acknowledgements
        unique = tuple(dict.fromkeys(phrases))
        interrupt = tuple(dict.fromkeys(
            p for name in INTERRUPTS for p in self.commands.get(name, [])))
        interrupt += tuple(p for p in self.symptoms.get("chest_pain", []) if p not in interrupt)
        return Vocabulary(unique, interrupt, self._open(unique))

    def _open(self, phrases: tuple[str, ...]) -> tuple[str, ...]:
        """Phrases a longer one of another meaning begins with ("i don't" / "i don't know"):
        after one, a pause may be a hesitation, so the listener waits longer."""
        present = set(phrases)
        opened: set[str] = set()
        for long in phrases:
            words = long.split()
            for size in range(1, len(words)):
                short = " ".join(words[:size])
                if short in present and self._meaning(short) != self._meaning(long):
                    opened.add(short)
        return tuple(p for p in phrases if p in opened)

    def _meaning(self, phrase: str) -> tuple[object, ...]:
        meaning = self._meanings.get(phrase)
        if meaning is None:
            meaning = self._meanings[phrase] = _meaning(interpret(phrase, self.lexicon))
        return meaning


def _meaning(result: object) -> tuple[object, ...]:
    from assistant.interpret import Interpretation

    assert isinstance(result, Interpretation)
    return (result.answer, result.repeat, result.commands,
            tuple(sorted((m.symptom, m.assertion) for m in result.mentions)))
