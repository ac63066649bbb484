"""The state the dialog machine decorates: what is being asked, the routine's place, the outcome.

Pure: its methods add lines to say and events to record to the turn being
built, and set how long to wait; they never speak, sleep or read a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.dialog_data import DISPOSITION_RANK, Dialogs, Message, Question
from assistant.ports import Vocabulary, VoiceChange
from assistant.routine_plan import Beat, number_word, plan_routine, planned_seconds
from assistant.transcript import Event, Exercise, Outcome, Timing

RUNNING, PAUSED, CHECK_IN, WHICH, UNWELL = (
    "routine.running", "routine.paused", "routine.check_in", "routine.which",
    "routine.ask_unwell",
)


@dataclass(frozen=True)
class Listening:
    """What the machine waits for now."""

    intents: tuple[str, ...]
    vocabulary: Vocabulary
    until: float
    timed: bool  # a routine beat: when time is up the routine moves on, silence is fine


@dataclass
class Turn:
    says: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    voice_changes: list[VoiceChange] = field(default_factory=list)
    listening: Listening | None = None

    @property
    def finished(self) -> bool:
        return self.listening is None


PendingKind = Literal["confirm", "confirm_no", "ask_if_new"]


@dataclass(frozen=True)
class Pending:
    """A short question asked on the way, before the conversation goes on (§4.2, §4.3)."""

    kind: PendingKind
    origin: str  # the state it was asked in, and goes back to
    symptom: str | None = None  # the symptom it is about
    question: str | None = None  # the question being answered, when one was


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _spoken_list(items: list[str]) -> str:
    items = [i.lower() for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + ", and " + items[-1]


class DialogModel:
    """Counters, the routine plan, the guidance's step and the turn being built."""

    state: str
    trigger: Any  # added by the machine

    def __init__(self, dialogs: Dialogs, emergency_number: str) -> None:
        self.d = dialogs
        self.emergency_number = emergency_number
        self.now = 0.0
        self.turn = Turn()
        self.attempts = 0  # unclear answers to this question so far
        self.repeats = 0  # requests to hear it again, in a row
        self.asked_again = False  # the last thing said was such a request
        self.last_prompt: list[str] = []
        self.simpler_prompt: list[str] = []
        self.pending: Pending | None = None
        self.origin_prompt: list[str] = []  # what was asked before the short question
        self.flagged: str | None = None  # the red flag that led to the guidance
        self.disposition: str | None = None
        self.reason = ""
        self.return_to = ""
        self.can_stand = False
        self.beats: list[Beat] = []
        self.cursor = -1
        self.next_due = 0.0
        self.pace = 1.0
        self.completed: list[str] = []
        self.skipped: list[str] = []
        self.reminders = 0
        self.routine_started = False
        self.until = 0.0
        self.timed = False
        self.step = 0  # the guidance's step being said
        self.called = False  # they said 911 has been called

    # --- saying things -------------------------------------------------------------

    def fill(self, text: str, **extra: str) -> str:
        values = {"emergency_number": self.emergency_number, **extra}
        if "{routine_minutes}" in text:  # planning the routine for every line said is wasteful
            values["routine_minutes"] = str(self.routine_minutes())
        return text.format_map(_Blank(values))

    def say(self, *texts: str, prompt: bool = False, **extra: str) -> None:
        lines = [self.fill(t, **extra) for t in texts if t]
        self.turn.says.extend(lines)
        if prompt:
            self.last_prompt = lines
            self.simpler_prompt = []

    def record(self, event: Event) -> None:
        self.turn.events.append(event)

    def set_outcome(self, disposition: str, reason: str) -> None:
        """Outcomes only ever raise the level of care within a session."""
        current = DISPOSITION_RANK[self.disposition] if self.disposition else -1
        if DISPOSITION_RANK[disposition] > current:
            self.disposition = disposition
            self.reason = reason or self.reason
            self.record(Outcome(disposition, self.reason))

    def wait_for_answer(self, seconds: float | None = None) -> None:
        self.until = self.now + (seconds or self.d.phrases.listening.answer_seconds)
        self.timed = False

    def listen_again(self) -> None:
        """After "repeat" or "louder": a fresh wait, as long as this moment's usual one."""
        if self.timed:
            return  # a routine beat keeps its deadline
        if self.state == PAUSED:
            self.until = self.now + self.d.routine.paused.seconds
        elif self.state == "emergency":
            self.wait_for_answer(self._guidance_wait())
        else:
            self.wait_for_answer()

    def options_for(self, kind: str) -> str:
        options = getattr(self.d.phrases.options, kind)
        return self.fill(self.d.phrases.prompts.options, options=options)

    def say_again(self) -> None:
        """Asked to hear it again: the same words, then simpler ones (clinical reference §7.3)."""
        self.repeats += 1
        words = self.simpler_prompt if self.repeats > 1 and self.simpler_prompt else (
            self.last_prompt)
        self.say(*(words or [self.d.phrases.prompts.repeat_nothing]))
        self.asked_again = True
        self.listen_again()

    # --- questions ------------------------------------------------------------------

    def ask(self, question: Question) -> None:
        self.attempts = self.repeats = 0
        self.say(question.ask, prompt=True)
        self.simpler_prompt = [self.fill(question.simpler)]
        self.wait_for_answer(question.wait_seconds)

    def may_reask(self) -> bool:
        return self.attempts < self.d.phrases.listening.reasks

    def reask(self, lead: str, simpler: str, options_kind: str) -> None:
        self.attempts += 1
        self.say(lead, simpler, self.options_for(options_kind))
        self.last_prompt = self.simpler_prompt = [self.fill(simpler)]
        self.wait_for_answer(self.d.phrases.listening.reask_seconds)

    def explain(self, template: str, topic: str) -> None:
        self.reason = self.fill(template, topic=topic)
        self.say(self.reason)

    def enter_message(self, message: Message, reason: str = "") -> None:
        self.say(*message.say)
        if message.outcome:
            self.set_outcome(message.outcome, reason or self.reason)

    # --- a short question on the way -------------------------------------------------------

    def start_pending(self, pending: Pending) -> None:
        words, policy = self.d.words, self.d.words.policy
        self.pending = pending
        self.origin_prompt = list(self.last_prompt)
        self.attempts = self.repeats = 0
        if pending.kind == "ask_if_new":
            self.say(policy.ask_if_new.ask, prompt=True)
            self.simpler_prompt = [policy.ask_if_new.simpler]
        else:
            if pending.kind == "confirm_no" and pending.question:
                check = self.d.question_nodes()[pending.question].simpler
            else:
                check = words.symptoms[pending.symptom or ""].confirm or ""
            self.say(f"{policy.confirm_lead} {check}", prompt=True)
            self.simpler_prompt = [self.fill(check)]
        self.wait_for_answer()

    # --- help -------------------------------------------------------------------------

    def remember_return(self) -> None:
        self.return_to = PAUSED if self.state in (RUNNING, PAUSED) else self.state

    def returning_to(self, state: str) -> bool:
        return self.return_to == state

    def ask_help(self) -> None:
        self.attempts = self.repeats = 0
        self.say(self.d.phrases.prompts.help_question, prompt=True)
        self.wait_for_answer()

    def explain_help(self) -> None:
        prompts = self.d.phrases.prompts
        self.say(prompts.help_explain, prompts.always_options)

    # --- the call-911 guidance, one step at a time (§5) ------------------------------

    def enter_emergency(self) -> None:
        guidance = self.d.emergency
        self.set_outcome("emergency", self.reason)
        self.reminders = self.step = 0
        self.repeats = 0
        self.say(guidance.opening)
        self.say_step()
        self.say(guidance.step_hint)

    def _guidance_wait(self) -> float:
        guidance = self.d.emergency
        if self.step < len(guidance.steps):
            return guidance.step_seconds
        return guidance.calm_seconds if self.called else guidance.reminder_seconds

    def say_step(self) -> None:
        guidance = self.d.emergency
        if self.step < len(guidance.steps):
            self.say(guidance.steps[self.step], prompt=True)
        else:
            self.say(guidance.last)
            self.last_prompt = [self.fill(guidance.steps[0])]
        self.wait_for_answer(self._guidance_wait())

    def next_step(self) -> None:
        """Silence or "next" after a step: the next one; after the last, a reminder."""
        if self.step < len(self.d.emergency.steps):
            self.step += 1
            self.say_step()
        else:
            self.remind_emergency()

    def repeat_step(self) -> None:
        if self.step >= len(self.d.emergency.steps):
            self.step = 0
        self.repeats += 1
        self.say_step()

    def restart_steps(self) -> None:
        self.step = 0
        self.say_step()

    def acknowledge_call(self) -> None:
        self.called = True
        self.say(self.d.emergency.support)
        self.wait_for_answer(self._guidance_wait())

    def remind_emergency(self, counted: bool = True) -> None:
        guidance = self.d.emergency
        self.reminders += counted
        self.say(guidance.calm_reminder if self.called else guidance.reminder)
        self.wait_for_answer(self._guidance_wait())

    def may_remind_emergency(self) -> bool:
        steps_left = self.step < len(self.d.emergency.steps)
        return steps_left or self.reminders < self.d.emergency.reminders

    # --- goodbye ----------------------------------------------------------------------

    def enter_goodbye(self) -> None:
        prompts = self.d.phrases.prompts
        self.pending = None
        if self.disposition == "emergency":
            self.say(self.d.emergency.reminder)
        else:
            if self.disposition == "urgent":
                self.say(prompts.goodbye_urgent_reminder.text)
            self.say(prompts.goodbye_safety_net.text)
        self.say(prompts.goodbye)

    # --- the routine --------------------------------------------------------------------

    def routine_minutes(self) -> int:
        beats = self.beats or plan_routine(self.d.routine, can_stand=True)
        return max(1, round(planned_seconds(beats) / 60))

    def note_can_stand(self) -> None:
        self.can_stand = True

    def start_routine(self) -> None:
        self.beats = plan_routine(self.d.routine, self.can_stand)
        self.cursor = -1
        self.routine_started = True
        self.say(*(r.text for r in self.d.routine.reminders))
        self.next_due = self.now

    def current_beat(self) -> Beat | None:
        return self.beats[self.cursor] if 0 <= self.cursor < len(self.beats) else None

    def emit_beat(self) -> None:
        beat = self.beats[self.cursor]
        self.say(beat.text)
        if beat.kind in ("say", "rest"):  # "repeat" says the instruction, not a count
            self.last_prompt = [beat.text]
            self.simpler_prompt = []
        if beat.kind in ("rep", "hold"):
            self.record(Exercise(beat.exercise, beat.side, beat.set, beat.rep, beat.of,
                                 beat.hold_left, beat.kind))
        self.record(Timing(round(self.next_due, 4), round(self.now, 4)))
        self.next_due += beat.seconds * self.pace
        self.until = self.next_due
        self.timed = True

    def beat_due(self) -> None:
        """Time is up for this beat: say the next, or hand over to the check-in or the end."""
        self.cursor += 1
        beat = self.current_beat()
        if beat is None:
            self.trigger("finished")
        elif beat.kind == "check_in":
            self.trigger("check")
        else:
            self.emit_beat()

    def resume_beats(self) -> None:
        """Back to the routine after a pause or check-in: the current beat again, timed from now."""
        self.next_due = self.now
        self.cursor -= 1
        self.beat_due()

    def skip_part(self) -> None:
        """On to the next part: an exercise skipped is not done, so its check-in goes too."""
        beat = self.current_beat()
        if beat is None:
            return
        if beat.kind not in ("rest", "check_in") and 0 < beat.group < self.last_group():
            self.skipped.append(beat.exercise)
        self.cursor = next(
            (i for i, later in enumerate(self.beats) if later.group > beat.group), len(self.beats)
        )
        self.resume_beats()

    def last_group(self) -> int:
        return self.beats[-1].group if self.beats else 0

    def ask_check_in(self) -> None:
        self.attempts = self.repeats = 0
        self.say(self.d.routine.check_in.ask, prompt=True)
        self.simpler_prompt = [self.d.routine.check_in.simpler]
        self.wait_for_answer()

    def passed_check_in(self) -> None:
        beat = self.current_beat()
        if beat is not None and beat.exercise not in self.completed:
            self.completed.append(beat.exercise)
        self.say(self.d.routine.check_in.good)
        self.cursor += 1

    def ask_which(self) -> None:
        self.attempts = self.repeats = 0
        self.say(self.d.routine.check_in.which, prompt=True)
        self.wait_for_answer()

    def ask_unwell(self) -> None:
        question = self.d.routine.stop_question
        self.attempts = self.repeats = 0
        self.say(question.ask, prompt=True)
        self.simpler_prompt = [question.simpler]
        self.wait_for_answer()

    def enter_paused(self) -> None:
        self.reminders = 0
        self.say(self.d.routine.paused.say, prompt=True)
        self.until = self.now + self.d.routine.paused.seconds
        self.timed = False

    def remind_paused(self) -> None:
        self.reminders += 1
        self.say(self.d.routine.paused.reminder)
        self.until = self.now + self.d.routine.paused.seconds

    def may_remind_paused(self) -> bool:
        return self.reminders < self.d.routine.paused.reminders

    def exercises_planned(self) -> int:
        return len({b.exercise for b in self.beats if b.kind == "check_in"})

    def summarize(self, stopped: bool, closing: bool = True) -> None:
        summary = self.d.routine.summary
        if not self.completed:
            self.say(summary.nothing)
        else:
            self.say(summary.stopped if stopped else summary.done,
                     done=_spoken_list(self.completed), count=number_word(len(self.completed)),
                     total=number_word(self.exercises_planned()))
        if self.skipped and not stopped:
            self.say(summary.skipped, skipped=_spoken_list(self.skipped))
        if self.completed and closing:
            self.say(summary.closing)

    def stop_routine(self) -> None:
        if self.routine_started:
            self.summarize(stopped=True)

    def stop_routine_for_safety(self) -> None:
        """Stopped for a warning sign: no "try these twice a week" after "see your doctor first"."""
        if self.routine_started:
            self.summarize(stopped=True, closing=False)

    def change_pace(self, command: str) -> None:
        pace = self.d.routine.pace
        if command == "slower":
            self.pace = min(pace.max_slowdown, self.pace * pace.slower_factor)
        elif command == "faster":
            self.pace = max(pace.max_speedup, self.pace * pace.faster_factor)
