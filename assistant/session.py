"""One conversation: the pure dialog machine wired to a voice, a clock, a transcript and,
with `--screen`, the screen (each moment shown, each line captioned as it starts); at
home, the history (each event kept as it comes) and the preferences remembered from
earlier sessions ("slower" is in force from the first word of the next one).

This is the only loop. It also keeps the promise that a failure inside the
core never leaves a person in silence: the fallback message is spoken and
the session ends with the error on record.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from assistant.dialog import DialogMachine, Turn
from assistant.ports import (
    Clock,
    EndOfInput,
    Heard,
    PreferenceStore,
    Screen,
    SessionLog,
    Voice,
    VoiceChange,
)
from assistant.screen.view import view_of
from assistant.transcript import (
    Error,
    Event,
    Listen,
    Say,
    SessionEnd,
    SessionStart,
    Transcript,
)

MAX_TURNS = 5000  # far beyond any real session; a guard against a loop in the data


class Session:
    def __init__(self, machine: DialogMachine, voice: Voice, clock: Clock,
                 transcript: Transcript, options: Mapping[str, Any] | None = None,
                 screen: Screen | None = None, log: SessionLog | None = None,
                 preferences: PreferenceStore | None = None) -> None:
        """`log`: the history, if kept; `preferences`: None when nothing is remembered
        (no records kept, or a shared device), else where "slower"... carry over."""
        self.machine = machine
        self.screen = screen
        self.voice = voice
        self.clock = clock
        self.transcript = transcript
        self.options = dict(options or {})
        self.id = uuid.uuid4().hex[:12]
        self.log = log
        self.preferences = preferences

    def run(self) -> str | None:
        """Hold the whole conversation; return the disposition reached (or None)."""
        started = datetime.now().astimezone().isoformat(timespec="seconds")
        kept = self.preferences.load() if self.preferences is not None else VoiceChange()
        # From the configured voice, whatever an earlier session on this voice changed (a
        # voice kept all day, or a shared device: the next person starts afresh).
        self.voice.change_voice(replace(kept, reset_rate=True, reset_volume=True))
        if kept.rate_steps or kept.volume_steps:
            self.options["remembered"] = {"rate_steps": kept.rate_steps,
                                          "volume_steps": kept.volume_steps}
            self.machine.carry_over(kept)
        self._write(SessionStart(self.id, started, self.options))
        try:
            asked_at = self.clock.now()
            turn = self.machine.start(asked_at)
            for _ in range(MAX_TURNS):
                interruption = self._deliver(turn)
                if turn.listening is None:
                    return self._ended("goodbye")
                try:
                    heard = interruption or self._listen(turn, asked_at)
                except EndOfInput:
                    return self._no_more_answers()
                asked_at = self.clock.now()
                turn = (self.machine.hear(heard, asked_at) if heard
                        else self.machine.time_up(asked_at))
            raise RuntimeError(f"the dialog did not end after {MAX_TURNS} turns")
        except KeyboardInterrupt:
            self._interrupted()
            raise
        except Exception as exc:  # noqa: BLE001 - the user must never be left in silence
            self._fail(exc)
            return self._ended("failure")

    def _ended(self, reason: str) -> str | None:
        self._write(SessionEnd(reason, self.machine.disposition))
        return self.machine.disposition

    def _no_more_answers(self) -> str | None:
        """The input was closed: every question left is unanswered, so the safe routes
        apply at once (no waiting), and the routine stops."""
        turn = self.machine.no_more_answers(self.clock.now())
        for _ in range(MAX_TURNS):
            self._deliver(turn, interruptible=False)
            if turn.listening is None:
                break
            turn = self.machine.time_up(self.clock.now())
        return self._ended("end of input")

    def _interrupted(self) -> None:
        """Ctrl-C: the safety-net line is said and written before the program stops."""
        model = self.machine.model
        prompts = self.machine.d.phrases.prompts
        line = self.machine.d.emergency.reminder if model.disposition == "emergency" else (
            prompts.goodbye_safety_net.text)
        try:
            self._say(model.fill(line))
        except BaseException:  # noqa: BLE001 - a second Ctrl-C: the line is printed instead
            print(model.fill(line), flush=True)
        self._ended("interrupted")

    def _write(self, event: Event) -> None:
        """On record: in the transcript and, at home, in the history."""
        self.transcript.write(event)
        if self.log is not None:
            self.log.record(event)

    def _say(self, text: str) -> None:
        if self.screen is not None:
            self.screen.caption(text, question=False)
        spoken = self.voice.say(text)
        self._write(Say(text, self.transcript.since_start(spoken.started),
                                  self.transcript.since_start(spoken.ended)))

    def _deliver(self, turn: Turn, interruptible: bool = True) -> Heard | None:
        for event in turn.events:
            self._write(event)
        for change in turn.voice_changes:
            self.voice.change_voice(change)
            if self.preferences is not None:
                self.preferences.remember(change)
        interrupt = turn.listening.vocabulary if turn.listening and interruptible else None
        if self.screen is not None:
            self.screen.show(view_of(self.machine))
        question = self._question(turn)
        for text in turn.says:
            if self.screen is not None:  # the caption appears as the line starts
                self.screen.caption(text, question=text == question)
            spoken = self.voice.say(text, interrupt)
            heard = spoken.interrupted_by
            self._write(Say(
                text, self.transcript.since_start(spoken.started),
                self.transcript.since_start(spoken.ended), heard.text if heard else None,
            ))
            if heard is not None:
                return heard
        return None

    def _question(self, turn: Turn) -> str | None:
        """The line of the turn that asks what is to be answered now (it stands out)."""
        if turn.listening is None or turn.listening.timed or not turn.says:
            return None
        asked = [line for line in turn.says if line in self.machine.model.asking.prompt]
        return asked[-1] if asked else turn.says[-1]

    def _listen(self, turn: Turn, asked_at: float) -> Heard | None:
        """Beats keep their deadline; an answer gets its full wait after speaking. The voice
        waits in real time; the session's clock (scaled, or fake) reaches the deadline."""
        listening = turn.listening
        assert listening is not None
        until = listening.until
        if not listening.timed:
            until = self.clock.now() + (listening.until - asked_at)
        elif not self.voice.hears_during_waits:
            self.clock.sleep_until(until)
            return None
        self._write(Listen(list(listening.intents), self.transcript.since_start(until)))
        heard = self.voice.listen(listening.vocabulary,
                                  self.clock.real_seconds(until - self.clock.now()))
        if heard is None:
            self.clock.sleep_until(until)
        return heard

    def _fail(self, exc: Exception) -> None:
        self._write(Error(f"{type(exc).__name__}: {exc}"))
        fallback = self.machine.model.fill(self.machine.d.phrases.prompts.error_fallback.text)
        try:
            self._say(fallback)
        except Exception as voice_exc:  # noqa: BLE001
            self._write(Error(f"could not speak the fallback: {voice_exc}"))
            print(fallback, flush=True)


