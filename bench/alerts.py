"""`python -m bench.alerts [--runs N]`: how fast staff are told, and how fast a kiosk is back.

Against a real Mosquitto broker on a free local port (the tests' config: persistence on),
with a subscriber standing in for the staff dashboard:

- raised → delivered: `send()` called → the broker's PUBACK (the transcript's "delivered")
  and → the staff dashboard has it; with the broker up.
- after a broker restart: the broker is down when the alert is raised (for `--down` s),
  then started; the time from the broker listening again to staff having the alert, and
  from the alert raised.
- kiosk restart: a supervised keyboard kiosk (`python -m assistant.supervisor`) is killed
  (SIGKILL) and its "Kiosk ready" line is printed again, with the apology.

Medians of `--runs` runs (min and max beside them). Run with `nice -n 10` on a shared host.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assistant.alert_policy import Alert
from assistant.alerts import MqttAlerts, MqttTarget

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

from kiosk_driver import TextKiosk  # noqa: E402
from mqtt_broker import Broker, Staff  # noqa: E402


def _alert(n: int) -> Alert:
    return Alert(f"bench{n}{os.getpid()}", "Bench kiosk", "2026-01-01T00:00:00+00:00",
                 "emergency", "emergency", "benchmark", "staff")


def _wait(check: Callable[[], bool], timeout: float = 30.0) -> float:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if check():
            return time.monotonic()
        time.sleep(0.001)
    raise TimeoutError("never happened")


def _delivered(alerts: MqttAlerts, alert_id: str) -> bool:
    record = alerts.outbox.get(alert_id)
    return bool(record and record.get("delivered"))


def broker_up(folder: Path, runs: int) -> tuple[list[float], list[float]]:
    broker = Broker(folder / "broker").start()
    staff = Staff(broker.port, client_id="bench-staff")
    staff.wait_subscribed()
    alerts = MqttAlerts(MqttTarget.parse(broker.url()), folder / "outbox", "bench-kiosk")
    alerts.start()
    _wait(alerts.connected.is_set)
    puback, dashboard = [], []
    try:
        for n in range(runs):
            alert = _alert(n)
            seen = len(staff.alerts())
            raised = time.monotonic()
            alerts.send(alert)
            puback.append(_wait(lambda a=alert: _delivered(alerts, a.id)) - raised)
            dashboard.append(_wait(lambda s=seen: len(staff.alerts()) > s) - raised)
            time.sleep(0.1)
    finally:
        alerts.stop()
        staff.close()
        broker.kill()
    return puback, dashboard


def after_restart(folder: Path, runs: int, down_s: float) -> tuple[list[float], list[float]]:
    from_start, from_raise = [], []
    broker = Broker(folder / "broker-restart")
    for n in range(runs):
        outbox = folder / f"outbox-restart-{n}"
        alerts = MqttAlerts(MqttTarget.parse(broker.url()), outbox, f"bench-kiosk-{n}")
        alerts.start()
        alert = _alert(1000 + n)
        raised = time.monotonic()
        alerts.send(alert)
        time.sleep(down_s)
        broker.start()
        listening = time.monotonic()
        staff = Staff(broker.port, client_id=f"bench-staff-{n}")
        try:
            got = _wait(lambda a=alert, s=staff: any(x["id"] == a.id for x in s.alerts()))
            from_start.append(got - listening)
            from_raise.append(got - raised)
        finally:
            alerts.stop()
            staff.close()
            broker.kill()
    return from_start, from_raise


def kiosk_restart(folder: Path, runs: int) -> list[float]:
    kiosk = TextKiosk(folder / "kiosk", supervised=True)
    times = []
    try:
        kiosk.wait_for("Kiosk ready", timeout=60)
        for _ in range(runs):
            time.sleep(1.0)
            since = kiosk.count
            child = int((folder / "kiosk" / "outbox" / "running").read_text())
            killed = time.monotonic()
            os.kill(child, signal.SIGKILL)
            _, apology = kiosk.wait_for("Sorry, I had to restart", since=since, timeout=30)
            ready, _ = kiosk.wait_for("Kiosk ready", since=apology, timeout=30)
            times.append(ready - killed)
    finally:
        kiosk.close()
    return times


def voice_kiosk_restart(folder: Path, runs: int) -> list[float]:
    """The same with a voice kiosk on the virtual sound card: back = listening for the
    wake phrase again, after the apology was spoken (recognizer and synthesizer loaded)."""
    from test_kiosk_voice import FAST, VoiceKiosk
    from virtual_audio import rig_while

    times = []
    with rig_while("bench_kiosk") as rig:
        kiosk = VoiceKiosk(rig, folder / "voice", *FAST, supervised=True)
        try:
            kiosk.wait_until_waiting(timeout=120)
            for _ in range(runs):
                child = int((folder / "voice" / "outbox" / "running").read_text())
                killed = time.monotonic()
                os.kill(child, signal.SIGKILL)
                kiosk.wait_until_waiting(timeout=60)
                times.append(time.monotonic() - 0.5 - killed)
        finally:
            kiosk.close()
    return times


def _line(name: str, seconds: list[float], unit: str = "ms") -> str:
    scale = 1000 if unit == "ms" else 1
    med, low, high = (statistics.median(seconds) * scale, min(seconds) * scale,
                      max(seconds) * scale)
    return f"{name:<52} median {med:8.1f} {unit}  (min {low:.1f}, max {high:.1f}, n={len(seconds)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--down", type=float, default=3.0,
                        help="seconds the broker is down before it starts (default 3)")
    parser.add_argument("--voice", action="store_true",
                        help="also restart a voice kiosk on the virtual sound card")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        puback, dashboard = broker_up(folder, args.runs)
        print(_line("alert raised -> delivered (PUBACK), broker up", puback))
        print(_line("alert raised -> on the staff dashboard, broker up", dashboard))
        from_start, from_raise = after_restart(folder, max(3, args.runs // 2), args.down)
        print(_line("broker listening again -> on the staff dashboard", from_start))
        print(_line(f"alert raised (broker down {args.down:g} s) -> on the dashboard",
                    from_raise, "s"))
        restart = kiosk_restart(folder, max(3, args.runs // 2))
        print(_line("keyboard kiosk killed -> apology said, waiting again", restart, "s"))
        if args.voice:
            (folder / "voice").mkdir()
            spoken = voice_kiosk_restart(folder, max(3, args.runs // 2))
            print(_line("voice kiosk killed -> apology spoken, waiting again", spoken, "s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
