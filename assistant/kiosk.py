"""Kiosk mode for a shared room: one resident, one session, nothing of the last one kept.

What a kiosk adds to the usual loop, for text and voice alike: the alerts adapter and the
place staff are told (`care_from_args`), a staff-only folder for session records instead
of a transcript (`session_record`), and a heartbeat and a "running" mark in its state
folder, so a supervisor (`assistant.supervisor`, or systemd with `Restart=always`) can
restart a crashed or stuck kiosk and the kiosk can apologise for it when it is back.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from assistant.alerts import (
    AlertSetupError,
    MqttAlerts,
    MqttTarget,
    default_client_id,
    default_outbox_dir,
    redact_url,
)
from assistant.session import Care

DEFAULT_IDLE_MINUTES = 3.0
HEARTBEAT_FILE = "heartbeat"
RUNNING_FILE = "running"
SECRET_OPTIONS = ("alert_mqtt", "staff_token")


def recorded_options(options: dict[str, object]) -> dict[str, object]:
    """The options as a record may show them: no password, no token."""
    shown = dict(options)
    if isinstance(shown.get("alert_mqtt"), str):
        shown["alert_mqtt"] = redact_url(str(shown["alert_mqtt"]))
    if shown.get("staff_token"):
        shown["staff_token"] = "***"
    return shown


def state_dir(args: argparse.Namespace) -> Path:
    """Where the outbox, the heartbeat and the running mark live (owner only)."""
    folder = Path(args.alert_outbox) if args.alert_outbox else default_outbox_dir()
    return folder


def care_from_args(args: argparse.Namespace, report: Callable[[str], None]) -> Care:
    """The alerts (when a broker or a staff page needs them), the place and the idle limit."""
    alerts = None
    if args.alert_mqtt or (args.kiosk and args.staff_token):
        target = MqttTarget.parse(args.alert_mqtt) if args.alert_mqtt else None
        place = args.place or default_place()
        alerts = MqttAlerts(target, state_dir(args), default_client_id(place), report)
        alerts.start()
    idle = args.idle_minutes
    if idle is None and args.kiosk:
        idle = DEFAULT_IDLE_MINUTES
    return Care(alerts, args.place or default_place(), args.kiosk,
                idle * 60 if idle is not None else None)


def default_place() -> str:
    return f"leg assistant on {os.uname().nodename}"


def check_alert_url(value: str) -> str:
    """argparse type: an alert address that can be used (checked now, kept as written)."""
    try:
        MqttTarget.parse(value)
    except AlertSetupError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def session_record(folder: str | None, started: datetime | None = None) -> Path | None:
    """A new file for one session's record in the staff-only folder (0700), or None."""
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    moment = (started or datetime.now().astimezone()).strftime("%Y-%m-%dT%H-%M-%S")
    record = path / f"session-{moment}-{os.getpid()}.jsonl"
    record.touch(mode=0o600)
    return record


def stop_cleanly_on_sigterm() -> None:
    """SIGTERM (systemd stop, the supervisor stopping) is a clean stop, not a crash: the
    running mark is removed on the way out, so the next start has no apology to make."""
    signal.signal(signal.SIGTERM, _clean_stop)


def _clean_stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


class Liveness:
    """The heartbeat a supervisor watches, and the mark that says the last run crashed."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        self.heartbeat = folder / HEARTBEAT_FILE
        self.running = folder / RUNNING_FILE
        self._last = 0.0

    def start(self) -> bool:
        """Mark this run as running; True when the last run ended without saying so."""
        crashed = self.running.exists()
        self.running.write_text(str(os.getpid()), encoding="utf-8")
        self.beat(force=True)
        return crashed

    def beat(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= 1.0:
            self._last = now
            try:  # whole or not at all: a kiosk frozen mid-write must still look stale
                fresh = self.heartbeat.with_suffix(".new")
                fresh.write_text(f"{time.time():.3f}", encoding="utf-8")
                os.replace(fresh, self.heartbeat)
            except OSError as exc:
                print(f"Kiosk: cannot write the heartbeat ({exc})", file=sys.stderr)

    def stopped(self) -> None:
        """A clean stop: the next start has nothing to apologise for."""
        self.running.unlink(missing_ok=True)


FLUSH_S = 5.0  # on the way out, how long queued alerts may take to reach the broker


def finish_alerts(care: Care) -> None:
    """Before the assistant exits: give queued alerts a moment to reach the broker (those
    that cannot stay in the outbox and go out at the next start)."""
    alerts = care.alerts
    if not isinstance(alerts, MqttAlerts):
        return
    if not alerts.flush(FLUSH_S):
        print("Alerts: not delivered yet; they wait in the outbox and go out when the "
              "assistant starts again.", file=sys.stderr, flush=True)
    alerts.stop()
