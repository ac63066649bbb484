"""The state the dialog machine decorates, and what each of its moments says.

Pure: every callback is given the turn being built (`out`, passed with the
event, never kept on the model) and adds the lines to say and the events to
record to it; none speaks, sleeps or reads a clock. The routine's timing is
its own player (`RoutinePlayer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.dialog_data import DISPOSITION_RANK, Dialogs, Message, Question
from assistant.flow import CHECK_IN, PAUSED, RUNNING, UNWELL, WHICH
from assistant.ports import Vocabulary, VoiceChange
from assistant.routine_plan import exercise_names, plan_routine, planned_seconds
from assistant.routine_player import RoutinePlayer
from assistant.transcript import Event, Exercise, Outcome, RoutineProgress, Timing
from assistant.words import number_word

__all__ = ["CHECK_IN", "PAUSED", "RUNNING", "UNWELL", "WHICH", "DialogModel", "Listening",
           "Pending", "PendingKind", "Turn"]


@dataclass(frozen=True)
class Listening:
    """What the machine waits for now."""

    intents: tuple[str, ...]
    vocabulary: Vocabulary
    until: float
    timed: bool  # a routine beat: when time is up the routine moves on, silence is fine


@dataclass
class Turn:
    """What one input made the assistant do: lines to say, events to record, what next."""

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


@dataclass
class Asking:
    """The question being asked: how it was put, and how many tries so far."""

    prompt: list[str] = field(default_factory=list)
    simpler: list[str] = field(default_factory=list)
    attempts: int = 0  # unclear answers so far
    repeats: int = 0  # requests to hear it again, in a row
    asked_again: bool = False  # the last thing said was such a request


@dataclass
class Guidance:
    step: int = 0  # the step being said
    called: bool = False  # they said 911 has been called
    reminders: int = 0


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _spoken_list(items: list[str]) -> str:
    items = [i.lower() for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + ", and " + items[-1]


class DialogModel:
    state: str
    trigger: Any  # added by the machine

    def __init__(self, dialogs: Dialogs, emergency_number: str, name: str | None = None) -> None:
        self.d = dialogs
        self.emergency_number = emergency_number
        self.to_name = f", {name}" if name else ""  # "Well done{to_name}." -> "Well done."
        self.now = 0.0
        self.until = 0.0
        self.timed = False
        self.asking = Asking()
        self.not_heard = 0  # spoken answers in a row that the recognizer could not make out
        self.touch_offered = False  # a page is open: answers can be touched on it
        self.pending: Pending | None = None
        self.origin_prompt: list[str] = []  # what was asked before the short question
        self.flagged: str | None = None  # the red flag that led to the guidance
        self.disposition: str | None = None
        self.reason = ""
        self.return_to = ""
        self.can_stand = False
        self.paused_reminders = 0
        self.guidance = Guidance()
        self.routine = RoutinePlayer()
        # At a kiosk the guidance's reminders go on until staff acknowledge or goodbye.
        self.endless_guidance = False

    # --- saying things -------------------------------------------------------------

    def fill(self, text: str, **extra: str) -> str:
        values = {"emergency_number": self.emergency_number, "to_name": self.to_name, **extra}
        if "{routine_minutes}" in text:  # planning the routine for every line said is wasteful
            values["routine_minutes"] = str(self.routine_minutes())
        return text.format_map(_Blank(values))

    def say(self, out: Turn, *texts: str, prompt: bool = False, **extra: str) -> None:
        lines = [self.fill(t, **extra) for t in texts if t]
        out.says.extend(lines)
        if prompt:
            self.asking.prompt, self.asking.simpler = lines, []

    def line(self, *texts: str) -> Any:
        """A callback that says these lines."""
        return lambda out: self.say(out, *texts)

    def set_outcome(self, out: Turn, disposition: str, reason: str) -> None:
        """Outcomes only ever raise the level of care within a session."""
        current = DISPOSITION_RANK[self.disposition] if self.disposition else -1
        if DISPOSITION_RANK[disposition] > current:
            self.disposition = disposition
            self.reason = reason or self.reason
            out.events.append(Outcome(disposition, self.reason))

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
        return self.fill(self.d.phrases.prompts.options,
                         options=getattr(self.d.phrases.options, kind))

    def say_again(self, out: Turn) -> None:
        """Asked to hear it again: the same words, then simpler ones (clinical reference §7.3)."""
        asking = self.asking
        asking.repeats += 1
        words = asking.simpler if asking.repeats > 1 and asking.simpler else asking.prompt
        self.say(out, *(words or [self.d.phrases.prompts.repeat_nothing]))
        asking.asked_again = True
        self.listen_again()

    # --- questions ------------------------------------------------------------------

    def ask(self, question: Question, out: Turn) -> None:
        self.asking = Asking()
        self.say(out, question.ask, prompt=True)
        self.asking.simpler = [self.fill(question.simpler)]
        self.wait_for_answer(question.wait_seconds)

    def reask_lead(self, why: str) -> str:
        """What is said first when asking again: it says plainly when the answer was spoken
        but could not be heard, rather than that it was not understood."""
        prompts = self.d.phrases.prompts
        if why == "unsure":
            return prompts.reask_unsure
        if why == "silence":
            return prompts.reask_silence
        if self.not_heard >= self.d.phrases.listening.trouble_after:
            return prompts.hearing_trouble
        return prompts.reask_not_heard if self.not_heard else prompts.reask_unclear

    def hearing_help(self, why: str) -> list[str]:
        """After asking again because an answer could not be heard: the screen's touch
        answers when a page is open, else (once it keeps happening) what helps it hear."""
        prompts = self.d.phrases.prompts
        if why != "unclear" or not self.not_heard:
            return []
        if self.touch_offered:
            return [prompts.touch_offer]
        if self.not_heard >= self.d.phrases.listening.trouble_after:
            return [prompts.hearing_trouble_help]
        return []

    def may_reask(self, out: Turn) -> bool:
        return self.asking.attempts < self.d.phrases.listening.reasks

    def reask(self, why: str, simpler: str, options_kind: str, out: Turn) -> None:
        """Asked again, simpler, after an answer that was `why` (unsure, silence, unclear)."""
        self.asking.attempts += 1
        self.say(out, self.reask_lead(why), simpler, self.options_for(options_kind),
                 *self.hearing_help(why))
        self.asking.prompt = self.asking.simpler = [self.fill(simpler)]
        self.wait_for_answer(self.d.phrases.listening.reask_seconds)

    def explain(self, template: str, topic: str, out: Turn) -> None:
        self.reason = self.fill(template, topic=topic)
        self.say(out, self.reason)

    def enter_message(self, message: Message, out: Turn, reason: str = "") -> None:
        self.say(out, *message.say)
        if message.outcome:
            self.set_outcome(out, message.outcome, reason or self.reason)

    def start_pending(self, pending: Pending, out: Turn) -> None:
        words, policy = self.d.words, self.d.words.policy
        self.pending = pending
        self.origin_prompt = list(self.asking.prompt)
        self.asking = Asking()
        if pending.kind == "ask_if_new":
            self.say(out, policy.ask_if_new.ask, prompt=True)
            self.asking.simpler = [policy.ask_if_new.simpler]
        else:
            if pending.kind == "confirm_no" and pending.question:
                check = self.d.question_nodes()[pending.question].simpler
            else:
                check = words.symptoms[pending.symptom or ""].confirm or ""
            self.say(out, f"{policy.confirm_lead} {check}", prompt=True)
            self.asking.simpler = [self.fill(check)]
        self.wait_for_answer()

    # --- help -------------------------------------------------------------------------

    def remember_return(self, out: Turn) -> None:
        self.return_to = PAUSED if self.state in (RUNNING, PAUSED) else self.state

    def returning_to(self, state: str, out: Turn) -> bool:
        return self.return_to == state

    def ask_help(self, out: Turn) -> None:
        self.asking = Asking()
        self.say(out, self.d.phrases.prompts.help_question, prompt=True)
        self.wait_for_answer()

    def explain_help(self, out: Turn) -> None:
        prompts = self.d.phrases.prompts
        self.say(out, prompts.help_explain, prompts.always_options)

    # --- the call-911 guidance, one step at a time (§5) ------------------------------

    def enter_emergency(self, out: Turn) -> None:
        self.set_outcome(out, "emergency", self.reason)
        self.guidance = Guidance()
        self.asking = Asking()
        self.say(out, self.d.emergency.opening)
        self.say_step(out)
        self.say(out, self.d.emergency.step_hint)

    def _guidance_wait(self) -> float:
        g = self.d.emergency
        if self.guidance.step < len(g.steps):
            return g.step_seconds
        return g.calm_seconds if self.guidance.called else g.reminder_seconds

    def say_step(self, out: Turn) -> None:
        g = self.d.emergency
        if self.guidance.step < len(g.steps):
            self.say(out, g.steps[self.guidance.step], prompt=True)
        else:
            self.say(out, g.last)
            self.asking.prompt = [self.fill(g.steps[0])]
        self.wait_for_answer(self._guidance_wait())

    def next_step(self, out: Turn) -> None:
        """Silence or "next" after a step: the next one; after the last, a reminder."""
        if self.guidance.step < len(self.d.emergency.steps):
            self.guidance.step += 1
            self.say_step(out)
        else:
            self.remind_emergency(out)

    def repeat_step(self, out: Turn) -> None:
        if self.guidance.step >= len(self.d.emergency.steps):
            self.guidance.step = 0
        self.asking.repeats += 1
        self.say_step(out)

    def restart_steps(self, out: Turn) -> None:
        self.guidance.step = 0
        self.say_step(out)

    def acknowledge_call(self, out: Turn) -> None:
        self.guidance.called = True
        self.say(out, self.d.emergency.support)
        self.wait_for_answer(self._guidance_wait())

    def remind_emergency(self, out: Turn, counted: bool = True) -> None:
        g = self.d.emergency
        self.guidance.reminders += counted
        self.say(out, g.calm_reminder if self.guidance.called else g.reminder)
        self.wait_for_answer(self._guidance_wait())

    def may_remind_emergency(self, out: Turn) -> bool:
        steps_left = self.guidance.step < len(self.d.emergency.steps)
        return (steps_left or self.endless_guidance
                or self.guidance.reminders < self.d.emergency.reminders)

    def someone_told(self, out: Turn, line: str) -> None:
        """Staff or a caregiver acknowledged the alert: said, and in the guidance the
        reminders turn calm (help is coming) and end in their own time."""
        self.say(out, line)
        if self.state == "emergency":
            self.guidance.called = True
            self.guidance.reminders = 0
            self.endless_guidance = False
            self.wait_for_answer(self._guidance_wait())
        elif not self.timed:
            self.say(out, *self.asking.prompt)
            self.listen_again()

    # --- goodbye ----------------------------------------------------------------------

    def enter_goodbye(self, out: Turn) -> None:
        prompts = self.d.phrases.prompts
        self.pending = None
        if self.disposition == "emergency":
            self.say(out, self.d.emergency.reminder)
        else:
            if self.disposition == "urgent":
                self.say(out, prompts.goodbye_urgent_reminder.text)
            self.say(out, prompts.goodbye_safety_net.text)
        self.say(out, prompts.goodbye)

    # --- the routine --------------------------------------------------------------------

    def routine_minutes(self) -> int:
        beats = self.routine.beats or plan_routine(self.d.routine, can_stand=True)
        return max(1, round(planned_seconds(beats) / 60))

    def note_can_stand(self, out: Turn) -> None:
        self.can_stand = True

    def start_routine(self, out: Turn) -> None:
        self.routine.start(plan_routine(self.d.routine, self.can_stand), self.now)
        out.events.append(RoutineProgress("planned", exercises=exercise_names(self.routine.beats)))
        self.say(out, *(r.text for r in self.d.routine.reminders))

    def beat_due(self, out: Turn) -> None:
        """Time is up for this beat: say the next, or hand over to the check-in or the end."""
        beat = self.routine.advance()
        if beat is None:
            self.trigger("finished", out=out)
        elif beat.kind == "check_in":
            self.trigger("check", out=out)
        else:
            beat, due, until = self.routine.play()
            self.say(out, beat.text)
            if beat.kind in ("say", "rest"):  # "repeat" says the instruction, not a count
                self.asking.prompt, self.asking.simpler = [beat.text], []
            if beat.kind in ("rep", "hold"):
                out.events.append(Exercise(beat.exercise, beat.side, beat.set, beat.rep,
                                           beat.of, beat.hold_left, beat.kind))
            out.events.append(Timing(round(due, 4), round(self.now, 4)))
            self.until, self.timed = until, True

    def resume_beats(self, out: Turn) -> None:
        self.routine.resume(self.now)
        self.beat_due(out)

    def skip_part(self, out: Turn) -> None:
        if self.routine.current() is not None:
            skipped = len(self.routine.skipped)
            self.routine.skip_part(self.now)
            if len(self.routine.skipped) > skipped:
                out.events.append(RoutineProgress("skipped", self.routine.skipped[-1]))
            self.beat_due(out)

    def ask_check_in(self, out: Turn) -> None:
        check_in = self.d.routine.check_in
        self.asking = Asking()
        self.say(out, check_in.ask, prompt=True)
        self.asking.simpler = [check_in.simpler]
        self.wait_for_answer()

    def passed_check_in(self, out: Turn) -> None:
        done = len(self.routine.completed)
        self.routine.check_in_passed()
        if len(self.routine.completed) > done:
            out.events.append(RoutineProgress("done", self.routine.completed[-1]))
        self.say(out, self.d.routine.check_in.good)

    def ask_which(self, out: Turn) -> None:
        self.asking = Asking()
        self.say(out, self.d.routine.check_in.which, prompt=True)
        self.wait_for_answer()

    def ask_unwell(self, out: Turn) -> None:
        question = self.d.routine.stop_question
        self.asking = Asking()
        self.say(out, question.ask, prompt=True)
        self.asking.simpler = [question.simpler]
        self.wait_for_answer()

    def enter_paused(self, out: Turn) -> None:
        self.paused_reminders = 0
        self.say(out, self.d.routine.paused.say, prompt=True)
        self.until = self.now + self.d.routine.paused.seconds
        self.timed = False

    def remind_paused(self, out: Turn) -> None:
        self.paused_reminders += 1
        self.say(out, self.d.routine.paused.reminder)
        self.until = self.now + self.d.routine.paused.seconds

    def may_remind_paused(self, out: Turn) -> bool:
        return self.paused_reminders < self.d.routine.paused.reminders

    def summarize(self, stopped: bool, out: Turn, closing: bool = True) -> None:
        summary, routine = self.d.routine.summary, self.routine
        if not routine.completed:
            self.say(out, summary.nothing)
        else:
            self.say(out, summary.stopped if stopped else summary.done,
                     done=_spoken_list(routine.completed),
                     count=number_word(len(routine.completed)),
                     total=number_word(routine.exercises_planned()))
        if routine.skipped and not stopped:
            self.say(out, summary.skipped, skipped=_spoken_list(routine.skipped))
        if routine.completed and closing:
            self.say(out, summary.closing)

    def stop_routine(self, out: Turn) -> None:
        if self.routine.started:
            self.summarize(True, out)

    def stop_routine_for_safety(self, out: Turn) -> None:
        """Stopped for a warning sign: no "try these twice a week" after "see your doctor first"."""
        if self.routine.started:
            self.summarize(True, out, closing=False)
