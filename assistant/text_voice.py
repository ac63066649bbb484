"""Text mode: prompts printed, answers typed (or piped), on the same dialog machine.

Interactive use waits for typing up to the same deadlines as voice mode, so
silence behaves as it would when spoken. Piped input answers the questions
only: the routine's timed waits do not eat the lines meant for its check-ins.
"""

from __future__ import annotations

import select
import sys
import time
from typing import TextIO

from assistant.clock import FakeClock
from assistant.ports import Clock, EndOfInput, Heard, Spoken, Vocabulary, VoiceChange


class TextVoice:
    def __init__(self, clock: Clock, source: TextIO = sys.stdin, sink: TextIO = sys.stdout) -> None:
        self.clock = clock
        self.source = source
        self.sink = sink
        self.interactive = _is_tty(source)
        self.timed_input = self.interactive and not isinstance(clock, FakeClock)
        self.hears_during_waits = self.timed_input
        self.at_end = False

    def say(self, text: str, interruptible_by: Vocabulary | None = None) -> Spoken:
        now = self.clock.now()
        print(f"Assistant: {text}", file=self.sink, flush=True)
        return Spoken(now, now)

    def listen(self, vocabulary: Vocabulary, seconds: float) -> Heard | None:
        line = self._read_line(time.monotonic() + seconds)
        if line is None and self.at_end:
            raise EndOfInput
        if line is None:
            return None
        if not self.interactive:
            print(f"You: {line}", file=self.sink, flush=True)
        return Heard(line)

    def change_voice(self, change: VoiceChange) -> None:
        """Printed text has no rate or volume; the spoken acknowledgement is printed anyway."""

    def _read_line(self, until: float) -> str | None:
        """A typed line, or None when `until` (monotonic time) passes first."""
        if self.at_end:
            return None
        if self.timed_input:
            if self.interactive:
                print("> ", end="", file=self.sink, flush=True)
            while time.monotonic() < until:
                ready, _, _ = select.select([self.source], [], [], 0.05)
                if ready:
                    return self._take(self.source.readline())
            print(file=self.sink, flush=True)
            return None
        if self.interactive:
            print("> ", end="", file=self.sink, flush=True)
        return self._take(self.source.readline())

    def _take(self, raw: str) -> str | None:
        if raw == "":
            self.at_end = True
            return None
        return raw.strip()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
