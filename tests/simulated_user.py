"""A simulated user for voice-mode tests: speaks answers into the virtual microphone.

It runs `run.py` (voice mode) on the virtual sound card, follows the
assistant's transcript, and whenever the microphone opens (a `listen` event)
plays the answer its script gives for the current state, synthesized by
espeak-ng in a voice unlike the assistant's. Everything the assistant says is
recorded from the loudspeaker's monitor, so tests judge what was audible.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from virtual_audio import (
    RATE,
    SpeakerRecorder,
    VirtualAudio,
    play_into_mic,
    read_wav,
    resample,
    to_int16,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
USER_VOICE = "en"  # British English: unlike the assistant's US voice
# (state, how many times asked there) -> words to say, or recorded audio (16 kHz), or None
Script = Callable[[str, int], "str | npt.NDArray[np.int16] | None"]


# Answers said by a real person rather than synthesized: the Speech Commands v0.02 recording
# (CC BY 4.0, tests/clips/speech_commands/LICENSE) of "no" that pocketsphinx hears surest at
# the red-flag questions (1.00 at five of them, each with three onsets 10 ms apart; eSpeak's
# "no" 0.84-0.99 there, and in the virtual sound card as low as 0.54 when two voice sessions
# ran at once). A flow test answering "no" two dozen times must not hinge on one word's luck:
# an unclear answer to a red flag rightly ends the check in the call-911 guidance.
RECORDED = {"no": REPO_ROOT / "tests" / "clips" / "speech_commands" / "no" /
            "1acc97de_nohash_0.wav"}


@cache
def spoken(text: str, speed: int | None = None) -> npt.NDArray[np.int16]:
    """The simulated user's words as 16 kHz audio, with a little silence around them
    (a person's recording for the words in `RECORDED`, unless a speed is asked for)."""
    if speed is None and text in RECORDED:
        samples, rate = read_wav(RECORDED[text])
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "said.wav"
            subprocess.run(["espeak-ng", "-v", USER_VOICE, "-s", str(speed or 150), "-w",
                            str(path), text], check=True, capture_output=True)
            samples, rate = read_wav(path)
    audio = resample(samples.astype(np.float32) / 32768, rate, RATE)
    pad = np.zeros(int(0.2 * RATE), dtype=np.float32)
    return to_int16(np.concatenate([pad, audio, pad]))


@dataclass
class SpokenSession:
    """One voice-mode session with its transcript, speaker recording and exit code."""

    events: list[dict[str, Any]] = field(default_factory=list)
    speaker: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    speaker_started: float = 0.0
    exit_code: int | None = None
    stderr: str = ""
    answered: list[tuple[float, str, str]] = field(default_factory=list)  # (time, state, text)
    recorder: SpeakerRecorder | None = None  # maps speaker sample indexes to monotonic time

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    @property
    def dispositions(self) -> list[str]:
        return [e["disposition"] for e in self.of_type("outcome")]


class Assistant:
    """The assistant's process as a watcher sees it. `terminate()` ends it a moment later:
    a line is written to the transcript as said when the player has handed over its last
    sample, which then still has the sound system's buffer to go through before it is in
    the loudspeaker recording; ended at once, the test would judge a clipped line."""

    TAIL_S = 0.6

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.end_at: float | None = None

    def poll(self) -> int | None:
        return self.proc.poll()

    def terminate(self) -> None:
        if self.end_at is None:
            self.end_at = time.monotonic() + self.TAIL_S

    def end_if_due(self) -> None:
        if self.end_at is not None and time.monotonic() >= self.end_at and self.poll() is None:
            self.proc.terminate()


Watcher = Callable[[SpokenSession, Assistant], None]


def run_spoken_session(rig: VirtualAudio, script: Script, tmp: Path, *, timeout: float = 240,
                       extra: tuple[str, ...] = (), during: Watcher | None = None,
                       engine: str = "pocketsphinx") -> SpokenSession:
    """Run `run.py --once` by voice, answering by `script`, until it exits (`engine`: the
    recognizer; "auto" is what a user gets without choosing)."""
    transcript = tmp / "voice.jsonl"
    args = [sys.executable, str(REPO_ROOT / "run.py"), "--once", "--engine", engine,
            "--input-device", rig.input_device, "--output-device", rig.output_device,
            "--transcript", str(transcript), "--reply-pause", "0", *extra]
    env = {**os.environ, **rig.env(), "XDG_CACHE_HOME": str(tmp / "cache")}
    result = SpokenSession()
    asked: dict[str, int] = {}
    state = "start"
    seen = 0
    with SpeakerRecorder(rig) as recorder:
        result.recorder = recorder
        result.speaker_started = time.monotonic()
        proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assistant = Assistant(proc)
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                text = transcript.read_text(encoding="utf-8") if transcript.exists() else ""
                lines = text.splitlines()
                for line in lines[seen:]:
                    if not line.endswith("}"):
                        break  # still being written
                    event = json.loads(line)
                    seen += 1
                    result.events.append(event)
                    if event["type"] == "state":
                        state = event["name"]
                    elif event["type"] == "listen":
                        count = asked.get(state, 0)
                        asked[state] = count + 1
                        answer = script(state, count)
                        if isinstance(answer, np.ndarray):
                            result.answered.append((time.monotonic(), state, "(recording)"))
                            play_into_mic(rig, answer, wait=True)
                        elif answer:
                            result.answered.append((time.monotonic(), state, answer))
                            play_into_mic(rig, spoken(answer), wait=True)
                if during is not None:
                    during(result, assistant)
                assistant.end_if_due()
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
            _, err = proc.communicate(timeout=10)
            result.stderr = err.decode(errors="replace")
            result.exit_code = proc.returncode
            result.speaker = recorder.stop()
    if transcript.exists():
        lines = transcript.read_text(encoding="utf-8").splitlines()
        result.events += [json.loads(line) for line in lines[seen:] if line.endswith("}")]
    return result
