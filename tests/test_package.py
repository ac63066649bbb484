"""The package is self-contained: a built wheel, installed in a fresh virtualenv (not
editable), runs a text session from any folder, with its dialogs, clinical reference and
the screen's page."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_runs_a_session(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(wheels), str(REPO)], check=True, capture_output=True, timeout=600)
    wheel = next(wheels.glob("leg_assistant-*.whl"))
    fresh = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                                "get_paths()['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    # The wheel alone goes in; its dependencies come from the project's virtualenv, added
    # after it on the path (a .pth line adds a folder, not the editable install's finder).
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(wheel)], check=True, capture_output=True,
                   timeout=300)
    (site / "zz_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import assistant; print(assistant.__file__)"],
                           cwd=elsewhere, check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(site)), where  # the installed copy, not the checkout
    script = subprocess.run([str(python), "-c", "from importlib.metadata import entry_points; "
                             "print(entry_points(group='console_scripts')['leg-assistant'].value)"],
                            cwd=elsewhere, check=True, capture_output=True, text=True).stdout
    assert script.strip() == "assistant.cli:main"  # what `leg-assistant` runs
    page = subprocess.run([str(python), "-c", "from assistant.screen.server import STATIC; "
                           "print(sorted(p.name for p in STATIC.iterdir()))"],
                          cwd=elsewhere, check=True, capture_output=True, text=True).stdout
    assert page.strip() == "['index.html', 'screen.css', 'screen.js']"  # the screen's page
    run = subprocess.run([str(python), "-m", "assistant.cli", "--text", "--time-scale", "0"],
                         cwd=elsewhere, input="yes\n", capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Please call 911 now, or ask someone near you to call." in run.stdout
    assert "file is missing" not in run.stderr
