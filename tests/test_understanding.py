"""What a reply is understood as: phrases from dialogs/phrases.yaml, longest first, safety first."""

from __future__ import annotations

import pytest
from conftest import Converse

from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.transcript import HeardEvent
from assistant.understanding import UNCLEAR, PhraseBook, normalize, spoken_number

QUESTION = ("yes", "no", "unsure", "emergency", "help", "repeat", "stop", "chest_pain",
            "new_weakness")


@pytest.fixture(scope="module")
def machine(dialogs: Dialogs) -> DialogMachine:
    return DialogMachine(dialogs)


def meaning(machine: DialogMachine, text: str, intents: tuple[str, ...] = QUESTION) -> str:
    return machine.book.understand(text, intents).intent


def test_normalize() -> None:
    assert normalize("  Yes!!  I THINK so... ") == "yes i think so"
    assert normalize("I\u2019m not sure") == "im not sure"
    assert normalize("Call 9-1-1") == "call nine one one"
    assert normalize("call 911.") == "call nine one one"
    assert normalize("light-headed") == "light headed"
    assert normalize("...") == ""
    assert spoken_number("112") == "one one two"


@pytest.mark.parametrize("group", ["answers", "commands"])
def test_every_phrase_in_the_data_means_what_the_data_says(dialogs: Dialogs,
                                                           machine: DialogMachine,
                                                           group: str) -> None:
    table = getattr(dialogs.phrases, group)
    everything = tuple(table)
    for intent, phrases in table.items():
        for phrase in phrases:
            text = phrase.replace("{emergency_number}", "911")
            assert meaning(machine, text, everything) == intent, phrase


def test_every_stop_sign_phrase_is_understood_during_the_routine(dialogs: Dialogs,
                                                                 machine: DialogMachine) -> None:
    during = ("yes", "no", "unsure", "pause", "skip", "stop", *dialogs.routine.stop_signs)
    for sign, details in dialogs.routine.stop_signs.items():
        for phrase in details.phrases:
            assert meaning(machine, phrase, during) == sign, phrase


@pytest.mark.parametrize(("text", "intent"), [
    ("yeah", "yes"), ("I think so", "yes"), ("Yes, it did.", "yes"), ("YES!", "yes"),
    ("nope", "no"), ("not really", "no"), ("No, I don't.", "no"), ("no no no", "no"),
    ("I'm not sure", "unsure"), ("I don't know", "unsure"), ("maybe", "unsure"),
    ("i\u2019m not sure", "unsure"),
])
def test_everyday_answers(machine: DialogMachine, text: str, intent: str) -> None:
    assert meaning(machine, text) == intent


@pytest.mark.parametrize("text", ["It did not.", "I do not.", "I have not.", "It has not.",
                                  "I am not.", "No, it did not.", "No, I have not.",
                                  "I'm afraid not."])
def test_a_formal_no_is_no_not_yes(machine: DialogMachine, text: str) -> None:
    """"It has not" must not be heard as "it has" (yes): that would send a "no" to 911."""
    assert meaning(machine, text) == "no"


def test_every_short_yes_has_its_negation(dialogs: Dialogs, machine: DialogMachine) -> None:
    auxiliaries = {"am", "is", "are", "do", "does", "did", "has", "have", "can", "was", "will"}
    short_yes = [p for p in dialogs.phrases.answers["yes"]
                 if p.split()[-1] in auxiliaries and not p.startswith("yes")]
    assert short_yes
    for phrase in short_yes:
        assert meaning(machine, f"{phrase} not") == "no", f"'{phrase} not' is not a no"


def test_the_longest_phrase_wins(machine: DialogMachine) -> None:
    assert meaning(machine, "no chest pain") == "no"
    assert meaning(machine, "No, no chest pain.") == "no"
    assert meaning(machine, "not at all") == "no"  # not "not" + something else
    assert meaning(machine, "i don't know") == "unsure"  # longer than "i don't" (no)
    during = ("no", "pause", "skip", "stop", "chest_pain", "pain", "dizziness")
    assert meaning(machine, "chest pain", during) == "chest_pain"
    assert meaning(machine, "pain", during) == "pain"
    assert meaning(machine, "no pain", during) == "no"


