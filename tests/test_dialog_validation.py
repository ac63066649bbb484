"""A clinician's typo stops start-up with one clear message: the file, the line, the problem.

Each test copies dialogs/ to a temporary folder, breaks one thing, and checks
the DialogError it gives.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.dialog_data import DEFAULT_DIALOG_DIR, DIALOG_FILES, DialogError, load_dialogs

SHARED = Path("/work/shared")
BRIEF = SHARED / "content" / "brief.md"
SEEDS = SHARED / "seeds"


def broken(tmp_path: Path, file: str, old: str, new: str | None, after: str = "") -> Path:
    """Copy dialogs/ and replace the first `old` after `after` in `file` (None: drop its line)."""
    folder = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOG_DIR, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    at = text.index(old, text.index(after) if after else 0)
    if new is None:
        start, end = text.rfind("\n", 0, at) + 1, text.index("\n", at) + 1
        path.write_text(text[:start] + text[end:], encoding="utf-8")
    else:
        path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")
    return folder


def line_of(folder: Path, file: str, needle: str, after: str = "") -> int:
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def error_of(folder: Path) -> str:
    with pytest.raises(DialogError) as caught:
        load_dialogs(folder)
    return str(caught.value)


def assert_names(message: str, file: str, line: int | None, problem: str) -> None:
    assert len(message.splitlines()) == 1, f"one problem, one message:\n{message}"
    assert file in message, message
    if line is not None:
        assert re.search(rf"\bline {line}\b", message), message
    assert problem in message, message


def test_the_real_dialogs_load() -> None:
    dialogs = load_dialogs()
    assert dialogs.check.start in dialogs.check.nodes
    assert dialogs.emergency.steps and dialogs.routine.exercises


def test_unknown_key(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", '    topic: "a drooping or numb face"\n',
                    '    topic: "a drooping or numb face"\n    colour: blue\n')
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "colour: blue"), "unknown key 'colour'")


@pytest.mark.parametrize("key", ["ask", "simpler", "topic"])
def test_a_question_missing_its_prompt(tmp_path: Path, key: str) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", f"    {key}: ", None, after="  face:")
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "  face:"), f"'{key}' is missing")


def test_a_shared_clinical_prompt_missing_its_source(tmp_path: Path) -> None:
    folder = broken(tmp_path, "phrases.yaml", "    source: ", None, after="goodbye_safety_net:")
    assert_names(error_of(folder), "phrases.yaml",
                 line_of(folder, "phrases.yaml", "goodbye_safety_net:"), "'source' is missing")


def test_an_exercise_condition_that_is_not_a_setup_question(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "    only_if: can_stand", "    only_if: can_walk")
    message = error_of(folder)
    assert "routine.yaml" in message and "only_if" in message


def test_the_check_in_missing_its_question(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "  ask: ", None, after="\ncheck_in:")
    assert_names(error_of(folder), "routine.yaml", line_of(folder, "routine.yaml", "check_in:"),
                 "'ask' is missing")


def test_a_destination_that_does_not_exist(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", "if_no: next", "if_no: paralysis_check",
                    after="  cannot_move:")
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "if_no: paralysis_check"),
                 "goes to 'paralysis_check', which does not exist")


def test_next_after_the_last_question(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "if_no_answer: goodbye", "if_no_answer: next",
                    after="  ready:")
    assert_names(error_of(folder), "routine.yaml",
                 line_of(folder, "routine.yaml", "if_no_answer: next"), "nothing follows")


@pytest.mark.parametrize("key", ["if_yes", "if_no_answer"])
def test_a_question_without_its_answers(tmp_path: Path, key: str) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", f"    {key}: ", None, after="  speech:")
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "  speech:"), f"'{key}' is missing")


def test_an_exercise_without_timing(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "    rep_seconds: ", None,
                    after="id: leg_extension")
    assert_names(error_of(folder), "routine.yaml",
                 line_of(folder, "routine.yaml", "id: leg_extension"), "'rep_seconds' is missing")


def test_an_exercise_with_a_negative_time(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "    hold_seconds: 20", "    hold_seconds: -20",
                    after="id: hamstring_stretch")
    assert_names(error_of(folder), "routine.yaml",
                 line_of(folder, "routine.yaml", "hold_seconds: -20"), "greater than or equal to 0")


def test_invalid_yaml(tmp_path: Path) -> None:
    folder = broken(tmp_path, "emergency.yaml", '  opening: "This could be an emergency."',
                    '  opening: "This could be an emergency.')
    message = error_of(folder)
    assert_names(message, "emergency.yaml", None, "not valid YAML")
    assert re.search(r"line \d+, column \d+", message)


def test_bad_indentation(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", '    simpler: "Is one side',
                    '   simpler: "Is one side')
    message = error_of(folder)
    assert_names(message, "symptom_check.yaml", None, "not valid YAML")
    bad = line_of(folder, "symptom_check.yaml", '   simpler: "Is one side')
    line = int(re.search(r"line (\d+)", message).group(1))  # type: ignore[union-attr]
    assert bad <= line <= bad + 1, message


@pytest.mark.parametrize("file", DIALOG_FILES)
def test_a_missing_file(tmp_path: Path, file: str) -> None:
    folder = broken(tmp_path, file, "", "")
    (folder / file).unlink()
    assert_names(error_of(folder), file, None, "file is missing")


def test_an_unknown_placeholder(tmp_path: Path) -> None:
    folder = broken(tmp_path, "emergency.yaml", "Call {emergency_number} now.",
                    "Call {emergency_numbr} now.")
    assert_names(error_of(folder), "emergency.yaml",
                 line_of(folder, "emergency.yaml", "{emergency_numbr}"),
                 "unknown placeholder {emergency_numbr}")


def test_a_placeholder_without_its_closing_brace(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", "call {emergency_number} at once",
                    "call {emergency_number at once")
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "{emergency_number at once"),
                 "broken placeholder")


def test_an_answer_that_means_yes_and_no(tmp_path: Path) -> None:
    folder = broken(tmp_path, "phrases.yaml", '"yes": [yes, ', '"yes": [yes, nope, ')
    first = line_of(folder, "phrases.yaml", '"yes": [yes, nope')
    assert_names(error_of(folder), "phrases.yaml", line_of(folder, "phrases.yaml", '"no": [no'),
                 f"phrase 'nope' for 'no' already means 'yes' (phrases.yaml, line {first})")


def test_a_stop_sign_that_is_also_a_command(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "phrases: [pain, ", "phrases: [pain, skip it, ")
    assert_names(error_of(folder), "routine.yaml",
                 line_of(folder, "routine.yaml", "phrases: [pain, skip it"),
                 "phrase 'skip it' for 'pain' already means 'skip' (phrases.yaml, line ")


def test_a_source_that_names_neither_brief_nor_seed(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", 'source: "brief §1 Blocked leg artery"',
                    'source: "my own notes"')
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "my own notes"),
                 "must name the brief")


@pytest.mark.parametrize("file", DIALOG_FILES)
def test_every_source_is_checked(tmp_path: Path, file: str) -> None:
    folder = broken(tmp_path, file, "", "")
    path = folder / file
    text, count = re.subn(r'source: ".*"', 'source: "my own notes"', path.read_text("utf-8"))
    if not count:
        pytest.skip(f"{file} names no sources")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DialogError) as caught:
        load_dialogs(folder)
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if "my own notes" in line]
    message = str(caught.value)
    assert len(message.splitlines()) == len(lines), message
    for line in lines:
        assert f"line {line} " in message, f"source on line {line} not checked:\n{message}"


def test_a_question_name_written_twice(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", "  arm:\n", "  face:\n")
    second = [i + 1 for i, line in enumerate(
        (folder / "symptom_check.yaml").read_text("utf-8").splitlines()) if line == "  face:"][1]
    assert_names(error_of(folder), "symptom_check.yaml", second, "'face' is written twice")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(file=st.sampled_from(DIALOG_FILES), where=st.floats(0, 1, exclude_max=True),
       cut=st.integers(1, 40))
def test_any_damage_is_a_dialog_error_or_loads(tmp_path: Path, file: str, where: float,
                                               cut: int) -> None:
    """Delete some characters anywhere: the result loads, or says what is wrong; never a crash."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path)) / "dialogs"
    shutil.copytree(DEFAULT_DIALOG_DIR, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    at = int(where * len(text))
    path.write_text(text[:at] + text[at + cut:], encoding="utf-8")
    try:
        load_dialogs(folder)
    except DialogError as exc:
        assert file in str(exc)


# --- The sources name real seeds and brief sections ----------------------------------------


def _source_texts(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (
            [item] if key == "source" and isinstance(item, str) else _source_texts(item))]
    if isinstance(value, list):
        return [text for item in value for text in _source_texts(item)]
    return []


def _sources() -> list[tuple[str, str]]:
    return [(file, text) for file in DIALOG_FILES for text in _source_texts(
        yaml.safe_load((DEFAULT_DIALOG_DIR / file).read_text(encoding="utf-8")))]


SOURCES = _sources()


def seed_numbers(source: str) -> list[str]:
    """'seeds 000, 003, 004' and 'seed 004 (injuries)' -> the numbers, parentheses aside."""
    numbers = []
    for part in source.split(";"):
        match = re.search(r"\bseeds?\b(.*)", part, re.IGNORECASE)
        if match:
            numbers += re.findall(r"\b(\d{3})\b", re.sub(r"\([^)]*\)", "", match.group(1)))
    return numbers


def test_sources_were_found() -> None:
    assert len(SOURCES) > 30
    assert seed_numbers("brief §1; seeds 000, 003 (a, b), 004") == ["000", "003", "004"]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seeds folder is not here")
def test_every_seed_named_exists() -> None:
    present = {p.name[:3] for p in SEEDS.glob("*.txt")}
    missing = [(file, src) for file, src in SOURCES
               if any(n not in present for n in seed_numbers(src))]
    assert not missing, missing
    assert any(seed_numbers(src) for _, src in SOURCES)


@pytest.mark.skipif(not BRIEF.is_file(), reason="the shared brief is not here")
def test_every_brief_section_named_exists() -> None:
    sections = set(re.findall(r"^## (\d+)\.", BRIEF.read_text(encoding="utf-8"), re.MULTILINE))
    wrong = [(file, src) for file, src in SOURCES
             for n in re.findall(r"§(\d+)", src) if n not in sections]
    assert not wrong, wrong
    named = {n for _, src in SOURCES for n in re.findall(r"§(\d+)", src)}
    assert {"1", "2", "5", "6"} <= named
