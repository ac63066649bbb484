"""Voice and touch in one session: `run.py` by voice on the virtual sound card with the
screen open in headless Chromium. The first question is answered by touching "No" on the
page, the next by saying "yes" into the virtual microphone; and with the microphone
unplugged, the page says so and a touch still answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium
from local_net import free_port
from playwright import sync_api as playwright_api
from simulated_user import Assistant, SpokenSession, run_spoken_session
from virtual_audio import VirtualAudio, replug, require_rig, rig_while, unplug

from assistant.dialog_data import Dialogs

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rig() -> Iterator[VirtualAudio]:
    require_rig()
    with rig_while("screen") as audio:
        yield audio


def opened(page: Any, port: int) -> bool:
    """Open the assistant's page once it serves it (it starts with the session)."""
    if page.url != "about:blank":
        return True
    try:
        page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
    except playwright_api.Error:
        return False  # not serving yet
    return True


def test_one_answer_touched_the_next_spoken(rig: VirtualAudio, tmp_path: Path,
                                            dialogs: Dialogs) -> None:
    port = free_port()
    first_step = dialogs.emergency.steps[0].format(emergency_number="911")
    touched: list[float] = []

    def script(state: str, count: int) -> str | None:
        return "yes" if state == "check.chest_pain" else None  # the first one is touched

    with playwright_api.sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page()

        def watch(session: SpokenSession, proc: Assistant) -> None:
            if not opened(page, port):
                return
            listening = [e for e in session.events if e["type"] == "state"]
            if not touched and listening and listening[-1]["name"] == "check.sudden_onset":
                button = page.get_by_role("button", name="No", exact=True)
                if button.is_visible():
                    button.click()
                    touched.append(time.monotonic())
            if any(e["type"] == "say" and e["text"] == first_step for e in session.events):
                proc.terminate()

        session = run_spoken_session(rig, script, tmp_path, during=watch, extra=(
            "--rate", "190", "--screen", "--screen-port", str(port)))
        guidance_shown = page.locator("#steps li").count()
        browser.close()
    heard: list[dict[str, Any]] = [e for e in session.of_type("heard") if e["text"]]
    assert touched, session.stderr
    assert [(e["source"], e["understood"]) for e in heard[:2]] == [
        ("touch", "no"), ("voice", "yes")], heard
    assert heard[0]["confidence"] == 1.0
    assert "emergency" in session.dispositions
    assert guidance_shown == len(dialogs.emergency.steps), "the page followed the voice"


def test_a_lost_microphone_is_shown_and_a_touch_still_answers(tmp_path: Path,
                                                              dialogs: Dialogs) -> None:
    require_rig()
    port = free_port()
    first_step = dialogs.emergency.steps[0].format(emergency_number="911")
    seen: dict[str, str] = {}

    with rig_while("screen_faults") as rig, playwright_api.sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page()
        banner = page.locator("#devices")

        def watch(session: SpokenSession, proc: Assistant) -> None:
            if not opened(page, port):
                return
            step = seen.get("step", "wait for the question")
            if step == "wait for the question" and session.of_type("listen"):
                unplug(rig, "mic")
                seen["step"] = "unplugged"
            elif step == "unplugged" and banner.is_visible():
                seen["lost"] = banner.inner_text()
                page.get_by_role("button", name="Yes", exact=True).click()
                seen["step"] = "touched"
            elif step == "touched" and any(e["type"] == "say" and e["text"] == first_step
                                           for e in session.events):
                replug(rig)
                seen["step"] = "plugged back"
            elif step == "plugged back" and not banner.is_visible():
                seen["step"] = "back"
                proc.terminate()

        session = run_spoken_session(rig, lambda state, count: None, tmp_path, during=watch,
                                     extra=("--rate", "190", "--screen", "--screen-port",
                                            str(port)), timeout=120)
        browser.close()
    assert seen.get("lost") == "I can't hear you: please touch your answer.", seen
    heard = [e for e in session.of_type("heard") if e["text"]]
    assert [(e["source"], e["understood"]) for e in heard[:1]] == [("touch", "yes")], heard
    assert "emergency" in session.dispositions
    assert seen["step"] == "back", "the page saw the microphone come back"


def test_with_the_loudspeaker_lost_the_page_carries_the_conversation(
        tmp_path: Path, dialogs: Dialogs) -> None:
    require_rig()
    port = free_port()
    chest_pain = dialogs.question_nodes()["chest_pain"].ask
    seen: dict[str, str] = {}

    with rig_while("screen_speaker") as rig, playwright_api.sync_playwright() as p:
        browser = chromium(p)
        page = browser.new_page()
        banner = page.locator("#devices")
        asked = page.locator("#captions p.question")

        def watch(session: SpokenSession, proc: Assistant) -> None:
            if not opened(page, port):
                return
            step = seen.get("step", "wait for the question")
            if step == "wait for the question" and session.of_type("listen"):
                unplug(rig, "speaker")
                page.get_by_role("button", name="No", exact=True).click()
                seen["step"] = "touched no"
            elif step == "touched no" and banner.is_visible() and asked.count() and \
                    chest_pain in asked.inner_text():
                seen["lost"] = banner.inner_text()
                page.get_by_role("button", name="Yes", exact=True).click()
                seen["step"] = "touched yes"
            elif step == "touched yes" and page.locator("#steps li").count():
                replug(rig)
                seen["step"] = "plugged back"
            elif step == "plugged back" and not banner.is_visible():
                seen["step"] = "back"
                proc.terminate()

        session = run_spoken_session(rig, lambda state, count: None, tmp_path, during=watch,
                                     extra=("--rate", "190", "--screen", "--screen-port",
                                            str(port)), timeout=120)
        browser.close()
    assert seen.get("lost") == "The sound is not working: please read the words on the screen."
    heard = [(e["source"], e["understood"]) for e in session.of_type("heard") if e["text"]]
    assert heard[:2] == [("touch", "no"), ("touch", "yes")], heard
    assert "emergency" in session.dispositions
    messages = [e["message"] for e in session.of_type("error")]
    assert any("going on with the screen" in m for m in messages), messages
    assert seen["step"] == "back", "the sound came back, and the page said so"


def test_between_sessions_touching_start_begins_one(tmp_path: Path, dialogs: Dialogs) -> None:
    """All day (no --once): the page offers Start beside the wake phrase, and a touch of it
    begins a session as saying the phrase would."""
    require_rig()
    port = free_port()
    transcript = tmp_path / "voice.jsonl"
    with rig_while("screen_idle") as rig, playwright_api.sync_playwright() as p:
        env = {**os.environ, **rig.env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "run.py"), "--engine", "pocketsphinx", "--input-device",
             rig.input_device, "--output-device", rig.output_device, "--transcript",
             str(transcript), "--screen", "--screen-port", str(port)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        browser = chromium(p)
        try:
            page = browser.new_page()
            deadline = time.monotonic() + 60
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                    break
                except playwright_api.Error:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.3)
            playwright_api.expect(page.locator("#hint")).to_have_text(
                'Say "hello helper", or touch Start.', timeout=30_000)
            assert not transcript.exists(), "no session before the wake phrase or Start"
            page.get_by_role("button", name="Start", exact=True).click()
            first = dialogs.check.nodes[dialogs.check.start].ask  # type: ignore[union-attr]
            playwright_api.expect(page.locator("#captions p.question")).to_contain_text(
                first, timeout=60_000)
            events = [json.loads(line) for line in transcript.read_text("utf-8").splitlines()]
            assert events[0]["type"] == "session"
        finally:
            browser.close()
            proc.terminate()
            _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode()
