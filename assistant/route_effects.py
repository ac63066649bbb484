"""What each route of the flow does on the way: the lines said and the counters moved.

The machine (`assistant.dialog`) is generated from the flow; for every route it
asks here for the callbacks of its transition. Each callback is given the turn
being built (`out`, passed with the event) and adds to it; none keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import partial

from assistant.dialog_data import Dialogs
from assistant.dialog_model import DialogModel, Turn
from assistant.flow import GOODBYE, GUIDANCE, HELP, PAUSED, ROUTINE_STATES, RUNNING, Node, Route
from assistant.ports import VoiceChange

Callback = Callable[..., bool | None]
Callbacks = list[str | Callback]
VOICE_CHANGES = {
    "slower": VoiceChange(rate_steps=-1), "faster": VoiceChange(rate_steps=1),
    "louder": VoiceChange(volume_steps=1), "softer": VoiceChange(volume_steps=-1),
    "normal_speed": VoiceChange(reset_rate=True), "normal_volume": VoiceChange(reset_volume=True),
}


def _nothing(out: Turn) -> None:
    """A route that only moves (or keeps) the state."""


class RouteEffects:
    def __init__(self, model: DialogModel, dialogs: Dialogs, sign_of: Mapping[str, str],
                 conditions: Collection[str]) -> None:
        self.model = model
        self.d = dialogs
        self.flow = dialogs.graph
        self.signs = dict(dialogs.routine.stop_signs)
        self.sign_of = sign_of
        self.conditions = conditions  # set-up questions an exercise depends on ("can_stand")

    def on_enter(self, node: Node) -> Callbacks:
        model = self.model
        if node.question is not None:
            return [partial(model.ask, node.question)]
        if node.message is not None:
            message = node.message
            return [partial(model.enter_message, message),
                    lambda out: model.trigger("proceed", out=out)]
        entering: dict[str, Callback] = {
            HELP: model.ask_help, GUIDANCE: model.enter_emergency, GOODBYE: model.enter_goodbye,
            PAUSED: model.enter_paused, "routine.check_in": model.ask_check_in,
            "routine.which": model.ask_which, "routine.ask_unwell": model.ask_unwell}
        return [entering[node.name]] if node.name in entering else []

    def of(self, source: str, node: Node | None, route: Route
                 ) -> tuple[Callbacks, Callbacks, Callbacks]:
        model, prompts, routine = self.model, self.d.phrases.prompts, self.d.routine
        trigger, to = route.trigger, route.to
        if node is not None and node.kind == "guidance":
            if to == GOODBYE:
                return [], [], []
            return [], [self._guidance_effect(trigger, route.kind)], (
                [model.may_remind_emergency] if route.kind == "reask" else [])
        if route.kind == "keep":
            if trigger == "repeat":
                return [], [model.say_again], []
            if trigger == "what_can_i_say":
                return [], [self._options], []
            if trigger in VOICE_CHANGES:
                return [], [partial(self._voice_change, trigger)], []
            if trigger == "unclear":  # while paused
                return [], [model.line(routine.paused.reminder)], []
            return [], [model.ask_help], []  # "help" while asked "Is this an emergency?"
        if route.kind == "reask":
            if source == PAUSED:
                return [], [model.remind_paused], [model.may_remind_paused]
            question = node.question if node else None
            simpler = question.simpler if question else self._simpler(source)
            kind = "question" if question else "check_in"
            why = trigger if trigger in ("unsure", "silence") else "unclear"
            return [], [partial(model.reask, why, simpler, kind)], [model.may_reask]
        if route.kind == "sign":
            sign = self.signs[trigger]
            reason = f"reported {trigger.replace('_', ' ')} during the routine"
            safety = [] if sign.then in ("emergency", "which") else [
                model.stop_routine_for_safety]
            return [partial(model.enter_message, sign, reason=reason), *safety], [], []
        before: Callbacks = []
        if node is not None and node.question is not None:
            because = {"yes": prompts.because_yes, "unclear": prompts.because_unclear,
                       "no_answer": prompts.because_no_answer}.get(route.because or "")
            if because and self.flow.level(to) is not None:
                before.append(partial(model.explain, because, node.question.topic))
            if trigger == "yes" and source.rsplit(".", 1)[-1] in self.conditions:
                before.append(model.note_can_stand)
        before += self._command_effects(source, node, route)
        after: Callbacks = [model.start_routine, model.beat_due] if to == RUNNING and (
            node is not None and node.question is not None) else []
        return before, after + self._routine_after(source, trigger, to), []

    def _command_effects(self, source: str, node: Node | None, route: Route) -> Callbacks:
        model, routine = self.model, self.d.routine
        trigger, to = route.trigger, route.to
        if trigger == "red_flag":
            return [self._red_flag]
        if source == HELP and to == GUIDANCE:
            return [lambda out: setattr(model, "reason", "you asked for help")]
        if trigger == "emergency":
            return [lambda out: setattr(model, "reason", "you asked for emergency help")]
        if trigger == "help":
            return [model.remember_return]
        if trigger == "stop" and to == GOODBYE:
            return [model.stop_routine]
        if trigger == "finished":
            return [partial(model.summarize, False)]
        if trigger == "skip":
            return [model.line(routine.cues.skipping)]
        if trigger in ("resume", "yes") and source == PAUSED:
            return [model.line(routine.cues.resuming)]
        if to == GOODBYE and route.kind == "safe" and source in ROUTINE_STATES:
            if source == PAUSED:
                return [model.stop_routine]
            return [partial(model.enter_message, routine.check_in.unclear,
                            reason="no clear answer to the safety check-in"),
                    model.stop_routine_for_safety]
        if trigger == "no" and source == "routine.ask_unwell":
            return [partial(model.enter_message, routine.stop_question.well),
                    model.stop_routine]
        if trigger == "no" and source == "routine.check_in":
            return [model.passed_check_in]
        return []

    def _routine_after(self, source: str, trigger: str, to: str | None) -> Callbacks:
        model = self.model
        if source == RUNNING and trigger == "tick":
            return [model.beat_due]
        if trigger == "skip" and source in (RUNNING, PAUSED):
            return [model.skip_part]
        if to == RUNNING and source in ROUTINE_STATES and source != RUNNING:
            return [model.resume_beats]
        return []

    def _guidance_effect(self, trigger: str, kind: str) -> Callback:
        model = self.model
        if trigger in VOICE_CHANGES:
            return partial(self._voice_change, trigger)
        effects: dict[str, Callback] = {
            "next": model.next_step, "repeat": model.repeat_step, "silence": model.next_step,
            "acknowledged": model.acknowledge_call, "what_can_i_say": self._options,
            "unclear": partial(model.remind_emergency, counted=False)}
        return effects.get(trigger, model.restart_steps if kind == "keep" else _nothing)

    def _simpler(self, state: str) -> str:
        routine = self.d.routine
        return {"routine.which": routine.check_in.which,
                "routine.ask_unwell": routine.stop_question.simpler}.get(
            state, routine.check_in.simpler)

    def _red_flag(self, out: Turn) -> None:
        """A red flag said at any moment: named, and in the routine, "Stop now" first."""
        model = self.model
        if model.state in ROUTINE_STATES:
            sign = self.sign_of.get(model.flagged or "")
            if sign:
                model.say(out, *self.signs[sign].say)
            model.stop_routine_for_safety(out)
        elif model.state != GUIDANCE:
            model.say(out, model.reason)


    def _options(self, out: Turn) -> None:
        model = self.model
        kind = {HELP: "help", GUIDANCE: "emergency", RUNNING: "routine",
                PAUSED: "paused"}.get(model.state, "check_in" if model.state in ROUTINE_STATES
                                      else "question")
        model.say(out, model.options_for(kind), self.d.phrases.prompts.always_options)
        if not model.timed:
            model.say(out, *model.asking.prompt)
        model.listen_again()

    def _voice_change(self, command: str, out: Turn) -> None:
        model = self.model
        out.voice_changes.append(VOICE_CHANGES[command])
        model.routine.change_pace(command, self.d.routine.pace)
        model.say(out, getattr(self.d.phrases.prompts, command))
        if not model.timed:
            model.say(out, *model.asking.prompt)
        model.listen_again()
