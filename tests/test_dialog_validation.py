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

from assistant.dialog import DialogMachine
from assistant.dialog_data import DEFAULT_DIALOG_DIR, DIALOG_FILES, DialogError, load_dialogs
from assistant.flow_proofs import prove
from assistant.ports import Heard


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
                    after="  waiting:")
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
    folder = broken(tmp_path, "emergency.yaml", 'to hear them again."', 'to hear them again.')
    message = error_of(folder)
    assert_names(message, "emergency.yaml", None, "not valid YAML")
    assert re.search(r"line \d+, column \d+", message)


def test_bad_indentation(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", '    simpler: "Since yesterday, even',
                    '   simpler: "Since yesterday, even')
    message = error_of(folder)
    assert_names(message, "symptom_check.yaml", None, "not valid YAML")
    bad = line_of(folder, "symptom_check.yaml", '   simpler: "Since yesterday, even')
    line = int(re.search(r"line (\d+)", message).group(1))  # type: ignore[union-attr]
    assert bad <= line <= bad + 1, message


@pytest.mark.parametrize("file", DIALOG_FILES)
def test_a_missing_file(tmp_path: Path, file: str) -> None:
    folder = broken(tmp_path, file, "", "")
    (folder / file).unlink()
    assert_names(error_of(folder), file, None, "file is missing")


def test_an_unknown_placeholder(tmp_path: Path) -> None:
    folder = broken(tmp_path, "emergency.yaml", "Please call {emergency_number} now,",
                    "Please call {emergency_numbr} now,")
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
    folder = broken(tmp_path, "understanding.yaml", '"yes": [yes, ', '"yes": [yes, nope, ')
    first = line_of(folder, "understanding.yaml", '"yes": [yes, nope')
    assert_names(error_of(folder), "understanding.yaml",
                 line_of(folder, "understanding.yaml", '"no": [no'),
                 f"phrase 'nope' for no already means yes (line {first})")


def test_a_command_that_is_also_an_answer(tmp_path: Path) -> None:
    folder = broken(tmp_path, "understanding.yaml", "  skip: [skip, ", "  skip: [skip, nope, ")
    assert_names(error_of(folder), "understanding.yaml",
                 line_of(folder, "understanding.yaml", "  skip: [skip, nope"),
                 "phrase 'nope' for command skip already means no")


def test_a_phrase_that_names_two_symptoms(tmp_path: Path) -> None:
    folder = broken(tmp_path, "understanding.yaml", "phrases: [dizzy, ",
                    "phrases: [dizzy, chest pain, ")
    assert_names(error_of(folder), "understanding.yaml",
                 line_of(folder, "understanding.yaml", "phrases: [dizzy, chest pain"),
                 "phrase 'chest pain' for symptom dizziness already means symptom chest_pain")


def test_a_phrase_that_is_a_symptom_and_no_symptom(tmp_path: Path) -> None:
    folder = broken(tmp_path, "understanding.yaml", "phrases: [unwell, ",
                    "phrases: [unwell, fed up, ")
    assert_names(error_of(folder), "understanding.yaml",
                 line_of(folder, "understanding.yaml", "phrases: [unwell, fed up"),
                 "phrase 'fed up' for symptom unwell already means no symptom")


def test_feeling_unwell_asks_which_it_is_and_has_no_outcome_of_its_own(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "    then: which\n",
                    "    outcome: urgent\n    then: which\n")
    assert "then: which has no outcome" in error_of(folder)


def test_a_stop_sign_naming_a_symptom_that_does_not_exist(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "symptoms: [pain, ", "symptoms: [pian, ")
    message = error_of(folder)
    assert "routine.yaml" in message and "'pian' is not a symptom in understanding.yaml" in message
    assert re.search(rf"line {line_of(folder, 'routine.yaml', 'symptoms: [pian')}\b", message)


