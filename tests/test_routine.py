"""The timed seated routine: what is counted, when, and how it stops.

The plan is checked against dialogs/routine.yaml; the machine is driven with
times (no clock); the session runs on a FakeClock with a scripted voice that
takes time to speak, to show the beats keep to absolute deadlines.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from conftest import Conversation, Converse, path_to
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.clock import FakeClock
from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs, ExercisePlan, load_dialogs
from assistant.ports import Heard, Spoken, Vocabulary, VoiceChange
from assistant.routine_plan import Beat, plan_routine
from assistant.session import Session
from assistant.transcript import Exercise, Timing, Transcript
from assistant.words import number_word

_DIALOGS = load_dialogs()
RUNNING, PAUSED, CHECK_IN, WHICH = (
    "routine.running", "routine.paused", "routine.check_in", "routine.which"
)


def exercises(dialogs: Dialogs, can_stand: bool) -> list[ExercisePlan]:
    return [e for e in dialogs.routine.exercises if e.only_if != "can_stand" or can_stand]


def counts(beats: list[Beat]) -> list[Beat]:
    """The beats that count a rep aloud (not the "and lower" after a hold)."""
    return [b for i, b in enumerate(beats)
            if b.kind == "rep" and not (i and beats[i - 1].kind == "hold")]


def start_routine(converse: Converse, can_stand: bool = True) -> Conversation:
    answers = path_to(_DIALOGS, "running") | {"can_stand": "yes" if can_stand else "no"}
    return converse().follow(answers, RUNNING)


@dataclass
class Beats:
    """What the routine said on its own clock: each beat's text, planned and actual time."""

    texts: list[str] = field(default_factory=list)
    planned: list[float] = field(default_factory=list)
    actual: list[float] = field(default_factory=list)


def said_beats(conv: Conversation, since: int = 0) -> Beats:
    found = Beats()
    for turn in conv.turns[since:]:
        for event in turn.events:
            if isinstance(event, Timing):
                found.texts.append(turn.says[-1])
                found.planned.append(event.planned)
                found.actual.append(event.actual)
    return found


def run_through(conv: Conversation, check_in: str = "no", limit: int = 3000) -> Conversation:
    """Let the routine run: silence during beats, `check_in` to every check-in."""
    for _ in range(limit):
        if conv.finished:
            return conv
        conv.reply(check_in if conv.state == CHECK_IN else None)
    raise AssertionError("the routine did not end")


def run_until(conv: Conversation, text: str) -> Conversation:
    """Let the routine run until a line containing `text` has just been said."""
    for _ in range(3000):
        if any(text in line for line in conv.last.says):
            return conv
        conv.reply("no" if conv.state == CHECK_IN else None)
    raise AssertionError(f"{text!r} was never said")


def exercise_lines(dialogs: Dialogs) -> set[str]:
    routine = dialogs.routine
    return {b.text for b in plan_routine(routine, can_stand=True)} | {routine.check_in.ask}


# --- The plan, against the data ---------------------------------------------------------


@pytest.mark.parametrize("can_stand", [True, False])
def test_exercises_in_the_order_of_the_data(dialogs: Dialogs, can_stand: bool) -> None:
    beats = plan_routine(dialogs.routine, can_stand)
    checked = [b.exercise for b in beats if b.kind == "check_in"]
    assert checked == [e.name for e in exercises(dialogs, can_stand)]
    standing = [e.name for e in dialogs.routine.exercises if e.only_if == "can_stand"]
    assert standing, "the data has a standing exercise"
    assert all((name in checked) == can_stand for name in standing)


def test_warm_up_first_cool_down_last(dialogs: Dialogs) -> None:
    beats = plan_routine(dialogs.routine, can_stand=True)
    warm, cool = dialogs.routine.warm_up.steps, dialogs.routine.cool_down.steps
    assert [b.text for b in beats[:len(warm)]] == [s.say for s in warm]
    assert [b.seconds for b in beats[:len(warm)]] == [s.seconds for s in warm]
    assert [b.text for b in beats[-len(cool):]] == [s.say for s in cool]


