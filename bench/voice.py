"""Voice figures measured from outside, on the virtual sound card.

What is played into the microphone and what comes out of the loudspeaker are
both recorded (PulseAudio monitors, one monotonic clock), so the response
gap is "last voiced sample of the answer" to "first audible sample of the
reply", whatever the program believes about itself.
"""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from simulated_user import run_spoken_session  # noqa: E402
from virtual_audio import (  # noqa: E402
    RATE,
    SpeakerRecorder,
    audible_segments,
    private_rig,
    read_wav,
    reap_children,
    resample,
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
        rows = [r for r in csv.DictReader(manifest) if r["label"] == "no"][:count]
    clips = []
    for row in rows:
        samples, rate = read_wav(CLIPS / row["path"])
        audio = resample(samples.astype(np.float32) / 32768, rate, RATE)
        audio = audio / max(1e-3, float(np.max(np.abs(audio)))) * 0.5
        pad = np.zeros(int(0.2 * RATE), np.float32)
        clips.append(to_int16(np.concatenate([pad, audio, pad])))
    return clips


def response_gaps(answers: int, tmp: Path) -> list[float]:
    """Gaps (ms) over `answers` spoken answers, half real voices, half synthesized."""
    real = real_no_clips(answers) if CLIPS.exists() else []
    gaps: list[float] = []
    rig = private_rig("bench").start()
    try:
        session_no = 0
        while len(gaps) < answers:
            session_no += 1
            script = _answering_no(real, answers - len(gaps))
            mic = SpeakerRecorder(_MicMonitor(rig)).start()  # type: ignore[arg-type]
            try:
                folder = tmp / f"gap{session_no}"
                folder.mkdir()
                session = run_spoken_session(rig, script, folder, extra=FAST, timeout=600)
            finally:
                mic.stop()
            gaps += _gaps(mic, session)
            if session_no > 4:
                break
    finally:
        reap_children()
        rig.stop()
    return gaps[:answers]


def _answering_no(real: list[np.ndarray], wanted: int) -> Any:
    """Answers "no" (every other one a real recording), then "stop" after `wanted` answers."""
    given = 0

    def script(state: str, count: int) -> Any:
        nonlocal given
        if state.rsplit(".", 1)[-1] in ("running", "paused"):
            return None
        given += 1
        if given > wanted:
            return "stop"
        if real and given % 2 == 0:
            return real[(given // 2) % len(real)]
        return "no"

    return script


def _gaps(mic: SpeakerRecorder, session: Any) -> list[float]:
    spoken_in = audible_segments(mic.samples(), RATE)
    speaker = session.recorder
    played = audible_segments(session.speaker, RATE)
    starts = [speaker.time_at(start) for start, _ in played]
    gaps = []
    for _, end in spoken_in:
        answer_end = mic.time_at(end)
        reply = next((s for s in starts if s > answer_end), None)
        if reply is not None and reply - answer_end < 10:
            gaps.append((reply - answer_end) * 1000)
    return gaps


def cold_start(runs: int, tmp: Path) -> list[float]:
    """Seconds from launching run.py to the first audible sample of the greeting."""
    times = []
    rig = private_rig("cold").start()
    try:
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
    finally:
        reap_children()
        rig.stop()
    return times


def idle_cost(seconds: float, noisy: bool, tmp: Path) -> float:
    """CPU of the waiting assistant (percent of one core) in a silent or noisy room."""
    rig = private_rig("idle").start()
    try:
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
    finally:
        reap_children()
        rig.stop()
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
    rig = private_rig("rss").start()
    try:
        def script(state: str, count: int) -> str | None:
            return {"check.sudden_onset": "yes", "emergency": "goodbye"}.get(state)

        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        run_spoken_session(rig, script, tmp, extra=(*FAST, "--engine", engine), timeout=300)
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    finally:
        reap_children()
        rig.stop()
    return max(before, after) / 1024
