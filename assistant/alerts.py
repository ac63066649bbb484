"""Alerts to staff or a caregiver over MQTT, through an on-disk outbox: never at the cost
of the voice.

Why MQTT and Paho: it is what home automation, Node-RED and nurse-call integrations
already speak, and the Eclipse Paho client (paho-mqtt 2.x, typed) is its reference Python
client. Each alert is a JSON message published with QoS 1 and `retain` to
`<prefix>/alerts/<id>`, so a staff dashboard that connects later still sees it; staff
acknowledge by publishing anything to `<prefix>/alerts/<id>/ack` (or from the `/staff`
page), and the retained alert is then cleared.

`send` only writes the alert to the outbox (a file per alert, written atomically) and
wakes the sender thread, so the call-911 guidance is spoken at once whatever the broker
does. The sender connects, publishes what is waiting, and marks each alert delivered when
the broker acknowledges it (PUBACK); a broker that is down or restarting is retried with
backoff, and an assistant that restarts finds its queue on disk. An alert is marked
delivered once, and a delivered alert is never published again, so each alert id reaches
the broker once (a duplicate is possible only if the broker took a message and died
before saying so; its retained copy then simply replaces itself). Credentials come from
the URL and appear only in the connection: `MqttTarget.redacted` is what logs show.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from assistant.alert_policy import Alert, AlertNews

BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 5.0
KEEPALIVE_S = 15


class AlertSetupError(ValueError):
    """The alert address cannot be used (a clear message for the person setting up)."""


@dataclass(frozen=True)
class MqttTarget:
    """Where alerts go: `mqtt://[user:password@]host[:port]/topic-prefix` (`mqtts://`: TLS)."""

    host: str
    port: int
    prefix: str
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> MqttTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise AlertSetupError("an alert address starts with mqtt:// or mqtts:// "
                                  "(for example mqtt://localhost:1883/care/maple-lounge)")
        if not parts.hostname:
            raise AlertSetupError("the alert address has no broker host name")
        try:
            port = parts.port
        except ValueError as exc:
            raise AlertSetupError(f"the alert address has a bad port: {exc}") from None
        prefix = parts.path.strip("/")
        if not prefix or "+" in prefix or "#" in url or parts.query:
            raise AlertSetupError("the alert address needs a topic prefix without + or # "
                                  "(for example .../care/maple-lounge)")
        tls = parts.scheme == "mqtts"
        password = unquote(parts.password) if parts.password is not None else None
        password = password or os.environ.get("LEG_ASSISTANT_MQTT_PASSWORD") or None
        return cls(parts.hostname, port or (8883 if tls else 1883), prefix, tls,
                   unquote(parts.username) if parts.username else None, password)

    @property
    def redacted(self) -> str:
        """The address as logs and transcripts may show it: never the password."""
        user = f"{self.username}:***@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}/{self.prefix}"

    def alert_topic(self, alert_id: str) -> str:
        return f"{self.prefix}/alerts/{alert_id}"

    def ack_topic(self, alert_id: str) -> str:
        return f"{self.prefix}/alerts/{alert_id}/ack"


def redact_url(url: str) -> str:
    """An alert address with any password replaced (for what is recorded or printed)."""
    try:
        return MqttTarget.parse(url).redacted
    except AlertSetupError:
        return re.sub(r"//[^@/]*@", "//***@", url)


def wall_time(epoch: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch).astimezone()
    return moment.isoformat(timespec="milliseconds")


class Outbox:
    """One JSON file per alert in a folder only its owner may read (0700).

    A record holds the alert and its times (raised, delivered, acknowledged). An alert
    acknowledged and cleared from the broker is deleted: nothing personal stays behind.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        self._lock = threading.RLock()  # an update is one read and one write, not two

    def _path(self, alert_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", alert_id):
            raise ValueError(f"not an alert id: {alert_id!r}")
        return self.folder / f"{alert_id}.json"

    def put(self, record: dict[str, Any]) -> None:
        path = self._path(record["alert"]["id"])
        tmp = path.with_suffix(".tmp")
        with self._lock:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)

    def get(self, alert_id: str) -> dict[str, Any] | None:
        try:
            with self._lock:
                data: dict[str, Any] = json.loads(self._path(alert_id).read_text("utf-8"))
            return data
        except (OSError, ValueError):
            return None

    def update(self, alert_id: str, **changes: Any) -> dict[str, Any] | None:
        with self._lock:
            record = self.get(alert_id)
            if record is None:
                return None
            record.update(changes)
            self.put(record)
            return record

    def remove(self, alert_id: str) -> None:
        with self._lock, contextlib.suppress(OSError):
            self._path(alert_id).unlink()

    def records(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.folder.glob("*.json")):
            record = self.get(path.stem)
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda r: float(r.get("raised", 0)))


