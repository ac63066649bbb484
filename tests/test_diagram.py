"""The flow picture for clinical review: written by `--diagram`, every way into 911 drawn red."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.dialog_data import Dialogs, Question

EDGE = re.compile(r'^\s*"?([\w.]+)"?\s*->\s*"?([\w.]+)"?\s*\[(.*)\]\s*$', re.MULTILINE)


@pytest.fixture(scope="module")
def dot_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("diagram") / "flow.dot"
    assert main(["--diagram", str(path)]) == 0
    return path.read_text(encoding="utf-8")


def edges(source: str) -> list[tuple[str, str, str]]:
    return EDGE.findall(source)


def test_every_edge_into_the_guidance_is_red(dot_source: str) -> None:
    found = edges(dot_source)
    assert found, "no edges in the picture"
    into = [(a, b, style) for a, b, style in found if b == "emergency"]
    assert into
    for source, _, style in into:
        assert "color=red" in style and "penwidth" in style, f"{source} -> emergency not red"
    for source, dest, style in found:
        if dest != "emergency":
            assert "color=red" not in style, f"{source} -> {dest} is red but is not an emergency"


def test_every_red_flag_is_drawn_red(dot_source: str, dialogs: Dialogs) -> None:
    red = {a for a, b, style in edges(dot_source) if b == "emergency" and "color=red" in style}
    flags = {f"check.{name}" for name, q in dialogs.check.nodes.items()
             if isinstance(q, Question) and "emergency" in (q.if_yes, q.if_unclear,
                                                          q.if_no_answer)}
    assert flags and flags <= red
    assert re.search(r"^\s*emergency \[[^\]]*color=red", dot_source, re.MULTILINE)


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz is not installed")
def test_png(tmp_path: Path) -> None:
    path = tmp_path / "flow.png"
    assert main(["--diagram", str(path)]) == 0
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 500 and height > 500


def test_a_broken_dialog_folder_draws_nothing(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "flow.dot"
    assert main(["--diagram", str(path), "--dialogs", str(tmp_path / "nowhere")]) != 0
    assert not path.exists()
    assert "file is missing" in capsys.readouterr().err
