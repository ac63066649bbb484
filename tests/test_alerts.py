"""When someone is told (pure decisions from the turns), the kiosk's endless guidance and
the acknowledgement said, the outbox on disk, and what a record may show of the address.
Fast: no broker (tests/test_alerts_broker.py runs the real one)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from conftest import Conversation, Converse, path_to

from assistant.alert_policy import (
    Alert,
    AlertCall,
    Exchange,
    alert_for_idle,
    alert_for_turn,
    raises,
)
from assistant.alerts import AlertSetupError, MqttAlerts, MqttTarget, redact_url
from assistant.clock import FakeClock
from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.kiosk import recorded_options
from assistant.session import Care, Session
from assistant.transcript import Outcome, Transcript


def test_an_emergency_outcome_alerts_at_home_and_at_a_kiosk(converse: Converse) -> None:
    turn = converse(["yes"]).last
    for kiosk in (False, True):
        call = alert_for_turn(turn.events, kiosk)
        assert call is not None and call.kind == "emergency"
        assert call.disposition == "emergency"


def test_an_urgent_outcome_alerts_staff_only_at_a_kiosk() -> None:
    events = [Outcome("urgent", "You told me about pain.")]
    assert alert_for_turn(events, kiosk=False) is None  # type: ignore[arg-type]
    call = alert_for_turn(events, kiosk=True)  # type: ignore[arg-type]
    assert call is not None and call.kind == "urgent"


def test_a_red_flag_left_unanswered_is_said_so(converse: Converse,
                                               dialogs: Dialogs) -> None:
    conversation = converse([None, None])  # silence, asked again, silence: the safe route
    calls = [alert_for_turn(t.events, True) for t in conversation.turns]
    kinds = [c.kind for c in calls if c is not None]
    assert kinds == ["unanswered_red_flag"]


def test_an_idle_session_alerts_only_at_a_red_flag_or_after_an_urgent_outcome() -> None:
    asked = "Has your leg suddenly stopped moving at all?"
    red = alert_for_idle(asked, None, "")
    assert red is not None and red.kind == "unanswered_red_flag" and asked in red.reason
    urgent = alert_for_idle(None, "urgent", "pain")
    assert urgent is not None and urgent.kind == "urgent"
    assert alert_for_idle(None, None, "") is None
    assert alert_for_idle(None, "routine", "") is None


def test_news_is_sent_again_only_when_it_is_worse() -> None:
    assert raises(None, AlertCall("urgent", "urgent", ""))
    assert raises("urgent", AlertCall("emergency", "emergency", ""))
    assert not raises("emergency", AlertCall("emergency", "emergency", ""))
    assert not raises("emergency", AlertCall("urgent", "urgent", ""))


def guidance_reminders(machine: DialogMachine, silences: int) -> Conversation:
    conversation = Conversation(machine)
    conversation.reply("yes")
    for _ in range(silences):
        if conversation.finished:
            break
        conversation.reply(None)
    return conversation


def test_at_home_the_guidance_ends_after_its_reminders(dialogs: Dialogs) -> None:
    assert guidance_reminders(DialogMachine(dialogs), 40).finished


def test_at_a_kiosk_the_guidance_never_times_out(dialogs: Dialogs) -> None:
    conversation = guidance_reminders(DialogMachine(dialogs, kiosk=True), 200)
    assert not conversation.finished and conversation.state == "emergency"
    reminder = dialogs.emergency.reminder.format(emergency_number="911")
    assert conversation.says.count(reminder) > 50


def test_an_acknowledged_alert_is_said_and_the_reminders_turn_calm(dialogs: Dialogs) -> None:
    machine = DialogMachine(dialogs, kiosk=True)
    conversation = guidance_reminders(machine, 10)
    told = machine.someone_told(conversation.now, dialogs.phrases.prompts.staff_know)
    assert told.says == ["Staff know, and someone is on the way."]
    conversation.turns.append(told)
    conversation.finish()  # after staff know, the calm reminders end in their own time
    assert dialogs.emergency.calm_reminder in conversation.says


class FakeAlerts:
    def __init__(self) -> None:
        self.sent: list[Alert] = []
        self.acked: set[str] = set()

    def send(self, alert: Alert) -> None:
        self.sent.append(alert)

    def acknowledged(self) -> frozenset[str]:
        return frozenset(self.acked)

    def take_news(self) -> list[object]:
        return []


class ScriptedVoice:
    hears_during_waits = False

    def __init__(self, answers: list[str | None]) -> None:
        self.answers = answers
        self.said: list[str] = []

    def say(self, text: str, interruptible_by: object = None) -> object:
        from assistant.ports import Spoken

        self.said.append(text)
        return Spoken(0.0, 0.0)

    def listen(self, vocabulary: object, seconds: float, stop: object = None) -> object:
        from assistant.ports import EndOfInput, Heard

        if not self.answers:
            raise EndOfInput
        answer = self.answers.pop(0)
        return Heard(answer, source="keyboard") if answer is not None else None

    def change_voice(self, change: object) -> None:
        pass


def test_the_session_sends_one_alert_with_the_questions_and_answers(dialogs: Dialogs) -> None:
    answers = path_to(dialogs, "chest_pain")
    script: list[str | None] = [*answers.values(), "yes", None, None, "stop"]
    alerts = FakeAlerts()
    care = Care(alerts, "Maple Lounge kiosk", kiosk=True)
    clock = FakeClock()
    Session(DialogMachine(dialogs, kiosk=True), ScriptedVoice(script),  # type: ignore[arg-type]
            clock, Transcript(clock=clock), care=care).run()
    assert len(alerts.sent) == 1
    alert = alerts.sent[0]
    assert alert.place == "Maple Lounge kiosk" and alert.audience == "staff"
    assert alert.exchanges[-1].answer == "yes"
    assert "chest" in alert.exchanges[-1].question.lower()
    assert all(isinstance(e, Exchange) for e in alert.exchanges)


def test_the_outbox_is_for_its_owner_only_and_survives_a_new_start(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    alerts = MqttAlerts(None, folder, "test")
    alert = Alert("a1b2", "Maple Lounge kiosk", "2026-01-01T00:00:00+00:00", "emergency",
                  "emergency", "reason", "staff")
    alerts.send(alert)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "a1b2.json").stat().st_mode) == 0o600
    again = MqttAlerts(None, folder, "test")
    assert [r["alert"]["id"] for r in again.open_alerts()] == ["a1b2"]
    assert again.acknowledge("a1b2", "Nurse Ana")
    assert again.open_alerts() == [] and not (folder / "a1b2.json").exists()
    assert "a1b2" in again.acknowledged()


@pytest.mark.parametrize("url", ["http://host/x", "mqtt://host", "mqtt:///care",
                                 "mqtt://host:99999/care", "mqtt://host/care/#"])
def test_a_bad_alert_address_is_explained(url: str) -> None:
    with pytest.raises(AlertSetupError):
        MqttTarget.parse(url)


def test_the_password_and_the_staff_token_are_never_recorded() -> None:
    target = MqttTarget.parse("mqtts://nurse:pa%40ss@broker.example:8884/care/maple")
    assert (target.tls, target.port, target.password, target.prefix) == (
        True, 8884, "pa@ss", "care/maple")
    assert redact_url("mqtts://nurse:pa%40ss@broker.example:8884/care/maple") == (
        "mqtts://nurse:***@broker.example:8884/care/maple")
    shown = recorded_options({"alert_mqtt": "mqtt://u:Zq81x@h:1/p", "staff_token": "Kp29w"})
    assert "Zq81x" not in str(shown) and "Kp29w" not in str(shown)
    assert shown["alert_mqtt"] == "mqtt://u:***@h:1/p"
