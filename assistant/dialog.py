"""The conversation as a `transitions` state machine built from the dialog data.

Pure: it never speaks, sleeps or prints. Each call takes what was heard (or
that the time ran out) with the current time, and returns a `Turn`: what to
say, what may be said next and until when, and what to record. What was
heard is interpreted (`interpret`) and weighed (`policy.decide`) before it
becomes a trigger. Text mode, voice mode and the tests all drive this one
machine.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from transitions.extensions import HierarchicalMachine
from transitions.extensions.nesting import NestedState

from assistant.dialog_data import Dialogs, Message, Question
from assistant.dialog_model import (
    CHECK_IN,
    PAUSED,
    RUNNING,
    UNWELL,
    WHICH,
    DialogModel,
    Listening,
    Pending,
    PendingKind,
    Turn,
)
from assistant.grammar import lexicon_and_grammar
from assistant.interpret import Interpretation, interpret
from assistant.policy import Decision, Kind, Moment, decide
from assistant.ports import Heard, VoiceChange
from assistant.transcript import HeardEvent, StateEvent
from assistant.words import PhraseIndex, phrase

__all__ = ["DialogMachine", "DottedState", "Listening", "Turn"]

ANSWERS = ("yes", "no", "unsure")
VOICE_CHANGES = {
    "slower": VoiceChange(rate_steps=-1), "faster": VoiceChange(rate_steps=1),
    "louder": VoiceChange(volume_steps=1), "softer": VoiceChange(volume_steps=-1),
}
GLOBAL = ("help", "stop", "what_can_i_say", *VOICE_CHANGES)
ROUTINE_STATES = (RUNNING, PAUSED, CHECK_IN, WHICH, UNWELL)
SAFETY_ACTIONS = ("emergency", "red_flag", "stop_sign", "help", "stop", "pause")


_ANSWER_WORDS: dict[int, tuple[object, PhraseIndex, frozenset[tuple[str, ...]]]] = {}


class DottedState(NestedState):
    """Node names in the data use underscores, so nesting is written "check.sudden_onset"."""

    separator = "."


class DialogStateMachine(HierarchicalMachine):
    state_cls = DottedState


def question_state(name: str, routine_setup: bool = False) -> str:
    return f"{'routine' if routine_setup else 'check'}.{name}"


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
        self.lexicon, self.grammar = lexicon_and_grammar(dialogs.words, emergency_number)
        self.symptoms = self.lexicon.symptoms
        self.signs = dict(dialogs.routine.stop_signs)
        self.questions = dict(dialogs.question_nodes())
        self.setup_names = set(dialogs.routine.setup)
        self._around = frozenset(self._around_routine())
        self.machine = machine_class(
            model=self.model, states=self._states(), initial="start", auto_transitions=False,
            queued=True, send_event=False, ignore_invalid_triggers=True, **machine_kwargs,
        )
        self._add_transitions(with_global_commands)

    # --- the graph ------------------------------------------------------------------------

    def _states(self) -> list[Any]:
        model = self.model
        check_children = []
        for name, node in self.d.check.nodes.items():
            if isinstance(node, Question):
                check_children.append({"name": name, "on_enter": partial(model.ask, node)})
            else:
                check_children.append({"name": name, "on_enter": self._message_entry(node)})
        routine_children: list[Any] = [
            {"name": name, "on_enter": partial(model.ask, q)}
            for name, q in self.d.routine.setup.items()
        ]
        routine_children += [
            {"name": "running"},
            {"name": "paused", "on_enter": model.enter_paused},
            {"name": "check_in", "on_enter": model.ask_check_in},
            {"name": "which", "on_enter": model.ask_which},
            {"name": "ask_unwell", "on_enter": model.ask_unwell},
        ]
        return [
            "start",
            {"name": "check", "children": check_children},
            {"name": "help", "on_enter": model.ask_help},
            {"name": "emergency", "on_enter": model.enter_emergency},
            {"name": "routine", "children": routine_children},
            {"name": "goodbye", "on_enter": model.enter_goodbye, "final": True},
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
        self._add_stop_signs()
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

        def route(trigger: str, destination: str, because: str | None) -> None:
            dest = target(destination)
            before: list[Any] = [partial(model.explain, because, node.topic)] if (
                because and self._is_outcome(destination)) else []
            if trigger == "yes" and here == question_state("can_stand", True):
                before.append(model.note_can_stand)
            after: list[Any] = [model.start_routine, model.beat_due] if dest == RUNNING else []
            m.add_transition(trigger, here, dest, before=before, after=after)

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
        """One step at a time; it never goes back to questions or exercises."""
        m, model = self.machine, self.model
        m.add_transition("next", "emergency", None, after=model.next_step)
        m.add_transition("repeat", "emergency", None, after=model.repeat_step)
        for trigger in ("emergency", "help", "red_flag"):  # the call first, again
            m.add_transition(trigger, "emergency", None, after=model.restart_steps)
        m.add_transition("acknowledged", "emergency", None, after=model.acknowledge_call)
        m.add_transition("unclear", "emergency", None,
                         after=partial(model.remind_emergency, False))
        m.add_transition("silence", "emergency", None, conditions=model.may_remind_emergency,
                         after=model.next_step)
        m.add_transition("silence", "emergency", "goodbye")

    def _add_routine(self) -> None:
        m, model, routine = self.machine, self.model, self.d.routine
        m.add_transition("tick", RUNNING, None, after=model.beat_due)
        m.add_transition("check", RUNNING, CHECK_IN)
        m.add_transition("finished", RUNNING, "goodbye", before=partial(model.summarize, False))
        m.add_transition("pause", RUNNING, PAUSED)
        m.add_transition("stop", RUNNING, UNWELL)
        m.add_transition("stop", CHECK_IN, UNWELL)
        skipping, resuming = partial(model.say, routine.cues.skipping), partial(
            model.say, routine.cues.resuming)
        m.add_transition("skip", RUNNING, None, before=skipping, after=model.skip_part)
        for trigger in ("resume", "yes"):  # "Say resume when you are ready": "I'm ready"
            m.add_transition(trigger, PAUSED, RUNNING, before=resuming, after=model.resume_beats)
        m.add_transition("skip", PAUSED, RUNNING, before=skipping, after=model.skip_part)
        m.add_transition("unclear", PAUSED, None,
                         after=partial(model.say, routine.paused.reminder))
        m.add_transition("silence", PAUSED, None, conditions=model.may_remind_paused,
                         after=model.remind_paused)
        m.add_transition("silence", PAUSED, "goodbye", before=model.stop_routine)
        m.add_transition("no", CHECK_IN, RUNNING, before=model.passed_check_in,
                         after=model.resume_beats)
        m.add_transition("yes", CHECK_IN, WHICH)
        m.add_transition("yes", UNWELL, WHICH)
        well = routine.stop_question.well
        m.add_transition("no", UNWELL, "goodbye",
                         before=[partial(model.enter_message, well), model.stop_routine])
        unclear = routine.check_in.unclear
        prompts = self.d.phrases.prompts
        for state, simpler in ((CHECK_IN, routine.check_in.simpler),
                               (WHICH, routine.check_in.which),
                               (UNWELL, routine.stop_question.simpler)):
            answers = ("yes", "no") if state == WHICH else ()
            for trigger in ("unclear", "unsure", "silence", *answers):
                lead = prompts.reask_silence if trigger == "silence" else prompts.reask_unclear
                if state != UNWELL:  # after "stop", not sure means stop safely, at once
                    m.add_transition(trigger, state, None, conditions=model.may_reask,
                                     after=partial(model.reask, lead, simpler, "check_in"))
                m.add_transition(trigger, state, "goodbye",
                                 before=[partial(model.enter_message, unclear,
                                                 "no clear answer to the safety check-in"),
                                         model.stop_routine_for_safety])

    def _around_routine(self) -> list[str]:
        """The routine's states, its set-up, and the question that offers it."""
        offers = [question_state(n) for n, node in self.d.check.nodes.items()
                  if isinstance(node, Question) and node.if_yes == "routine"]
        return [*ROUTINE_STATES, *offers, *(question_state(n, True) for n in self.d.routine.setup)]

    def _add_stop_signs(self) -> None:
        """Each stop sign, from the routine and from the moments that lead into it."""
        m, model = self.machine, self.model
        for sign_name, sign in self.signs.items():
            reason = f"reported {sign_name.replace('_', ' ')} during the routine"
            for state in self._around_routine():
                m.add_transition(sign_name, state, sign.then, before=[
                    partial(model.enter_message, sign, reason),
                    *([] if sign.then == "emergency" else [model.stop_routine_for_safety])])

    def _add_global_commands(self) -> None:
        m, model = self.machine, self.model
        listening = self._listening_states()
        reported = partial(setattr, model, "reason", "you asked for emergency help")
        for state in listening:
            if state == "emergency":
                continue
            m.add_transition("emergency", state, "emergency", before=reported)
            m.add_transition("red_flag", state, "emergency", before=partial(self._red_flag, state))
            if state != "help":
                m.add_transition("help", state, "help", before=model.remember_return)
            if state not in (RUNNING, CHECK_IN):
                m.add_transition("stop", state, "goodbye", before=model.stop_routine)
            m.add_transition("repeat", state, None, after=model.say_again)
            m.add_transition("what_can_i_say", state, None, after=partial(self._options, state))
            for command in VOICE_CHANGES:
                m.add_transition(command, state, None, after=partial(self._voice_change, command))
            for symptom in self.symptoms.values():
                if symptom.follow_up and state.startswith("check."):
                    m.add_transition(f"ask_{symptom.follow_up}", state,
                                     question_state(symptom.follow_up))
        m.add_transition("stop", "emergency", "goodbye")
        m.add_transition("what_can_i_say", "emergency", None,
                         after=partial(self._options, "emergency"))
        for command in VOICE_CHANGES:
            m.add_transition(command, "emergency", None, after=partial(self._voice_change, command))

    def _red_flag(self, state: str) -> None:
        """A red flag said at any moment: named, and in the routine, "Stop now" first."""
        symptom = self.model.flagged
        if state in ROUTINE_STATES:
            sign = self.d.stop_sign_for(symptom) if symptom else None
            if sign:
                self.model.say(*self.signs[sign].say)
            self.model.stop_routine_for_safety()

    def _listening_states(self) -> list[str]:
        names = [question_state(n) for n, node in self.d.check.nodes.items()
                 if isinstance(node, Question)]
        names += [question_state(n, True) for n in self.d.routine.setup]
        return [*names, "help", "emergency", *ROUTINE_STATES]

    # --- commands that keep the state ------------------------------------------------------

    def _options(self, state: str) -> None:
        model = self.model
        model.say(model.options_for(self._kind(state)), self.d.phrases.prompts.always_options)
        if not model.timed:
            model.say(*model.last_prompt)
        model.listen_again()

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
        if state in ("help", "emergency"):
            return state
        if state == RUNNING:
            return "routine"
        if state == PAUSED:
            return "paused"
        if state in (CHECK_IN, WHICH, UNWELL):
            return "check_in"
        return "question"

    # --- what was said, at this moment ------------------------------------------------------

    def moment(self) -> Moment:
        """Where the conversation is, for the policy."""
        state, model = self.model.state, self.model
        commands = frozenset(GLOBAL)
        around = state in self._around
        if model.pending is not None:
            return Moment("confirm", model.pending.question, True, commands=commands,
                          around_routine=around)
        if state == "emergency":
            return Moment("guidance", commands=commands | {"next"})
        if state == "help":
            return Moment("help", red_flag=True, commands=commands)
        if state == RUNNING:
            return Moment("exercise", commands=commands | {"pause", "skip"}, around_routine=True)
        if state == PAUSED:
            return Moment("paused", commands=commands | {"resume", "skip"}, around_routine=True)
        if state == CHECK_IN:
            return Moment("check_in", okay="no", fine="no", commands=commands,
                          around_routine=True)
        if state == WHICH:
            return Moment("which", commands=commands, around_routine=True)
        if state == UNWELL:
            return Moment("ask_unwell", okay="unclear", fine="no", commands=commands,
                          around_routine=True)
        name = state.rsplit(".", 1)[-1]
        question = self.questions[name]
        kind: Kind = "setup" if name in self.setup_names else "question"
        return Moment(kind, name, question.red_flag, question.if_okay, question.if_fine,
                      commands, around)

    def expecting(self) -> frozenset[str]:
        """The symptoms the question being asked is about."""
        model = self.model
        name = model.pending.question if model.pending else model.state.rsplit(".", 1)[-1]
        if model.pending and model.pending.symptom:
            return frozenset({model.pending.symptom})
        return frozenset(n for n, s in self.symptoms.items() if name in s.answers)

    def answer_words(self) -> tuple[PhraseIndex | None, frozenset[tuple[str, ...]]]:
        """The answer words here, with the question's own ones, and which those are."""
        model = self.model
        owner: object
        if model.pending is not None:
            if model.pending.kind != "ask_if_new":
                return None, frozenset()
            owner = self.d.words.policy.ask_if_new
        else:
            owner = self.questions.get(model.state.rsplit(".", 1)[-1])
        says_yes = list(getattr(owner, "says_yes", []))
        says_no = list(getattr(owner, "says_no", []))
        if not (says_yes or says_no):
            return None, frozenset()
        built = _ANSWER_WORDS.get(id(owner))
        if built is None or built[0] is not owner:
            words = self.d.words
            own = {phrase(t) for t in (*says_yes, *says_no)}  # the question's own words win
            groups = {str(k): [t for t in v if phrase(t) not in own]
                      for k, v in words.answers.items()}
            groups["yes"] += says_yes
            groups["no"] += [*(t for t in words.soft_no if phrase(t) not in own), *says_no]
            index = PhraseIndex((phrase(t), label) for label, texts in groups.items()
                                for t in texts)
            built = _ANSWER_WORDS[id(owner)] = (
                owner, index, frozenset(phrase(t) for t in (*says_yes, *says_no)))
        return built[1], built[2]

    def _trigger_for(self, decision: Decision, state: str) -> str:
        """The machine's trigger for a decision, or "" when the model handled it."""
        model, action = self.model, decision.action
        if model.pending is not None:
            return self._resolve_pending(decision)
        if action == "red_flag":
            return self._flag(decision.symptom)
        if action == "stop_sign":
            return self.d.stop_sign_for(decision.symptom or "") or "unclear"
        if action in ("confirm", "ask_if_new"):
            question = self.moment().question
            about = question if question and question in self.symptoms[
                decision.symptom or ""].answers else None
            kind: PendingKind = "confirm" if action == "confirm" else "ask_if_new"
            model.start_pending(Pending(kind, state, decision.symptom, about))
            return ""
        if action == "follow_up":
            return f"ask_{self.symptoms[decision.symptom or ''].follow_up}"
        if action == "no" and decision.confirm:
            model.start_pending(Pending("confirm_no", state, question=self.moment().question))
            return ""
        if action == "repeat" and model.repeats >= self.d.words.policy.repeat_limit:
            return "unclear"  # asked again and again: an unclear answer, counted
        return action

    def _flag(self, symptom: str | None) -> str:
        self.model.flagged = symptom
        topic = self.symptoms[symptom].topic if symptom else ""
        self.model.reason = self.model.fill(self.d.phrases.prompts.because_yes, topic=topic)
        if self.model.state in ROUTINE_STATES or self.model.state == "emergency":
            return "red_flag"
        self.model.say(self.model.reason)
        return "red_flag"

    def _resolve_pending(self, decision: Decision) -> str:
        """The answer to a short question on the way (§4.2, §4.3)."""
        model = self.model
        pending = model.pending
        assert pending is not None
        action = decision.action
        if self._reask_pending(decision):
            return ""
        if action in ("repeat", *VOICE_CHANGES, "what_can_i_say"):
            if action == "repeat" and model.repeats >= self.d.words.policy.repeat_limit:
                action = "unclear"
            else:
                return action
        model.pending = None
        if action in ("red_flag", "emergency", "stop", "help"):
            return self._flag(decision.symptom) if action == "red_flag" else action
        answer = action if action in (*ANSWERS, "silence") else "unclear"
        symptom = self.symptoms[pending.symptom] if pending.symptom else None
        if pending.kind == "confirm_no":
            if answer in ("yes", "no"):
                return answer
            model.attempts = self.d.phrases.listening.reasks  # the safe route, at once
            return "silence" if answer == "silence" else "unclear"
        emergency = symptom is not None and symptom.level == "emergency"
        if pending.kind == "confirm":
            return self._back(pending) if answer == "no" else self._flag(pending.symptom)
        if answer == "yes":  # ask_if_new: it is new, or worse
            if emergency:
                return self._flag(pending.symptom)
            if pending.question and symptom:
                return symptom.answers[pending.question]
            if pending.origin in ROUTINE_STATES and symptom and symptom.level == "stop":
                return self.d.stop_sign_for(symptom.name) or "unclear"
            return self._back(pending)
        if answer == "no":
            return "no" if pending.question else self._back(pending)
        if emergency:
            return self._flag(pending.symptom)
        if pending.question:
            return "unsure"
        if pending.origin in ROUTINE_STATES and symptom and symptom.level == "stop":
            return self.d.stop_sign_for(symptom.name) or "unclear"
        return self._back(pending)

    def _reask_pending(self, decision: Decision) -> bool:
        """"Is it new?" -- "not sure": asked once more, in simpler words, before the safe route."""
        model = self.model
        pending = model.pending
        if pending is None or pending.kind != "ask_if_new" or model.attempts >= 1:
            return False
        if decision.action not in ("unsure", "unclear", "silence"):
            return False
        prompts = self.d.phrases.prompts
        lead = {"unsure": prompts.reask_unsure, "silence": prompts.reask_silence}.get(
            decision.action, prompts.reask_unclear)
        model.reask(lead, self.d.words.policy.ask_if_new.simpler, "question")
        return True

    def _back(self, pending: Pending) -> str:
        """Nothing new after all: on with what was being done."""
        model = self.model
        if pending.origin == RUNNING:
            model.resume_beats()
            return ""
        if pending.origin == CHECK_IN:
            model.ask_check_in()
            return ""
        model.say(*model.origin_prompt)
        model.last_prompt = list(model.origin_prompt)
        model.wait_for_answer()
        return ""

    # --- inputs ----------------------------------------------------------------------------

    def intents(self) -> tuple[str, ...]:
        """What may be said now, by meaning (written to the transcript as `expected`)."""
        moment = self.moment()
        return (*ANSWERS, "repeat", *sorted(moment.commands), "emergency", "symptoms")

    def _finish_turn(self, before_state: str) -> Turn:
        model = self.model
        turn = model.turn
        if model.state != before_state:  # after what was heard: the cause comes first
            heard_first = bool(turn.events) and isinstance(turn.events[0], HeardEvent)
            turn.events.insert(1 if heard_first else 0, StateEvent(model.state))
        if model.state != "goodbye":
            vocabulary = self.grammar.vocabulary(self.moment(), self.expecting())
            turn.listening = Listening(self.intents(), vocabulary, model.until, model.timed)
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
        if trigger and trigger not in self.machine.get_triggers(model.state):
            trigger = "unclear" if trigger != "silence" else trigger  # never nothing at all
        if trigger:
            model.trigger(trigger)
        return self._finish_turn(before)

    def start(self, now: float = 0.0) -> Turn:
        model = self.model
        model.now = now
        model.trigger("begin")
        return self._finish_turn("start")

    def understand(self, text: str) -> tuple[Interpretation, Decision]:
        """What `text` means here, and what it would do (no change to the conversation)."""
        meaning = interpret(text, self.lexicon, self.expecting(), *self.answer_words())
        doubtful = self.model.asked_again
        return meaning, decide(meaning, self.moment(), self.symptoms, doubtful)

    def hear(self, heard: Heard, now: float) -> Turn:
        """The user said something (typed, or recognized with a confidence)."""
        model = self.model
        if not heard.text.strip():  # a cough during a beat keeps its deadline
            if model.timed:
                return self._run(now, "", HeardEvent(heard.text, heard.confidence, "ignored"))
            return self.time_up(now)
        meaning = interpret(heard.text, self.lexicon, self.expecting(), *self.answer_words())
        low = heard.confidence is not None and heard.confidence < self.min_confidence
        unsure = heard.confidence is not None and (
            heard.confidence < self.d.words.policy.sure_confidence)
        decision = decide(meaning, self.moment(), self.symptoms,
                          doubtful=unsure or model.asked_again)
        if decision.action != "repeat":
            model.asked_again = False
        if low:
            if model.timed and decision.action in SAFETY_ACTIONS:
                # Not sure, but it may have been "chest pain" or "stop": pause and ask.
                decision = Decision("pause", why=f"unsure it was {decision.action}")
            else:
                decision = Decision("unclear", why="low confidence")
        if model.timed and decision.action in (*ANSWERS, "unclear"):
            decision = Decision("ignored", why="counting along, or talking to someone else")
        event = HeardEvent(heard.text, heard.confidence, decision.action, decision.why,
                           meaning.record())
        if decision.action == "ignored":  # a beat keeps its deadline
            return self._run(now, "", event)
        return self._run(now, self._trigger_for(decision, model.state), event)

    def no_more_answers(self, now: float) -> Turn:
        """The input was closed: in the routine, it stops ("stop"); elsewhere, silence."""
        if self.model.timed:
            return self._run(now, "stop", HeardEvent(None, None, "stop", "end of input"))
        return self.time_up(now)

    def time_up(self, now: float) -> Turn:
        """Nothing was said before the deadline: silence, or the routine's next beat."""
        model = self.model
        event = None if model.timed else HeardEvent(None)
        trigger = "silence"
        if model.pending is not None and not model.timed:
            trigger = self._resolve_pending(Decision("silence"))
        return self._run(now, trigger, event)

    @property
    def state(self) -> str:
        return self.model.state

    @property
    def disposition(self) -> str | None:
        return self.model.disposition
