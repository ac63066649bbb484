"""Keeps a kiosk running: restarts it within seconds when it crashes or hangs.

    python -m assistant.supervisor [--stuck-seconds 60] -- --kiosk --place "Maple Lounge" ...

Everything after `--` is the assistant's own command line (`run.py` options). The kiosk
writes a heartbeat file in its state folder (`--alert-outbox`, default
~/.local/state/leg-assistant/alert-outbox) at least every few seconds; when the process
exits, or its heartbeat is older than `--stuck-seconds`, it is stopped (SIGKILL if it
does not stop) and started again at once. The restarted kiosk finds its "running" mark,
says a short apology, and waits for the next resident; queued alerts are in its outbox.
systemd does the same with `deploy/leg-assistant-kiosk.service` (`Restart=always`).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from assistant.alerts import default_outbox_dir
from assistant.kiosk import HEARTBEAT_FILE

REPO_ROOT = Path(__file__).resolve().parent.parent
POLL_S = 0.1
RESTART_PAUSE_S = 0.2  # a crash loop must not spin the CPU
GRACE_S = 3.0  # a stuck kiosk gets this long to stop before SIGKILL


def _state_folder(kiosk_args: list[str]) -> Path:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--alert-outbox")
    known, _ = parser.parse_known_args(kiosk_args)
    return Path(known.alert_outbox) if known.alert_outbox else default_outbox_dir()


def _heartbeat_age(path: Path) -> float | None:
    """Seconds since the last beat; None before the first. A file that cannot be read as
    a time (damaged, or from a kiosk that wrote it another way) is as old as its mtime."""
    try:
        return time.time() - float(path.read_text(encoding="utf-8"))
    except ValueError:
        pass
    except OSError:
        return None
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def supervise(kiosk_args: list[str], stuck_seconds: float) -> int:
    command = [sys.executable, str(REPO_ROOT / "run.py"), *kiosk_args]
    heartbeat = _state_folder(kiosk_args) / HEARTBEAT_FILE
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        started = time.time()
        proc = subprocess.Popen(command)
        print(f"supervisor: kiosk started (pid {proc.pid})", file=sys.stderr, flush=True)
        while not stopping and proc.poll() is None:
            time.sleep(POLL_S)
            age = _heartbeat_age(heartbeat)
            fresh_start = time.time() - started < stuck_seconds
            if age is not None and age > stuck_seconds and not fresh_start:
                print(f"supervisor: no heartbeat for {age:.0f} s: restarting the kiosk",
                      file=sys.stderr, flush=True)
                proc.kill()  # stuck: no clean stop, so it apologises when back
                proc.wait()
        if stopping:
            _stop(proc)
            break
        print(f"supervisor: the kiosk ended (code {proc.returncode}); restarting",
              file=sys.stderr, flush=True)
        time.sleep(RESTART_PAUSE_S)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, _, theirs = (argv[:argv.index("--")], "--", argv[argv.index("--") + 1:]) if (
        "--" in argv) else (argv, "", [])
    parser = argparse.ArgumentParser(prog="python -m assistant.supervisor",
                                     description="Restart a kiosk that crashes or hangs. "
                                     "Put the assistant's options after --.")
    parser.add_argument("--stuck-seconds", type=float, default=60.0,
                        help="restart when the heartbeat is older than this (default 60)")
    args = parser.parse_args(ours)
    if "--kiosk" not in theirs:
        theirs = ["--kiosk", *theirs]
    return supervise(theirs, args.stuck_seconds)


if __name__ == "__main__":
    sys.exit(main())