@pytest.mark.parametrize("exercise", _DIALOGS.routine.exercises, ids=lambda e: e.id)
def test_reps_per_side_per_set(dialogs: Dialogs, exercise: ExercisePlan) -> None:
    beats = [b for b in plan_routine(dialogs.routine, can_stand=True)
             if b.exercise == exercise.name]
    counted = counts(beats)
    variants = max(1, len(exercise.variants))
    assert len(counted) == exercise.sets * len(exercise.sides) * variants * exercise.reps
    sides = [None if s == "both" else s for s in exercise.sides]
    for set_no in range(1, exercise.sets + 1):
        in_set = [(b.side, b.rep) for b in counted if b.set == set_no]
        if exercise.alternate:
            expected = [(side, rep) for rep in range(1, exercise.reps + 1) for side in sides]
        else:
            expected = [(side, rep) for side in sides for _ in range(variants)
                        for rep in range(1, exercise.reps + 1)]
        assert in_set == expected
    assert all(b.seconds == exercise.rep_seconds for b in counted)


def test_marching_alternates_sides(dialogs: Dialogs) -> None:
    alternating = [e for e in dialogs.routine.exercises if e.alternate]
    assert alternating
    for exercise in alternating:
        beats = [b for b in plan_routine(dialogs.routine, True) if b.exercise == exercise.name]
        said = [b.text for b in counts(beats)]
        assert said[:4] == ["Right, one.", "Left, one.", "Right, two.", "Left, two."]


@pytest.mark.parametrize("exercise", [e for e in _DIALOGS.routine.exercises if e.hold_seconds],
                         ids=lambda e: e.id)
def test_holds_are_counted_down(dialogs: Dialogs, exercise: ExercisePlan) -> None:
    beats = [b for b in plan_routine(dialogs.routine, True) if b.exercise == exercise.name]
    counted = counts(beats)
    starts = [i for i, b in enumerate(beats) if any(b is c for c in counted)]
    assert len(starts) == len(counted)
    for i in starts:
        holds = []
        for after in beats[i + 1:]:
            if after.kind != "hold":
                break
            holds.append(after)
        lefts = [h.hold_left for h in holds]
        assert lefts[0] == int(exercise.hold_seconds) and lefts[-1] == 1, "every rep is held"
        assert lefts == sorted(lefts, reverse=True) and len(set(lefts)) == len(lefts)
        assert sum(h.seconds for h in holds) == exercise.hold_seconds
        assert holds[0].text.startswith("Hold")


def test_check_in_then_rest_after_every_exercise(dialogs: Dialogs) -> None:
    beats = plan_routine(dialogs.routine, can_stand=True)
    for exercise in exercises(dialogs, True):
        own = [i for i, b in enumerate(beats) if b.exercise == exercise.name]
        check = next(i for i in own if beats[i].kind == "check_in")
        assert check == max(i for i in own if beats[i].kind != "rest"), "check-in comes last"
        if exercise.rest_seconds:
            rest = beats[check + 1]
            assert rest.kind == "rest" and rest.seconds == exercise.rest_seconds
        if exercise.sets > 1 and exercise.set_rest_seconds:
            set_rests = [b for b in beats[own[0]:check] if b.kind == "rest"]
            assert [b.seconds for b in set_rests] == [exercise.set_rest_seconds] * (
                exercise.sets - 1)


def test_spoken_numbers_are_words(dialogs: Dialogs) -> None:
    for beat in plan_routine(dialogs.routine, can_stand=True):
        assert not any(ch.isdigit() for ch in beat.text), beat.text
        assert beat.text[:1].isupper(), beat.text


# --- Through the machine ------------------------------------------------------------------


def test_a_whole_routine(converse: Converse, dialogs: Dialogs) -> None:
    conv = run_through(start_routine(converse, can_stand=True))
    says = conv.says
    plan = plan_routine(dialogs.routine, can_stand=True)
    beats = said_beats(conv)
    assert beats.texts == [b.text for b in plan if b.kind != "check_in"]
    names = [e.name for e in exercises(dialogs, True)]
    assert says.count(dialogs.routine.check_in.ask) == len(names)
    assert says.count(dialogs.routine.check_in.good) == len(names)
    done = [line for line in says if line.startswith("Well done. You did")]
    assert len(done) == 1 and all(name.lower() in done[0] for name in names)
    count = number_word(len(names))
    assert done[0].startswith(f"Well done. You did {count} of the {count} exercises")
    assert not any(line.startswith("You skipped") for line in says)
    assert says[-1] == dialogs.phrases.prompts.goodbye
    assert conv.machine.disposition == "routine"


