"""What an answer means: the interpretation of what people say, and the safety properties of
the policy that acts on it (issue: "Understanding what people really say").

The corpus (test_corpus.py) checks hundreds of real utterances at their moment; these tests
pin the ideas one by one, and check the properties over every red flag in the data.
"""

from __future__ import annotations

from typing import Any

import pytest
from corpus_driver import reach
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.dialog import DialogMachine
from assistant.dialog_data import load_dialogs
from assistant.interpret import Interpretation, interpret
from assistant.lexicon import build_lexicon
from assistant.policy import Moment, decide
from assistant.words import normalize, spoken_number, tokens

DIALOGS = load_dialogs()
WORDS = DIALOGS.words
LEXICON = build_lexicon(WORDS, ("911",))
SYMPTOMS = LEXICON.symptoms
RED_FLAG_QUESTIONS = [n for n, q in DIALOGS.question_nodes().items() if q.red_flag]


def meaning(text: str, *expecting: str) -> Interpretation:
    return interpret(text, LEXICON, expecting)


def assertions(text: str, *expecting: str) -> dict[str, str]:
    return {m.symptom: m.assertion for m in meaning(text, *expecting).mentions}


def at_question(name: str) -> Moment:
    question = DIALOGS.question_nodes()[name]
    return Moment("question", name, question.red_flag, question.if_okay, question.if_fine,
                  frozenset({"help", "stop", "what_can_i_say", "slower", "louder"}))


# --- Words ------------------------------------------------------------------------------------


def test_words_are_folded_one_way_everywhere() -> None:
    assert normalize("  Yes!!  I THINK so... ") == "yes i think so"
    assert normalize("I\u2019m not sure") == "im not sure"
    assert normalize("Call 9-1-1") == "call nine one one"
    assert normalize("light-headed") == "light headed"
    assert normalize("S\u00ed") == "si"
    assert normalize("...") == ""
    # Other scripts are words too (a Vosk model may spell its words in them), but not
    # English answers: a Russian "yes" typed here is understood as nothing.
    assert normalize("\u0414\u0430!") == "\u0434\u0430"
    assert meaning("\u0434\u0430", "yes", "no").answer is None
    assert spoken_number("112") == "one one two"
    assert tokens("no... wait, yes") == ["no", "|", "wait", "|", "yes"]


# --- The failures the issue reported, one by one ----------------------------------------------


@pytest.mark.parametrize(("text", "symptom"), [
    ("I can't lift my foot off the floor since lunch", "leg_paralysis"),
    ("worst headache I've ever had", "severe_headache"),
    ("I've never had a headache like this", "severe_headache"),
    ("I haven't been able to move my leg since lunch", "leg_paralysis"),
    ("my arm won't do what I tell it", "arm_weakness"),
    ("I can't get my words out", "speech_trouble"),
    ("I have no feeling down below", "saddle_numbness"),
])
def test_a_red_flag_with_a_negative_word_in_it_is_present(text: str, symptom: str) -> None:
    assert assertions(text).get(symptom) == "present"


@pytest.mark.parametrize(("text", "symptom"), [
    ("there's no pain in my chest at all", "chest_pain"),
    ("no chest pain", "chest_pain"),
    ("my face didn't droop", "face_droop"),
    ("I don't think my face drooped", "face_droop"),
    ("my face is fine", "face_droop"),
    ("I'm not short of breath", "breathless"),
    ("never had chest pain in my life", "chest_pain"),
    ("Chest pain? No.", "chest_pain"),
])
def test_a_denied_complaint_is_denied(text: str, symptom: str) -> None:
    assert assertions(text).get(symptom) == "denied"


@pytest.mark.parametrize(("text", "commands"), [
    ("it won't go away", ()), ("at the end of the day my legs ache", ()),
    ("I managed with help", ()), ("it isn't an emergency", ()), ("I'm slower than I was", ()),
    ("can we stop please", ("stop",)), ("stop, I feel sick", ("stop",)), ("wait", ("pause",)),
    ("call an ambulance", ("emergency",)), ("I think I need an ambulance", ("emergency",)),
    ("should I call an ambulance?", ("help",)),
    ("my neighbour had to call an ambulance last week", ()),
    ("you're going too fast for me, dear", ("slower",)),
])
def test_a_command_counts_only_as_a_command(text: str, commands: tuple[str, ...]) -> None:
    assert meaning(text).commands == commands


@pytest.mark.parametrize("text", ["I couldn't say", "I'm not positive", "I don't really know",
                                  "hard to say", "maybe", "no idea"])
