"""The narrow interfaces between the pure dialog core and the outside world.

The core never speaks, listens, sleeps or prints: the session driver asks
these adapters to, so text mode, voice mode and tests share one core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from assistant.alert_policy import Alert, AlertNews
    from assistant.screen.view import ScreenView
    from assistant.transcript import Event

Source = Literal["voice", "touch", "keyboard"]


@dataclass(frozen=True)
class Heard:
    """What the user said, as the recognizer, the keyboard or a touch on the screen gave it."""

    text: str
    confidence: float | None = None  # None: typed text, no doubt about it
    source: Source = "voice"


class EndOfInput(Exception):
    """The person closed the input (end of file): no more answers will come."""


@dataclass(frozen=True)
class Spoken:
    """When a prompt's audio really started and ended (clock seconds), and what cut it short."""

    started: float
    ended: float
    interrupted_by: Heard | None = None


@dataclass(frozen=True)
class Vocabulary:
    """What may be said now: every phrase the core understands in this state.

    Recognizers limit themselves to these phrases (grammar, keyword list) and
    end a turn early once one of them has been said completely.
    """

    phrases: tuple[str, ...]
    interrupt_phrases: tuple[str, ...] = field(default=())  # barge-in while speaking
    # Complete phrases that a longer phrase of another meaning begins with ("i don't" and
    # "i don't know"): a pause after one may be a hesitation, so the listener waits longer.
    open_phrases: tuple[str, ...] = field(default=())
    # Phrases that give the same answer ("yes", "yeah", "yep"): two recognizers that heard
    # two of one group heard the same answer (assistant/asr/cross_checked.py).
    same_answers: tuple[tuple[str, ...], ...] = field(default=())


# How far remembered steps go: beyond these, the synthesizer's own bounds (110..200 words a
# minute from 150, volume 0.1..2.0 from 1.0) make a further step change nothing, so "faster"
# after many "slower"s is heard at once in the next session too.
RATE_STEPS = (-3, 3)
VOLUME_STEPS = (-7, 2)


@dataclass(frozen=True)
class VoiceChange:
    """A live change to how prompts are spoken ("slower", "louder", "normal speed")."""

    rate_steps: int = 0
    volume_steps: int = 0
    reset_rate: bool = False  # back to the configured rate first ("normal speed")
    reset_volume: bool = False

    def after(self, change: VoiceChange) -> VoiceChange:
        """These steps (kept from before) followed by `change`, within the remembered bounds."""
        rate = (0 if change.reset_rate else self.rate_steps) + change.rate_steps
        volume = (0 if change.reset_volume else self.volume_steps) + change.volume_steps
        return VoiceChange(max(RATE_STEPS[0], min(RATE_STEPS[1], rate)),
                           max(VOLUME_STEPS[0], min(VOLUME_STEPS[1], volume)))


class Clock(Protocol):
    """Time as the session sees it; a fake one makes tests instant."""

    def now(self) -> float: ...

    def sleep_until(self, deadline: float) -> None: ...

    def real_seconds(self, seconds: float) -> float:
        """How long `seconds` of session time last in real time (0 for a fake clock)."""
        ...


class Voice(Protocol):
    """Speaking and listening: typed text, or real audio devices."""

    # False when answers cannot arrive during the routine's timed waits (piped text).
    hears_during_waits: bool

    def say(self, text: str, interruptible_by: Vocabulary | None = None) -> Spoken:
        """Speak `text`; `interrupted_by` says what cut it short (barge-in), if anything."""
        ...

    def listen(self, vocabulary: Vocabulary, seconds: float,
               stop: Callable[[], bool] | None = None) -> Heard | None:
        """Wait up to `seconds` of real time for an answer; None means silence (or `stop`
        said so: it is asked often while nobody is speaking, e.g. for an acknowledged alert).

        Real time: only the session scales time (`--time-scale`), so a voice never
        waits on a clock that does not move.
        """
        ...

    def change_voice(self, change: VoiceChange) -> None: ...


class Screen(Protocol):
    """The page beside the voice: shown every moment, every line as its audio starts.

    Never blocks: a screen that is slow, closed or reloading cannot slow the voice.
    """

    def show(self, view: ScreenView) -> None:
        """The moment: what may be answered now, the exercise, the guidance's steps."""
        ...

    def caption(self, text: str, question: bool) -> None:
        """A line, as it starts being said (`question`: the one to answer now)."""
        ...

    def device(self, name: Literal["microphone", "loudspeaker"], working: bool) -> None:
        """A device was lost (or came back): the page says to touch the answer instead."""
        ...

    def watched(self) -> bool:
        """Whether a page is open now (someone may be reading the captions)."""
        ...


class Touches(Protocol):
    """Answers touched on the screen, for the voice to take alongside what it hears."""

    def take(self) -> Heard | None:
        """The answer touched for the current moment, if any (never waits)."""
        ...

    def wait(self, seconds: float) -> Heard | None:
        """Wait up to `seconds` of real time for a touched answer."""
        ...


class SessionLog(Protocol):
    """Where the session's events are kept as they happen, beside the transcript (the history).

    Never raises: a log that cannot write says so once and the session goes on.
    """

    def record(self, event: Event) -> None: ...

    def close(self) -> None: ...


class PreferenceStore(Protocol):
    """How the person likes to be spoken to ("slower", "louder"), kept between sessions."""

    def load(self) -> VoiceChange:
        """The steps remembered from earlier sessions (none: a VoiceChange of zeros)."""
        ...

    def remember(self, change: VoiceChange) -> VoiceChange:
        """Add a change said now to what is kept; return what is kept after it."""
        ...


class Alerts(Protocol):
    """Telling staff or a caregiver: queued at once, delivered in the background."""

    def send(self, alert: Alert) -> None:
        """Keep the alert safe (on disk) and deliver it when possible; never waits."""
        ...

    def acknowledged(self) -> frozenset[str]:
        """The ids of the alerts someone has acknowledged so far."""
        ...

    def take_news(self) -> list[AlertNews]:
        """What happened to alerts since the last call (sent, delivered, acknowledged...)."""
        ...
