"""Whatever loads is safe: misspellings and deleted routes in the data, tried one by one.

Every destination, flag and name in dialogs/ is damaged in a copy of the folder; the
copy either stops the start with a message naming the file and the line of the
damage, or it loads, and then the proofs hold (load_dialogs runs them) and the
machine still answers "emergency" with the guidance. Deleting a red flag's route
to the guidance, in any of the ways the data allows, never loads.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.dialog import DialogMachine
from assistant.dialog_data import DEFAULT_DIALOG_DIR, DialogError, Dialogs, load_dialogs
from assistant.flow import GOODBYE, GUIDANCE, HELP
from assistant.flow_proofs import prove
from assistant.ports import Heard

DIALOGS = load_dialogs()
NAMED = ("if_yes", "if_no", "if_unclear", "if_no_answer", "then", "only_if", "start",
         "follow_up", "when_new", "red_flag")


def _named_lines() -> list[tuple[str, int, str]]:
    """(file, line number, line) of every destination, flag and cross-reference."""
    found = []
    for path in sorted(DEFAULT_DIALOG_DIR.glob("*.yaml")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            key = line.strip().split(":", 1)[0].lstrip("- ")
            if key in NAMED and ":" in line and not line.strip().startswith("#"):
                found.append((path.name, number, line))
    return found


NAMED_LINES = _named_lines()
RED_FLAGS = [n for n, q in DIALOGS.question_nodes().items() if q.red_flag]


def damaged(tmp: Path, file: str, number: int, new: str) -> Path:
    folder = tmp / "dialogs"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(DEFAULT_DIALOG_DIR, folder)
    lines = (folder / file).read_text("utf-8").splitlines()
    lines[number - 1] = new
    (folder / file).write_text("\n".join(lines) + "\n", "utf-8")
    return folder


def misspelt(line: str, how: int) -> str:
    key, value = line.split(":", 1)
    word = value.strip()
    spelt = {0: word + "x", 1: word[:-1], 2: word[1:] + word[0], 3: word.replace("_", "")}
    return f"{key}: {spelt[how % 4] or 'x'}"


def assert_safe_or_named(folder: Path, file: str, number: int) -> None:
    try:
        loaded = load_dialogs(folder, reference=DEFAULT_DIALOG_DIR.parent / "docs" /
                              "clinical-reference.md")
    except DialogError as exc:
        message = str(exc)
        assert file in message and re.search(rf"\bline {number}\b", message), message
        return
    assert prove(loaded.graph, loaded) == []
    assert_emergency_works(loaded)


def assert_emergency_works(dialogs: Dialogs) -> None:
    machine = DialogMachine(dialogs)
    machine.start(0.0)
    machine.hear(Heard("emergency"), 1.0)
    assert machine.state == GUIDANCE


def test_the_mutations_cover_every_route_and_flag() -> None:
    keys = {line.strip().split(":", 1)[0] for _, _, line in NAMED_LINES}
    assert {"if_yes", "if_no", "if_unclear", "if_no_answer", "then", "red_flag",
            "only_if", "start", "follow_up", "when_new"} <= keys
    assert len(NAMED_LINES) > 150


@pytest.mark.slow
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(index=st.integers(0, len(NAMED_LINES) - 1), how=st.integers(0, 3))
def test_a_misspelt_name_stops_the_start_at_its_line_or_loads_safe(
        tmp_path: Path, index: int, how: int) -> None:
    file, number, line = NAMED_LINES[index]
    assert_safe_or_named(damaged(tmp_path, file, number, misspelt(line, how)), file, number)


def test_the_misspelling_from_the_review_stops_the_start(tmp_path: Path) -> None:
    """`then: emergncy` in routine.yaml loaded before; now it names the file and line."""
    file, number, line = next((f, n, line) for f, n, line in NAMED_LINES
                              if f == "routine.yaml" and line.strip() == "then: emergency")
    folder = damaged(tmp_path, file, number, line.replace("emergency", "emergncy"))
    with pytest.raises(DialogError, match=rf"routine.yaml, line {number}\b"):
        load_dialogs(folder)


def _red_flag_lines(question: str) -> dict[str, tuple[str, int, str]]:
    lines = (DEFAULT_DIALOG_DIR / "symptom_check.yaml").read_text("utf-8").splitlines()
    start = lines.index(f"  {question}:")
    found = {}
    for number in range(start + 1, len(lines)):
        if lines[number].startswith("  ") and not lines[number].startswith("    "):
            break
        key = lines[number].strip().split(":", 1)[0]
        found[key] = ("symptom_check.yaml", number + 1, lines[number])
    return found


@pytest.mark.slow
@pytest.mark.parametrize("question", RED_FLAGS)
@pytest.mark.parametrize(("key", "new"), [("if_yes", "next"), ("if_unclear", "next"),
                                          ("if_no_answer", "goodbye"), ("red_flag", "false")])
def test_deleting_a_red_flag_route_to_the_guidance_never_loads(
        tmp_path: Path, question: str, key: str, new: str) -> None:
    file, number, line = _red_flag_lines(question)[key]
    destination = line.split(":", 1)[1].strip()
    folder = damaged(tmp_path, file, number, f"    {key}: {new}")
    is_last = question == list(DIALOGS.check.nodes)[-1]
    with pytest.raises(DialogError) as caught:
        load_dialogs(folder)
    assert re.search(rf"symptom_check.yaml, line {number}\b", str(caught.value)) or is_last, (
        destination, str(caught.value))


def test_the_proofs_hold_on_the_real_dialogs() -> None:
    flow = DIALOGS.graph
    assert prove(flow, DIALOGS) == []
    listening = list(flow.listening())
    assert len(listening) > 30
    for name in listening:  # one turn: "emergency"; two: "help", then silence
        emergency, help_route = flow.route(name, "emergency"), flow.route(name, "help")
        assert emergency is not None and emergency.to in (GUIDANCE, None)
        assert name in (HELP, GUIDANCE) or (help_route and help_route.to == HELP)
    assert {r.to for r in flow.routes(GUIDANCE)} <= {None, GOODBYE}


def test_the_data_in_the_folder_is_the_data_tested() -> None:
    for path in DEFAULT_DIALOG_DIR.glob("*.yaml"):
        assert yaml.safe_load(path.read_text("utf-8"))