def test_sit_to_stand_only_when_standing_is_safe(converse: Converse, dialogs: Dialogs) -> None:
    standing = [e for e in dialogs.routine.exercises if e.only_if == "can_stand"]
    intro = [f"{e.name}. {e.how}" for e in standing]
    sitting = run_through(start_routine(converse, can_stand=False))
    assert not set(intro) & set(sitting.says)
    assert set(intro) <= set(run_through(start_routine(converse, can_stand=True)).says)
    unclear = converse().follow(path_to(dialogs, "can_stand"), "routine.can_stand")
    unclear.replies(["banana", "mmm"]).follow({"ready": "yes"}, RUNNING)
    assert not set(intro) & set(run_through(unclear).says)


def test_counts_and_sides_in_the_transcript(converse: Converse, dialogs: Dialogs) -> None:
    conv = run_through(start_routine(converse))
    first = dialogs.routine.exercises[0]
    reps = [(e.side, e.rep) for e in conv.events
            if isinstance(e, Exercise) and e.name == first.name and e.phase == "rep"]
    sides = [s for s in first.sides if s != "both"]
    firsts = [r for i, r in enumerate(reps) if i == 0 or reps[i - 1] != r]
    assert firsts == [(side, rep) for side in sides for rep in range(1, first.reps + 1)]


def test_hold_is_counted_down_aloud_in_time(converse: Converse, dialogs: Dialogs) -> None:
    exercise = max(dialogs.routine.exercises, key=lambda e: e.hold_seconds)
    conv = run_until(start_routine(converse), f"{exercise.name}.")
    mark = len(conv.turns)
    release = exercise.release or dialogs.routine.cues.lower
    beats = said_beats(run_until(conv, release), since=mark)
    start = next(i for i, text in enumerate(beats.texts) if text.startswith("Hold... "))
    end = beats.texts.index(release, start)
    assert beats.actual[end] - beats.actual[start] == pytest.approx(exercise.hold_seconds)
    spoken = [t.rstrip(".").removeprefix("Hold... ").removeprefix("And ").lower()
              for t in beats.texts[start:end]]
    numbers = [{number_word(n): n for n in range(100)}[word] for word in spoken]
    assert numbers[0] == exercise.hold_seconds and numbers[-1] == 1
    assert numbers == sorted(numbers, reverse=True)
    # Counted down, and never a bare number: "One." would sound like the first rep.
    assert not any(text[0].isupper() and text.rstrip(".").lower() in spoken
                   for text in beats.texts[start:end])


def test_rest_between_exercises_is_timed(converse: Converse, dialogs: Dialogs) -> None:
    first = dialogs.routine.exercises[0]
    second = dialogs.routine.exercises[1]
    conv = run_until(start_routine(converse), dialogs.routine.check_in.ask)
    turn = conv.reply("no")
    assert turn.says[0] == dialogs.routine.check_in.good
    assert turn.says[1].startswith("Rest for")
    rested_at = conv.now
    conv.reply(None)
    assert conv.last.says == [f"{second.name}. {second.how}"]
    assert conv.now - rested_at == pytest.approx(first.rest_seconds)


# --- Commands during the routine ------------------------------------------------------------


def test_pause_and_resume_skip_nothing(converse: Converse, dialogs: Dialogs) -> None:
    conv = run_until(start_routine(converse), "Three.")
    paused_on = conv.last.says[-1]
    turn = conv.reply("pause")
    assert turn.says == [dialogs.routine.paused.say] and conv.state == PAUSED
    conv.now += 40  # a long rest; still within the pause
    turn = conv.reply("resume")
    resumed_at = conv.now
    assert conv.state == RUNNING and turn.says[-1] == paused_on
    timing = [e for e in turn.events if isinstance(e, Timing)]
    assert timing[0].planned == pytest.approx(resumed_at), "timing restarts from the resume"
    run_through(conv)
    texts = said_beats(conv).texts
    expected = [b.text for b in plan_routine(dialogs.routine, True) if b.kind != "check_in"]
    at = texts.index("Three.")
    assert texts[:at + 1] + texts[at + 2:] == expected, "after resume, every beat is said"
    assert conv.machine.model.routine.skipped == []


