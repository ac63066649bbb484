"""Voice figures measured from outside, on the virtual sound card.

What is played into the microphone and what comes out of the loudspeaker are
both recorded (PulseAudio monitors, one monotonic clock), so the response
gap is "last voiced sample of the answer" to "first audible sample of the
reply", whatever the program believes about itself.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from simulated_user import run_spoken_session, spoken  # noqa: E402
from virtual_audio import (  # noqa: E402
    RATE,
    SpeakerRecorder,
    audible_segments,
    read_wav,
    resample,
    rig_while,
    to_int16,
)

CLIPS = Path(os.environ.get("SPEECH_CLIPS", REPO_ROOT.parent / "shared" / "speech" /
                            "speech_commands_dev"))
FAST = ("--rate", "190")


class _MicMonitor:
    """Lets SpeakerRecorder record what the simulated user played into the microphone."""

    def __init__(self, rig: Any) -> None:
        self.speaker_monitor = f"{rig.mic_feed}.monitor"


def real_no_clips(count: int) -> list[np.ndarray]:
    """Real people saying "no" (Speech Commands, CC BY 4.0), padded like a real turn."""
    with open(CLIPS / "manifest.csv", encoding="utf-8") as manifest:
        rows = [r for r in csv.DictReader(manifest) if r["label"] == "no"]
    clips = []
    for row in rows:
        samples, rate = read_wav(CLIPS / row["path"])
        audio = resample(samples.astype(np.float32) / 32768, rate, RATE)
        if cut_off(audio):
            continue  # the one-second recording ends mid-word: not a whole answer
        audio = audio / max(1e-3, float(np.max(np.abs(audio)))) * 0.5
        pad = np.zeros(int(0.2 * RATE), np.float32)
        clips.append(to_int16(np.concatenate([pad, audio, pad])))
        if len(clips) == count:
            break
    return clips


def cut_off(audio: np.ndarray, window_s: float = 0.05) -> bool:
    """Whether the recording stops while the word is still loud (within 20 dB of its peak)."""
    n = int(window_s * RATE)
    windows = [float(np.sqrt(np.mean(audio[i:i + n] ** 2))) for i in range(0, len(audio) - n, n)]
    return bool(windows) and windows[-1] > 0.1 * max(windows)


def response_gaps(answers: int, tmp: Path, extra: tuple[str, ...] = (),
                  also: Any = None) -> tuple[list[float], float, int]:
    """(gaps in ms, peak RSS in MB, answers not noticed) over `answers` spoken answers.

    Half the answers are real voices, half synthesized, all "no" to symptom
    questions. A session is ended once its last answer has had time for a
    reply, or when a misheard answer led out of the questions (the gap after
    an answer the dialog did not expect would measure something else).
    `extra`: more options for run.py; `also`: one more watcher of each session.
    """
    real = real_no_clips(answers) if CLIPS.exists() else []
    gaps: list[float] = []
    peak = PeakMemory()
    unnoticed = 0
    with rig_while("bench") as rig:
        for attempt in range(4):
            folder = tmp / f"session{attempt}"
            folder.mkdir(parents=True, exist_ok=True)
            wanted = answers - len(gaps)
            mic = SpeakerRecorder(_MicMonitor(rig)).start()  # type: ignore[arg-type]
            try:
                watch = peak.then(_end_after(wanted))
                session = run_spoken_session(rig, _answering_no(real, wanted, len(gaps)), folder,
                                             extra=(*FAST, *extra), timeout=600,
                                             during=watch if also is None else _both(watch, also))
            finally:
                mic.stop()
            gaps += _gaps(mic, session)
            unnoticed += noticed_answers(session).count(False)
            if len(gaps) >= answers:
                break
    return gaps[:answers], peak.mb, unnoticed


def _both(first: Any, second: Any) -> Any:
    def watch(session: Any, proc: subprocess.Popen[bytes]) -> None:
        first(session, proc)
        second(session, proc)

    return watch


def _answering_no(real: list[np.ndarray], wanted: int, first: int = 0) -> Any:
    """Answers "no" to `wanted` symptom questions (every other one a real recording)."""
    given = 0

    def script(state: str, count: int) -> Any:
        nonlocal given
        if not state.startswith("check.") or given >= wanted:
            return None
        given += 1
        number = first + given
        if real and number % 2 == 0:
            return real[(number // 2) % len(real)]
        return spoken("no", 150)  # synthesized (a bare "no" would be the tests' recording)

    return script


def _end_after(answers: int, reply_s: float = 4.0) -> Any:
    def watch(session: Any, proc: subprocess.Popen[bytes]) -> None:
        states = session.of_type("state")
        left = bool(states) and not states[-1]["name"].startswith("check.")
        done = len(session.answered) >= answers
        if (left or (done and time.monotonic() > session.answered[-1][0] + reply_s)) \
                and proc.poll() is None:
            proc.terminate()

    return watch


class PeakMemory:
    """Follows a running session's peak resident memory (VmHWM) from /proc."""

    def __init__(self) -> None:
        self.mb = 0.0

    def __call__(self, session: Any, proc: subprocess.Popen[bytes]) -> None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            return
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self.mb = max(self.mb, int(line.split()[1]) / 1024)

    def then(self, other: Any) -> Any:
        def both(session: Any, proc: subprocess.Popen[bytes]) -> None:
            self(session, proc)
            other(session, proc)

        return both