def test_a_hedge_is_not_sure_never_no(text: str) -> None:
    assert meaning(text).answer == "unsure"
    assert decide(meaning(text), at_question("face"), SYMPTOMS).action == "unsure"


@pytest.mark.parametrize("text", ["sorry?", "eh?", "I missed that", "what?", "pardon",
                                  "come again", "I didn't catch that", "say that again please",
                                  "sorry, I was miles away, what did you ask?"])
def test_asking_to_hear_it_again_is_a_repeat_request_not_an_answer(text: str) -> None:
    said = meaning(text)
    assert said.repeat and said.answer is None
    assert decide(said, at_question("arm"), SYMPTOMS).action == "repeat"


@pytest.mark.parametrize("text", ["what can I say", "sorry, no", "if you'll pardon the pun, no"])
def test_words_of_a_repeat_request_inside_something_else_are_not_one(text: str) -> None:
    assert decide(meaning(text), at_question("arm"), SYMPTOMS).action != "repeat"


def test_the_last_answer_said_wins_and_is_marked_corrected() -> None:
    said = meaning("no... wait, yes, this morning it did")
    assert said.answer == "yes" and said.corrected
    back = meaning("yes... no, I mean I can move it, it's just weak")
    assert back.answer == "no" and back.corrected
    assert decide(back, at_question("cannot_move"), SYMPTOMS).confirm  # a red flag: confirmed


def test_a_red_flag_said_in_passing_counts_anywhere() -> None:
    said = meaning("no thanks, but my speech has been funny since breakfast")
    assert said.answer == "no" and assertions(said.text)["speech_trouble"] == "present"
    decision = decide(said, at_question("offer_routine"), SYMPTOMS)
    assert (decision.action, decision.symptom) == ("red_flag", "speech_trouble")


def test_time_decides_long_standing_passed_and_new() -> None:
    assert assertions("my toes have tingled ever since my sugar went up years ago") == {
        "tingling": "long_standing"}
    assert assertions("it was drooping this morning but it's better now", "face_droop") == {
        "face_droop": "passed"}
    assert assertions("my leg's been weak for years") == {"leg_weakness": "long_standing"}
    assert assertions("my leg went weak this morning")["sudden_weakness"] == "present"
    assert assertions("my legs have been weak since lunch") == {"sudden_weakness": "present"}
    assert assertions("I've had a stammer for years but it's worse today") == {
        "speech_trouble": "present"}


@pytest.mark.parametrize(("text", "symptom"), [
    ("my chest feels heavy", "chest_pain"), ("I feel woozy", "dizziness"),
    ("I can't catch my breath", "breathless"), ("I'm seeing double", "vision_trouble"),
    ("I feel a bit sick", "nausea"), ("my jaw's aching, and down my arm", "chest_pain"),
])
def test_stop_signs_said_in_a_sentence_are_heard(text: str, symptom: str) -> None:
    assert assertions(text).get(symptom) == "present"


@pytest.mark.parametrize("text", ["doing alright", "okay", "fine thanks", "all good", "not bad"])
def test_fine_at_a_check_in_is_nothing_wrong(text: str) -> None:
    check_in = Moment("check_in", okay="no", fine="no", around_routine=True)
    assert decide(meaning(text), check_in, SYMPTOMS).action == "no"


@pytest.mark.parametrize("text", ["si", "oui", "ja", "s\u00ed", "\u0434\u0430", "..."])
def test_another_languages_yes_is_unclear_never_no(text: str) -> None:
    assert decide(meaning(text), at_question("face"), SYMPTOMS).action == "unclear"


def test_someone_elses_complaint_and_a_question_are_not_the_persons() -> None:
    assert assertions("my husband has chest pain") == {"chest_pain": "other_person"}
    assert assertions("my wife's the one who keeps falling, not me")["fall_injury"] == \
        "other_person"
    assert assertions("my husband says my speech is slurred")["speech_trouble"] == "present"
    said = meaning("what should I do if my face droops?")
    assert assertions(said.text) == {"face_droop": "hypothetical"} and said.answer is None
    assert decide(said, at_question("face"), SYMPTOMS).action == "unclear"


def test_an_emergency_level_complaint_at_an_urgent_question_is_the_guidance() -> None:
    """Not the question's own "yes" (which only leads to "call your doctor today")."""
    said = meaning("yes, my calf's swollen and hot, and I'm out of breath just talking")
    decision = decide(said, at_question("calf"), SYMPTOMS)
    assert (decision.action, decision.symptom) == ("red_flag", "lung_clot")
    numb = decide(meaning("yes, and my bottom's gone numb since yesterday"),
                  at_question("new_with_symptoms"), SYMPTOMS)
    assert numb.action == "red_flag"


