"""The progress report in a real browser: Debian's Chromium, headless, driven by Playwright
(launched as tests/test_screen_browser.py does). Eight weeks of sessions are rendered; the
charts must load, axe-core must find nothing (with the enhanced 7:1 contrast rule), the
print stylesheet must apply, and the browser's "Print" must make a PDF. The test writes
the screenshot shown in the README (docs/screens/report.png).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import AXE, SCREENS, require_browser
from eight_weeks import TODAY, eight_weeks
from playwright import sync_api as playwright_api

from assistant.dialog_data import Dialogs
from assistant.report import read_report, render_report

REPO = Path(__file__).resolve().parent.parent
require_browser("the report's browser tests")


@pytest.fixture(scope="module")
def report(dialogs: Dialogs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("home")
    history = eight_weeks(dialogs, folder)
    path = folder / "report.html"
    path.write_text(render_report(read_report(history.db, 8, TODAY), "Margaret"), "utf-8")
    history.close()
    return path


@pytest.fixture
def page(browser: Any, report: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1024, "height": 1400})
    page = context.new_page()
    page.goto(report.as_uri())
    yield page
    context.close()


def test_the_report_renders_with_its_charts_and_passes_axe(page: Any) -> None:
    images = page.locator("figure img")
    assert images.count() == 2
    for i in range(2):
        image = images.nth(i)
        assert image.evaluate("img => img.complete && img.naturalWidth > 300"), "a chart is blank"
        assert len(image.get_attribute("alt")) > 80
        assert image.bounding_box()["width"] > 800  # as wide as the page, not a thumbnail
    body_px = float(page.evaluate("getComputedStyle(document.body).fontSize")[:-2])
    assert body_px >= 22
    heading = page.get_by_role("heading", name="Emergency and urgent outcomes")
    assert heading.bounding_box()["y"] < page.get_by_role("heading", name="Sessions per week")\
        .bounding_box()["y"]
    playwright_api.expect(page.locator(".alert")).to_contain_text("You told me about chest pain")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => {
        const r = await axe.run(document, {rules: {'color-contrast-enhanced': {enabled: true}}});
        return r.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.html).slice(0, 2)}));
    }""")
    assert violations == []
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "report.png"), full_page=False)


def test_the_report_prints_on_a4_in_large_print(page: Any, tmp_path: Path) -> None:
    page.emulate_media(media="print")
    points = float(page.evaluate("getComputedStyle(document.body).fontSize")[:-2]) * 0.75
    assert points == pytest.approx(14, abs=0.1)
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    assert 2 <= pages <= 8, pages
