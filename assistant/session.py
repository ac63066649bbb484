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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from assistant.alert_policy import (
    Alert,
    AlertCall,
    AlertKind,
    Audience,
    Exchange,
    alert_for_device,
    alert_for_idle,
    alert_for_turn,
    last_exchanges,
    plain_reason,
    raises,
)
from assistant.dialog import DialogMachine, Turn
from assistant.flow import GOODBYE, GUIDANCE
from assistant.ports import (
    Alerts,
    Clock,
    EndOfInput,
    Heard,
    PreferenceStore,
    Screen,
    SessionLog,
    Vocabulary,
    Voice,
    VoiceChange,
)
from assistant.screen.view import view_of
from assistant.transcript import (
    AlertEvent,
    Error,
    Event,
    Listen,
    Say,
    SessionEnd,
    SessionStart,
    Transcript,
)

MAX_TURNS = 5000  # far beyond any real session; a guard against a loop in the data


@dataclass(frozen=True)
class Care:
    """Who is told, and when: the alerts adapter, the place staff are told, staff (kiosk)
    or a caregiver (home), and how long a kiosk waits for an idle resident."""

    alerts: Alerts | None = None
    place: str = "the assistant"
    kiosk: bool = False
    idle_seconds: float | None = None
    beat: Callable[[], None] | None = None  # the heartbeat a supervisor watches

    @property
    def audience(self) -> Audience:
        return "staff" if self.kiosk else "caregiver"

    def alert(self, call: AlertCall, exchanges: tuple[Exchange, ...] = ()) -> Alert:
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        return Alert(uuid.uuid4().hex, self.place, now, call.kind, call.disposition,
                     plain_reason(call.kind, call.reason, self.audience), self.audience,
                     exchanges)


def device_alert(care: Care, device: Literal["microphone", "loudspeaker"]) -> Alert | None:
    """A kiosk left deaf or mute: staff are told (sent at once, outside any session)."""
    if care.alerts is None:
        return None
    alert = care.alert(alert_for_device(device))
    care.alerts.send(alert)
    return alert


