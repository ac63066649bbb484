"""Properties of the dialog machine that hold in every state it listens in.

Each listening state is reached by answering as the data says (paths are
worked out from dialogs/, not written here), then poked with commands and
with random inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import Conversation, Converse, Reply, path_to
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.dialog_data import DISPOSITION_RANK, Dialogs, Question, load_dialogs
from assistant.routine_plan import plan_routine
from assistant.transcript import HeardEvent, Outcome

_DIALOGS = load_dialogs()
RUNNING, PAUSED, CHECK_IN, WHICH, UNWELL = (
    "routine.running", "routine.paused", "routine.check_in", "routine.which",
    "routine.ask_unwell",
)
ROUTINE_STATES = (RUNNING, PAUSED, CHECK_IN, WHICH, UNWELL)
STOP_ASKS_FIRST = (RUNNING, CHECK_IN)  # "stop" while exercising: "Do you feel unwell?"


def _question(name: str, setup: bool) -> Callable[[Conversation], Conversation]:
    target = f"{'routine' if setup else 'check'}.{name}"
    return lambda conv: conv.follow(path_to(_DIALOGS, name), target)


def _running(conv: Conversation) -> Conversation:
    return conv.follow(path_to(_DIALOGS, "running"), RUNNING)


def _then(first: Callable[[Conversation], Conversation], *replies: Reply,
          until: str | None = None) -> Callable[[Conversation], Conversation]:
    def reach(conv: Conversation) -> Conversation:
        first(conv).replies(replies)
        return conv.silence_until(until) if until else conv

    return reach


def _start(conv: Conversation) -> Conversation:
    return conv


def situations(dialogs: Dialogs) -> dict[str, tuple[str, Callable[[Conversation], Conversation]]]:
    """name -> (the listening state, how to get there from the start)."""
    found: dict[str, tuple[str, Callable[[Conversation], Conversation]]] = {}
    for name, node in dialogs.check.nodes.items():
        if isinstance(node, Question):
            found[name] = (f"check.{name}", _question(name, setup=False))
    for name in dialogs.routine.setup:
        found[name] = (f"routine.{name}", _question(name, setup=True))
    check_in = _then(_running, until=CHECK_IN)
    found |= {
        "running": (RUNNING, _running),
        "paused": (PAUSED, _then(_running, "pause")),
        "check_in": (CHECK_IN, check_in),
        "which": (WHICH, _then(check_in, "yes")),
        "ask_unwell": (UNWELL, _then(_running, "stop")),
        "help": ("help", _then(_start, "help")),
        "help from the routine": ("help", _then(_running, "help")),
        "help from the check-in": ("help", _then(check_in, "help")),
        "emergency": ("emergency", _then(_start, "emergency")),
        "emergency from the routine": ("emergency", _then(_running, "chest pain")),
        "running, second exercise": (RUNNING, _then(check_in, "no")),
    }
    return found


SITUATIONS = situations(_DIALOGS)
NAMES = sorted(SITUATIONS)


def reach(converse: Converse, name: str, number: str = "911") -> Conversation:
    state, how = SITUATIONS[name]
    conv = how(converse(emergency_number=number))
    assert conv.state == state and not conv.finished
    return conv


def first_step(dialogs: Dialogs, number: str = "911") -> list[str]:
    """How the guidance begins: it cannot call, then the first step (one step at a time)."""
    return [dialogs.emergency.opening, dialogs.emergency.steps[0].replace(
        "{emergency_number}", number)]


def test_every_listening_state_is_reached() -> None:
    states = {state for state, _ in SITUATIONS.values()}
    questions = {f"check.{n}" for n, q in _DIALOGS.check.nodes.items() if isinstance(q, Question)}
    setup = {f"routine.{n}" for n in _DIALOGS.routine.setup}
    assert states == questions | setup | {"help", "emergency", *ROUTINE_STATES}


# --- Commands, in every listening state ------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_emergency_is_the_guidance_in_one_turn(converse: Converse, dialogs: Dialogs,
                                               name: str) -> None:
    conv = reach(converse, name, "112")
    turn = conv.reply("emergency")
    assert conv.state == "emergency"
    assert conv.machine.disposition == "emergency"
    opening, call = first_step(dialogs, "112")
    assert call in turn.says, turn.says
    assert name.startswith("emergency") or opening in turn.says, turn.says
    assert not turn.finished


@pytest.mark.parametrize("name", NAMES)
def test_help_then_silence_is_the_guidance_in_two_turns(converse: Converse, dialogs: Dialogs,
                                                        name: str) -> None:
    conv = reach(converse, name)
    first = conv.reply("help")
    if conv.state != "emergency":
        assert dialogs.phrases.prompts.help_question in first.says
        second = conv.reply(None)
    else:
        second = first
    assert conv.state == "emergency"
    assert first_step(dialogs)[1] in second.says, second.says


# Asking for help while asked "Is this an emergency?", or in the guidance, goes nowhere new.
GOING_BACK = [n for n in NAMES if SITUATIONS[n][0] not in ("help", "emergency")]


@pytest.mark.parametrize("name", GOING_BACK)
def test_help_then_no_goes_back(converse: Converse, dialogs: Dialogs, name: str) -> None:
    """Not an emergency after all: back where they were (a running routine waits, paused)."""
    conv = reach(converse, name)
    was = conv.state
    conv.reply("help")
    turn = conv.reply("no")
    assert dialogs.phrases.prompts.help_explain in turn.says
    assert conv.state == (PAUSED if was == RUNNING else was)
    assert conv.machine.disposition != "emergency"
    again = {RUNNING: dialogs.routine.paused.say, PAUSED: dialogs.routine.paused.say,
             CHECK_IN: dialogs.routine.check_in.ask, WHICH: dialogs.routine.check_in.which,
             UNWELL: dialogs.routine.stop_question.ask}
    prompt = again.get(was) or dialogs.question_nodes()[was.rsplit(".", 1)[-1]].ask
    assert any(line.startswith(prompt.split("{")[0]) for line in turn.says), turn.says


@pytest.mark.parametrize("name", NAMES)
def test_repeat_says_the_last_prompt_again(converse: Converse, name: str) -> None:
    conv = reach(converse, name)
    state, heard_last = conv.state, conv.last.says[-1]
    if state == "emergency":  # the step is repeated, not the hint after it
        heard_last = first_step(_DIALOGS)[1]
    turn = conv.reply("repeat")
    assert heard_last in turn.says, (heard_last, turn.says)
    assert conv.state == state and not turn.finished


@pytest.mark.parametrize("name", NAMES)
def test_a_doubtful_what_still_says_the_last_prompt_again(converse: Converse,
                                                          name: str) -> None:
    """A hard-of-hearing person's "what?" is often heard with little confidence: it is
    still a request to hear it again, not an unclear answer that uses up a try."""
    conv = reach(converse, name)
    conv.machine.min_confidence = 0.5
    state, heard_last = conv.state, conv.last.says[-1]
    if state == "emergency":
        heard_last = first_step(_DIALOGS)[1]
    turn = conv.reply("what", confidence=0.2)
    assert heard_last in turn.says, (heard_last, turn.says)
    assert conv.state == state and not turn.finished


@pytest.mark.parametrize("name", NAMES)
def test_stop_ends_politely(converse: Converse, dialogs: Dialogs, name: str) -> None:
    conv = reach(converse, name, "112")
    was = conv.state
    turn = conv.reply("stop")
    if was in STOP_ASKS_FIRST:  # it may mean "I feel unwell": asked once (§6.6)
        assert dialogs.routine.stop_question.ask in turn.says
        turn = conv.reply("no")
    assert turn.finished and conv.state == "goodbye"
    assert turn.says[-1] == dialogs.phrases.prompts.goodbye
    if was == "emergency":
        assert dialogs.emergency.reminder.replace("{emergency_number}", "112") in turn.says
    else:
        safety_net = dialogs.phrases.prompts.goodbye_safety_net.text
        assert safety_net.replace("{emergency_number}", "112") in turn.says
    if was in ROUTINE_STATES:
        summary = dialogs.routine.summary
        assert any(line.startswith((summary.nothing, summary.stopped.split("{")[0]))
                   for line in turn.says), turn.says


@pytest.mark.parametrize("name", NAMES)
def test_what_can_i_say_lists_the_options(converse: Converse, dialogs: Dialogs,
                                          name: str) -> None:
    conv = reach(converse, name)
    state = conv.state
    turn = conv.reply("what can I say")
    assert dialogs.phrases.prompts.always_options in turn.says
    assert conv.state == state


# --- Random inputs ---------------------------------------------------------------------


def _phrases(dialogs: Dialogs) -> list[str]:
    words = dialogs.words
    said = [p for ps in words.answers.values() for p in ps]
    said += [p.replace("{emergency_number}", "911") for ps in words.commands.values() for p in ps]
    said += [p for s in words.symptoms.values() for p in s.phrases[:3]]
    return sorted(set(said + words.repeat_requests[:5]))


GARBAGE = ["banana", "mmm", "", "...", "yes and no", "no yes", "the cat sat", "nine"]
INPUTS = st.lists(
    st.one_of(st.none(), st.sampled_from(_phrases(_DIALOGS) + GARBAGE), st.text(max_size=12)),
    max_size=10,
)


def silence_bound(dialogs: Dialogs) -> int:
    """Enough silences to end from anywhere: every beat, every question, every reminder."""
    beats = len(plan_routine(dialogs.routine, can_stand=True))
    asks = (dialogs.phrases.listening.reasks + 1) * (len(dialogs.question_nodes()) + 2)
    return beats + asks + dialogs.emergency.reminders + dialogs.routine.paused.reminders + 5


def routine_lines(dialogs: Dialogs) -> set[str]:
    routine = dialogs.routine
    lines = {b.text for b in plan_routine(routine, can_stand=True)}
    lines |= {routine.check_in.ask, routine.check_in.which, routine.paused.say, "Skipping.",
              "Let's carry on."}
    return lines | {q.ask for q in routine.setup.values()} | {r.text for r in routine.reminders}


def assert_safe_history(dialogs: Dialogs, conv: Conversation) -> None:
    exercise = routine_lines(dialogs)
    best = -1
    emergency_seen = False
    for turn in conv.turns:
        if emergency_seen:
            assert not exercise & set(turn.says), f"exercise after the emergency: {turn.says}"
        for event in turn.events:
            if isinstance(event, Outcome):
                rank = DISPOSITION_RANK[event.disposition]
                assert rank > best, f"the level of care went down to {event.disposition}"
                best = rank
                emergency_seen |= event.disposition == "emergency"
    final = conv.machine.disposition
    assert (DISPOSITION_RANK[final] if final else -1) == best


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), inputs=INPUTS)
def test_any_inputs_then_silence_end_safely(converse: Converse, dialogs: Dialogs, name: str,
                                            inputs: list[Reply]) -> None:
    conv = reach(converse, name)
    for text in inputs:
        if conv.finished:
            break
        conv.reply(text)
    conv.finish(limit=silence_bound(dialogs))
    assert conv.state == "goodbye"
    assert conv.last.says[-1] == dialogs.phrases.prompts.goodbye
    assert_safe_history(dialogs, conv)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), before=INPUTS, after=INPUTS)
def test_after_an_emergency_never_exercise(converse: Converse, dialogs: Dialogs, name: str,
                                           before: list[Reply], after: list[Reply]) -> None:
    conv = reach(converse, name)
    for text in before:
        assume(not conv.finished)
        conv.reply(text)
    assume(not conv.finished)
    conv.reply("call an ambulance")
    assert conv.state == "emergency" and conv.machine.disposition == "emergency"
    for text in after:
        if conv.finished:
            break
        conv.reply(text)
        assert conv.state in ("emergency", "goodbye")
        assert conv.machine.disposition == "emergency"
    conv.finish(limit=silence_bound(dialogs))
    assert_safe_history(dialogs, conv)


def _one_phrase_per_meaning(dialogs: Dialogs) -> dict[str, str]:
    words = dialogs.words
    meanings = {k: v[0] for k, v in words.answers.items()}
    meanings |= {k: v[0].replace("{emergency_number}", "911") for k, v in words.commands.items()}
    meanings |= {k: s.phrases[0] for k, s in words.symptoms.items() if s.phrases}
    return meanings | {"repeat": words.repeat_requests[0], "unclear": "banana"}


# One situation per kind of listening state.
KINDS = ["sudden_onset", "can_stand", "help", "emergency", "running", "paused", "check_in",
         "which", "ask_unwell"]


@pytest.mark.parametrize("name", KINDS)
def test_whatever_is_said_gets_a_spoken_reply(converse: Converse, dialogs: Dialogs,
                                             name: str) -> None:
    """Nobody is left in silence after speaking; only counting along during a beat is ignored."""
    state = SITUATIONS[name][0]
    conv = reach(converse, name)
    for meaning, text in _one_phrase_per_meaning(dialogs).items():
        if conv.finished or conv.state != state:  # the last reply moved on: start again
            conv = reach(converse, name)
        turn = conv.reply(text)
        heard = [e for e in turn.events if isinstance(e, HeardEvent)]
        counting_along = conv.state == RUNNING and heard and heard[0].understood == "ignored"
        if not counting_along:
            assert turn.says, f"{text!r} ({meaning}) in {name} got no reply"
