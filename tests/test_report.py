"""The progress report from eight weeks of sessions: what a caregiver or clinician reads.

The same report in a real browser, on screen and printed, is in test_report_browser.py.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from eight_weeks import TODAY, eight_weeks

from assistant.dialog_data import Dialogs
from assistant.report import ReportData, read_report, render_report


@pytest.fixture(scope="module")
def data(dialogs: Dialogs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportData]:
    history = eight_weeks(dialogs, tmp_path_factory.mktemp("home"))
    yield read_report(history.db, 8, TODAY)
    history.close()


@pytest.fixture(scope="module")
def page(data: ReportData) -> str:
    return render_report(data, "Margaret")


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_sessions_are_counted_per_week_against_the_aim(data: ReportData, page: str) -> None:
    assert data.per_week() == [2, 2, 1, 3, 2, 0, 2, 2]
    text = " ".join(text_of(page).split())
    assert "14 sessions in 8 weeks" in text
    assert "The aim of at least 2 a week was met in 6 of 8 weeks" in text
    assert "09 Nov 2026 0 no" in text  # the week with none, in the table


def test_emergency_and_urgent_outcomes_come_first(page: str) -> None:
    text = " ".join(text_of(page).split())
    top = text.index("Emergency and urgent outcomes")
    assert top < text.index("At a glance") < text.index("Sessions per week")
    serious = text[top:text.index("At a glance")]
    assert "Emergency: told to call for help now You told me about chest pain" in serious
    assert "Urgent: told to call the doctor today You told me about a swollen, warm" in serious
    assert serious.index("Mon 16 Nov 2026") < serious.index("Tue 03 Nov 2026")  # newest first
    assert 'class="alert"' in page


def test_what_stopped_a_routine_and_when(page: str) -> None:
    text = " ".join(text_of(page).split())
    stops = text[text.index("What stopped a routine"):text.index("Warning signs mentioned")]
    assert "Fri 16 Oct 2026, 10:34 Seated leg extension asked to stop: \"stop please\"" in stops
    assert "Tue 03 Nov 2026" in stops and "a red flag: \"my chest hurts\"" in stops


def test_exercises_completed_against_planned(data: ReportData, page: str) -> None:
    text = " ".join(text_of(page).split())
    assert "70 of 84 planned exercises completed" in text
    assert "Wed 21 Oct 2026, 10:30 6 of 7 1 1" in text  # the session with a pause and a skip
    assert sum(s.planned > 0 for s in data.sessions) == 12  # not the declined, nor the urgent


def test_every_symptom_check_outcome_with_its_reason(page: str) -> None:
    text = " ".join(text_of(page).split())
    checks = text[text.index("Every symptom check"):]
    assert checks.count("Routine: no warning sign found") == 12  # one a session
    assert checks.count("Emergency:") == 1 and checks.count("Urgent:") == 1


def test_each_chart_is_an_svg_with_a_text_alternative(page: str) -> None:
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)">', page)
    assert len(images) == 2
    for encoded, alt in images:
        svg = base64.b64decode(encoded).decode("utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert len(alt) > 80
    weeks_alt = html.unescape(images[0][1])
    assert "05 Oct: 2" in weeks_alt and "09 Nov: 0" in weeks_alt
    assert "met in 6 of 8 weeks" in weeks_alt
    assert "70 of 84 completed" in html.unescape(images[1][1])


def test_the_page_is_large_print_and_prints(page: str) -> None:
    assert "font-size: 22px" in page and "@media print" in page and "@page" in page
    assert "<script" not in page  # one file, nothing fetched or run
    assert "for Margaret" in page


def test_an_empty_history_still_reports(tmp_path: Path) -> None:
    from assistant.history import History

    history = History.open(tmp_path)
    empty = render_report(read_report(history.db, 4, TODAY))
    text = " ".join(text_of(empty).split())
    assert "0 sessions in 4 weeks" in text and "None in this period." in text
    assert "No routine was started in this period." in text
    history.close()


def test_each_exercise_with_its_repetitions_and_holds(data: ReportData, page: str) -> None:
    rows = {e.name: e for e in data.exercises}
    extension = rows["Seated leg extension"]
    assert (extension.planned, extension.completed, extension.skipped) == (12, 9, 2)
    assert extension.holds_planned == extension.reps_planned  # a hold on every repetition
    assert 0 < extension.reps_done < extension.reps_planned  # the stopped session's few reps
    circles = rows["Ankle circles"]
    assert (circles.planned, circles.completed, circles.holds_planned) == (12, 11, 0)
    text = " ".join(text_of(page).split())
    assert f"Seated leg extension 9 of 12 2 {extension.reps_done} of {extension.reps_planned}" \
        in text