def test_the_transcript_records_why() -> None:
    record = meaning("no, my speech has been slurred since this morning").record()
    assert record["answer"] == "no"
    assert record["symptoms"] == [{"symptom": "speech_trouble", "assertion": "present",
                                   "words": "slurred", "cue": "since this morning"}]


# --- Properties over every red flag in the data ------------------------------------------------


def _counting_phrases() -> list[tuple[str, str]]:
    """(red-flag symptom, a phrase naming it), where the phrase is a complaint on its own."""
    found = []
    for name, symptom in SYMPTOMS.items():
        if symptom.level != "emergency":
            continue
        for text in WORDS.symptoms[name].phrases:
            said = meaning(text)
            if any(m.symptom == name and m.assertion == "present" for m in said.mentions):
                found.append((name, text))
    return found


COUNTING = _counting_phrases()
OPENERS = LEXICON.new_statement_words | {"no", "not", "nothing", "any", "won't", "can't"}
DENIABLE = [(n, t) for n, t in COUNTING if t.split()[0].replace("'", "") not in OPENERS]
DENIALS = ["no {}", "there's no {}", "I haven't had any {}", "I don't have {}",
           "{}? no", "{}? not at all", "no, no {}, nothing like that", "I've not had {}"]
RECENT = [c for c in WORDS.time.onset if len(c.split()) > 1][:40]


def test_the_properties_cover_every_red_flag() -> None:
    named = {n for n, _ in COUNTING}
    emergency = {n for n, s in SYMPTOMS.items() if s.level == "emergency"}
    assert named == emergency, emergency - named
    assert len(DENIABLE) > 150


def _rank(decision: Any, symptom: str) -> int:
    """How far the decision goes toward the guidance because of this symptom."""
    if decision.action in ("red_flag", "yes") and decision.symptom == symptom:
        return 3
    if decision.action in ("confirm", "ask_if_new") and decision.symptom == symptom:
        return 2
    return 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from(DENIABLE), denial=st.sampled_from(DENIALS),
       question=st.sampled_from([None, *RED_FLAG_QUESTIONS]))
def test_a_denied_complaint_never_leads_to_the_guidance(pair: tuple[str, str], denial: str,
                                                        question: str | None) -> None:
    symptom, text = pair
    said = meaning(denial.format(text))
    assert not any(m.symptom == symptom and m.counts for m in said.mentions), said
    moment = at_question(question) if question else Moment("check_in", around_routine=True)
    assert _rank(decide(said, moment, SYMPTOMS), symptom) < 3, said


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from(COUNTING), cue=st.sampled_from(RECENT),
       joint=st.sampled_from(["{} {}", "{}, {}", "{} since {}"]))
def test_a_recent_time_never_lowers_a_red_flag(pair: tuple[str, str], cue: str,
                                               joint: str) -> None:
    symptom, text = pair
    moment = Moment("question", "offer_routine", commands=frozenset({"stop"}))
    plain = decide(meaning(text), moment, SYMPTOMS)
    timed = decide(meaning(joint.format(text, cue)), moment, SYMPTOMS)
    assert _rank(plain, symptom) == 3
    assert timed.action == "red_flag", (joint.format(text, cue), timed)


def _answering(question: str) -> list[str]:
    return [t for n, t in COUNTING if SYMPTOMS[n].answers.get(question) == "yes"]


QUESTION_PHRASES = [(q, t) for q in RED_FLAG_QUESTIONS for t in _answering(q)]
FRAMES = ["{}", "yes, {}", "well, {} this morning", "{}, and it's still there",
          "no... wait, {}", "I'm not one to fuss, but {}", "{} since lunch, it's gone off now"]


def test_every_red_flag_question_has_words_that_answer_it() -> None:
    assert {q for q, _ in QUESTION_PHRASES} >= set(RED_FLAG_QUESTIONS) - {"blood_thinner"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from(QUESTION_PHRASES), frame=st.sampled_from(FRAMES))
def test_naming_the_red_flag_at_its_question_is_the_guidance(pair: tuple[str, str],
                                                             frame: str) -> None:
    question, text = pair
    conv = reach(DialogMachine(DIALOGS), DIALOGS, question)
    turn = conv.reply(frame.format(text))
    assert conv.state == "emergency", (frame.format(text), turn.says)