def test_safety_beats_an_answer(machine: DialogMachine) -> None:
    assert meaning(machine, "yes I have chest pain") == "chest_pain"
    assert meaning(machine, "no, but call an ambulance") == "emergency"
    assert meaning(machine, "yes help me") == "help"


@pytest.mark.parametrize("text", ["yes and no", "yes no", "no, yes", "banana", "mmm", "",
                                  "the weather is nice", "123"])
def test_unclear(machine: DialogMachine, text: str) -> None:
    assert meaning(machine, text) == UNCLEAR


@pytest.mark.parametrize("text", ["call 911", "Call 9-1-1!", "911", "nine one one",
                                  "call nine one one", "EMERGENCY", "get an ambulance"])
def test_emergency_with_digits_or_words(machine: DialogMachine, text: str) -> None:
    assert meaning(machine, text) == "emergency"


def test_the_configured_number_is_understood(dialogs: Dialogs) -> None:
    machine = DialogMachine(dialogs, emergency_number="112")
    assert meaning(machine, "call 112") == "emergency"
    assert meaning(machine, "one one two") == "emergency"
    assert meaning(machine, "ambulance") == "emergency"


def test_only_the_meanings_listened_for_count(machine: DialogMachine) -> None:
    assert meaning(machine, "pause", ("yes", "no")) == UNCLEAR
    assert meaning(machine, "pause", ("yes", "no", "pause")) == "pause"


def test_a_phrasebook_on_its_own() -> None:
    book = PhraseBook({"yes": ["yes"], "no": ["no", "no thanks"], "stop": ["stop"]},
                      priority=("stop",))
    assert book.understand("No thanks!", ("yes", "no")).intent == "no"
    assert book.understand("No thanks!", ("yes", "no")).phrase == "no thanks"
    assert book.understand("yes stop", ("yes", "stop")).intent == "stop"
    assert book.phrases_for(("no",)) == ("no", "no thanks")


# --- Through the machine -------------------------------------------------------------------


def test_low_confidence_is_unclear_never_an_answer(converse: Converse, dialogs: Dialogs) -> None:
    conv = converse(min_confidence=0.6)
    question = dialogs.check.nodes[dialogs.check.start]
    turn = conv.reply("yes", confidence=0.3)
    assert conv.state == f"check.{dialogs.check.start}"
    assert dialogs.phrases.prompts.reask_unclear in turn.says
    assert question.simpler in turn.says  # type: ignore[union-attr]
    heard = [e for e in turn.events if isinstance(e, HeardEvent)]
    assert heard[0].understood.startswith("unclear")
    conv.reply("no", confidence=0.3)
    assert conv.state == "emergency", "two unclear answers to a red flag: the safe route"
    confident = converse(min_confidence=0.6)
    confident.reply("no", confidence=0.9)
    assert confident.state != f"check.{dialogs.check.start}"


def test_no_chest_pain_answers_the_question(converse: Converse, dialogs: Dialogs) -> None:
    conv = converse().answer_until("check.now_chest_pain")
    conv.reply("No chest pain.")
    assert conv.state == "check.now_dizzy"
    conv = converse().answer_until("check.now_chest_pain")
    conv.reply("I have chest pain")
    assert conv.state == "emergency"


def test_what_was_heard_goes_in_the_transcript(converse: Converse) -> None:
    conv = converse()
    turn = conv.reply("Nope!")
    heard = [e for e in turn.events if isinstance(e, HeardEvent)]
    assert heard == [HeardEvent("Nope!", None, "no")]
    turn = conv.reply(None)
    assert [e for e in turn.events if isinstance(e, HeardEvent)] == [HeardEvent(None)]
