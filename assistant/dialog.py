"""The conversation as a `transitions` state machine built from the dialog data.

Pure: it never speaks, sleeps or prints. Each call takes what was heard (or
that the time ran out) with the current time, and returns a `Turn`: what to
say, what may be said next and until when, and what to record. Text mode,
voice mode and the tests all drive this one machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from transitions.extensions import HierarchicalMachine
from transitions.extensions.nesting import NestedState

from assistant.dialog_data import DISPOSITION_RANK, Dialogs, Message, Question
from assistant.ports import Heard, Vocabulary, VoiceChange
from assistant.routine_plan import Beat, plan_routine, planned_seconds
from assistant.transcript import Event, Exercise, HeardEvent, Outcome, StateEvent, Timing
from assistant.understanding import UNCLEAR, PhraseBook, normalize, spoken_number

ANSWERS = ("yes", "no", "unsure")
GLOBAL = ("emergency", "help", "repeat", "slower", "faster", "louder", "softer", "stop",
          "what_can_i_say")
ROUTINE_COMMANDS = ("pause", "resume", "skip")
VOICE_CHANGES = {
    "slower": VoiceChange(rate_steps=-1), "faster": VoiceChange(rate_steps=1),
    "louder": VoiceChange(volume_steps=1), "softer": VoiceChange(volume_steps=-1),
}
BARGE_IN = ("stop", "help", "emergency")
RUNNING, PAUSED, CHECK_IN, WHICH = (
    "routine.running", "routine.paused", "routine.check_in", "routine.which"
)


class DottedState(NestedState):
    """Node names in the data use underscores, so nesting is written "check.sudden_onset"."""

    separator = "."


class DialogStateMachine(HierarchicalMachine):
    state_cls = DottedState


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


def question_state(name: str, routine_setup: bool = False) -> str:
    return f"{'routine' if routine_setup else 'check'}.{name}"


class DialogModel:
    """The state the machine decorates: counters, the routine plan and the turn being built."""

    state: str

    def __init__(self, dialogs: Dialogs, emergency_number: str) -> None:
        self.d = dialogs
        self.emergency_number = emergency_number
        self.now = 0.0
        self.turn = Turn()
        self.attempts = 0
        self.last_prompt: list[str] = []
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

    def record(self, event: Event) -> None:
        self.turn.events.append(event)

    def set_outcome(self, disposition: str, reason: str) -> None:
        """Outcomes only ever raise the level of care within a session."""
        current = DISPOSITION_RANK[self.disposition] if self.disposition else -1
        if DISPOSITION_RANK[disposition] > current:
            self.disposition = disposition
            self.reason = reason or self.reason
            self.record(Outcome(disposition, self.reason))

    def listen_again(self) -> None:
        """After "repeat" or "louder": a fresh wait, as long as this moment's usual one."""
        if self.timed:
            return  # a routine beat keeps its deadline
        if self.state == PAUSED:
            self.until = self.now + self.d.routine.paused.seconds
        else:
            self.wait_for_answer()

    def wait_for_answer(self, seconds: float | None = None) -> None:
        self.until = self.now + (seconds or self.d.phrases.listening.answer_seconds)
        self.timed = False

    def options_for(self, kind: str) -> str:
        options = getattr(self.d.phrases.options, kind)
        return self.fill(self.d.phrases.prompts.options, options=options)

    # --- questions ------------------------------------------------------------------

    def ask(self, question: Question) -> None:
        self.attempts = 0
        self.say(question.ask, prompt=True)
        self.wait_for_answer()

    def may_reask(self) -> bool:
        return self.attempts < self.d.phrases.listening.reasks

    def reask(self, lead: str, simpler: str, options_kind: str) -> None:
        self.attempts += 1
        self.say(lead, simpler, self.options_for(options_kind))
        self.last_prompt = [self.fill(simpler)]
        self.wait_for_answer(self.d.phrases.listening.reask_seconds)

    def explain(self, template: str, topic: str) -> None:
        self.reason = self.fill(template, topic=topic)
        self.say(self.reason)

    def enter_message(self, message: Message, reason: str = "") -> None:
        self.say(*message.say)
        if message.outcome:
            self.set_outcome(message.outcome, reason or self.reason)

    # --- help -------------------------------------------------------------------------

    def remember_return(self) -> None:
        self.return_to = PAUSED if self.state in (RUNNING, PAUSED) else self.state

    def returning_to(self, state: str) -> bool:
        return self.return_to == state

    def ask_help(self) -> None:
        self.attempts = 0
        self.say(self.d.phrases.prompts.help_question, prompt=True)
        self.wait_for_answer()

    def explain_help(self) -> None:
        prompts = self.d.phrases.prompts
        self.say(prompts.help_explain, prompts.always_options)

    # --- emergency ------------------------------------------------------------------

    def enter_emergency(self) -> None:
        guidance = self.d.emergency
        self.set_outcome("emergency", self.reason)
        self.reminders = 0
        self.say(guidance.opening)
        self.say_guidance()

    def say_guidance(self) -> None:
        guidance = self.d.emergency
        self.say(*guidance.steps, guidance.closing)
        self.last_prompt = [self.fill(t) for t in (*guidance.steps, guidance.closing)]
        self.wait_for_answer()

    def remind_emergency(self) -> None:
        self.reminders += 1
        self.say(self.d.emergency.reminder, self.d.emergency.closing)
        self.wait_for_answer()

    def may_remind_emergency(self) -> bool:
        return self.reminders < self.d.emergency.reminders

    # --- goodbye ----------------------------------------------------------------------

    def enter_goodbye(self) -> None:
        prompts = self.d.phrases.prompts
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
        self.attempts = 0
        self.say(self.d.routine.check_in.ask, prompt=True)
        self.wait_for_answer()

    def passed_check_in(self) -> None:
        beat = self.current_beat()
        if beat is not None and beat.exercise not in self.completed:
            self.completed.append(beat.exercise)
        self.say(self.d.routine.check_in.good)
        self.cursor += 1

    def ask_which(self) -> None:
        self.say(self.d.routine.check_in.which, prompt=True)
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

    def summarize(self, stopped: bool, closing: bool = True) -> None:
        summary = self.d.routine.summary
        if not self.completed:
            self.say(summary.nothing)
        else:
            self.say(summary.stopped if stopped else summary.done,
                     done=_spoken_list(self.completed))
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


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _spoken_list(items: list[str]) -> str:
    items = [i.lower() for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + ", and " + items[-1]


class DialogMachine:
    """Builds the machine from `Dialogs` and turns inputs into `Turn`s."""

    def __init__(
        self,
        dialogs: Dialogs,
        emergency_number: str = "911",
        min_confidence: float = 0.0,
        machine_class: type[HierarchicalMachine] = DialogStateMachine,
        with_global_commands: bool = True,
        **machine_kwargs: Any,
    ) -> None:
        self.d = dialogs
        self.min_confidence = min_confidence
        self.model = DialogModel(dialogs, emergency_number)
        self.signs = dict(dialogs.routine.stop_signs)
        self.emergency_signs = tuple(n for n, s in self.signs.items() if s.then == "emergency")
        other_signs = tuple(n for n in self.signs if n not in self.emergency_signs)
        commands = {k: list(v) for k, v in dialogs.phrases.commands.items()}
        # The configured number, and 911 too: people say the number they know.
        commands["emergency"] = [
            p.replace("{emergency_number}", spoken_number(number))
            for p in commands["emergency"] for number in dict.fromkeys((emergency_number, "911"))
        ]
        meanings: dict[str, list[str]] = {
            **{k: list(v) for k, v in dialogs.phrases.answers.items()},
            **commands,
            **{n: list(s.phrases) for n, s in self.signs.items()},
        }
        self.book = PhraseBook(
            meanings,
            priority=("emergency", *self.emergency_signs, "help", *other_signs, "stop",
                      "repeat", "what_can_i_say", "slower", "faster", "louder", "softer",
                      "pause", "resume", "skip"),
        )
        self.questions = dict(dialogs.question_nodes())
        self._safety_words = ("emergency", "help", "stop", "pause", *self.signs)
        self.machine = machine_class(
            model=self.model, states=self._states(), initial="start", auto_transitions=False,
            queued=True, send_event=False, ignore_invalid_triggers=True, **machine_kwargs,
        )
        self._add_transitions(with_global_commands)

    # --- the graph ------------------------------------------------------------------------

    def _states(self) -> list[Any]:
        check_children = []
        for name, node in self.d.check.nodes.items():
            if isinstance(node, Question):
                check_children.append({"name": name, "on_enter": partial(self.model.ask, node)})
            else:
                check_children.append({"name": name, "on_enter": self._message_entry(node)})
        routine_children: list[Any] = [
            {"name": name, "on_enter": partial(self.model.ask, q)}
            for name, q in self.d.routine.setup.items()
        ]
        routine_children += [
            {"name": "running"},
            {"name": "paused", "on_enter": self.model.enter_paused},
            {"name": "check_in", "on_enter": self.model.ask_check_in},
            {"name": "which", "on_enter": self.model.ask_which},
        ]
        return [
            "start",
            {"name": "check", "children": check_children},
            {"name": "help", "on_enter": self.model.ask_help},
            {"name": "emergency", "on_enter": self.model.enter_emergency},
            {"name": "routine", "children": routine_children},
            {"name": "goodbye", "on_enter": self.model.enter_goodbye, "final": True},
        ]

    def _message_entry(self, node: Message) -> Callable[[], None]:
        def enter() -> None:
            self.model.enter_message(node)
            self.model.trigger("proceed")

        return enter

    def _target(self, destination: str, order: list[str], here: str, setup: bool) -> str:
        if destination == "next":
            return question_state(order[order.index(here) + 1], setup)
        if destination == "routine":
            return question_state(next(iter(self.d.routine.setup)), True)
        if destination == "start":
            return RUNNING
        if destination in ("emergency", "goodbye"):
            return destination
        return question_state(destination, setup)

    def _add_transitions(self, with_global_commands: bool) -> None:
        m, model = self.machine, self.model
        first = question_state(self.d.check.start)
        m.add_transition("begin", "start", first,
                         before=partial(model.say, *self.d.check.greeting.say))

        for setup, nodes in ((False, self.d.check.nodes), (True, self.d.routine.setup)):
            order = list(nodes)
            for name, node in nodes.items():
                here = question_state(name, setup)
                target = partial(self._target, order=order, here=name, setup=setup)
                if isinstance(node, Message):
                    m.add_transition("proceed", here, target(node.then))
                    continue
                self._add_answers(here, node, target)
        self._add_emergency()
        self._add_routine()
        if with_global_commands:
            self._add_help()
            self._add_global_commands()

    def _is_outcome(self, destination: str) -> bool:
        node = self.d.check.nodes.get(destination)
        is_outcome = isinstance(node, Message) and node.outcome is not None
        return destination == "emergency" or is_outcome

    def _add_answers(self, here: str, node: Question, target: Callable[[str], str]) -> None:
        """yes / no, then unclear and silence: ask again in simpler words, then the safe route."""
        m, model, prompts = self.machine, self.model, self.d.phrases.prompts

        def route(trigger: str, destination: str, because: str | None, **kwargs: Any) -> None:
            dest = target(destination)
            before: list[Any] = [partial(model.explain, because, node.topic)] if (
                because and self._is_outcome(destination)) else []
            if trigger == "yes" and here == question_state("can_stand", True):
                before.append(model.note_can_stand)
            after = [model.start_routine, model.beat_due] if dest == RUNNING else []
            m.add_transition(trigger, here, dest, before=before, after=after, **kwargs)

        route("yes", node.if_yes, prompts.because_yes)
        route("no", node.if_no, None)
        for trigger, lead in (("unsure", prompts.reask_unsure), ("unclear", prompts.reask_unclear)):
            m.add_transition(trigger, here, None, conditions=model.may_reask,
                             after=partial(model.reask, lead, node.simpler, "question"))
            route(trigger, node.if_unclear, prompts.because_unclear)
        m.add_transition("silence", here, None, conditions=model.may_reask,
                         after=partial(model.reask, prompts.reask_silence, node.simpler,
                                       "question"))
        route("silence", node.if_no_answer, prompts.because_no_answer)

    def _add_help(self) -> None:
        m, model = self.machine, self.model
        m.add_transition("help", "help", None, after=model.ask_help)
        asked_help = partial(setattr, model, "reason", "you asked for help")
        for trigger in ("yes", "unsure", "unclear", "silence"):
            m.add_transition(trigger, "help", "emergency", before=asked_help)
        for state in self._listening_states():
            if state in ("help", "emergency", RUNNING):
                continue
            m.add_transition("no", "help", state, conditions=partial(model.returning_to, state),
                             before=model.explain_help)

    def _add_emergency(self) -> None:
        m, model = self.machine, self.model
        # A new warning sign while waiting for the ambulance: the steps again, never silence.
        for trigger in ("repeat", "emergency", "help", *self.emergency_signs):
            m.add_transition(trigger, "emergency", None, after=model.say_guidance)
        m.add_transition("unclear", "emergency", None, after=model.remind_emergency)
        m.add_transition("silence", "emergency", None, conditions=model.may_remind_emergency,
                         after=model.remind_emergency)
        m.add_transition("silence", "emergency", "goodbye")

    def _add_routine(self) -> None:
        m, model, routine = self.machine, self.model, self.d.routine
        m.add_transition("tick", RUNNING, None, after=model.beat_due)
        m.add_transition("check", RUNNING, CHECK_IN)
        m.add_transition("finished", RUNNING, "goodbye", before=partial(model.summarize, False))
        m.add_transition("pause", RUNNING, PAUSED)
        skipping, resuming = partial(model.say, routine.cues.skipping), partial(
            model.say, routine.cues.resuming)
        m.add_transition("skip", RUNNING, None, before=skipping, after=model.skip_part)
        m.add_transition("resume", PAUSED, RUNNING, before=resuming, after=model.resume_beats)
        m.add_transition("skip", PAUSED, RUNNING, before=skipping, after=model.skip_part)
        m.add_transition("unclear", PAUSED, None,
                         after=partial(model.say, routine.paused.reminder))
        m.add_transition("silence", PAUSED, None, conditions=model.may_remind_paused,
                         after=model.remind_paused)
        m.add_transition("silence", PAUSED, "goodbye", before=model.stop_routine)
        m.add_transition("no", CHECK_IN, RUNNING, before=model.passed_check_in,
                         after=model.resume_beats)
        m.add_transition("yes", CHECK_IN, WHICH)
        unclear = routine.check_in.unclear
        for state in (CHECK_IN, WHICH):
            answers = ("yes", "no") if state == WHICH else ()
            for trigger in ("unclear", "unsure", "silence", *answers):
                prompts = self.d.phrases.prompts
                lead = prompts.reask_silence if trigger == "silence" else prompts.reask_unclear
                simpler = routine.check_in.simpler if state == CHECK_IN else routine.check_in.which
                m.add_transition(trigger, state, None, conditions=model.may_reask,
                                 after=partial(model.reask, lead, simpler, "check_in"))
                m.add_transition(trigger, state, "goodbye",
                                 before=[partial(model.enter_message, unclear,
                                                 "no clear answer to the safety check-in"),
                                         model.stop_routine_for_safety])
        for sign_name, sign in self.signs.items():
            for state in (RUNNING, PAUSED, CHECK_IN, WHICH):
                m.add_transition(
                    sign_name, state, sign.then,
                    before=[partial(model.enter_message, sign,
                                    f"reported {sign_name.replace('_', ' ')} during the routine"),
                            *([] if sign.then == "emergency" else [model.stop_routine_for_safety])],
                )

    def _add_global_commands(self) -> None:
        m, model = self.machine, self.model
        listening = self._listening_states()
        for sign_name in self.emergency_signs:
            sign = self.signs[sign_name]
            for state in listening:
                if state not in (RUNNING, PAUSED, CHECK_IN, WHICH, "emergency"):
                    reason = f"reported {sign_name.replace('_', ' ')}"
                    m.add_transition(sign_name, state, "emergency",
                                     before=partial(model.enter_message, sign, reason))
        reported = partial(setattr, model, "reason", "you asked for emergency help")
        for state in listening:
            if state == "emergency":
                continue
            m.add_transition("emergency", state, "emergency", before=reported)
            if state != "help":
                m.add_transition("help", state, "help", before=model.remember_return)
            m.add_transition("stop", state, "goodbye", before=model.stop_routine)
            m.add_transition("repeat", state, None, after=self._repeat)
            m.add_transition("what_can_i_say", state, None, after=partial(self._options, state))
            for command in VOICE_CHANGES:
                m.add_transition(command, state, None, after=partial(self._voice_change, command))
        m.add_transition("stop", "emergency", "goodbye")
        m.add_transition("what_can_i_say", "emergency", None,
                         after=partial(self._options, "emergency"))
        for command in VOICE_CHANGES:
            m.add_transition(command, "emergency", None, after=partial(self._voice_change, command))

    def _listening_states(self) -> list[str]:
        names = [question_state(n) for n, node in self.d.check.nodes.items()
                 if isinstance(node, Question)]
        names += [question_state(n, True) for n in self.d.routine.setup]
        return [*names, "help", "emergency", RUNNING, PAUSED, CHECK_IN, WHICH]

    # --- commands that keep the state ------------------------------------------------------

    def _repeat(self) -> None:
        model = self.model
        if model.last_prompt:
            model.say(*model.last_prompt)
        else:
            model.say(self.d.phrases.prompts.repeat_nothing)
        model.listen_again()

    def _options(self, state: str) -> None:
        kind = self._kind(state)
        self.model.say(self.model.options_for(kind), self.d.phrases.prompts.always_options)
        self.model.listen_again()

    def _voice_change(self, command: str) -> None:
        model = self.model
        model.turn.voice_changes.append(VOICE_CHANGES[command])
        model.change_pace(command)
        model.say(getattr(self.d.phrases.prompts, command))
        if not model.timed:
            model.say(*model.last_prompt)
        model.listen_again()

    @staticmethod
    def _kind(state: str) -> str:
        if state == "help":
            return "help"
        if state == "emergency":
            return "emergency"
        if state == RUNNING:
            return "routine"
        if state == PAUSED:
            return "paused"
        if state in (CHECK_IN, WHICH):
            return "check_in"
        return "question"

    # --- inputs ----------------------------------------------------------------------------

    def intents(self) -> tuple[str, ...]:
        state = self.model.state
        kind = self._kind(state)
        base = GLOBAL + self.emergency_signs
        if kind in ("question", "help"):
            return ANSWERS + base
        if kind == "emergency":
            return base
        signs = tuple(self.signs)
        if kind == "routine":
            return (*GLOBAL, "pause", "skip", *signs)
        if kind == "paused":
            return (*GLOBAL, "resume", "skip", *signs)
        return ANSWERS + GLOBAL + signs

    def _finish_turn(self, before_state: str) -> Turn:
        model = self.model
        turn = model.turn
        if model.state != before_state:  # after what was heard: the cause comes first
            heard_first = bool(turn.events) and isinstance(turn.events[0], HeardEvent)
            turn.events.insert(1 if heard_first else 0, StateEvent(model.state))
        if model.state != "goodbye":
            intents = self.intents()
            phrases = self.book.phrases_for(intents)
            interrupt = self.book.phrases_for(BARGE_IN + self.emergency_signs)
            vocabulary = Vocabulary(phrases, interrupt, self.book.open_phrases(intents))
            turn.listening = Listening(intents, vocabulary, model.until,
                                       model.timed)
        model.turn = Turn()
        return turn

    def _run(self, now: float, trigger: str, heard_event: HeardEvent | None = None) -> Turn:
        model = self.model
        model.now = now
        before = model.state
        if heard_event is not None:
            model.record(heard_event)
        if model.state == "goodbye":
            return self._finish_turn(before)
        if trigger == "silence" and model.timed and model.state == RUNNING:
            trigger = "tick"
        if trigger in self.machine.events:
            model.trigger(trigger)
        return self._finish_turn(before)

    def start(self, now: float = 0.0) -> Turn:
        model = self.model
        model.now = now
        model.trigger("begin")
        return self._finish_turn("start")

    def hear(self, heard: Heard, now: float) -> Turn:
        """The user said something (typed, or recognized with a confidence)."""
        intents = self.intents()
        understood = self.book.understand(heard.text, intents)
        low = heard.confidence is not None and heard.confidence < self.min_confidence
        intent = UNCLEAR if low else understood.intent
        understood_as = "unclear (low confidence)" if low else intent
        if low and self.model.timed and understood.intent in self._safety_words:
            # Not sure, but it may have been "chest pain" or "stop": pause and ask, never ignore.
            intent, understood_as = "pause", f"pause (unsure it was {understood.intent})"
        event = HeardEvent(heard.text, heard.confidence, understood_as)
        if self.model.timed and intent in (*ANSWERS, UNCLEAR):
            intent = "ignored"  # counting along, or talking to someone else: the beat goes on
            event = HeardEvent(heard.text, heard.confidence, "ignored")
        if not normalize(heard.text):
            if self.model.timed:  # a cough during a beat: the beat keeps its deadline
                ignored = HeardEvent(heard.text, heard.confidence, "ignored")
                return self._run(now, "ignored", ignored)
            return self.time_up(now)
        return self._run(now, intent, event)

    def time_up(self, now: float) -> Turn:
        """Nothing was said before the deadline: silence, or the routine's next beat."""
        event = None if self.model.timed else HeardEvent(None)
        return self._run(now, "silence", event)

    @property
    def state(self) -> str:
        return self.model.state

    @property
    def disposition(self) -> str | None:
        return self.model.disposition
