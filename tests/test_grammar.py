"""What a grammar recognizer may hear at each moment (assistant/grammar.py), without audio.

By voice, pocketsphinx hears only whole phrases of the moment's vocabulary, and
what it hears is then interpreted like typed text. So at every moment the
vocabulary must hold the short sentences people say there, every phrase must
mean something there, and the red flags must be hearable whatever was asked
(assistant/policy.py rule 1). Moments are reached as a person would reach them.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import get_args

import pytest
from corpus_driver import reach

from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs, load_dialogs
from assistant.grammar import ALWAYS_HEARD, SENTENCE_SHAPES
from assistant.interpret import interpret
from assistant.policy import Kind
from assistant.ports import Heard, Vocabulary
from assistant.words import normalize

DIALOGS = load_dialogs()

# One moment of every kind the dialog has, by the corpus's names for them.
MOMENTS = {
    "sudden_onset": "question", "chest_pain": "question", "cannot_move": "question",
    "face": "question", "arm": "question", "calf": "question", "offer_routine": "question",
    "can_stand": "setup", "help": "help", "guidance": "guidance", "exercise": "exercise",
    "paused": "paused", "check_in": "check_in", "which": "which", "ask_unwell": "ask_unwell",
    "ask_if_new": "confirm", "confirm": "confirm",
}


@cache
def at(moment: str) -> tuple[DialogMachine, Vocabulary]:
    """A machine listening at `moment`, and what a grammar recognizer may hear there."""
    machine = DialogMachine(DIALOGS, "911")
    if moment == "which":
        conv = reach(machine, DIALOGS, "check_in")
        conv.reply("yes")  # "Any pain, dizziness, or chest pain?" "Yes." "Which is it?"
    elif moment == "confirm":
        conv = reach(machine, DIALOGS, "face")
        conv.reply("I don't think so")  # a soft "no" to a red flag is confirmed once
    else:
        conv = reach(machine, DIALOGS, moment)
    listening = conv.last.listening
    assert listening is not None
    offered = machine.grammar.vocabulary(machine.moment(), machine.expecting())
    # the grammar's vocabulary, its groups of one answer split by what they do here
    assert replace(listening.vocabulary, same_answers=()) == replace(offered, same_answers=())
    return machine, listening.vocabulary


def action(moment: str, said: str) -> str:
    machine, _ = at(moment)
    return machine.understand(said)[1].action


def test_every_kind_of_moment_is_checked() -> None:
    kinds = {at(moment)[0].moment().kind for moment in MOMENTS}
    assert kinds == set(MOMENTS.values()) == set(get_args(Kind))


@pytest.mark.parametrize("moment", MOMENTS)
def test_every_phrase_means_something_here(moment: str) -> None:
    """A phrase is worth hearing only if it does something: one that is "unclear" here
    is asked again anyway. In the call-911 guidance red flags change nothing, but they
    stay heard, so that "my chest hurts" is not taken for "next" or "goodbye". A moment
    of kind "confirm" is either "Is it new, or worse today?" or a red flag's
    confirmation, and the grammar is not told which: the words of the first ("it's new")
    do nothing at the second."""
    machine, vocabulary = at(moment)
    grammar = machine.grammar
    red_flags = {p for name in ALWAYS_HEARD for p in grammar.told(name, own=False)}
    for phrase in vocabulary.phrases:
        meaning, decision = machine.understand(phrase)
        allowed = (moment == "guidance" and phrase in red_flags) or (
            moment == "confirm" and phrase in grammar.new_or_not)
        if not allowed:
            assert meaning.answer or meaning.repeat or meaning.commands or meaning.mentions \
                or meaning.acknowledged, f"{phrase!r} means nothing at {moment}"
            assert decision.action != "unclear", f"{phrase!r} at {moment}: {decision}"


@pytest.mark.parametrize("moment", MOMENTS)
def test_phrases_grouped_as_one_answer_are_understood_alike(moment: str) -> None:
    """Two recognizers that heard two phrases of one group ("yes" and "yep") are taken to
    agree (assistant/asr/cross_checked.py): that is only safe if the dialog would do the
    same with either, here, at every moment ("no" and "no idea" are never one group)."""
    machine, vocabulary = at(moment)
    for group in vocabulary.same_answers:
        assert set(group) <= set(vocabulary.phrases), moment
        decisions = {machine.understand(phrase)[1] for phrase in group}
        assert len(decisions) == 1, (moment, group, decisions)
    grouped = [phrase for group in vocabulary.same_answers for phrase in group]
    assert len(grouped) == len(set(grouped)), moment  # no phrase in two groups
    if moment in ("chest_pain", "offer_routine", "check_in"):
        assert {"yes", "yeah"} <= {p for g in vocabulary.same_answers for p in g if "yes" in g}
        assert not any("no" in g and "no idea" in g for g in vocabulary.same_answers)


@pytest.mark.parametrize("moment", MOMENTS)
def test_repeat_requests_and_emergency_are_heard_everywhere(moment: str) -> None:
    _, vocabulary = at(moment)
    for said, done in (("what", "repeat"), ("pardon", "repeat"), ("sorry", "repeat"),
                       ("emergency", "emergency"), ("call 911", "emergency"),
                       ("ambulance", "emergency"), ("call an ambulance", "emergency")):
        assert normalize(said) in vocabulary.phrases, f"{said!r} at {moment}"
        assert action(moment, said) == done, f"{said!r} at {moment}"


@pytest.mark.parametrize("moment", MOMENTS)
def test_red_flags_are_heard_at_every_moment(moment: str) -> None:
    """Policy rule 1: a present red flag is the call-911 guidance at any moment, so its
    core words must be in every vocabulary, not only at its own question."""
    _, vocabulary = at(moment)
    for said in ("chest pain", "I have chest pain", "my chest is tight", "my chest hurts",
                 "can't breathe", "gave way", "my leg went weak", "suddenly weak",
                 "I can't move my leg", "paralysed"):
        assert normalize(said) in vocabulary.phrases, f"{said!r} at {moment}"
        if moment != "guidance":  # already in it: nothing new to do
            assert action(moment, said) in ("red_flag", "yes"), f"{said!r} at {moment}"


@pytest.mark.parametrize(("moment", "said", "done"), [
    ("cannot_move", "I can't move my leg", "yes"),
    ("cannot_move", "my leg won't move", "yes"),
    ("cannot_move", "I cannot move my foot", "yes"),
    ("sudden_onset", "my leg went weak", "yes"),
    ("sudden_onset", "my leg went numb", "yes"),
    ("sudden_onset", "I can't move my leg", "yes"),
    ("chest_pain", "no chest pain", "no"),
    ("chest_pain", "I have chest pain", "yes"),
    ("chest_pain", "my chest is tight", "yes"),
    ("arm", "my arm is weak", "yes"),
    ("arm", "my hand is numb", "yes"),
    ("arm", "not weak", "no"),
    ("face", "my face is drooping", "yes"),
    ("face", "my face drooped", "yes"),
    ("face", "not drooping", "no"),
    ("calf", "my calf is swollen", "yes"),
    ("check_in", "I'm alright", "no"),
    ("check_in", "I'm fine", "no"),
    ("check_in", "I have pain", "stop_sign"),
    ("check_in", "dizzy", "stop_sign"),
    ("exercise", "stop", "stop"),
    ("exercise", "my leg hurts", "stop_sign"),
    ("exercise", "I feel dizzy", "stop_sign"),
    ("exercise", "I feel sick", "stop_sign"),
    ("paused", "carry on", "resume"),
    ("ask_if_new", "it's new", "yes"),
    ("guidance", "I've called", "acknowledged"),
    ("help", "yes", "yes"),
])
def test_the_short_sentences_people_say_are_heard_where_they_matter(
        moment: str, said: str, done: str) -> None:
    _, vocabulary = at(moment)
    assert normalize(said) in vocabulary.phrases, f"{said!r} is not heard at {moment}"
    assert action(moment, said) == done


def test_denials_are_heard_only_where_they_answer_the_question() -> None:
    """ "No chest pain" answers the chest pain question; said at the face question it would
    be taken for a "no" about the face, so it is not offered there."""
    assert "no chest pain" in at("chest_pain")[1].phrases
    assert "no chest pain" not in at("face")[1].phrases
    assert "not drooping" in at("face")[1].phrases
    assert "not drooping" not in at("arm")[1].phrases


def test_answers_are_not_listened_for_while_counting() -> None:
    """During the exercises a "yes" or "no" is someone counting along: not listened for."""
    _, vocabulary = at("exercise")
    assert "yes" not in vocabulary.phrases and "no" not in vocabulary.phrases
    assert "pause" in vocabulary.phrases and "skip" in vocabulary.phrases


def test_okay_is_heard_only_where_it_answers() -> None:
    """A bare "okay" to a symptom question is unclear (asked again): not worth hearing."""
    assert "okay" not in at("face")[1].phrases
    assert "okay" in at("offer_routine")[1].phrases  # "Shall we do some exercises?" "Okay."
    assert action("offer_routine", "okay") == "yes"


def test_vocabularies_stay_small() -> None:
    """By voice each phrase costs accuracy (see assistant/grammar.py): every moment stays
    far below the 600-odd phrases the dialog data holds for the first question."""
    sizes = {moment: len(at(moment)[1].phrases) for moment in MOMENTS}
    assert max(sizes.values()) <= 400, sizes


@cache
def _data_words() -> frozenset[str]:
    path = Path(__file__).resolve().parents[1] / "dialogs" / "understanding.yaml"
    text = normalize(re.sub(r"#[^\n]*", " ", path.read_text("utf-8")))
    return frozenset(text.split()) | {"nine", "one"}  # 911 is heard as "nine one one"


@pytest.mark.parametrize("moment", MOMENTS)
def test_every_word_comes_from_the_dialog_data(moment: str) -> None:
    """Nothing of the vocabulary is written in Python: only the sentence shapes, whose
    own words are words of understanding.yaml too."""
    _, vocabulary = at(moment)
    unknown = {w for p in (*vocabulary.phrases, *vocabulary.interrupt_phrases)
               for w in p.split()} - _data_words()
    assert not unknown
    shape_words = {w for shapes in SENTENCE_SHAPES.values() for shape in shapes
                   for w in shape.split() if not w.startswith("{")}
    assert shape_words <= _data_words()


def test_sentences_made_from_shapes_tell_their_symptom() -> None:
    """Every sentence made from a shape is read as telling (or denying) its symptom."""
    machine, _ = at("sudden_onset")
    grammar = machine.grammar
    for name in DIALOGS.words.symptoms:
        own = set(grammar.symptoms[name])
        for sentence in grammar.told(name, own=True):
            if sentence in own:
                continue
            mentions = interpret(sentence, grammar.lexicon, (name,)).mentions
            assert any(m.symptom == name and m.assertion in ("present", "denied")
                       for m in mentions), f"{sentence!r} for {name}: {mentions}"


def test_barge_in_hears_the_urgent_phrases() -> None:
    _, vocabulary = at("exercise")
    for said in ("stop", "help", "emergency", "call 911", "chest pain", "I have chest pain"):
        assert normalize(said) in vocabulary.interrupt_phrases, said


def test_a_hesitation_after_an_open_phrase_is_waited_for() -> None:
    """ "I don't" may go on to "I don't know": the listener waits longer after it."""
    _, vocabulary = at("sudden_onset")
    assert "i dont" in vocabulary.open_phrases and "i dont know" in vocabulary.phrases


def test_a_phrase_whose_last_words_begin_another_meaning_is_open() -> None:
    """ "I'm not ... sure" is often heard as "i do not" before the pause: "not" begins "not
    sure", so the listener waits after it too; "no" may go on to "no feeling". A plain
    "yes" or "nope" cannot be turned around, and ends the turn quickly."""
    _, vocabulary = at("sudden_onset")
    for phrase in ("i do not", "im not", "no", "i cant"):
        assert phrase in vocabulary.open_phrases, phrase
    for phrase in ("yes", "nope", "not sure", "i dont know"):
        assert phrase in vocabulary.phrases and phrase not in vocabulary.open_phrases, phrase


def test_another_emergency_number_is_heard() -> None:
    machine = DialogMachine(DIALOGS, "999")
    turn = machine.start(0.0)
    assert turn.listening is not None
    phrases = turn.listening.vocabulary.phrases
    assert "call nine nine nine" in phrases and "call nine one one" in phrases


def test_the_vocabulary_is_computed_once_per_kind_of_moment(dialogs: Dialogs) -> None:
    """Across sessions the grammar's vocabulary is shared (what each moment makes of its
    groups of one answer is the same too)."""
    first, second = DialogMachine(dialogs, "911"), DialogMachine(dialogs, "911")
    one = first.start(0.0).listening
    two = second.start(0.0).listening
    again = first.hear(Heard("pardon", 0.95), 1.0).listening
    assert one is not None and two is not None and again is not None
    assert one.vocabulary == two.vocabulary == again.vocabulary
    assert first.grammar.vocabulary(first.moment(), first.expecting()) is \
        second.grammar.vocabulary(second.moment(), second.expecting())
