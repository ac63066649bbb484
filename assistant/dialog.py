"""The conversation as a `transitions` state machine, generated from the compiled flow.

Pure: it never speaks, sleeps or prints. Each call takes what was heard (or
that the time ran out) with the current time, and returns a `Turn`: what to
say, what may be said next and until when, and what to record. What was heard
is interpreted (`interpret`) and weighed (`policy.decide`) before it becomes
a trigger. Every state and transition comes from `assistant.flow`: routes
that work everywhere (emergency, help, stop, repeat...) are transitions of
the parent states "check" and "routine", and what may be said in a state is
what the machine accepts there (`get_triggers`), so there is no second table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from transitions.extensions import HierarchicalMachine
from transitions.extensions.nesting import NestedState

from assistant.dialog_data import Dialogs
from assistant.dialog_model import DialogModel, Listening, Pending, PendingKind, Turn
from assistant.flow import (
    GOODBYE,
    GUIDANCE,
    HELP,
    PAUSED,
    RUNNING,
    Flow,
    Node,
    Route,
    question_state,
)
from assistant.grammar import lexicon_and_grammar
from assistant.interpret import Interpretation, interpret
from assistant.moments import expecting_at, moment_of, own_words_at
from assistant.pending import resolve
from assistant.policy import Decision, Moment, decide
from assistant.ports import Heard, Vocabulary, VoiceChange
from assistant.route_effects import RouteEffects
from assistant.transcript import HeardEvent, StateEvent

__all__ = ["DialogMachine", "DottedState", "Listening", "Turn", "question_state"]

ANSWERS = ("yes", "no", "unsure")
SAFETY_ACTIONS = ("emergency", "red_flag", "stop_sign", "help", "stop", "pause")


class DottedState(NestedState):
    """Node names in the data use underscores, so nesting is written "check.sudden_onset"."""

    separator = "."


class DialogStateMachine(HierarchicalMachine):
    state_cls = DottedState


# What each moment makes of the grammar's groups of one answer, per dialog data and number
# (every session of a day shares them; the data is kept so that its id is not reused)
_ANSWER_GROUPS: dict[tuple[int, str], tuple[Dialogs, dict[tuple[object, ...], Vocabulary]]] = {}


def _answer_groups(dialogs: Dialogs, emergency_number: str
                   ) -> dict[tuple[object, ...], Vocabulary]:
    key = (id(dialogs), emergency_number)
    kept = _ANSWER_GROUPS.get(key)
    if kept is None or kept[0] is not dialogs:
        kept = _ANSWER_GROUPS[key] = (dialogs, {})
    return kept[1]


class DialogMachine:
    """The machine of one session: built from the flow, fed what was heard."""

    def __init__(self, dialogs: Dialogs, emergency_number: str = "911",
                 min_confidence: float = 0.0, kiosk: bool = False,
                 machine_class: type[HierarchicalMachine] = DialogStateMachine,
                 name: str | None = None, **machine_kwargs: Any) -> None:
        """`name`: the person's first name, said in the few prompts written with {to_name}."""
        self.d = dialogs
        self.flow: Flow = dialogs.graph
        self.min_confidence = min_confidence
        self.model = DialogModel(dialogs, emergency_number, name)
        self.model.endless_guidance = kiosk
        self.lexicon, self.grammar = lexicon_and_grammar(dialogs.words, emergency_number)
        self.symptoms = self.lexicon.symptoms
        self.signs = {name: sign for name, sign in dialogs.routine.stop_signs.items()}
        self.sign_of = {s: name for name, sign in self.signs.items() for s in sign.symptoms}
        self.conditions = {e.only_if for e in dialogs.routine.exercises if e.only_if}
        self._accepted: dict[str, frozenset[str]] = {}
        self._answer_groups = _answer_groups(dialogs, emergency_number)
        self.effects = RouteEffects(self.model, dialogs, self.sign_of, self.conditions)
        self.machine = machine_class(
            model=self.model, states=self._states(), initial="start", auto_transitions=False,
            queued=True, send_event=False, ignore_invalid_triggers=True, **machine_kwargs)
        for name, node in self.flow.nodes.items():
            for route in node.routes:
                self._add(name, node, route)
        for scope, routes in self.flow.scopes.items():
            for route in routes:
                self._add(scope, None, route)
        for state in self.flow.listening():  # "not an emergency after all": back there
            if state not in (HELP, GUIDANCE):
                self.machine.add_transition(
                    "no", HELP, PAUSED if state == RUNNING else state,
                    conditions=partial(self.model.returning_to, state),
                    before=self.model.explain_help)

    # --- the graph ------------------------------------------------------------------------

    def _states(self) -> list[Any]:
        groups: dict[str, list[Any]] = {"check": [], "routine": []}
        top: list[Any] = []
        for name, node in self.flow.nodes.items():
            parent, _, child = name.rpartition(".")
            state = {"name": child, "on_enter": self.effects.on_enter(node)}
            (groups[parent] if parent else top).append(state if node.kind != "goodbye" else
                                                       state | {"final": True})
        return [*top, *({"name": g, "children": c} for g, c in groups.items())]

    def _add(self, source: str, node: Node | None, route: Route) -> None:
        """One route of the flow as a transition, with what it says on the way."""
        if source == HELP and route.trigger == "no":
            return  # back to where they were: one transition per place, added below
        before, after, conditions = self.effects.of(source, node, route)
        self.machine.add_transition(route.trigger, source, route.to, before=before, after=after,
                                    conditions=conditions)

    # --- what was said, at this moment ------------------------------------------------------

    def accepted(self) -> frozenset[str]:
        """Every trigger the machine takes in the current state (its own and its parent's)."""
        state = self.model.state
        if state not in self._accepted:  # the graph does not change: once per state
            parents = [state.rsplit(".", 1)[0]] if "." in state else []
            self._accepted[state] = frozenset(self.machine.get_triggers(state, *parents))
        return self._accepted[state]

    def moment(self) -> Moment:
        return moment_of(self.flow, self.d, self.model.state, self.model.pending, self.accepted())

    def expecting(self) -> frozenset[str]:
        return expecting_at(self.symptoms, self.model.state, self.model.pending)

    def understand(self, text: str) -> tuple[Interpretation, Decision]:
        """What `text` means here, and what it would do (no change to the conversation)."""
        meaning = self._interpret(text)
        return meaning, decide(meaning, self.moment(), self.symptoms, self.model.asking.asked_again)

    def _interpret(self, text: str) -> Interpretation:
        own = own_words_at(self.d, self.model.state, self.model.pending)
        return interpret(text, self.lexicon, self.expecting(), own.index if own else None,
                         own.own if own else ())

    def intents(self) -> tuple[str, ...]:
        """What may be said now, by meaning (written to the transcript as `expected`)."""
        return tuple(sorted(t for t in self.accepted() if not t.startswith("ask_") and t not in (
            "proceed", "tick", "check", "finished", "begin")))

    def _step(self, decision: Decision, out: Turn) -> str:
        """The trigger for a decision, or "" when it was carried out here."""
        model, action, state = self.model, decision.action, self.model.state
        if model.pending is not None:
            return self._resolve_pending(decision, out)
        if action == "red_flag":
            return self._flag(decision.symptom)
        if action == "stop_sign":
            return self.sign_of.get(decision.symptom or "", "unclear")
        if action in ("confirm", "ask_if_new"):
            question = self.moment().question
            about = question if question in self.symptoms[decision.symptom or ""].answers else None
            kind: PendingKind = "confirm" if action == "confirm" else "ask_if_new"
            model.start_pending(Pending(kind, state, decision.symptom, about), out)
            return ""
        if action == "follow_up":
            return f"ask_{self.symptoms[decision.symptom or ''].follow_up}"
        if action == "no" and decision.confirm:
            model.start_pending(Pending("confirm_no", state, question=self.moment().question), out)
            return ""
        if action == "repeat" and model.asking.repeats >= self.d.words.policy.repeat_limit:
            return "unclear"  # asked again and again: an unclear answer, counted
        return action

    def _flag(self, symptom: str | None) -> str:
        model = self.model
        model.flagged = symptom
        topic = self.symptoms[symptom].topic if symptom else ""
        model.reason = model.fill(self.d.phrases.prompts.because_yes, topic=topic)
        return "red_flag"

    def _resolve_pending(self, decision: Decision, out: Turn) -> str:
        model = self.model
        pending = model.pending
        assert pending is not None
        step = resolve(pending, decision, model.asking.attempts, model.asking.repeats,
                       self.d.words.policy.repeat_limit, self.symptoms, self.sign_of)
        if step.do == "keep":
            return step.trigger
        if step.do == "reask":
            why = step.trigger if step.trigger in ("unsure", "silence") else "unclear"
            model.reask(why, self.d.words.policy.ask_if_new.simpler, "question", out)
            return ""
        model.pending = None
        if step.exhausted:
            model.asking.attempts = self.d.phrases.listening.reasks  # the safe route, at once
        if step.do == "flag":
            return self._flag(step.trigger)
        if step.do == "trigger":
            return step.trigger
        return self._back(pending, out)

    def _back(self, pending: Pending, out: Turn) -> str:
        """Nothing new after all: on with what was being done."""
        model = self.model
        if pending.origin == RUNNING:
            model.resume_beats(out)
        elif pending.origin == "routine.check_in":
            model.ask_check_in(out)
        else:
            model.say(out, *model.origin_prompt)
            model.asking.prompt = list(model.origin_prompt)
            model.wait_for_answer()
        return ""

    # --- inputs ----------------------------------------------------------------------------

    def _finish(self, out: Turn, before: str) -> Turn:
        model = self.model
        if model.state != before:  # after what was heard: the cause comes first
            heard_first = bool(out.events) and isinstance(out.events[0], HeardEvent)
            out.events.insert(1 if heard_first else 0, StateEvent(model.state))
        if model.state != GOODBYE:
            vocabulary = self._same_answers_here(
                self.grammar.vocabulary(self.moment(), self.expecting()))
            out.listening = Listening(self.intents(), vocabulary, model.until, model.timed)
        return out

    def _same_answers_here(self, vocabulary: Vocabulary) -> Vocabulary:
        """The grammar's groups of one answer ("yes", "yep"), split where a phrase would do
        something else here ("uh huh" asks to hear it again; "I think so" is no clear yes
        to "can you stand safely?"), so that recognizers agreeing on a group agree on what
        is done."""
        model = self.model
        key = (vocabulary, self.moment(), self.expecting(), model.state, repr(model.pending),
               model.asking.asked_again)
        found = self._answer_groups.get(key)
        if found is None:
            groups: list[tuple[str, ...]] = []
            for group in vocabulary.same_answers:
                by_decision: dict[Decision, list[str]] = {}
                for phrase in group:
                    by_decision.setdefault(self.understand(phrase)[1], []).append(phrase)
                groups += [tuple(alike) for alike in by_decision.values() if len(alike) > 1]
            found = self._answer_groups[key] = replace(vocabulary, same_answers=tuple(groups))
        return found

    def _run(self, now: float, decide_step: Callable[[Turn], str],
             heard_event: HeardEvent | None = None) -> Turn:
        model, out = self.model, Turn()
        model.now = now
        before = model.state
        if heard_event is not None:
            out.events.append(heard_event)
        if model.state == GOODBYE:
            return self._finish(out, before)
        trigger = decide_step(out)
        if trigger == "silence" and model.timed and model.state == RUNNING:
            trigger = "tick"
        if trigger and trigger not in self.accepted():
            trigger = "unclear" if trigger != "silence" else trigger  # never nothing at all
        if trigger:
            model.trigger(trigger, out=out)
        return self._finish(out, before)

    def start(self, now: float = 0.0) -> Turn:
        self.model.now = now
        out = Turn()
        self.model.say(out, *self.d.check.greeting.say)
        self.model.trigger("begin", out=out)
        return self._finish(out, "start")

    def hear(self, heard: Heard, now: float) -> Turn:
        """The user said something (typed, or recognized with a confidence)."""
        model = self.model
        if not heard.text.strip():  # a cough during a beat keeps its deadline
            if model.timed:
                return self._run(now, lambda out: "", HeardEvent(
                    heard.text, heard.confidence, "ignored", source=heard.source))
            return self.time_up(now)
        meaning = self._interpret(heard.text)
        low = heard.confidence is not None and heard.confidence < self.min_confidence
        unsure = heard.confidence is not None and (
            heard.confidence < self.d.words.policy.sure_confidence)
        decision = decide(meaning, self.moment(), self.symptoms,
                          doubtful=unsure or model.asking.asked_again)
        if decision.action != "repeat":
            model.asking.asked_again = False
            model.not_heard = model.not_heard + 1 if low else 0
        if low and decision.action != "repeat":
            # A doubtful "what?" is still taken as one: asking again never lowers the level
            # of care, and the repeat limit bounds it (then the question's unclear route).
            if model.timed and decision.action in SAFETY_ACTIONS:
                # Not sure, but it may have been "chest pain" or "stop": pause and ask.
                decision = Decision("pause", why=f"unsure it was {decision.action}")
            else:
                decision = Decision("unclear", why="low confidence")
        if model.timed and decision.action in (*ANSWERS, "unclear"):
            decision = Decision("ignored", why="counting along, or talking to someone else")
        event = HeardEvent(heard.text, heard.confidence, decision.action, decision.why,
                           meaning.record(), heard.source)
        if decision.action == "ignored":  # a beat keeps its deadline
            return self._run(now, lambda out: "", event)
        return self._run(now, lambda out: self._step(decision, out), event)

    def offer_touch(self, page_open: bool) -> None:
        """Whether answers can be touched on a screen now (the session asks the screen);
        when answers cannot be heard, the assistant then says so and offers it."""
        self.model.touch_offered = page_open

    def no_more_answers(self, now: float) -> Turn:
        """The input was closed: in the routine, it stops ("stop"); elsewhere, silence."""
        if self.model.timed:
            return self._run(now, lambda out: "stop", HeardEvent(None, None, "stop",
                                                                  "end of input"))
        return self.time_up(now)

    def someone_told(self, now: float, line: str) -> Turn:
        """An alert was acknowledged: `line` ("Staff know...") is said at once."""
        def told(out: Turn) -> str:
            self.model.someone_told(out, line)
            return ""  # no transition: the same moment, with the news said

        return self._run(now, told)

    def time_up(self, now: float) -> Turn:
        """Nothing was said before the deadline: silence, or the routine's next beat."""
        model = self.model
        event = None if model.timed else HeardEvent(None)
        if model.pending is not None and not model.timed:
            return self._run(now, lambda out: self._resolve_pending(Decision("silence"), out),
                             event)
        return self._run(now, lambda out: "silence", event)

    def carry_over(self, remembered: VoiceChange) -> None:
        """Start at the pace remembered from earlier sessions ("slower" said last time)."""
        self.model.routine.carry_over(remembered.rate_steps, self.d.routine.pace)

    @property
    def state(self) -> str:
        return self.model.state

    @property
    def disposition(self) -> str | None:
        return self.model.disposition