class Session:
    def __init__(self, machine: DialogMachine, voice: Voice, clock: Clock,
                 transcript: Transcript, options: Mapping[str, Any] | None = None,
                 screen: Screen | None = None, care: Care | None = None,
                 log: SessionLog | None = None,
                 preferences: PreferenceStore | None = None) -> None:
        """`care`: alerts, kiosk and idle limit; `log`: the history, if kept; `preferences`:
        None when nothing is remembered (no records kept, or a shared device), else where
        "slower"... carry over."""
        self.machine = machine
        self.care = care or Care()
        self.exchanges: list[Exchange] = []
        self._asked: str | None = None  # the question line being answered now
        self._raised: AlertKind | None = None  # the worst news sent in this session
        self._ours: set[str] = set()  # this session's alert ids
        self._told: set[str] = set()  # ... acknowledged, and said so
        self._last_activity = 0.0
        self._cut_short: Literal["told", "idle"] | None = None
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
            asked_at = self._last_activity = self.clock.now()
            turn = self.machine.start(asked_at)
            for number in range(MAX_TURNS):
                interruption = self._deliver(turn)
                if number == 0:  # idle time counts from the first question, not the greeting
                    self._last_activity = self.clock.now()
                if turn.listening is None:
                    return self._ended("goodbye")
                try:
                    heard = interruption or self._listen(turn, asked_at)
                except EndOfInput:
                    return self._no_more_answers()
                asked_at = self.clock.now()
                timed = turn.listening.timed
                if heard is not None or timed:
                    self._last_activity = asked_at
                if heard is None and self._cut_short == "idle":
                    return self._idle_end()
                if heard is None and self._cut_short == "told":
                    turn = self.machine.someone_told(asked_at, self._told_line())
                    continue
                if not timed and self._asked is not None:
                    self.exchanges.append(Exchange(self._asked, heard.text if heard else None))
                self.machine.offer_touch(self.screen is not None and self.screen.watched())
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
        self._alert_news()
        self._write(SessionEnd(reason, self.machine.disposition))
        return self.machine.disposition

    # --- alerts and the idle kiosk ----------------------------------------------------

    def _consider(self, call: AlertCall | None) -> None:
        """Send an alert when the news is worse than what was sent; never waits."""
        alerts = self.care.alerts
        if call is None or alerts is None or not raises(self._raised, call):
            return
        self._raised = call.kind
        alert = self.care.alert(call, last_exchanges(self.exchanges))
        try:
            alerts.send(alert)
        except Exception as exc:  # noqa: BLE001 - an alert that fails never silences the voice
            self._write(Error(f"the alert could not be queued: {exc}"))
            return
        self._ours.add(alert.id)
        self._write(AlertEvent(alert.id, "raised", alert.time, alert.kind,
                                         alert.reason))
        self._alert_news()

    def record_alert_news(self) -> None:
        """After the session: what became of its alerts since it ended (delivered...)."""
        self._alert_news()

    def _alert_news(self) -> None:
        if self.care.alerts is None:
            return
        for news in self.care.alerts.take_news():
            if news.alert_id in self._ours:
                self._write(AlertEvent(news.alert_id, news.status, news.at,
                                                 detail=news.detail))

    def _newly_told(self) -> bool:
        alerts = self.care.alerts
        return alerts is not None and bool((alerts.acknowledged() & self._ours) - self._told)

    def _told_line(self) -> str:
        assert self.care.alerts is not None
        self._told |= self.care.alerts.acknowledged() & self._ours
        self._alert_news()
        prompts = self.machine.d.phrases.prompts
        return prompts.staff_know if self.care.kiosk else prompts.caregiver_knows

    def _idle_deadline(self, timed: bool) -> float | None:
        """When an unanswered kiosk session ends by itself; never in the guidance."""
        idle = self.care.idle_seconds
        if idle is None or timed or self.machine.state in (GUIDANCE, GOODBYE):
            return None
        return self._last_activity + idle

    def _idle_end(self) -> str | None:
        """Nobody answered for the idle time: the safety-net line, and an alert when the
        question left unanswered was a red flag or the outcome so far was urgent."""
        moment = self.machine.moment()
        red_flag = self._asked if moment.red_flag else None
        self.exchanges.append(Exchange(self._asked or "", None))
        self._consider(alert_for_idle(red_flag, self.machine.disposition,
                                      self.machine.model.reason))
        model = self.machine.model
        line = self.machine.d.emergency.reminder if model.disposition == "emergency" else (
            self.machine.d.phrases.prompts.goodbye_safety_net.text)
        self._say(model.fill(line))
        return self._ended("idle")

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
        if self.care.beat is not None:
            self.care.beat()
        for event in turn.events:
            self._write(event)
        self._consider(alert_for_turn(turn.events, self.care.kiosk))  # before a word is said
        for change in turn.voice_changes:
            self.voice.change_voice(change)
            if self.preferences is not None:
                self.preferences.remember(change)
        interrupt = turn.listening.vocabulary if turn.listening and interruptible else None
        if self.screen is not None:
            self.screen.show(view_of(self.machine))
        question = self._question(turn)
        if question is not None:
            self._asked = question
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
        self._alert_news()
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
        heard = self._wait_for_answer(listening.vocabulary, until, listening.timed)
        if heard is None and self._cut_short is None:
            self.clock.sleep_until(until)
        return heard

    def _wait_for_answer(self, vocabulary: Vocabulary, until: float,
                         timed: bool) -> Heard | None:
        """Listen until `until`, or the kiosk's idle limit; an acknowledged alert cuts the
        wait short (asked between frames, with the supervisor's heartbeat)."""
        self._cut_short = None
        idle_at = self._idle_deadline(timed)
        end = until if idle_at is None else min(until, idle_at)
        seconds = max(0.0, self.clock.real_seconds(end - self.clock.now()))
        if self.care.alerts is None and self.care.beat is None:
            heard = self.voice.listen(vocabulary, seconds)
        else:
            heard = self.voice.listen(vocabulary, seconds, stop=self._told_or_beat)
        self._alert_news()
        if heard is not None:
            return heard
        if self._ours - self._told and self._newly_told():
            self._cut_short = "told"
        elif idle_at is not None and self.clock.now() >= idle_at:
            self._cut_short = "idle"
        return None

    def _told_or_beat(self) -> bool:
        if self.care.beat is not None:
            self.care.beat()
        return bool(self._ours - self._told) and self._newly_told()

    def _fail(self, exc: Exception) -> None:
        self._write(Error(f"{type(exc).__name__}: {exc}"))
        fallback = self.machine.model.fill(self.machine.d.phrases.prompts.error_fallback.text)
        try:
            self._say(fallback)
        except Exception as voice_exc:  # noqa: BLE001
            self._write(Error(f"could not speak the fallback: {voice_exc}"))
            print(fallback, flush=True)