def _gaps(mic: SpeakerRecorder, session: Any) -> list[float]:
    """Gap after each answer the assistant noticed.

    An answer it never noticed (the transcript shows silence for that turn) has
    no reply to time; `unnoticed_answers` counts those instead of a long gap.
    """
    spoken_in = audible_segments(mic.samples(), RATE)
    speaker = session.recorder
    played = audible_segments(session.speaker, RATE)
    starts = [speaker.time_at(start) for start, _ in played]
    gaps = []
    for (_, end), noticed in zip(spoken_in, noticed_answers(session), strict=False):
        answer_end = mic.time_at(end)
        reply = next((s for s in starts if s > answer_end), None)
        if noticed and reply is not None and reply - answer_end < 10:
            gaps.append((reply - answer_end) * 1000)
    return gaps


def noticed_answers(session: Any) -> list[bool]:
    """For each answer played into the microphone, in order: did the assistant hear speech?"""
    answered_in = {state for _, state, _ in session.answered}
    noticed: list[bool] = []
    state, waiting = "", False
    for event in session.events:
        if event["type"] == "state":
            state = event["name"]
        elif event["type"] == "listen":
            waiting = state in answered_in
        elif event["type"] == "heard" and waiting:
            noticed.append(event["text"] is not None)
            waiting = False
    return noticed


def cold_start(runs: int, tmp: Path) -> list[float]:
    """Seconds from launching run.py to the first audible sample of the greeting."""
    times = []
    with rig_while("cold") as rig:
        for n in range(runs):
            with SpeakerRecorder(rig) as recorder:
                launched = time.monotonic()
                proc = subprocess.Popen(
                    [sys.executable, str(REPO_ROOT / "run.py"), "--once", "--engine",
                     "pocketsphinx", "--input-device", rig.input_device, "--output-device",
                     rig.output_device, *FAST],
                    cwd=REPO_ROOT, env={**os.environ, **rig.env(),
                                        "XDG_CACHE_HOME": str(tmp / f"cold{n}")},
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                heard = recorder.wait_for_sound(timeout=20)
                proc.kill()
                proc.wait()
                if heard is not None:
                    times.append(recorder.time_at(heard) - launched)
    return times


def idle_cost(seconds: float, noisy: bool, tmp: Path) -> float:
    """CPU of the waiting assistant (percent of one core) in a silent or noisy room."""
    with rig_while("idle") as rig:
        proc = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "run.py"), "--engine", "pocketsphinx",
             "--input-device", rig.input_device, "--output-device", rig.output_device],
            cwd=REPO_ROOT, env={**os.environ, **rig.env(), "XDG_CACHE_HOME": str(tmp / "idle")},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)  # start-up is measured by cold_start, not here
        before = _cpu_seconds(proc.pid)
        started = time.monotonic()
        player = None
        if noisy:
            noise = _noise(seconds)
            from virtual_audio import play_into_mic

            player = play_into_mic(rig, noise, wait=False)
        time.sleep(seconds)
        used = _cpu_seconds(proc.pid) - before
        elapsed = time.monotonic() - started
        if player is not None:
            player.stop()
        proc.kill()
        proc.wait()
    return 100 * used / elapsed


def _noise(seconds: float) -> np.ndarray:
    """Room noise from the _silence_ clips, looped; chatter-like words from _unknown_."""
    parts = []
    for label in ("_silence_", "_unknown_"):
        folder = CLIPS / label
        for path in sorted(folder.glob("*.wav"))[:10] if folder.exists() else []:
            samples, rate = read_wav(path)
            parts.append(resample(samples.astype(np.float32) / 32768, rate, RATE))
    if not parts:
        parts = [np.random.default_rng(0).normal(0, 0.01, RATE).astype(np.float32)]
    loop = np.concatenate(parts)
    reps = int(np.ceil(seconds * RATE / len(loop)))
    return to_int16(np.tile(loop, reps)[: int(seconds * RATE)] * 0.5)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def peak_rss_mb(engine: str, tmp: Path) -> float:
    """Peak resident memory of a whole spoken session (sudden weakness: emergency, goodbye)."""
    tmp.mkdir(parents=True, exist_ok=True)
    with rig_while("rss") as rig:
        def script(state: str, count: int) -> str | None:
            return {"check.sudden_onset": "yes", "emergency": "goodbye"}.get(state)

        peak = PeakMemory()
        run_spoken_session(rig, script, tmp, extra=(*FAST, "--engine", engine), timeout=300,
                           during=peak)
    return peak.mb
