"""Text mode: prompts printed, answers typed (or piped), on the same dialog machine.

Interactive use waits for typing up to the same deadlines as voice mode, so
silence behaves as it would when spoken. Piped input answers the questions
only: the routine's timed waits do not eat the lines meant for its check-ins.

With a screen (`--screen`), an answer touched on the page counts as one typed:
whichever comes first answers. The keyboard is then read by a thread, so typing
and touching are waited for together, and the routine's waits hear touches too
(on a real clock). The end of typed input is no longer the end of the session
(someone may be answering by touch alone).
"""

from __future__ import annotations

import queue
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from assistant.clock import FakeClock
from assistant.ports import Clock, EndOfInput, Heard, Spoken, Touches, Vocabulary, VoiceChange

POLL_S = 0.05


class TextVoice:
    def __init__(self, clock: Clock, source: TextIO = sys.stdin, sink: TextIO = sys.stdout,
                 touches: Touches | None = None, kiosk: bool = False) -> None:
        self.clock = clock
        self.source = source
        self.sink = sink
        self.touches = touches
        self.kiosk = kiosk  # piped lines are waited for with deadlines, as typed ones
        self.interactive = _is_tty(source)
        real_clock = not isinstance(clock, FakeClock)
        self.timed_input = (self.interactive or touches is not None or kiosk) and real_clock
        self.hears_during_waits = self.timed_input
        self.at_end = False
        self._lines: queue.Queue[str | None] | None = None

    def say(self, text: str, interruptible_by: Vocabulary | None = None) -> Spoken:
        now = self.clock.now()
        print(f"Assistant: {text}", file=self.sink, flush=True)
        return Spoken(now, now)

    def listen(self, vocabulary: Vocabulary, seconds: float,
               stop: Callable[[], bool] | None = None) -> Heard | None:
        if self.touches is not None or self.kiosk:
            heard = self._typed_or_touched(seconds, stop)
            if heard is None and self.at_end and self.touches is None:
                raise EndOfInput
            return heard
        line = self._read_line(time.monotonic() + seconds)
        if line is None and self.at_end:
            raise EndOfInput
        if line is None:
            return None
        if not self.interactive:
            print(f"You: {line}", file=self.sink, flush=True)
        return Heard(line, source="keyboard")

    def _typed_or_touched(self, seconds: float,
                          stop: Callable[[], bool] | None = None) -> Heard | None:
        """A typed line or a touched answer, whichever comes first (None: the time passed).
        On a fake clock questions have no deadline: it waits for one or the other."""
        lines = self._keyboard()
        until = time.monotonic() + seconds if self.timed_input else float("inf")
        if self.interactive:
            print("> ", end="", file=self.sink, flush=True)
        while True:
            if self.at_end and self.touches is None:
                return None
            touched = self.touches.take() if self.touches is not None else None
            if touched is not None:
                lead = "\n" if self.interactive else ""
                print(f"{lead}You ({touched.source}): {touched.text}", file=self.sink, flush=True)
                return touched
            left = until - time.monotonic()
            if left <= 0 or (stop is not None and stop()):
                if self.interactive:
                    print(file=self.sink, flush=True)
                return None
            try:
                line = lines.get(timeout=min(POLL_S, left))
            except queue.Empty:
                continue
            if line is None:  # the keyboard is closed; touches may still come
                self.at_end = True
                continue
            if not self.interactive:
                print(f"You: {line}", file=self.sink, flush=True)
            return Heard(line, source="keyboard")

    def _keyboard(self) -> queue.Queue[str | None]:
        if self._lines is None:
            self._lines = queue.Queue()
            threading.Thread(target=self._read_keyboard, name="keyboard", daemon=True).start()
        return self._lines

    def wait_to_start(self, seconds: float) -> bool | None:
        """A kiosk's waiting state: any line typed (or Start touched) starts a session.
        True: start; None: not yet (`seconds` passed); False: the keyboard is closed."""
        touched = self.touches.take() if self.touches is not None else None
        if touched is not None:
            return True
        if self.at_end:
            return False if self.touches is None else None
        try:
            line = self._keyboard().get(timeout=seconds)
        except queue.Empty:
            return None
        if line is None:
            self.at_end = True
            return False if self.touches is None else None
        return True

    def forget(self) -> None:
        """Between residents: lines typed ahead by the last person are dropped."""
        if self._lines is None:
            return
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            if line is None:
                self.at_end = True
                return

    def _read_keyboard(self) -> None:
        assert self._lines is not None
        while True:
            try:
                raw = self.source.readline()
            except (OSError, ValueError):
                raw = ""
            if raw == "":
                self._lines.put(None)
                return
            self._lines.put(raw.strip())

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