def test_a_red_flag_sent_to_the_doctor_instead_of_911(tmp_path: Path) -> None:
    folder = broken(tmp_path, "routine.yaml", "symptoms: [pain, ",
                    "symptoms: [chest_pain, pain, ")
    message = error_of(folder)
    assert "'chest_pain' is an emergency: its stop sign must go to the guidance" in message


def test_a_red_flag_whose_unclear_answer_is_routine(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", "if_unclear: emergency",
                    "if_unclear: routine_outcome", after="  arm:")
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "if_unclear: routine_outcome"),
                 "an unclear or missing answer must never lower the care")


def test_a_symptom_that_answers_a_question_that_does_not_exist(tmp_path: Path) -> None:
    folder = broken(tmp_path, "understanding.yaml", "answers: {face: \"yes\"}",
                    "answers: {fase: \"yes\"}")
    message = error_of(folder)
    assert "understanding.yaml" in message and "'fase' is not a question of the dialog" in message


def test_a_citation_of_a_section_the_reference_does_not_have(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", 'source: "clinical reference §1.9"',
                    'source: "clinical reference §1.99"')
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "§1.99"),
                 "cites §1.99, which the clinical reference")


def test_a_source_that_cites_no_section_of_the_reference(tmp_path: Path) -> None:
    folder = broken(tmp_path, "symptom_check.yaml", 'source: "clinical reference §1.9"',
                    'source: "my own notes"')
    assert_names(error_of(folder), "symptom_check.yaml",
                 line_of(folder, "symptom_check.yaml", "my own notes"),
                 "must cite the clinical reference")


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
        loaded = load_dialogs(folder)
    except DialogError as exc:
        assert file in str(exc)
        assert re.search(r"line \d+|file is missing|cannot be read", str(exc)), str(exc)
    else:  # what loads is safe: its flow was proved, and help and emergency still work
        assert prove(loaded.graph, loaded) == []
        machine = DialogMachine(loaded)
        machine.start(0.0)
        machine.hear(Heard("emergency"), 1.0)
        assert machine.state == "emergency"


# --- The sources cite the project's own clinical reference ----------------------------------

REFERENCE = DEFAULT_DIALOG_DIR.parent / "docs" / "clinical-reference.md"


def _source_texts(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (
            [item] if key == "source" and isinstance(item, str) else _source_texts(item))]
    if isinstance(value, list):
        return [text for item in value for text in _source_texts(item)]
    return []


SOURCES = [(file, text) for file in DIALOG_FILES for text in _source_texts(
    yaml.safe_load((DEFAULT_DIALOG_DIR / file).read_text(encoding="utf-8")))]


def test_every_clinical_statement_cites_a_section_that_exists() -> None:
    assert len(SOURCES) > 60
    text = REFERENCE.read_text("utf-8")
    sections = set(re.findall(r"^#+ §(\d+(?:\.\d+)?)\b", text, re.MULTILINE))
    cited = {n for _, src in SOURCES for n in re.findall(r"§(\d+(?:\.\d+)?)", src)}
    assert cited <= sections, cited - sections
    assert {"1.1", "1.4", "2.1", "4.3", "5", "6.6"} <= cited


def test_the_reference_lists_its_public_sources() -> None:
    text = REFERENCE.read_text("utf-8")
    sources = text[text.index("## §8"):]
    assert len(re.findall(r"^\s*\d+\. ", sources, re.MULTILINE)) >= 31
    assert "nice.org.uk" in sources


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('say_word: "Please say: {word}."', 'say_word: "Please say it."', "must contain {word}"),
    ('"repeat"]', '"yes"]', "remove the repeated one"),
    ("  takes: 2", "  takes: 1", "greater than or equal to 2"),
])
def test_voice_learning_that_could_not_check_itself_or_name_the_word_does_not_load(
        tmp_path: Path, old: str, new: str, problem: str) -> None:
    folder = broken(tmp_path, "phrases.yaml", old, new, after="voice_learning:")
    assert_names(error_of(folder), "phrases.yaml", None, problem)
