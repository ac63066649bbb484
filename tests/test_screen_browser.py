"""The screen in a real browser: Debian's Chromium, headless, driven by Playwright.

Each test starts `run.py --text --screen` on a free port (nothing typed: the keyboard is
left open and silent) and uses the page as a person would: reads the captions, touches
the big buttons (or uses only the keyboard), reloads. axe-core, from npm, checks each
screen (question, routine, emergency) with the enhanced (7:1) contrast rule on. The
tests write screenshots of the three screens to docs/screens/, shown in the README.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser import AXE, SCREENS, require_browser
from conftest import path_to
from local_net import free_port
from playwright import sync_api as playwright_api

from assistant.dialog_data import Dialogs

REPO = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1024, "height": 900}

require_browser("the screen's tests")


@dataclass
class Running:
    process: subprocess.Popen[str]
    url: str
    transcript: Path

    def events(self, kind: str) -> list[dict[str, Any]]:
        if not self.transcript.exists():
            return []
        lines = self.transcript.read_text("utf-8").splitlines()
        return [e for e in map(json.loads, lines) if e["type"] == kind]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Running]:
    port = free_port()
    transcript = tmp_path / "session.jsonl"
    out = (tmp_path / "stdout.txt").open("w")
    process = subprocess.Popen(
        [sys.executable, "run.py", "--text", "--screen", "--screen-port", str(port),
         "--transcript", str(transcript)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "state", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the screen never started: {process.communicate()}") from None
            time.sleep(0.1)
    yield Running(process, url, transcript)
    if process.poll() is None:
        process.terminate()
    _, err = process.communicate(timeout=30)
    out.close()
    assert "Traceback" not in err, err


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    yield page
    context.close()


# --- what a person does ----------------------------------------------------------------


def moment(page: Any) -> str:
    return str(page.evaluate("state && state.view ? state.view.moment : ''"))


def question(page: Any) -> str:
    line = page.locator("#captions p.question")
    line.wait_for(timeout=20_000)
    assert str(line.inner_text()).startswith("QUESTION:"), "marked in words, not colour alone"
    return str(line.evaluate("p => Array.from(p.childNodes).filter(n => n.nodeType === 3)"
                             ".map(n => n.textContent).join('')")).strip()


def wait_for_new_moment(page: Any, before: str) -> None:
    page.wait_for_function("before => state && state.view && state.view.moment !== before",
                           arg=before, timeout=20_000)


def touch(page: Any, label: str) -> None:
    """Touch the answer button with this label, and wait for the next moment."""
    before = moment(page)
    page.get_by_role("button", name=label, exact=True).click()
    wait_for_new_moment(page, before)


def state_name(page: Any) -> str:
    return moment(page).split("|")[0]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {rules: {'color-contrast-enhanced': {enabled: true}}});
        return r.violations.map(v => ({id: v.id, help: v.help,
                                       nodes: v.nodes.map(n => n.html).slice(0, 3)}));
    }""")
    return list(result)