class MqttAlerts:
    """The `Alerts` port: an outbox on disk, and a thread that delivers it to the broker.

    Without a broker (`target` None) alerts are kept for the staff page only.
    """

    def __init__(self, target: MqttTarget | None, outbox_dir: Path, client_id: str,
                 report: Callable[[str], None] | None = None) -> None:
        self.target = target
        self.outbox = Outbox(outbox_dir)
        self.client_id = client_id
        self._report = report or (lambda message: None)
        self._news: queue.Queue[AlertNews] = queue.Queue()
        self._acknowledged: set[str] = set()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    # --- the session's side: never waits ------------------------------------------------

    def start(self) -> None:
        if self.target is not None and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` s for waiting alerts to reach the broker (before exiting)."""
        until = time.monotonic() + timeout
        while self.target is not None and time.monotonic() < until:
            if not any(self._needs_broker(r) for r in self.outbox.records()):
                return True
            time.sleep(0.05)
        return self.target is None

    def send(self, alert: Alert) -> None:
        """Queue the alert on disk and wake the sender; returns at once."""
        self.outbox.put({"alert": alert.to_dict(), "raised": time.time(), "delivered": None,
                         "acknowledged": None, "cleared": False})
        self._tell(alert.id, "queued")
        self._wake.set()

    def acknowledged(self) -> frozenset[str]:
        return frozenset(self._acknowledged)

    def take_news(self) -> list[AlertNews]:
        news = []
        while True:
            try:
                news.append(self._news.get_nowait())
            except queue.Empty:
                return news

    def open_alerts(self) -> list[dict[str, Any]]:
        """Alerts raised and not yet acknowledged, oldest first (for the staff page)."""
        return [r for r in self.outbox.records() if not r.get("acknowledged")]

    def acknowledge(self, alert_id: str, by: str) -> bool:
        """Staff acknowledged (from the page): recorded at once, told to the broker soon."""
        record = self.outbox.get(alert_id)
        if record is None or record.get("acknowledged"):
            return False
        self._mark_acknowledged(alert_id, by, announce=True)
        if self.target is None:  # no broker to clear: nothing personal is kept
            self.outbox.remove(alert_id)
        return True

    # --- the sender's thread ------------------------------------------------------------

    def _tell(self, alert_id: str, status: str, at: float | None = None,
              detail: str = "") -> None:
        self._news.put(AlertNews(alert_id, status, wall_time(at), detail))

    def _mark_acknowledged(self, alert_id: str, by: str, announce: bool) -> None:
        if alert_id in self._acknowledged:
            return
        record = self.outbox.update(alert_id, acknowledged=time.time(), acknowledged_by=by,
                                    announce_ack=announce)
        if record is None:
            return
        self._acknowledged.add(alert_id)
        self._tell(alert_id, "acknowledged", record["acknowledged"], by)
        self._wake.set()

    def _run(self) -> None:
        assert self.target is not None
        backoff = BACKOFF_FIRST_S
        waiting_said = False
        while not self._stopping.is_set():
            pending = [r for r in self.outbox.records() if self._needs_broker(r)]
            try:
                self._connected_session(self.target)
                backoff = BACKOFF_FIRST_S
                waiting_said = False
            except (OSError, ssl.SSLError, ConnectionError, mqtt.WebsocketConnectionError) as exc:
                if pending and not waiting_said:
                    waiting_said = True
                    for record in pending:
                        self._tell(record["alert"]["id"], "waiting",
                                   detail=f"broker {self.target.redacted} unreachable: "
                                   f"{type(exc).__name__}; retrying")
                    self._report(f"Alerts: the broker {self.target.redacted} cannot be "
                                 f"reached ({type(exc).__name__}); alerts wait on disk.")
            self._wake.wait(backoff)
            self._wake.clear()
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    @staticmethod
    def _needs_broker(record: dict[str, Any]) -> bool:
        return not record.get("delivered") or (
            bool(record.get("acknowledged")) and not record.get("cleared"))

    def _client(self, target: MqttTarget) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             clean_session=False, reconnect_on_failure=False)
        if target.username:
            client.username_pw_set(target.username, target.password)
        if target.tls:
            client.tls_set()
        return client

    def _connected_session(self, target: MqttTarget) -> None:
        """One connection: subscribe to acknowledgements, publish what waits, until the
        connection drops (or the assistant stops)."""
        client = self._client(target)
        lost = threading.Event()
        in_flight: dict[int, str] = {}
        sent: set[str] = set()
        flight_lock = threading.Lock()

        def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
            if reason.is_failure:
                self._report(f"Alerts: the broker {target.redacted} refused the connection "
                             f"({reason}).")
                lost.set()
                return
            c.subscribe(f"{target.prefix}/alerts/+/ack", qos=1)
            self.connected.set()
            self._wake.set()

        def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                          properties: Any) -> None:
            lost.set()
            self._wake.set()

        def on_publish(c: mqtt.Client, userdata: Any, mid: int, reason: Any,
                       properties: Any) -> None:
            with flight_lock:
                alert_id = in_flight.pop(mid, None)
            if alert_id is not None:
                self._delivered(alert_id)

        def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            parts = message.topic.split("/")
            if len(parts) >= 3 and parts[-1] == "ack" and message.payload:
                by = _acknowledger(bytes(message.payload))
                with contextlib.suppress(ValueError):
                    self._mark_acknowledged(parts[-2], by, announce=False)

        client.on_connect, client.on_disconnect = on_connect, on_disconnect
        client.on_publish, client.on_message = on_publish, on_message
        client.connect(target.host, target.port, keepalive=KEEPALIVE_S)
        client.loop_start()
        try:
            while not self._stopping.is_set() and not lost.is_set():
                if client.is_connected():
                    self._publish_waiting(client, target, in_flight, sent, flight_lock)
                self._wake.wait(1.0)
                self._wake.clear()
        finally:
            self.connected.clear()
            with contextlib.suppress(Exception):
                client.disconnect()
            client.loop_stop()
        if lost.is_set() and not self._stopping.is_set():
            raise ConnectionError("the broker connection was lost")

    def _publish_waiting(self, client: mqtt.Client, target: MqttTarget,
                         in_flight: dict[int, str], sent: set[str],
                         flight_lock: threading.Lock) -> None:
        for record in self.outbox.records():
            alert_id = record["alert"]["id"]
            if not record.get("delivered") and alert_id not in sent:
                payload = json.dumps(record["alert"])
                with flight_lock:
                    info = client.publish(target.alert_topic(alert_id), payload, qos=1,
                                          retain=True)
                    if info.rc != mqtt.MQTT_ERR_SUCCESS:
                        continue  # not sent: tried again on this connection or the next
                    sent.add(alert_id)
                    in_flight[info.mid] = alert_id
                self._tell(alert_id, "sent")
            elif record.get("delivered") and record.get("acknowledged") and not record.get(
                    "cleared"):
                self._clear(client, target, record)

    def _clear(self, client: mqtt.Client, target: MqttTarget, record: dict[str, Any]) -> None:
        """Acknowledged: the retained alert is removed from the broker, and so is the file
        (nothing personal is kept once staff have it)."""
        alert_id = record["alert"]["id"]
        if record.get("announce_ack"):
            by = json.dumps({"by": record.get("acknowledged_by", "staff page"),
                             "at": wall_time(record["acknowledged"])})
            client.publish(target.ack_topic(alert_id), by, qos=1)
        info = client.publish(target.alert_topic(alert_id), b"", qos=1, retain=True)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self.outbox.remove(alert_id)

    def _delivered(self, alert_id: str) -> None:
        record = self.outbox.get(alert_id)
        if record is None or record.get("delivered"):
            return
        now = time.time()
        self.outbox.update(alert_id, delivered=now)
        self._tell(alert_id, "delivered", now)
        self._wake.set()


def _acknowledger(payload: bytes) -> str:
    """Who acknowledged, when the acknowledgement says ({"by": "Nurse Ana"}); else "staff"."""
    try:
        data = json.loads(payload)
    except ValueError:
        text = payload.decode("utf-8", "replace").strip()
        return text[:60] or "staff"
    if isinstance(data, dict) and data.get("by"):
        return str(data["by"])[:60]
    return "staff"


def default_client_id(place: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", place.lower()).strip("-") or "assistant"
    return f"leg-assistant-{socket.gethostname()}-{slug}"[:64]


def default_outbox_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "leg-assistant" / "alert-outbox"
