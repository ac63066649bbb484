"""The words of `dialogs/understanding.yaml`: their schema, and the matchers built from them.

The file is what a clinician reviews (symptoms with their red-flag level and
the everyday words for them, negation, hedges, time, repeat requests); this
module checks its shape at load and turns every list into a `PhraseIndex`
once, so that interpreting an answer is only lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from assistant.schema import Source, Strict, Text
from assistant.words import Phrase, PhraseIndex, phrase

AnswerWord = Literal["yes", "no", "unsure", "okay", "fine"]
Level = Literal["emergency", "stop", "none"]
TimeKind = Literal["onset", "current", "worse", "passed", "long_standing"]
COMMAND_NAMES = (
    "emergency", "help", "slower", "faster", "louder", "softer", "normal_speed", "normal_volume",
    "pause", "resume", "skip", "stop", "next", "what_can_i_say",
)
Words = list[Text]


class Negation(Strict):
    clausal: Words
    determiner: Words
    window: int = Field(ge=1, le=12)
    after: Words
    pseudo: Words
    intensifiers: Words


class Scoped(Strict):
    before: Words
    after: Words = Field(default_factory=list)
    window: int = Field(ge=1, le=12)


class TimeWords(Strict):
    onset: Words
    current: Words
    worse: Words
    passed: Words
    long_standing: Words


class SymptomWords(Strict):
    level: Level
    topic: Text
    source: Source
    confirm: Text | None = None
    answers: dict[str, Literal["yes", "unsure"]] = Field(default_factory=dict)
    when_new: str | None = None
    together: dict[str, str] = Field(default_factory=dict)
    follow_up: str | None = None
    phrases: Words = Field(default_factory=list)
    parts: Words = Field(default_factory=list)
    signs: Words = Field(default_factory=list)

    @model_validator(mode="after")
    def _named_somehow(self) -> SymptomWords:
        if self.parts and not self.signs:
            raise ValueError("'parts' need 'signs': a body part and a sign near it")
        if not self.phrases and not self.parts:
            raise ValueError("needs 'phrases', or 'parts' with 'signs'")
        return self


class AskIfNew(Strict):
    ask: Text
    simpler: Text
    source: Source
    says_yes: Words = Field(default_factory=list)
    says_no: Words = Field(default_factory=list)


class Policy(Strict):
    repeat_limit: int = Field(ge=1, le=5)
    ask_if_new: AskIfNew
    confirm_lead: Text
    sure_confidence: float = Field(ge=0, le=1)


class Understanding(Strict):
    """dialogs/understanding.yaml as loaded."""

    source: Source
    answers: dict[AnswerWord, Words]
    answers_alone: dict[AnswerWord, Words] = Field(default_factory=dict)
    soft_no: Words = Field(default_factory=list)
    repeat_requests: Words
    acknowledgements: Words
    fillers: Words
    degree_words: Words = Field(default_factory=list)
    not_symptoms: Words = Field(default_factory=list)
    commands_in_sentences: list[Literal[COMMAND_NAMES]] = Field(  # type: ignore[valid-type]
        default_factory=list)
    commands: dict[Literal[COMMAND_NAMES], Words]  # type: ignore[valid-type]
    negation: Negation
    uncertainty: Scoped
    hypothetical: Scoped
    someone_else: Scoped
    first_person: Words
    clause_breaks: Words
    new_statement_words: Words
    answer_openers: Words
    time: TimeWords
    part_sign_window: int = Field(ge=0, le=8)
    symptoms: dict[str, SymptomWords] = Field(min_length=1)
    policy: Policy

    @model_validator(mode="after")
    def _complete(self) -> Understanding:
        missing = [n for n in ("yes", "no", "unsure") if n not in self.answers]
        missing += [n for n in COMMAND_NAMES if n not in self.commands]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return self


@dataclass(frozen=True)
class Symptom:
    """One symptom as the interpreter and the dialog use it."""

    name: str
    level: Level
    topic: str
    confirm: str | None
    answers: Mapping[str, str]
    when_new: str | None
    together: Mapping[str, str]
    follow_up: str | None


def _index(groups: Mapping[str, Iterable[str]], skip: Iterable[str] = (),
           plurals: bool = False) -> PhraseIndex:
    """Every phrase of every group, labelled with its group's name. `plurals`: a one-word
    phrase also matches with an "s" ("leg" in "legs", and in "leg's" written without its
    apostrophe)."""
    pairs = [(phrase(text), label) for label, texts in groups.items() for text in texts]
    if plurals:
        pairs += [((p[0] + "s",), label) for p, label in pairs if len(p) == 1]
    return PhraseIndex(pairs, skip)


@dataclass(frozen=True)
class Lexicon:
    """The matchers built from `Understanding`: built once, used for every answer."""

    answers: PhraseIndex
    answers_alone: dict[Phrase, str]
    soft_no: frozenset[Phrase]
    repeat_requests: frozenset[Phrase]
    repeat_anywhere: PhraseIndex  # requests of two words or more, said in a sentence
    acknowledgements: PhraseIndex
    fillers: PhraseIndex
    commands: PhraseIndex  # whole-clause commands
    command_phrases: dict[Phrase, str]
    emergency_anywhere: PhraseIndex
    commands_anywhere: PhraseIndex  # "you're going too fast": counted inside a sentence
    not_symptoms: PhraseIndex
    modifiers: PhraseIndex  # before a symptom: negation, uncertainty, hypothetical, someone else
    after: PhraseIndex  # after a symptom: negation, uncertainty
    intensifiers: PhraseIndex
    time: PhraseIndex
    breaks: PhraseIndex
    first_person: frozenset[str]
    new_statement_words: frozenset[str]
    answer_openers: frozenset[str]
    symptom_phrases: PhraseIndex
    parts: PhraseIndex
    signs: PhraseIndex
    symptoms: Mapping[str, Symptom]
    windows: Mapping[str, int]


def build_lexicon(words: Understanding, emergency_numbers: Iterable[str] = ("911",)) -> Lexicon:
    """Matchers for these words; the emergency numbers people may say are filled in."""
    from assistant.words import spoken_number

    numbers = list(dict.fromkeys(emergency_numbers))
    commands: dict[str, list[str]] = {
        name: [text.replace("{emergency_number}", spoken_number(n)) for text in texts
               for n in (numbers if "{emergency_number}" in text else numbers[:1])]
        for name, texts in words.commands.items()
    }
    neg, unc, hyp, other = words.negation, words.uncertainty, words.hypothetical, words.someone_else
    whole = _index(commands)
    degree = words.degree_words
    anywhere = {name: [t for t in commands[name] if len(phrase(t)) > 1]
                for name in words.commands_in_sentences if name != "emergency"}
    return Lexicon(
        answers=_index({**{str(k): v for k, v in words.answers.items()},
                        "no": [*words.answers["no"], *words.soft_no]}),
        answers_alone={phrase(t): a for a, texts in words.answers_alone.items() for t in texts},
        soft_no=frozenset(phrase(t) for t in words.soft_no),
        repeat_requests=frozenset(phrase(t) for t in words.repeat_requests),
        repeat_anywhere=_index({"repeat": [t for t in words.repeat_requests
                                           if len(phrase(t)) > 1]}),
        acknowledgements=_index({"acknowledged": words.acknowledgements}),
        fillers=_index({"filler": words.fillers}),
        commands=whole,
        command_phrases={p: label for p, label in whole.phrases()},
        emergency_anywhere=_index({"emergency": commands["emergency"]}),
        commands_anywhere=_index(anywhere),
        not_symptoms=_index({"not": words.not_symptoms}, degree),
        modifiers=_index({
            "pseudo": neg.pseudo, "negation": neg.clausal, "determiner": neg.determiner,
            "uncertain": unc.before, "hypothetical": hyp.before,
            "other_person": [*other.before, *(f"{t}s" for t in other.before)],  # "my wife's"
        }),
        after=_index({"pseudo": neg.pseudo, "negation": neg.after, "uncertain": unc.after}),
        intensifiers=_index({"intensifier": neg.intensifiers}),
        time=_index(words.time.model_dump()),
        breaks=_index({"break": words.clause_breaks}),
        first_person=frozenset(words.first_person),
        new_statement_words=frozenset(words.new_statement_words),
        answer_openers=frozenset(words.answer_openers),
        symptom_phrases=_index({n: s.phrases for n, s in words.symptoms.items()}, degree,
                               plurals=True),
        parts=_index({n: s.parts for n, s in words.symptoms.items()}, plurals=True),
        signs=_index({n: s.signs for n, s in words.symptoms.items()}, degree),
        symptoms={n: Symptom(n, s.level, s.topic, s.confirm, dict(s.answers), s.when_new,
                             dict(s.together), s.follow_up)
                  for n, s in words.symptoms.items()},
        windows={"negation": neg.window, "uncertain": unc.window, "hypothetical": hyp.window,
                 "other_person": other.window, "determiner": neg.window, "pseudo": 0,
                 "part_sign": words.part_sign_window},
    )