def check_large_and_reflowing(page: Any) -> None:
    """Captions of at least 40 px, targets of at least 96 px, and at 200% zoom (half the
    width) nothing needs scrolling sideways."""
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                         "'#captions p.now')).fontSize)")
    assert size >= 40
    for box in page.locator("button.answer").all():
        if box.is_visible():
            rect = box.bounding_box()
            assert rect["height"] >= 96 and rect["width"] >= 96, rect
    page.set_viewport_size({"width": VIEWPORT["width"] // 2, "height": VIEWPORT["height"]})
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    page.set_viewport_size(VIEWPORT)
    assert overflow <= 0, "content lost sideways at 200% zoom"


def check_follows_the_system(page: Any) -> None:
    """Sizes follow the system's font size (rem), and a wish for more contrast is met."""
    def caption_px() -> float:
        return float(page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                                   "'#captions p.question')).fontSize)"))

    usual = caption_px()
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert caption_px() == pytest.approx(2 * usual)
    page.evaluate("document.documentElement.style.fontSize = ''")
    page.emulate_media(contrast="more")
    assert page.evaluate("getComputedStyle(document.querySelector('#captions p.question'))"
                         ".color") == "rgb(0, 0, 0)"
    page.emulate_media(contrast="no-preference")


def screenshot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


# --- the tests ---------------------------------------------------------------------------


def test_touching_no_through_the_red_flags_reaches_the_routine_outcome(
        session: Running, page: Any, dialogs: Dialogs) -> None:
    page.goto(session.url)
    greeting = dialogs.check.greeting.say[0].replace("{to_name}", "")  # no name set
    playwright_api.expect(page.locator("#captions")).to_contain_text(greeting[:40])
    first = dialogs.check.nodes[dialogs.check.start].ask  # type: ignore[union-attr]
    assert question(page) == first
    log = page.get_by_role("log")
    assert log.get_attribute("aria-live") == "polite"  # a screen reader says each new line
    playwright_api.expect(log).to_contain_text(first)
    check_follows_the_system(page)
    assert axe_violations(page) == []
    check_large_and_reflowing(page)
    screenshot(page, "question")
    offer = dialogs.check.nodes["offer_routine"].ask.split("{")[0]  # type: ignore[union-attr]
    reloaded = False
    for _ in range(40):
        if question(page).startswith(offer):
            break
        if not reloaded and len(session.events("heard")) == 2:
            asked = question(page)
            page.reload()  # mid-session: the current question is there at once
            assert question(page) == asked
            playwright_api.expect(page.get_by_role("button", name="No", exact=True)).to_be_visible()
            reloaded = True
        touch(page, "No")
    assert reloaded
    assert question(page).startswith(offer)
    assert [o["disposition"] for o in session.events("outcome")] == ["routine"]
    heard = session.events("heard")
    assert heard and all((h["source"], h["confidence"], h["text"]) == ("touch", 1.0, "no")
                         for h in heard)
    touch(page, "No")  # no exercises today: goodbye
    playwright_api.expect(page.locator("#connection")).to_contain_text("finished",
                                                                       timeout=20_000)
    assert session.process.wait(timeout=20) == 0


def test_emergency_touched_during_the_routine_shows_the_steps(
        session: Running, page: Any, dialogs: Dialogs) -> None:
    page.goto(session.url)
    to_routine = path_to(dialogs, "running") | {"can_stand": "yes"}
    for _ in range(40):
        if state_name(page) == "routine.running":
            break
        question(page)
        answer = to_routine.get(state_name(page).rsplit(".", 1)[-1], "no")
        touch(page, answer.capitalize())
    assert state_name(page) == "routine.running"
    page.get_by_role("button", name="Skip", exact=True).click()  # past the warm-up
    first = dialogs.routine.exercises[0]
    routine = page.locator("#routine")
    playwright_api.expect(routine).to_contain_text(first.name, timeout=20_000)
    playwright_api.expect(page.locator("#rep")).to_have_text(f"1 of {first.reps}",
                                                             timeout=30_000)
    playwright_api.expect(routine).to_contain_text("Exercise 1 of 7")
    playwright_api.expect(routine).to_contain_text("Right leg")
    playwright_api.expect(page.get_by_role("img", name=f"Drawing: {first.name}")).to_be_visible()
    for label in ("Pause", "Skip", "Stop", "I feel unwell", "Emergency"):
        playwright_api.expect(page.get_by_role("button", name=label, exact=True)).to_be_visible()
    assert axe_violations(page) == []
    check_large_and_reflowing(page)
    screenshot(page, "routine")

    page.get_by_role("button", name="Emergency", exact=True).click()
    steps = page.locator("#steps li")
    playwright_api.expect(steps).to_have_count(len(dialogs.emergency.steps), timeout=20_000)
    playwright_api.expect(page.locator("#emergency-number")).to_have_text("911")
    current = page.locator("#steps li[aria-current=step]")
    playwright_api.expect(current).to_have_text(dialogs.emergency.steps[0].replace(
        "{emergency_number}", "911"))
    assert "emergency" in [o["disposition"] for o in session.events("outcome")]
    heard = [h for h in session.events("heard") if h["text"] == "emergency"]
    assert heard and heard[0]["source"] == "touch" and heard[0]["understood"] == "emergency"
    assert not page.locator("#routine").is_visible(), "the exercise is gone: no going back"
    playwright_api.expect(page.locator("#captions p.question")).to_contain_text(
        "Please call 911 now")  # the step being said stands out in the captions too
    assert axe_violations(page) == []
    check_large_and_reflowing(page)
    screenshot(page, "emergency")
    steps_said = [s.replace("{emergency_number}", "911") for s in dialogs.emergency.steps]
    now = steps_said.index(current.inner_text())
    page.get_by_role("button", name="Next step", exact=True).click()  # (or 5 s of silence)
    playwright_api.expect(current).to_have_text(steps_said[now + 1])


def test_a_whole_session_by_keyboard_alone(session: Running, page: Any,
                                           dialogs: Dialogs) -> None:
    page.goto(session.url)
    question(page)
    for _ in range(8):  # Tab to "No": real buttons, in reading order
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "No":
            break
    assert page.evaluate("document.activeElement.textContent") == "No"
    offer = dialogs.check.nodes["offer_routine"].ask.split("{")[0]  # type: ignore[union-attr]
    for _ in range(40):
        if question(page).startswith(offer):
            break
        before = moment(page)
        assert page.evaluate("document.activeElement.textContent") == "No", \
            "the focus stays on the answer, question after question"
        page.keyboard.press("Enter")
        wait_for_new_moment(page, before)
    page.keyboard.press("Space")  # no exercises: goodbye
    playwright_api.expect(page.locator("#connection")).to_contain_text("finished",
                                                                       timeout=20_000)
    assert session.process.wait(timeout=20) == 0
    heard = session.events("heard")
    assert heard and {h["source"] for h in heard} == {"keyboard"}
    assert [o["disposition"] for o in session.events("outcome")] == ["routine"]
