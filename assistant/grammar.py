"""What a grammar-based recognizer listens for at each moment of the conversation.

A free recognizer (Vosk with a full model) hears any sentence and the
interpreter finds the meaning in it. A grammar recognizer (pocketsphinx, or
Vosk with a per-turn grammar) only hears whole phrases it is given, so this
module gives it, for each moment, the short things people say there, whole:

* the answer words that mean something here ("okay" only where it answers,
  none while the routine counts), requests to hear it again ("what?",
  "pardon"), the commands that act now, the ways to ask for an emergency;
* at a question, its own symptoms as people tell them: all the symptom's
  phrases, short sentences of a body part and a sign ("my arm is weak", "I
  can't move my leg"), "I have" with its name ("I have chest pain"), "I feel"
  ("I feel dizzy"), and a few denials ("no chest pain", "not drooping");
* at every moment, the core words and sentences of the red flags that must be
  heard whatever was asked (`ALWAYS_HEARD`: policy rule 1 acts on a present
  red flag at any moment), and around the routine those of the stop signs.

Every word comes from `dialogs/understanding.yaml`; only the shapes of the
short sentences are written here (`SENTENCE_SHAPES`). Every phrase offered
does something at its moment (`useful`: `interpret`, then the policy's
decision, is not "unclear"), and a sentence made from a shape is kept only if
`interpret` reads it as telling its symptom (or, for a denial, denying it).

Why not every phrase of the file: by voice each phrase costs, and the file
lists what people type as well as what they say (624 phrases at the first
question). Measured on real voices (bench/hearing.py, Speech Commands clips,
pocketsphinx, shipped floor 0.70): with all of them, yes+no accuracy at the
first question fell to 0.56 (0.74 with the 149 phrases before them). Two
things cost: phrases that go on after a bare answer ("no it didn't", "no
chest pain") lower the confidence of the bare "no" (see the engine's notes;
40 such denials alone took 4 of 40 "no" clips below the floor), and every
short phrase of a new beginning is one more that a stranger's word can be
taken for ("sort of" for "four", "sure" for "Sheila"). Sentences of one
shape cost little (456 "my leg went weak" and "I can't move my leg" moved one
clip in 80). So the lists of answers, requests and commands are cut to their
first phrases (`MAX_WORDS`, `PER_LIST`; the lists are written commonest
first), the symptom sentences are many and the denials few (`TELLING`). With
that: yes+no 0.750 and false accepts 0.025 at the first question (372
phrases), 0.775 and 0.037 at the face question (259 phrases).

What it costs: the longer answers of the lists ("no I haven't", "go on
then", "fine thanks") are not offered, so said by voice they are asked again
or taken for a shorter phrase; with espeak-ng speaking the 445 utterances of
tests/corpus, 109 reached the same decision by voice as typed (131 with every
phrase offered), and 12 of 113 "no" answers stayed "no" (27), while 5 red
flags or stop signs were heard as "no" (8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from assistant.interpret import Interpretation, interpret
from assistant.lexicon import AnswerWord, Lexicon, Understanding, build_lexicon
from assistant.policy import Moment, decide
from assistant.ports import Vocabulary
from assistant.words import PhraseIndex, normalize, phrase, spoken_number

# Red flags heard at every moment, whatever was asked (a present red flag is the call-911
# guidance at any moment: assistant/policy.py rule 1): chest pain and trouble breathing can
# start at any time, above all during the exercises, and sudden weakness or a leg that
# will not move is what the assistant is about. The others are asked in turn.
ALWAYS_HEARD = ("chest_pain", "breathing_trouble", "sudden_weakness", "leg_paralysis")
INTERRUPTS = ("emergency", "stop", "help")  # commands heard while a prompt plays (barge-in)
INTERRUPTING_SYMPTOMS = ("chest_pain",)  # ... and this red flag's core words
NO_ANSWERS_AT = ("exercise", "guidance")  # counting along, or waiting for the ambulance
# Answers whose phrases all mean the same wherever they are offered (not "okay" and "fine":
# what they mean depends on the question)
SAME_ANSWER_KINDS: tuple[AnswerWord, ...] = ("yes", "no", "unsure")

# The shapes of the short sentences people tell a symptom in (structure, not vocabulary:
# the words in braces come from dialogs/understanding.yaml):
#   {name}   the symptom's name: its phrase that its `topic` begins with ("chest pain")
#   {state}  one of its phrases, of one word, that the file also names as a state: "dizzy"
#            ("dizziness"), "numb" ("numbness")
#   {part}   one of its body `parts`; {sign} one of its `signs`; {sign1} a sign of one word
# Which sign goes in which shape follows how the file's own phrases use it (see _fits).
SENTENCE_SHAPES = {
    "having": ("i have {name}", "ive got {name}"),  # "I have chest pain"
    "feeling": ("i feel {state}",),  # "I feel dizzy"; and "I" before "feel sick"
    "part_sign": ("my {part} {sign}", "my {part} is {sign1}"),  # "my leg went numb", "... is weak"
    "doing": ("i {sign} my {part}",),  # "I can't move my leg", "I lost the use of my leg"
    "denied": ("no {name}", "not {sign1}"),  # "no chest pain", "not drooping"
}

# How much of each list is offered by voice: its first PER_LIST phrases of at most
# MAX_WORDS words (the lists in understanding.yaml are written commonest first).
MAX_WORDS = {"answer": 3, "alone": 3, "repeat": 4, "command": 4, "emergency": 4,
             "acknowledgement": 4}
PER_LIST = {"answer": 12, "alone": 6, "repeat": 20, "command": 6, "emergency": 10,
            "acknowledgement": 60}


@dataclass(frozen=True)
class Telling:
    """How much of a symptom's words is offered: the first `phrases` of its phrases of at
    most `words` words; the sentences (`SENTENCE_SHAPES`) of its first `parts` body parts
    (plurals aside) with its first `signs` signs (those its own phrases use first); and the
    first `denials` denials that the interpreter reads as denying it."""

    words: int | None
    phrases: int | None
    parts: int
    signs: int
    denials: int


TELLING = {
    "own": Telling(words=None, phrases=None, parts=2, signs=10, denials=3),  # at its question
    "core": Telling(words=2, phrases=8, parts=1, signs=6, denials=0),  # at any other moment
}


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
        self.words = words
        self.lexicon = lexicon
        numbers = list(dict.fromkeys((emergency_number, "911")))

        def spoken(texts: Iterable[str]) -> list[str]:
            out = []
            for text in texts:
                for number in numbers:
                    out.append(normalize(text.replace("{emergency_number}",
                                                      spoken_number(number))))
            return list(dict.fromkeys(t for t in out if t))

        self.spoken = spoken
        kinds: tuple[AnswerWord, ...] = ("yes", "no", "unsure", "okay", "fine")
        self.answers = {kind: spoken(words.answers.get(kind, ())) for kind in kinds}
        self.alone = {kind: spoken(words.answers_alone.get(kind, ())) for kind in kinds}
        self.repeat = spoken(words.repeat_requests)
        self.commands = {name: spoken(texts) for name, texts in words.commands.items()}
        self.symptoms = {name: spoken(s.phrases) for name, s in words.symptoms.items()}
        self.stop_level = [n for n, s in words.symptoms.items() if s.level == "stop"]
        self.acknowledgements = spoken(words.acknowledgements)
        new = words.policy.ask_if_new
        self.new_or_not = spoken([*new.says_yes, *new.says_no])
        self._new_or_not = _answer_index(words, new.says_yes, new.says_no)
        self._after_part, self._after_is = _sign_evidence(words, spoken)
        self._states = _states(words, spoken)
        # "i" and these words are a "no" said alone ("i can't"): what a person cannot do
        self._cant = {tuple(p.split()[1:]) for p in self.alone["no"] if p.split()[0] == "i"}
        self._cache: dict[tuple[object, ...], Vocabulary] = {}
        self._told: dict[tuple[str, bool, bool], list[str]] = {}
        self._meanings: dict[tuple[str, tuple[str, ...]], Interpretation] = {}

    # --- per moment -----------------------------------------------------------------------

    def vocabulary(self, moment: Moment, expecting: Iterable[str]) -> Vocabulary:
        about = tuple(sorted(expecting))
        key = (moment.kind, moment.commands, moment.around_routine, moment.okay, moment.fine,
               about)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._build(moment, about)
        return cached

    def _build(self, moment: Moment, about: tuple[str, ...]) -> Vocabulary:
        phrases: list[str] = []
        if moment.kind not in NO_ANSWERS_AT:
            kinds: list[AnswerWord] = ["yes", "no", "unsure"]
            meant: tuple[tuple[AnswerWord, str], ...] = (("okay", moment.okay),
                                                         ("fine", moment.fine))
            kinds += [kind for kind, means in meant if means != "unclear"]
            for kind in kinds:
                phrases += _first(self.answers[kind], "answer")
                phrases += _first(self.alone[kind], "alone")
        if moment.kind == "confirm":  # "Is it new, or worse today?" and the confirmations
            phrases += _first(self.new_or_not, "answer")
        if moment.kind == "guidance":
            phrases += _first(self.acknowledgements, "acknowledgement")
        phrases += _first(self.repeat, "repeat")
        phrases += _first(self.commands["emergency"], "emergency")  # at every moment
        for name in sorted(moment.commands - {"emergency"}):
            phrases += _first(self.commands.get(name, []), "command")
        for name in about:  # denied only where that answers the question: "no chest pain"
            main = self.lexicon.symptoms[name].answers.get(moment.question or "") == "yes"
            phrases += self.told(name, own=True, denied=main)
        heard = [n for n in ALWAYS_HEARD if n not in about]
        if moment.around_routine:
            heard += [n for n in self.stop_level if n not in about]
        for name in heard:
            phrases += self.told(name, own=False)
        unique = tuple(p for p in dict.fromkeys(phrases) if self.useful(p, moment, about))
        interrupt = _first(self.commands["emergency"], "emergency")
        interrupt += [p for name in INTERRUPTS[1:] for p in _first(self.commands[name],
                                                                    "command")]
        for name in INTERRUPTING_SYMPTOMS:
            interrupt += self.told(name, own=False)
        offered = set(unique)
        same = tuple(group for kind in SAME_ANSWER_KINDS if len(group := tuple(
            p for p in self.answers[kind] if p in offered)) > 1)
        return Vocabulary(unique, tuple(dict.fromkeys(interrupt)), self._open(unique), same)

    # --- a symptom, as people tell it -------------------------------------------------------

    def told(self, name: str, own: bool, denied: bool = False) -> list[str]:
        """How the symptom `name` is said by voice: at its own question (`own`) all its
        phrases and sentences, and with `denied` (the question is about it: it is the
        question's "yes") a few denials; at any other moment its core words."""
        key = (name, own, denied)
        if key not in self._told:
            budget = TELLING["own" if own else "core"]
            self._told[key] = self._tell(name, budget if denied else replace(budget, denials=0))
        return self._told[key]

    def _tell(self, name: str, budget: Telling) -> list[str]:
        symptom = self.words.symptoms[name]
        phrases = self.symptoms[name]
        shapes = SENTENCE_SHAPES
        names = _names(phrases, normalize(symptom.topic))
        every_part = self.spoken(symptom.parts)
        parts = _singular(every_part)[:budget.parts]
        signs = _commonest(self.spoken(symptom.signs), phrases)[:budget.signs]
        sentences = [s.format(name=n) for n in names for s in shapes["having"]]
        states = [w for w in _short(phrases, 1) if w in self._states]
        for shape in shapes["feeling"]:
            sentences += [shape.format(state=w) for w in states]
            lead = shape.split("{state}")[0].split()  # "I feel": "feel sick" is "I feel sick"
            sentences += [" ".join([*lead[:-1], p]) for p in _short(phrases, 3)
                          if p.split()[0] == lead[-1]]
        for part in parts:
            for sign in signs:
                for shape in (*shapes["doing"], *shapes["part_sign"]):
                    if self._fits(shape, sign, phrases, every_part):
                        sentences.append(shape.format(part=part, sign=sign, sign1=sign))
        out = _short(phrases, budget.words)[:budget.phrases]
        out += [p for p in sentences if self._tells(p, name, "present")]
        denials = [s.format(name=n, sign1=sign) for s in shapes["denied"]
                   for n in (names if "{name}" in s else [""])
                   for sign in (signs if "{sign1}" in s else [""])
                   if "{sign1}" not in s or self._fits(s, sign, phrases, every_part)]
        out += [p for p in dict.fromkeys(denials)
                if self._tells(p, name, "denied")][:budget.denials]
        return list(dict.fromkeys(out))

    def _fits(self, shape: str, sign: str, phrases: Sequence[str], parts: Sequence[str]
              ) -> bool:
        """Whether `sign` goes in `shape`, as the dialog data's own phrases use it.

        "I {sign} my {part}": a sign the symptom's phrases say before "my" and a body part
        ("lost the use of my leg"), or something the person cannot do ("i" and its first
        words are a "no" said alone: "i can't") that the phrases never say right after a
        body part ("leg won't move": "my leg won't move", not "I won't move my leg").
        "my {part} {sign}": any other, unless the phrases say it only after "is" ("calf
        is swollen"). After "is" or "not": a sign of one word, unless the phrases say it
        only right after a body part ("face drooped", "leg pain"), or it ends in "s"
        without being said after "is" ("my leg is throbs"); -ing forms go both ways ("my
        face is drooping").
        """
        words = tuple(sign.split())
        said = [f" {p} " for p in phrases]
        before_my = any(f" {sign} my {part} " in p for p in said for part in parts)
        after_a_part = any(f" {part} {sign} " in p for p in said for part in parts)
        cannot = len(words) > 1 and any(words[:n] in self._cant for n in (1, 2))
        if shape.startswith("i "):
            return before_my or (cannot and not after_a_part)
        after_part, after_is = sign in self._after_part, sign in self._after_is
        if "{sign1}" not in shape:
            return not before_my and (after_part or not after_is)
        return len(words) == 1 and (after_is or sign.endswith("ing") or not (
            after_part or sign.endswith("s")))

    def _tells(self, text: str, name: str, assertion: str) -> bool:
        """Whether the interpreter reads `text`, said at `name`'s own question, as telling
        `name` with this assertion."""
        meaning = interpret(text, self.lexicon, (name,))
        return any(m.symptom == name and m.assertion == assertion for m in meaning.mentions)

    # --- checks -------------------------------------------------------------------------------

    def means_something(self, phrase: str, about: Iterable[str] = ()) -> bool:
        """interpret() finds an answer, a request, a command or a symptom in it (`about`:
        the symptoms the question asks about, so that "not weak" is about the arm)."""
        return _means_something(self._meaning(phrase, tuple(about)))

    def useful(self, phrase: str, moment: Moment, about: Iterable[str] = ()) -> bool:
        """It means something, and something other than "unclear" here (assistant/policy.py).
        While the call-911 guidance is on, red flags do nothing new, but they stay heard:
        "my chest hurts" must not be taken for "next" or "goodbye"."""
        about = tuple(about)
        meaning = self._meaning(phrase, about)
        if moment.kind == "confirm" and phrase in self.new_or_not:  # "Is it new?" "It's new."
            meaning = interpret(phrase, self.lexicon, about, *self._new_or_not)
        if not _means_something(meaning):
            return False
        return moment.kind == "guidance" or decide(
            meaning, moment, self.lexicon.symptoms).action != "unclear"

    def _open(self, phrases: tuple[str, ...]) -> tuple[str, ...]:
        """Phrases that what may be said next could turn around: a longer phrase of another
        meaning begins with one ("i don't" / "i don't know"), or with its last words (heard
        as "i do not", "i'm not" may go on to "... sure"). After one, a pause may be a
        hesitation, so the listener waits longer."""
        starts: dict[str, list[list[str]]] = {}  # first word: the phrases beginning with it
        for said in phrases:
            words = said.split()
            starts.setdefault(words[0], []).append(words)
        opened: set[str] = set()
        for short in phrases:
            words = short.split()
            gist = _gist(self._meaning(short))
            for size in range(1, len(words) + 1):
                tail = words[-size:]
                for long in starts.get(tail[0], []):
                    if len(long) > size and long[:size] == tail and _gist(self._meaning(
                            " ".join(words + long[size:]))) != gist:
                        opened.add(short)
                        break
                if short in opened:
                    break
        return tuple(p for p in phrases if p in opened)

    def _meaning(self, phrase: str, about: tuple[str, ...] = ()) -> Interpretation:
        meaning = self._meanings.get((phrase, about))
        if meaning is None:
            meaning = self._meanings[phrase, about] = interpret(phrase, self.lexicon, about)
        return meaning


def _means_something(m: Interpretation) -> bool:
    return bool(m.answer or m.repeat or m.commands or m.mentions or m.acknowledged)


def _gist(result: Interpretation) -> tuple[object, ...]:
    return (result.answer, result.repeat, result.commands,
            frozenset((m.symptom, m.assertion) for m in result.mentions))


def _short(texts: Iterable[str], words: int | None) -> list[str]:
    return [t for t in texts if words is None or len(t.split()) <= words]


def _first(texts: Iterable[str], kind: str) -> list[str]:
    """The first phrases of a list that are short enough to be offered by voice."""
    return _short(texts, MAX_WORDS[kind])[:PER_LIST[kind]]


def _singular(parts: list[str]) -> list[str]:
    """Body parts without the plurals ("legs", "calves"): the sentences say "is"."""
    return [p for p in parts if not p.endswith("s") or p.endswith("ss")]


def _names(phrases: Sequence[str], topic: str) -> list[str]:
    """The symptom's phrases its topic begins with, after an article: its name ("chest
    pain", "numbness"); not an -ing phrase ("feeling faint": "I have feeling faint")."""
    words = topic.split()
    if words and words[0] in ("a", "an"):
        words = words[1:]
    begins = " ".join(words) + " "
    return [p for p in phrases if begins.startswith(p + " ")
            and not (" " in p and p.split()[0].endswith("ing"))]


def _commonest(signs: list[str], phrases: list[str]) -> list[str]:
    """The signs the symptom's own phrases use ("chest is tight": "tight") first, each
    group in the order listed."""
    said = [f" {p} " for p in phrases]
    return sorted(signs, key=lambda sign: not any(f" {sign} " in p for p in said))


def _sign_evidence(words: Understanding, spoken: Callable[[Iterable[str]], list[str]]
                   ) -> tuple[set[str], set[str]]:
    """Signs of one word the dialog data's phrases say right after a body part ("face
    drooped", "leg pain"), and those they say after "is" or "are" ("leg is weak")."""
    parts = {p for s in words.symptoms.values() for p in spoken(s.parts)}
    signs = {g for s in words.symptoms.values() for g in spoken(s.signs) if " " not in g}
    after_part: set[str] = set()
    after_is: set[str] = set()
    for symptom in words.symptoms.values():
        for text in spoken(symptom.phrases):
            for before, word in pairwise(text.split()):
                if word in signs and before in parts:
                    after_part.add(word)
                if word in signs and before in ("is", "are"):
                    after_is.add(word)
    return after_part, after_is


def _answer_index(words: Understanding, says_yes: Sequence[str], says_no: Sequence[str]
                  ) -> tuple[PhraseIndex, frozenset[tuple[str, ...]]]:
    """The answer words with a question's own ones, as the dialog machine reads them there."""
    own = {phrase(t) for t in (*says_yes, *says_no)}
    groups = {str(k): [t for t in v if phrase(t) not in own] for k, v in words.answers.items()}
    groups["yes"] += says_yes
    groups["no"] += [*(t for t in words.soft_no if phrase(t) not in own), *says_no]
    index = PhraseIndex((phrase(t), label) for label, texts in groups.items() for t in texts)
    return index, frozenset(own)


def _states(words: Understanding, spoken: Callable[[Iterable[str]], list[str]]) -> set[str]:
    """Words the dialog data also names as a state with -ness: "dizzy" ("dizziness"),
    "numb" ("numbness"), "unsteady" (a topic: "unsteadiness"). They are what one feels."""
    texts = [normalize(s.topic) for s in words.symptoms.values()]
    texts += [t for s in words.symptoms.values() for t in spoken([*s.phrases, *s.signs])]
    said = {w for t in texts for w in t.split()}
    nouns = {w[:-4] for w in said if w.endswith("ness")}
    return {w for w in said if w in nouns or (w.endswith("y") and w[:-1] + "i" in nouns)}
