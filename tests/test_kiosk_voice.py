"""The kiosk by voice on the virtual sound card: two residents in a row through one running
kiosk. The first says "slower"; the second, waking it with the wake phrase, hears the
default rate again, and nothing of the first is on the screen or in the second's record.
An idle resident at a red-flag question ends in an alert (here by voice, to a broker)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kiosk_driver import stop
from local_net import free_port
from mqtt_broker import Broker, Staff, mosquitto_path
from simulated_user import REPO_ROOT, spoken
from speaker_check import prompt_audio
from virtual_audio import (
    RATE,
    VirtualAudio,
    play_into_mic,
    pulseaudio_installed,
    require_rig,
    rig_while,
    unplugged,
)

from assistant.tts import RATE_STEP_WPM

pytestmark = pytest.mark.skipif(not pulseaudio_installed(),
                                reason="PulseAudio is not installed (scripts/setup.sh installs it)")
WAKE = "hello helper"
FIRST_QUESTION = "Did your leg get weak or numb suddenly, today or yesterday?"
FAST_WPM = 190  # the tests' pace (as in test_voice_e2e); "the default" is what was configured
FAST = ("--rate", str(FAST_WPM))


@pytest.fixture(scope="module")
def rig() -> Iterator[VirtualAudio]:
    require_rig()
    with rig_while("kiosk") as audio:
        yield audio


class VoiceKiosk:
    """`run.py --kiosk` by voice, with a staff-only records folder to follow each session."""

    def __init__(self, rig: VirtualAudio, tmp: Path, *extra: str,
                 supervised: bool = False) -> None:
        self.rig = rig
        self.records = tmp / "records"
        self.screen_port = free_port()
        start = ([sys.executable, "-m", "assistant.supervisor", "--"] if supervised
                 else [sys.executable, str(REPO_ROOT / "run.py")])
        args = [*start, "--kiosk", "--engine",
                "pocketsphinx", "--input-device", rig.input_device, "--output-device",
                rig.output_device, "--reply-pause", "0", "--kiosk-records", str(self.records),
                "--alert-outbox", str(tmp / "outbox"), "--screen", "--screen-port",
                str(self.screen_port), "--place", "Maple Lounge kiosk", *extra]
        env = {**os.environ, **rig.env(), "XDG_CACHE_HOME": str(tmp / "cache"),
               "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=(tmp / "stderr.txt").open("w"),
                                     text=True)
        self.waiting = 0

    def wait_until_waiting(self, timeout: float = 90) -> None:
        """Until it prints that it listens for the wake phrase (once more than before)."""
        assert self.proc.stdout is not None
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            line = self.proc.stdout.readline()
            if "Listening for the wake phrase" in line:
                self.waiting += 1
                time.sleep(0.5)  # the microphone is open again
                return
            assert line, "the kiosk stopped"
        raise AssertionError("the kiosk never went back to waiting")

    def session(self, index: int, answers: list[str], timeout: float = 120,
                listens_wanted: int | None = None) -> list[dict[str, Any]]:
        """Wake it, then speak `answers` one per listen; the session's record when it ends
        (or once it has listened `listens_wanted` times)."""
        play_into_mic(self.rig, spoken(WAKE), wait=True)
        until = time.monotonic() + timeout
        listens = 0
        while time.monotonic() < until:
            files = sorted(self.records.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
            events = _events(files[index]) if len(files) > index else []
            if any(e["type"] == "end" for e in events):
                return events
            heard_listens = sum(e["type"] == "listen" for e in events)
            if listens_wanted is not None and heard_listens >= listens_wanted:
                return events
            if heard_listens > listens and listens < len(answers):
                time.sleep(0.5)  # a person answers a moment after the question
                play_into_mic(self.rig, spoken(answers[listens]), wait=True)
                listens = heard_listens
            time.sleep(0.05)
        heard = [(e["text"], e["understood"], e["confidence"], e["why"])
                 for e in events if e["type"] == "heard"]
        raise AssertionError(f"session {index} did not end; heard {heard}")

    def screen(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.screen_port}/state"
        with urllib.request.urlopen(url, timeout=5) as response:
            state: dict[str, Any] = json.load(response)
            return state

    def close(self) -> None:
        stop(self.proc)


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()
            if line.endswith("}")]


def spoken_seconds(events: list[dict[str, Any]], text: str) -> list[float]:
    """How long each saying of `text` lasted on the loudspeaker."""
    return [e["ended"] - e["started"] for e in events if e["type"] == "say" and e["text"] == text]


def test_two_residents_in_a_row_the_second_hears_the_default_rate(
        rig: VirtualAudio, tmp_path: Path) -> None:
    # The first resident asks for it slower, then walks away: the idle limit ends it.
    kiosk = VoiceKiosk(rig, tmp_path, *FAST, "--idle-minutes", "0.1")
    try:
        kiosk.wait_until_waiting()
        first = kiosk.session(0, ["slow down"])
        kiosk.wait_until_waiting()
        between = kiosk.screen()
        second = kiosk.session(1, [], listens_wanted=1)
    finally:
        kiosk.close()
    heard = [e["understood"] for e in first if e["type"] == "heard"]
    assert heard[:1] == ["slower"], heard  # "slow down"
    assert first[-1]["reason"] == "idle"
    before, after = spoken_seconds(first, FIRST_QUESTION)[:2]
    (again,) = spoken_seconds(second, FIRST_QUESTION)[:1]
    default_s = len(prompt_audio(FIRST_QUESTION, FAST_WPM)) / RATE
    slower_s = len(prompt_audio(FIRST_QUESTION, FAST_WPM - RATE_STEP_WPM)) / RATE
    assert after > before * 1.05  # "slower" was heard and done for the first resident
    assert abs(again - default_s) < abs(again - slower_s)  # the second: the default rate
    assert abs(again - before) < 0.04 * before
    # Nothing of the first resident: an idle screen with no captions, and a record of its own.
    assert between["captions"] == [] and between["view"]["mode"] == "idle"
    assert sum(e["type"] == "session" for e in second) == 1
    assert not any(e["type"] == "heard" and e["text"] == "slower" for e in second)
    assert second[0]["id"] != first[0]["id"]


@pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is missing")
def test_an_idle_resident_at_a_red_flag_question_by_voice_ends_in_an_alert(
        rig: VirtualAudio, tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker").start()
    staff = Staff(broker.port)
    staff.wait_subscribed()
    kiosk = VoiceKiosk(rig, tmp_path, *FAST, "--alert-mqtt", broker.url(),
                       "--idle-minutes", "0.05")
    try:
        kiosk.wait_until_waiting()
        events = kiosk.session(0, [])  # woken, then nobody answers
        kiosk.wait_until_waiting()
        alerts = staff.wait_for(1)
    finally:
        kiosk.close()
        staff.close()
        broker.kill()
    assert events[-1]["reason"] == "idle"
    assert [a["kind"] for a in alerts] == ["unanswered_red_flag"]
    assert FIRST_QUESTION in alerts[0]["reason"]
    statuses = [e["status"] for e in events if e["type"] == "alert"]
    assert "raised" in statuses and "queued" in statuses


def test_a_killed_voice_kiosk_apologises_and_waits_again_within_5_seconds(
        rig: VirtualAudio, tmp_path: Path) -> None:
    kiosk = VoiceKiosk(rig, tmp_path, *FAST, supervised=True)
    try:
        kiosk.wait_until_waiting(timeout=120)
        child = int((tmp_path / "outbox" / "running").read_text())
        killed = time.monotonic()
        os.kill(child, signal.SIGKILL)
        kiosk.wait_until_waiting(timeout=30)
        back = time.monotonic() - 0.5  # wait_until_waiting lets the microphone open
        assert back - killed < 5.0, f"back in {back - killed:.1f} s"
        kiosk.session(0, [], listens_wanted=1)  # and the next resident is served
    finally:
        kiosk.close()
    (record,) = sorted((tmp_path / "records").glob("*.jsonl"))
    assert any(e["type"] == "listen" for e in _events(record))


@pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is missing")
def test_a_kiosk_left_deaf_tells_staff(rig: VirtualAudio, tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker").start()
    staff = Staff(broker.port)
    staff.wait_subscribed()
    kiosk = VoiceKiosk(rig, tmp_path, *FAST, "--alert-mqtt", broker.url())
    try:
        kiosk.wait_until_waiting()
        with unplugged(rig, "mic"):
            alerts = staff.wait_for(1, timeout=20)
    finally:
        kiosk.close()
        staff.close()
        broker.kill()
    assert [a["kind"] for a in alerts] == ["device_fault"]
    assert "cannot hear" in alerts[0]["reason"] and alerts[0]["place"] == "Maple Lounge kiosk"
