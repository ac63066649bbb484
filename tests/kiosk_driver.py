"""A keyboard kiosk (`run.py --text --kiosk`) in a subprocess: type lines, read what it says,
with the time each line was printed (to check that the guidance is said on time)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class TextKiosk:
    def __init__(self, tmp: Path, *extra: str, supervised: bool = False,
                 outbox: Path | None = None, stuck_seconds: float = 30) -> None:
        self.outbox = outbox or tmp / "outbox"
        options = ["--text", "--kiosk", "--place", "Maple Lounge kiosk",
                   "--alert-outbox", str(self.outbox), *extra]
        if supervised:
            command = [sys.executable, "-m", "assistant.supervisor", "--stuck-seconds",
                       str(stuck_seconds), "--", *options]
        else:
            command = [sys.executable, str(REPO / "run.py"), *options]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     bufsize=1)
        self.lines: list[tuple[float, str]] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append((time.monotonic(), line.rstrip("\n")))

    def _read_errors(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.errors.append(line.rstrip("\n"))

    def type(self, text: str) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return time.monotonic()

    def said(self, since: int = 0) -> list[str]:
        with self._lock:
            return [text for _, text in self.lines[since:]]

    def wait_for(self, text: str, timeout: float = 15.0, since: int = 0) -> tuple[float, int]:
        """When a printed line containing `text` appeared, and its index."""
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            with self._lock:
                for index, (at, line) in enumerate(self.lines[since:], since):
                    if text in line:
                        return at, index
            time.sleep(0.01)
        raise AssertionError(f"the kiosk never said {text!r}; it said:\n"
                             + "\n".join(self.said(since)) + "\nerrors:\n"
                             + "\n".join(self.errors))

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.lines)

    def close(self) -> None:
        stop(self.proc)


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop the kiosk as systemd would (SIGTERM), killing it if it does not stop."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