def test_silence_while_paused_reminds_then_ends(converse: Converse, dialogs: Dialogs) -> None:
    conv = run_until(start_routine(converse), "Seated leg extension")
    conv.reply("wait a minute")
    times = [conv.now]
    for _ in range(dialogs.routine.paused.reminders):
        assert dialogs.routine.paused.reminder in conv.reply(None).says
        times.append(conv.now)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([dialogs.routine.paused.seconds] * len(gaps))
    last = conv.reply(None)
    assert last.finished and last.says[-1] == dialogs.phrases.prompts.goodbye


def test_skip_reports_the_exercise_and_goes_on(converse: Converse, dialogs: Dialogs) -> None:
    second, third = dialogs.routine.exercises[1], dialogs.routine.exercises[2]
    conv = run_until(start_routine(converse), f"{second.name}.")
    conv.reply(None)
    turn = conv.reply("skip this")
    assert turn.says[-1] == f"{third.name}. {third.how}"
    run_through(conv)
    says = conv.says
    done = next(line for line in says if line.startswith("Well done. You did"))
    assert second.name.lower() not in done and third.name.lower() in done
    assert f"You skipped: {second.name.lower()}." in says
    assert dialogs.routine.cool_down.steps[-1].say in says


def test_stop_gives_the_summary_then_goodbye(converse: Converse, dialogs: Dialogs) -> None:
    first, second = dialogs.routine.exercises[0], dialogs.routine.exercises[1]
    conv = run_until(start_routine(converse), f"{second.name}.")
    conv.reply(None)
    asked = conv.reply("stop")  # "if anything hurts, or you feel dizzy, say stop"
    assert asked.says == [dialogs.routine.stop_question.ask] and not asked.finished
    turn = conv.reply("no")
    assert turn.finished
    total = len(exercises(dialogs, True))
    summary = dialogs.routine.summary.stopped.replace("{done}", first.name.lower()).replace(
        "{count}", "one").replace("{total}", number_word(total))
    assert turn.says.index(summary) < turn.says.index(dialogs.phrases.prompts.goodbye)
    assert turn.says[-1] == dialogs.phrases.prompts.goodbye


def test_stop_in_the_warm_up(converse: Converse, dialogs: Dialogs) -> None:
    conv = start_routine(converse)
    conv.reply("stop")
    turn = conv.reply("no, I just want to stop")
    assert turn.finished
    assert dialogs.routine.summary.nothing in turn.says
    assert turn.says[-1] == dialogs.phrases.prompts.goodbye


def test_slower_makes_later_beats_longer(converse: Converse, dialogs: Dialogs) -> None:
    pace = dialogs.routine.pace
    conv = run_until(start_routine(converse), "One.")
    turn = conv.reply("slower")
    assert dialogs.phrases.prompts.slower in turn.says
    assert turn.voice_changes and turn.voice_changes[0].rate_steps < 0
    mark = len(conv.turns)
    conv = run_until(conv, "Five.")
    beats = said_beats(conv, since=mark)
    plan = plan_routine(dialogs.routine, True)
    start = next(i for i, b in enumerate(plan) if b.text == beats.texts[0])
    gaps = [b - a for a, b in itertools.pairwise(beats.planned)]
    wanted = [b.seconds * pace.slower_factor for b in plan[start:start + len(gaps)]]
    assert gaps == pytest.approx(wanted)


# --- Safety during the routine --------------------------------------------------------------


def routine_moments(dialogs: Dialogs) -> int:
    """How many turns a whole routine takes (check-ins answered no)."""
    conv = Conversation(DialogMachine(dialogs)).follow(path_to(dialogs, "running"), RUNNING)
    before = len(conv.turns)
    return len(run_through(conv).turns) - before


MOMENTS = routine_moments(_DIALOGS)


def run_for(conv: Conversation, turns: int) -> Conversation:
    for _ in range(turns):
        if conv.finished or conv.state not in (RUNNING, CHECK_IN):
            break
        conv.reply("no" if conv.state == CHECK_IN else None)
    return conv


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(moment=st.integers(0, MOMENTS - 2), report=st.sampled_from(
    ["chest pain", "my chest hurts", "pressure in my chest", "pain in my arm"]))
