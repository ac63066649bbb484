"""A real Mosquitto broker for the alert tests and the bench, on a free local port.

The config file is written here (persistence on, saved after every change, so a broker
killed and restarted still holds its retained alerts, as a production broker is set up
in the README). `Staff` is a subscriber standing in for a nurse-call dashboard.
"""

from __future__ import annotations

import getpass
import json
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from local_net import free_port
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")


def mosquitto_path() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in MOSQUITTO_PATHS if Path(p).exists()), None)


class Broker:
    """`mosquitto -c <config>` on 127.0.0.1:<port>; start, kill, restart at will."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"user {getpass.getuser()}\n"  # as root it would switch to "mosquitto"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            "autosave_interval 1\n"
            "autosave_on_changes true\n"
            f"log_dest file {folder}/mosquitto.log\n", encoding="utf-8")

    def url(self, prefix: str = "care/test") -> str:
        return f"mqtt://127.0.0.1:{self.port}/{prefix}"

    def start(self, timeout: float = 10.0) -> Broker:
        path = mosquitto_path()
        assert path, "mosquitto is not installed (bash scripts/setup-system.sh installs it)"
        self.proc = subprocess.Popen([path, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                assert self.proc.poll() is None, (self.folder / "mosquitto.log").read_text()
                time.sleep(0.02)
        raise TimeoutError(f"mosquitto did not listen on {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)
        self.proc = None

    def freeze(self) -> None:
        """The broker stops answering (SIGSTOP): a publish sent now is never acknowledged."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


class Staff:
    """A dashboard subscribed to the alerts (and acknowledging them when told to)."""

    def __init__(self, port: int, prefix: str = "care/test", client_id: str = "staff") -> None:
        self.prefix = prefix
        self.messages: list[tuple[float, str, dict[str, Any] | None, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False)
        self.subscribed = threading.Event()
        self.client.on_connect = self._connected
        self.client.on_message = self._message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect_async("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def _connected(self, c: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                   properties: Any) -> None:
        # Once while the broker keeps the subscription (a persistent session) across
        # restarts: subscribing again would replay retained alerts as if they were new.
        if not self.subscribed.is_set() or not flags.session_present:
            c.subscribe(f"{self.prefix}/alerts/+", qos=1)
            self.subscribed.set()

    def _message(self, c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        body = json.loads(message.payload) if message.payload else None
        with self.lock:
            self.messages.append((time.monotonic(), message.topic, body, bool(message.retain)))

    def wait_subscribed(self, timeout: float = 10.0) -> None:
        assert self.subscribed.wait(timeout), "the staff dashboard never connected"
        time.sleep(0.2)  # the SUBACK

    def alerts(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _, _, body, _ in self.messages if body]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if len(self.alerts()) >= count:
                return self.alerts()
            time.sleep(0.02)
        return self.alerts()

    def acknowledge(self, alert_id: str, by: str = "Nurse Ana") -> None:
        self.client.publish(f"{self.prefix}/alerts/{alert_id}/ack", json.dumps({"by": by}),
                            qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained(port: int, topic: str, wait: float = 1.0) -> dict[str, Any] | None:
    """What a dashboard connecting now is given for `topic` (None: nothing retained)."""
    got: list[dict[str, Any]] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
    client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
    client.on_message = lambda c, u, m: got.append(json.loads(m.payload)) if m.payload else None
    client.connect("127.0.0.1", port)
    client.loop_start()
    time.sleep(wait)
    client.disconnect()
    client.loop_stop()
    return got[0] if got else None
