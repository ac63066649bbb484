"""When someone else must be told, and what the alert says: pure, from the turns alone.

An emergency outcome, an urgent outcome at a kiosk, a red-flag question left unanswered
and a device fault that leaves the kiosk deaf or mute each make an alert for staff (at a
kiosk) or a caregiver (at home). Each session raises an alert only when the level rises:
the guidance's reminders never send the same news twice. No clock, file or socket here:
the session passes the time and the place in, and an adapter (`assistant.alerts`) sends it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from assistant.transcript import Event, HeardEvent, Outcome

AlertKind = Literal["device_fault", "urgent", "unanswered_red_flag", "emergency"]
Audience = Literal["staff", "caregiver"]
# Higher news replaces lower within a session; an emergency is the highest.
KIND_RANK: dict[AlertKind, int] = {"device_fault": 0, "urgent": 1, "unanswered_red_flag": 2,
                                   "emergency": 3}
EXCHANGES_KEPT = 6  # the last questions and answers an alert carries


@dataclass(frozen=True)
class Exchange:
    """A question as it was asked, and what was answered (None: nothing was heard)."""

    question: str
    answer: str | None


@dataclass(frozen=True)
class AlertCall:
    """The decision that someone must be told, and why, in plain words."""

    kind: AlertKind
    disposition: str | None
    reason: str


@dataclass(frozen=True)
class Alert:
    """The message staff or a caregiver receive (published as JSON)."""

    id: str
    place: str
    time: str  # wall-clock, ISO 8601 with its time zone
    kind: AlertKind
    disposition: str | None
    reason: str
    audience: Audience
    exchanges: tuple[Exchange, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exchanges": [asdict(e) for e in self.exchanges]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        exchanges = tuple(Exchange(str(e["question"]), e.get("answer"))
                          for e in data.get("exchanges", ()))
        return cls(str(data["id"]), str(data["place"]), str(data["time"]), data["kind"],
                   data.get("disposition"), str(data["reason"]), data["audience"], exchanges)


@dataclass(frozen=True)
class AlertNews:
    """Something that happened to an alert, for the transcript: queued, sent, delivered,
    acknowledged, or waiting (the broker is unreachable)."""

    alert_id: str
    status: str
    at: str  # wall-clock ISO time
    detail: str = ""


def plain_reason(kind: AlertKind, reason: str, audience: Audience) -> str:
    """What happened, in words a busy person reads at a glance."""
    who = "The resident" if audience == "staff" else "They"
    lead = {
        "emergency": f"{who} may need emergency help; the assistant is guiding them to call.",
        "unanswered_red_flag": f"{who} did not answer a question about a danger sign.",
        "urgent": f"{who} should see a doctor today.",
        "device_fault": "The assistant cannot hear or cannot speak.",
    }[kind]
    return f"{lead} {reason}".strip() if reason else lead


def alert_for_turn(events: list[Event], kiosk: bool) -> AlertCall | None:
    """The alert a turn's outcome calls for, if any (an urgent outcome only at a kiosk)."""
    silent = any(isinstance(e, HeardEvent) and e.text is None for e in events)
    for event in events:
        if not isinstance(event, Outcome):
            continue
        if event.disposition == "emergency":
            kind: AlertKind = "unanswered_red_flag" if silent else "emergency"
            return AlertCall(kind, "emergency", event.reason)
        if event.disposition == "urgent" and kiosk:
            return AlertCall("urgent", "urgent", event.reason)
    return None


def alert_for_idle(red_flag_question: str | None, disposition: str | None,
                   reason: str) -> AlertCall | None:
    """A session ended by idleness: an alert when the question left was a red flag or the
    outcome so far was urgent (or worse); nothing for a resident who simply walked away."""
    if red_flag_question is not None:
        return AlertCall("unanswered_red_flag", disposition,
                         f'No answer to "{red_flag_question}"')
    if disposition in ("urgent", "emergency"):
        return AlertCall("urgent" if disposition == "urgent" else "emergency", disposition,
                         reason)
    return None


def alert_for_device(device: Literal["microphone", "loudspeaker"]) -> AlertCall:
    what = "cannot hear: the microphone" if device == "microphone" else (
        "cannot speak: the loudspeaker")
    return AlertCall("device_fault", None, f"The assistant {what} stopped working.")


def raises(previous: AlertKind | None, call: AlertCall) -> bool:
    """Only news that is worse than what was already sent in this session is sent."""
    return previous is None or KIND_RANK[call.kind] > KIND_RANK[previous]


def last_exchanges(exchanges: list[Exchange]) -> tuple[Exchange, ...]:
    return tuple(exchanges[-EXCHANGES_KEPT:])