def test_chest_pain_at_any_moment_is_the_guidance(converse: Converse, dialogs: Dialogs,
                                                  moment: int, report: str) -> None:
    conv = run_for(start_routine(converse), moment)
    assume(not conv.finished)
    turn = conv.reply(report)
    assert dialogs.emergency.steps[0].replace("{emergency_number}", "911") in turn.says
    assert conv.state == "emergency" and conv.machine.disposition == "emergency"
    mark = len(conv.turns)
    conv.replies(["resume", "skip", "no"]).finish()
    later = {line for t in conv.turns[mark:] for line in t.says}
    assert not later & exercise_lines(dialogs)


def routine_at(converse: Converse, dialogs: Dialogs, where: str) -> Conversation:
    conv = run_until(start_routine(converse), "Four.")
    if where == PAUSED:
        conv.reply("pause")
    elif where in (CHECK_IN, WHICH):
        conv.silence_until(CHECK_IN)
        if where == WHICH:
            conv.reply("yes")
            assert dialogs.routine.check_in.which in conv.last.says
    assert conv.state == where
    return conv


@pytest.mark.parametrize("where", [RUNNING, PAUSED, CHECK_IN, WHICH])
@pytest.mark.parametrize("sign", sorted(name for name, sign in _DIALOGS.routine.stop_signs.items()
                                        if sign.then != "which"))
def test_stop_signs_stop_with_their_guidance(converse: Converse, dialogs: Dialogs, where: str,
                                             sign: str) -> None:
    details = dialogs.routine.stop_signs[sign]
    conv = routine_at(converse, dialogs, where)
    turn = conv.reply(dialogs.words.symptoms[details.symptoms[0]].phrases[0])
    said = [line.replace("911", "{emergency_number}") for line in turn.says]
    assert said[:len(details.say)] == list(details.say)
    assert conv.machine.disposition == details.outcome
    mark = len(conv.turns)
    conv.finish()
    later = {line for t in conv.turns[mark - 1:] for line in t.says}
    assert not later & exercise_lines(dialogs)
    if details.then == "emergency":
        assert dialogs.emergency.opening in turn.says
    else:
        assert turn.finished
        assert not any("twice a week" in line for line in turn.says), "no exercise advice"


@pytest.mark.parametrize("replies", [["banana", "mmm"], [None, None], ["not sure", None]])
def test_no_clear_check_in_stops_safely(converse: Converse, dialogs: Dialogs,
                                        replies: list[str | None]) -> None:
    conv = start_routine(converse).silence_until(CHECK_IN)
    first = conv.reply(replies[0])
    assert dialogs.routine.check_in.simpler in first.says and conv.state == CHECK_IN
    last = conv.reply(replies[1])
    assert last.finished
    unclear = [line.replace("{emergency_number}", "911") for line in
               dialogs.routine.check_in.unclear.say]
    assert last.says[:len(unclear)] == unclear
    assert conv.machine.disposition == "urgent"
    assert not set(last.says) & exercise_lines(dialogs)


def test_check_in_yes_asks_which_then_pain(converse: Converse, dialogs: Dialogs) -> None:
    conv = start_routine(converse).silence_until(CHECK_IN)
    assert conv.reply("yes").says == [dialogs.routine.check_in.which]
    turn = conv.reply("it hurts")
    pain = dialogs.routine.stop_signs["pain"]
    assert turn.says[0] == pain.say[0] and turn.finished


def test_answers_during_a_beat_do_not_move_it(converse: Converse) -> None:
    conv = run_until(start_routine(converse), "One.")
    until = conv.last.listening.until  # type: ignore[union-attr]
    for text in ("yes", "two", "", "banana"):
        turn = conv.reply(text)
        assert turn.says == [] and turn.listening is not None
        assert turn.listening.until == until


# --- The session on a fake clock --------------------------------------------------------------


class ScriptedVoice:
    """Takes `speaking` seconds per line; answers questions as `answers` says, by their text."""

    hears_during_waits = False

    def __init__(self, clock: FakeClock, answers: dict[str, str], speaking: float,
                 default: str = "no") -> None:
        self.clock = clock
        self.answers = answers
        self.speaking = speaking
        self.default = default
        self.said: list[str] = []

    def say(self, text: str, interruptible_by: Vocabulary | None = None) -> Spoken:
        start = self.clock.now()
        self.clock.advance(self.speaking)
        self.said.append(text)
        return Spoken(start, self.clock.now())

    def listen(self, vocabulary: Vocabulary, seconds: float) -> Heard | None:
        self.clock.advance(0.5)  # answering takes half a second
        last = self.said[-1]
        reply = next((a for cue, a in self.answers.items() if cue in last), self.default)
        return Heard(reply)

    def change_voice(self, change: VoiceChange) -> None:
        pass


