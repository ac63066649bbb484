"""The keyboard kiosk end to end (subprocesses): an idle resident at a red flag, residents
one after another on the screen, the staff page, what is and is not written, and the
supervisor bringing a killed kiosk back to its waiting state within 5 seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from kiosk_driver import REPO, TextKiosk
from local_net import free_port
from mqtt_broker import Broker, Staff, mosquitto_path

needs_broker = pytest.mark.skipif(mosquitto_path() is None,
                                  reason="mosquitto is missing: bash scripts/setup-system.sh")
FIRST_QUESTION = "Did your leg get weak or numb suddenly"
SAFETY_NET = "If your leg suddenly gets weaker, or you feel unwell, call 911."


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path / "broker")
    yield broker.start()
    broker.kill()


@needs_broker
def test_an_idle_resident_at_a_red_flag_question_ends_in_an_alert(tmp_path: Path,
                                                                  broker: Broker) -> None:
    staff = Staff(broker.port)
    staff.wait_subscribed()
    kiosk = TextKiosk(tmp_path, "--alert-mqtt", broker.url(), "--idle-minutes", "0.05")
    try:
        kiosk.type("")
        asked_at, asked = kiosk.wait_for(FIRST_QUESTION)
        ended_at, _ = kiosk.wait_for(SAFETY_NET, since=asked)  # nobody answers
        assert 2.5 < ended_at - asked_at < 6.0  # the idle limit (3 s), not the 8 s re-ask
        kiosk.wait_for("Kiosk ready", since=asked)
        alerts = staff.wait_for(1)
        assert [a["kind"] for a in alerts] == ["unanswered_red_flag"]
        assert FIRST_QUESTION in alerts[0]["reason"]
        assert alerts[0]["exchanges"][-1]["answer"] is None
    finally:
        kiosk.close()
        staff.close()


def screen_state(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/state", timeout=5) as response:
        state: dict[str, Any] = json.load(response)
        return state


def test_the_next_resident_finds_nothing_of_the_last_on_screen_or_on_disk(
        tmp_path: Path) -> None:
    port = free_port()
    kiosk = TextKiosk(tmp_path, "--screen", "--screen-port", str(port))
    try:
        kiosk.type("")
        _, asked = kiosk.wait_for(FIRST_QUESTION)
        kiosk.type("no")
        _, second = kiosk.wait_for("Assistant:", since=asked + 2)
        assert any(FIRST_QUESTION in c["text"] for c in screen_state(port)["captions"])
        kiosk.type("stop")
        _, ready = kiosk.wait_for("Kiosk ready", since=second)
        time.sleep(0.3)
        state = screen_state(port)
        assert state["captions"] == [] and state["view"]["mode"] == "idle"
        kiosk.type("")
        kiosk.wait_for(FIRST_QUESTION, since=ready)
        time.sleep(0.3)
        captions = [c["text"] for c in screen_state(port)["captions"]]
        assert not any("Thank you for talking with me" in c for c in captions)
        assert sum(FIRST_QUESTION in c for c in captions) == 1
    finally:
        kiosk.close()
    # No transcript: only the heartbeat and the running mark are written (no audio, ever).
    written = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()]
    assert sorted(written) == ["outbox/heartbeat"]  # a clean stop clears the running mark


def test_a_kiosk_refuses_a_transcript_and_keeps_records_only_in_a_staff_folder(
        tmp_path: Path) -> None:
    refused = subprocess.run([sys.executable, str(REPO / "run.py"), "--text", "--kiosk",
                              "--transcript", str(tmp_path / "t.jsonl")], cwd=REPO,
                             capture_output=True, text=True, timeout=60, input="")
    assert refused.returncode == 2 and "--kiosk-records" in refused.stderr
    assert not (tmp_path / "t.jsonl").exists()
    records = tmp_path / "staff-only"
    kiosk = TextKiosk(tmp_path, "--kiosk-records", str(records))
    try:
        kiosk.type("")
        kiosk.wait_for(FIRST_QUESTION)
        kiosk.type("stop")
        kiosk.wait_for("Session ended")
    finally:
        kiosk.close()
    assert oct(records.stat().st_mode & 0o777) == "0o700"
    files = list(records.iterdir())
    assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == "0o600"
    assert '"type": "end"' in files[0].read_text("utf-8")


@needs_broker
def test_staff_acknowledge_on_the_staff_page_and_the_resident_hears_it(
        tmp_path: Path, broker: Broker) -> None:
    port = free_port()
    token = "table-lamp-47"
    kiosk = TextKiosk(tmp_path, "--alert-mqtt", broker.url(), "--screen", "--screen-port",
                      str(port), "--staff-token", token)
    base = f"http://127.0.0.1:{port}"
    jar = CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        kiosk.type("")
        kiosk.wait_for(FIRST_QUESTION)
        with pytest.raises(urllib.error.HTTPError) as refused:
            browser.open(f"{base}/staff", timeout=5)
        assert refused.value.code == 401  # the sign-in form, and no alert on it
        assert "weakness" not in refused.value.read().decode()
        kiosk.type("yes")
        kiosk.wait_for("This could be an emergency")
        with pytest.raises(urllib.error.HTTPError) as wrong:
            browser.open(f"{base}/staff", urllib.parse.urlencode({"token": "x"}).encode())
        assert wrong.value.code == 403
        page = browser.open(f"{base}/staff", urllib.parse.urlencode({"token": token}).encode(),
                            timeout=5).read().decode()
        assert "Open alerts (1)" in page and "Maple Lounge kiosk" in page
        assert "weakness that came on suddenly" in page and "Acknowledge" in page
        alert_id = page.split('name="id"\nvalue="')[1].split('"')[0]
        clicked = time.monotonic()
        browser.open(f"{base}/staff/ack", urllib.parse.urlencode(
            {"id": alert_id, "by": "Nurse Ana"}).encode(), timeout=5)
        said_at, _ = kiosk.wait_for("Staff know, and someone is on the way.")
        assert said_at - clicked < 2.0
        assert "Open alerts (0)" in browser.open(f"{base}/staff", timeout=5).read().decode()
    finally:
        kiosk.close()


def test_without_a_token_there_is_no_staff_page(tmp_path: Path) -> None:
    port = free_port()
    kiosk = TextKiosk(tmp_path, "--screen", "--screen-port", str(port))
    try:
        kiosk.wait_for("Kiosk ready")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/staff", timeout=5)
        assert missing.value.code == 404
    finally:
        kiosk.close()


def test_a_killed_kiosk_is_back_in_its_waiting_state_within_5_seconds(tmp_path: Path) -> None:
    kiosk = TextKiosk(tmp_path, supervised=True)
    try:
        kiosk.wait_for("Kiosk ready", timeout=30)
        kiosk.type("")
        _, asked = kiosk.wait_for(FIRST_QUESTION)
        child = int((tmp_path / "outbox" / "running").read_text())
        killed = time.monotonic()
        os.kill(child, signal.SIGKILL)
        apology_at, apology = kiosk.wait_for("Sorry, I had to restart", since=asked)
        ready_at, _ = kiosk.wait_for("Kiosk ready", since=apology)
        assert ready_at - killed < 5.0, f"back in {ready_at - killed:.1f} s"
        assert apology_at <= ready_at
        kiosk.type("")  # and it serves the next resident
        kiosk.wait_for(FIRST_QUESTION, since=apology)
    finally:
        kiosk.close()


def test_a_kiosk_frozen_while_writing_its_heartbeat_still_looks_stuck(tmp_path: Path) -> None:
    from assistant.kiosk import Liveness
    from assistant.supervisor import _heartbeat_age

    liveness = Liveness(tmp_path)
    liveness.start()
    assert _heartbeat_age(liveness.heartbeat) == pytest.approx(0, abs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["heartbeat", "running"]
    liveness.heartbeat.write_text("")  # emptied, and the writer stopped right there
    ten_seconds_ago = time.time() - 10
    os.utime(liveness.heartbeat, (ten_seconds_ago, ten_seconds_ago))
    assert _heartbeat_age(liveness.heartbeat) == pytest.approx(10, abs=1)


def test_a_stuck_kiosk_is_restarted_and_apologises(tmp_path: Path) -> None:
    kiosk = TextKiosk(tmp_path, supervised=True, stuck_seconds=2)
    child = 0
    try:
        kiosk.wait_for("Kiosk ready", timeout=30)
        kiosk.type("")
        _, asked = kiosk.wait_for(FIRST_QUESTION)
        time.sleep(2.5)  # past the supervisor's first grace period
        child = int((tmp_path / "outbox" / "running").read_text())
        frozen = time.monotonic()
        os.kill(child, signal.SIGSTOP)  # hung: alive, but no heartbeat
        _, apology = kiosk.wait_for("Sorry, I had to restart", since=asked, timeout=15)
        ready_at, _ = kiosk.wait_for("Kiosk ready", since=apology)
        assert ready_at - frozen < 2 + 5.0
        new_child = int((tmp_path / "outbox" / "running").read_text())
        assert new_child != child
    finally:
        kiosk.close()
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # the stuck one is gone, not left behind
