"""`run.py --learn-voice` on the virtual sound card: asked aloud, answered aloud, learned.

The assistant runs as its own process on PulseAudio null sinks; each time it prints that it
is listening for a word, the simulated user (espeak-ng, a voice unlike the assistant's)
says that word into the virtual microphone. What a person notices: the requests are
audible, every word is asked for twice (once more if heard as another), the takes are kept,
the learned voice is checked, and the person is told whether it will be used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from simulated_user import REPO_ROOT, spoken
from speaker_check import presence, prompt_audio
from virtual_audio import (
    SpeakerRecorder,
    VirtualAudio,
    play_into_mic,
    pulseaudio_installed,
    require_rig,
    rig_while,
)

from assistant.asr.adaptation import missing_tools
from assistant.dialog_data import Dialogs
from assistant.voice_learning import CHECK_FILE, TRANSFORM_FILE, TRIES_PER_TAKE, VOICE_FOLDER

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not pulseaudio_installed(),
                       reason="PulseAudio is not installed (scripts/setup.sh installs it)"),
    pytest.mark.skipif(bool(missing_tools()), reason="sphinxtrain, sphinxbase-utils or "
                       "pocketsphinx (Debian) missing: scripts/setup-system.sh"),
]
RATE_WPM = 190
PRESENT = 0.25  # as in test_voice_e2e: a prompt's sound against its best match
TIMEOUT_S = 300


@pytest.fixture(scope="module")
def rig() -> Iterator[VirtualAudio]:
    require_rig()
    with rig_while("learn") as audio:
        yield audio


def test_a_voice_is_learned_by_voice_and_the_person_is_told_the_result(
        rig: VirtualAudio, dialogs: Dialogs, tmp_path: Path) -> None:
    lines = dialogs.phrases.voice_learning
    data = tmp_path / "data"
    args = [sys.executable, str(REPO_ROOT / "run.py"), "--learn-voice",
            "--input-device", rig.input_device, "--output-device", rig.output_device,
            "--data-dir", str(data), "--rate", str(RATE_WPM)]
    env = {**os.environ, **rig.env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    asked: list[str] = []
    with SpeakerRecorder(rig) as recorder:
        proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watchdog = threading.Timer(TIMEOUT_S, proc.kill)
        watchdog.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("Listening for: "):
                    word = line.removeprefix("Listening for: ").strip()
                    asked.append(word)
                    play_into_mic(rig, spoken(word), wait=True)
            code = proc.wait(timeout=60)
            errors = proc.stderr.read() if proc.stderr is not None else ""
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
        speaker = recorder.stop()
    assert code in (0, 1), errors
    # every word asked for twice, each at most once more when heard as something else
    assert asked[:len(lines.words)] == lines.words, errors
    assert all(lines.takes <= asked.count(w) <= lines.takes * TRIES_PER_TAKE
               for w in lines.words), (asked, errors)
    check = json.loads((data / VOICE_FOLDER / CHECK_FILE).read_text(encoding="utf-8"))
    wanted = len(lines.words) * lines.takes
    assert wanted - 2 <= check["takes"] == check["checked"], (check, errors)
    assert len(list((data / VOICE_FOLDER / "takes").glob("*.wav"))) == check["takes"]
    assert (code == 0) == check["kept"] == (data / VOICE_FOLDER / TRANSFORM_FILE).is_file()
    told = lines.learned if check["kept"] else lines.kept_usual
    for said in (lines.intro, lines.say_word.format(word=lines.words[0]), told):
        assert presence(speaker, prompt_audio(said, RATE_WPM)) >= PRESENT, said