def test_deadlines_do_not_drift_while_speaking_takes_time(dialogs: Dialogs) -> None:
    clock = FakeClock(1000.0)
    speaking = 1.5  # longer than a one-second hold beat
    voice = ScriptedVoice(clock, {"gentle seated exercises": "yes", "stand up": "yes",
                                  "Are you ready": "yes"}, speaking)
    transcript = Transcript(clock=clock)
    machine = DialogMachine(dialogs)
    assert Session(machine, voice, clock, transcript).run() == "routine"
    timing = transcript.of_type("timing")
    plan = plan_routine(dialogs.routine, True)
    segment = plan[:next(i for i, b in enumerate(plan) if b.kind == "check_in")]
    planned = [t["planned"] for t in timing[:len(segment)]]
    t0 = planned[0]
    expected = [t0 + sum(b.seconds for b in segment[:i]) for i in range(len(segment))]
    assert planned == pytest.approx(expected), "deadlines follow the plan, not the speech"
    actual = [t["actual"] for t in timing[:len(segment)]]
    # One line per beat: a beat starts on its deadline, or as soon as the line before is said.
    expected_actual = [max(p, a + speaking) for p, a in zip(planned[2:], actual[1:], strict=False)]
    assert actual[2:] == pytest.approx(expected_actual)
    on_time = sum(1 for p, a in zip(planned, actual, strict=True) if a == pytest.approx(p))
    assert on_time > len(segment) // 2, "short beats run late, but the long ones catch up"
    assert voice.said[-1] == dialogs.phrases.prompts.goodbye
    assert any(line.startswith("Well done. You did") for line in voice.said)
    assert not transcript.of_type("error")


def test_an_unsure_safety_word_during_a_beat_pauses_instead_of_being_ignored(
        converse: Converse, dialogs: Dialogs) -> None:
    conv = start_routine(converse)
    conv.machine.min_confidence = 0.5
    turn = conv.reply("chest pain", confidence=0.2)
    assert conv.state == "routine.paused"
    assert dialogs.routine.paused.say in turn.says


def test_louder_while_paused_keeps_the_long_pause(converse: Converse, dialogs: Dialogs) -> None:
    conv = start_routine(converse)
    conv.reply("pause")
    turn = conv.reply("louder")
    assert conv.state == "routine.paused"
    assert turn.listening is not None
    assert turn.listening.until - conv.now == pytest.approx(dialogs.routine.paused.seconds)


@pytest.mark.parametrize("where", [RUNNING, PAUSED, CHECK_IN])
@pytest.mark.parametrize("said", ["I feel unwell", "I don't feel well", "I'm feeling awful"])
def test_feeling_unwell_stops_the_exercise_and_asks_which_it_is(
        converse: Converse, dialogs: Dialogs, where: str, said: str) -> None:
    conv = routine_at(converse, dialogs, where)
    before = conv.machine.disposition
    turn = conv.reply(said)
    assert conv.state == WHICH
    assert turn.says == ["Stop now, and stay seated.", dialogs.routine.check_in.which]
    assert conv.machine.disposition == before  # the answer to "which is it?" decides
    conv.reply("my chest")
    assert conv.state == "emergency" and conv.machine.disposition == "emergency"


def test_feeling_unwell_with_no_answer_to_which_it_is_ends_safely(converse: Converse,
                                                                 dialogs: Dialogs) -> None:
    conv = routine_at(converse, dialogs, RUNNING)
    conv.reply("I feel unwell")
    conv.reply("I just feel unwell")  # no answer to which: asked again, simpler
    assert conv.state == WHICH and conv.machine.disposition == "routine"
    mark = len(conv.turns)
    conv.finish()  # silence
    later = [line for t in conv.turns[mark:] for line in t.says]
    assert conv.machine.disposition == "urgent"
    assert not set(later) & exercise_lines(dialogs)
    assert any("call 911" in line for line in later)
