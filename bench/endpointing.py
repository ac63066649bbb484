"""Endpointing side by side: when does each way of listening decide the answer is over?

Run: python -m bench --hearing   (or python -m bench.endpointing; --help for subsets)

The same spoken answers go to:

* this project: the assistant's turn listener (assistant.listening.TurnListener) with
  pocketsphinx and the vocabulary of the dialog's first question (its open phrases
  included: after "i don't" it waits for "know"), at the shipped confidence floor;
* fixed-silence endpointing as the alternatives ship it: the turn ends after a fixed
  stretch of silence, Home Assistant's default 0.7 s and its relaxed 1.25 s, and
  OpenVoiceOS's 0.5 s. They get the same speech detector and the same onset rule as
  this project (assistant.vad: VoiceActivity, 90 ms of voice opens the turn), so only
  the rule for the end differs;
* Pipecat's Smart Turn v3.2, an end-of-turn model, as Pipecat ships it (bench/smart_turn.py):
  after 0.2 s of silence the model hears the turn and "complete" ends it, else it waits for
  more speech or 3 s of silence; the same detector and onset.

Answers (each padded with 1 s of room noise before and 3 s after; the detector hears
2 s of the room first):
* one word: real people's "yes" and "no" (Speech Commands v0.02 test split, Warden 2018,
  CC BY 4.0), as recorded;
* one word, slowed 30 % (sox tempo 0.7);
* two words with a pause of 0.5-1 s: "no ... no", "yes ... yes" by the same speaker
  (bench/rooms.py);
* phrases with a pause inside, synthesized by espeak-ng with an SSML break of 0.6, 0.9
  or 1.2 s, at a slow and a very slow rate, in two voices: "I don't ... know",
  "not ... sure", "call ... nine one one", "I can't ... move my leg", "I'm not ... sure"
  (each a phrase of the dialog's first question).

Figures, per kind of answer and endpointer:
* response gap: from the end of the answer's speech (its last 10 ms frame within 40 dB
  of its peak and 12 dB above its floor) to the moment the turn is decided, in audio
  time, plus, for this project, the CPU time of the call that decided (its recognition
  runs then); the fixed-silence endpointers are given no recognition time at all, which
  favours them. Median and 95th percentile over the answers that were not cut off;
* cut off: the turn ended while at least 100 ms of the answer's speech was still to
  come (the speaker was still talking, or was about to go on after a pause);
* heard right (this project only; the others here only endpoint): the final answer means
  what was said.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.asr.base import Recognizer, phrase_key, spoken_words
from assistant.listening import UNINTELLIGIBLE, TurnListener
from assistant.ports import Vocabulary
from assistant.vad import SpeechDetector, SpeechGate, VoiceActivity
from bench.hearing import CLIPS_DIR, SAMPLE_RATE, dialog_vocabulary, load_clips, noise_floor_rms
from bench.micro_vad import MicroVad, micro_vad_available
from bench.rooms import Rooms, pcm_of, samples_of, seed_of, speech_bounds
from bench.silero_vad import SileroVad, silero_available
from bench.smart_turn import (
    ASK_AFTER_MS,
    COMPLETE_ABOVE,
    GIVE_UP_AFTER_MS,
    PRE_SPEECH_MS,
    complete_probability,
    smart_turn_available,
)

FRAME_MS = 30
CUT_TOLERANCE_MS = 100.0
LEAD_S, TAIL_S, PRIME_S = 1.0, 3.0, 2.0
SYNTH_LEVEL = 20.0  # RMS of the room noise around synthesized answers (a quiet room)
FIXED_SILENCE_MS = {"Home Assistant 0.7 s": 700, "Home Assistant relaxed 1.25 s": 1250,
                    "OpenVoiceOS 0.5 s": 500}
PROJECT = "this project (TurnListener)"
PROJECT_MICRO = "this project + microVAD"  # the same listener, micro-vad as its detector
PROJECT_SILERO = "this project + Silero VAD"  # ... and Silero VAD as its detector
PROJECT_MOONSHINE = "this project, Moonshine"  # the same listener, Moonshine recognizing
PROJECT_CROSS = "this project, Moonshine+sphinx"  # ... Moonshine checked by pocketsphinx
SMART_TURN = "Pipecat Smart Turn v3.2"  # an end-of-turn model (bench/smart_turn.py)
ENDPOINTERS = (PROJECT, *FIXED_SILENCE_MS)
LISTENERS: dict[str, Callable[[], SpeechDetector]] = {PROJECT: VoiceActivity,
                                                      PROJECT_MICRO: MicroVad,
                                                      PROJECT_SILERO: SileroVad,
                                                      PROJECT_MOONSHINE: VoiceActivity,
                                                      PROJECT_CROSS: VoiceActivity}
# (first part, rest, what it means): phrases of the first question with a pause inside
PAUSED_PHRASES = (("I don't", "know", "i dont know"), ("not", "sure", "not sure"),
                  ("call", "nine one one", "call nine one one"),
                  ("I can't", "move my leg", "i cant move my leg"),
                  ("I'm not", "sure", "im not sure"))
SYNTH_PAUSES_MS = (600, 900, 1200)
SYNTH_RATES = (110, 85)  # words a minute: slow, very slow (espeak-ng's default is 175)
SYNTH_VOICES = ("en-us", "en")
KINDS = ("one word", "one word, slowed 30%", "two words, 0.5-1 s pause",
         "phrase, 0.6-1.2 s pause (espeak-ng)")


@dataclass(frozen=True)
class Answer:
    """A spoken answer in its turn: the audio, where its speech ends, what it means."""

    kind: str
    audio: bytes
    prime: bytes
    speech_end_ms: float
    meaning: str  # "yes", "no" or the phrase said


@dataclass(frozen=True)
class Decision:
    endpointer: str
    answer: Answer
    ended_ms: float | None  # audio time of the decision (None: never ended)
    cpu_ms: float  # processing of the deciding frame (this project only)
    heard: str | None  # the final answer (this project only)

    @property
    def gap_ms(self) -> float | None:
        if self.ended_ms is None:
            return None
        return self.ended_ms + self.cpu_ms - self.answer.speech_end_ms

    @property
    def cut_off(self) -> bool:
        return (self.ended_ms is not None
                and self.ended_ms < self.answer.speech_end_ms - CUT_TOLERANCE_MS)


def in_turn(kind: str, words: np.ndarray, level: float, meaning: str,
            rng: np.random.Generator, offset: float = 0.0) -> Answer:
    """The answer with room noise around it (and under it, for synthesized speech), on the
    recording's DC `offset` (a microphone's offset goes on around the words)."""
    lead, tail = int(LEAD_S * SAMPLE_RATE), int(TAIL_S * SAMPLE_RATE)
    end = speech_bounds(words)[1]
    audio = offset + np.concatenate([rng.normal(0, level, lead), words - offset,
                                     rng.normal(0, level, tail)])
    prime = offset + rng.normal(0, level, int(PRIME_S * SAMPLE_RATE))
    return Answer(kind, pcm_of(audio), pcm_of(prime), 1000 * (lead + end) / SAMPLE_RATE,
                  meaning)


def clip_answers(clips_dir: Path, per_label: int | None) -> list[Answer]:
    """Real yes/no answers: as recorded, slowed, and said twice with a pause."""
    everything = load_clips(clips_dir)
    rooms = Rooms(everything)
    answers = []
    counts: dict[str, int] = {}
    for clip in everything:
        if clip.label not in ("yes", "no"):
            continue
        counts[clip.label] = counts.get(clip.label, 0) + 1
        if per_label is not None and counts[clip.label] > per_label:
            continue
        recorded = samples_of(clip.pcm)
        level, offset = noise_floor_rms(recorded), float(recorded.mean())
        for kind, speaker in zip(KINDS[:3], ("as recorded", "slowed 30%", "two words"),
                                 strict=True):
            rng = np.random.default_rng(seed_of(clip.path.name, "endpointing", speaker))
            words = rooms.spoken(clip, speaker, rng)
            answers.append(in_turn(kind, words, level, clip.label, rng, offset))
    return answers


def espeak(ssml: str, voice: str, rate: int) -> np.ndarray:
    """16 kHz speech from espeak-ng (SSML, so breaks are honoured)."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.wav"
        subprocess.run(["espeak-ng", "-m", "-v", voice, "-s", str(rate), "-w", str(raw), ssml],
                       check=True, capture_output=True)
        with wave.open(str(raw), "rb") as wav:
            rate_in = wav.getframerate()
            pcm = wav.readframes(wav.getnframes())
    raw_format = ["-t", "raw", "-e", "signed", "-b", "16", "-c", "1"]
    run = subprocess.run(["sox", "-D", *raw_format, "-r", str(rate_in), "-", *raw_format,
                          "-r", str(SAMPLE_RATE), "-"], input=pcm, capture_output=True,
                         check=True)
    return samples_of(run.stdout)


def synthesized_answers(limit: int | None = None) -> list[Answer]:
    """Phrases with a pause inside, slow speech (empty without espeak-ng and sox)."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        return []
    answers = []
    for first, rest, meaning in PAUSED_PHRASES:
        for pause in SYNTH_PAUSES_MS:
            for rate in SYNTH_RATES:
                for voice in SYNTH_VOICES:
                    ssml = f'<speak>{first} <break time="{pause}ms"/> {rest}</speak>'
                    words = espeak(ssml, voice, rate)
                    rng = np.random.default_rng(seed_of(meaning, pause, rate, voice))
                    words = words + rng.normal(0, SYNTH_LEVEL, len(words))
                    answers.append(in_turn(KINDS[3], words, SYNTH_LEVEL, meaning, rng))
    return answers[:limit] if limit is not None else answers


def primed_detector(prime: bytes, make: Callable[[], SpeechDetector] = VoiceActivity
                    ) -> SpeechDetector:
    vad = make()
    size = FRAME_MS * SAMPLE_RATE // 1000 * 2
    for start in range(0, len(prime) - size + 1, size):
        vad.is_speech(prime[start:start + size])
    return vad


def fixed_silence(answer: Answer, name: str, silence_ms: int) -> Decision:
    """The turn ends after `silence_ms` without voice (same detector and onset as ours)."""
    vad = primed_detector(answer.prime)
    gate = SpeechGate(vad, hangover_ms=silence_ms, onset_ms=90, frame_ms=FRAME_MS)
    size = gate.frame_bytes
    for frame_index, start in enumerate(range(0, len(answer.audio) - size + 1, size)):
        if gate.push(answer.audio[start:start + size]).ended:
            return Decision(name, answer, (frame_index + 1) * FRAME_MS, 0.0, None)
    return Decision(name, answer, None, 0.0, None)


def smart_turn(answer: Answer) -> Decision:
    """Pipecat's way: after 0.2 s of silence the model hears the turn so far (from 0.5 s
    before speech began); "complete" ends it, else it waits for more speech (and asks
    again at the next pause) or for 3 s of silence. Same speech detector and onset as
    the others; the model's CPU time is added to the gap, as this project's is."""
    vad = primed_detector(answer.prime)
    gate = SpeechGate(vad, preroll_ms=PRE_SPEECH_MS, onset_ms=90, frame_ms=FRAME_MS)
    size = gate.frame_bytes
    turn: list[bytes] = []
    silent_ms, asked = 0, False
    for frame_index, start in enumerate(range(0, len(answer.audio) - size + 1, size)):
        frame = answer.audio[start:start + size]
        if not turn:
            opened = gate.push(frame)
            turn = list(opened.frames) if opened.started else []
            continue
        turn.append(frame)
        if vad.is_speech(frame):
            silent_ms, asked = 0, False
            continue
        silent_ms += FRAME_MS
        ended_ms = (frame_index + 1) * FRAME_MS
        if silent_ms >= ASK_AFTER_MS and not asked:
            asked = True
            started = time.process_time()
            complete = complete_probability(b"".join(turn)) > COMPLETE_ABOVE
            if complete:
                spent = 1000 * (time.process_time() - started)
                return Decision(SMART_TURN, answer, ended_ms, spent, None)
        if silent_ms >= GIVE_UP_AFTER_MS:
            return Decision(SMART_TURN, answer, ended_ms, 0.0, None)
    return Decision(SMART_TURN, answer, None, 0.0, None)


def turn_listener(answer: Answer, recognizer: Recognizer, vocabulary: Vocabulary,
                  name: str = PROJECT) -> Decision:
    """This project's turn listener, at the recognizer's shipped floor (`name`: which
    speech detector it uses, LISTENERS)."""
    vad = primed_detector(answer.prime, LISTENERS[name])
    listener = TurnListener(recognizer, vad, vocabulary, min_confidence=recognizer.min_confidence)
    size = FRAME_MS * SAMPLE_RATE // 1000 * 2
    for frame_index, start in enumerate(range(0, len(answer.audio) - size + 1, size)):
        started = time.process_time()
        heard = listener.feed(answer.audio[start:start + size])
        if heard is not None:
            spent = 1000 * (time.process_time() - started)
            unsure = heard.confidence is not None and heard.confidence < recognizer.min_confidence
            text = "" if heard.text == UNINTELLIGIBLE or unsure else heard.text
            return Decision(name, answer, (frame_index + 1) * FRAME_MS, spent, text)
    return Decision(name, answer, None, 0.0, None)


def heard_right(decision: Decision, intents: dict[str, tuple[str, ...]]) -> bool:
    if not decision.heard:
        return False
    heard = phrase_key(spoken_words(decision.heard))
    wanted = decision.answer.meaning
    if wanted in intents:
        return heard in {phrase_key(spoken_words(p)) for p in intents[wanted]}
    return heard == phrase_key(spoken_words(wanted))


def available_endpointers() -> list[str]:
    """ENDPOINTERS and, when they are installed, this project with Moonshine, with
    micro-vad and with Silero VAD, and Smart Turn."""
    micro = [] if micro_vad_available() else [PROJECT_MICRO]
    silero = [] if silero_available() else [PROJECT_SILERO]
    moonshine = [PROJECT_MOONSHINE, PROJECT_CROSS] if moonshine_available() else []
    turn_model = [] if smart_turn_available() else [SMART_TURN]
    return [PROJECT, *moonshine, *micro, *silero, *FIXED_SILENCE_MS, *turn_model]


def moonshine_available() -> bool:
    from assistant.asr.base import AsrSetupError
    from assistant.asr.moonshine_engine import bundled_model

    try:
        bundled_model()
    except AsrSetupError:
        return False
    return True


def measure(answers: Sequence[Answer], endpointers: Sequence[str] = ENDPOINTERS
            ) -> tuple[list[Decision], dict[str, tuple[str, ...]]]:
    from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

    vocabulary, intents = dialog_vocabulary()
    sphinx = PocketsphinxRecognizer(partials=False)
    recognizers: dict[str, Recognizer] = {name: sphinx for name in endpointers}
    if PROJECT_MOONSHINE in endpointers or PROJECT_CROSS in endpointers:
        from assistant.asr.cross_checked import CrossCheckedRecognizer
        from assistant.asr.moonshine_engine import MoonshineRecognizer

        recognizers[PROJECT_MOONSHINE] = MoonshineRecognizer()
        recognizers[PROJECT_CROSS] = CrossCheckedRecognizer(
            MoonshineRecognizer(), PocketsphinxRecognizer(partials=False))
    decisions = []
    for answer in answers:
        for name in endpointers:
            if name in LISTENERS:
                decisions.append(turn_listener(answer, recognizers[name], vocabulary, name))
            elif name == SMART_TURN:
                decisions.append(smart_turn(answer))
            else:
                decisions.append(fixed_silence(answer, name, FIXED_SILENCE_MS[name]))
    return decisions, intents


def percentile(values: Sequence[float], p: float) -> float:
    return float(np.percentile(values, p)) if values else math.nan


@dataclass(frozen=True)
class Row:
    kind: str
    endpointer: str
    answers: int
    gap_p50_ms: float
    gap_p95_ms: float
    cut_off: float
    never_ended: int
    heard_right: float | None


def rows(decisions: Sequence[Decision], intents: dict[str, tuple[str, ...]]) -> list[Row]:
    out = []
    kinds = [k for k in KINDS if any(d.answer.kind == k for d in decisions)]
    for kind in [*kinds, "all answers"]:
        for name in dict.fromkeys(d.endpointer for d in decisions):
            group = [d for d in decisions if d.endpointer == name
                     and (kind == "all answers" or d.answer.kind == kind)]
            if not group:
                continue
            gaps = [d.gap_ms for d in group if not d.cut_off and d.gap_ms is not None]
            right = (sum(heard_right(d, intents) for d in group) / len(group)
                     if name in LISTENERS else None)
            out.append(Row(kind, name, len(group), percentile(gaps, 50), percentile(gaps, 95),
                           sum(d.cut_off for d in group) / len(group),
                           sum(d.ended_ms is None for d in group), right))
    return out


def milliseconds(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f}ms"


def format_rows(table: Sequence[Row]) -> str:
    head = (f"{'answers':36} {'endpointer':30} {'n':>4} {'gap p50':>8} {'gap p95':>8} "
            f"{'cut off':>8} {'never':>6} {'heard right':>11}")
    lines = [head, "-" * len(head)]
    kind = ""
    for row in table:
        shown = row.kind if row.kind != kind else ""
        kind = row.kind
        right = f"{row.heard_right:.3f}" if row.heard_right is not None else "n/a"
        lines.append(f"{shown:36} {row.endpointer:30} {row.answers:4d} "
                     f"{milliseconds(row.gap_p50_ms):>8} {milliseconds(row.gap_p95_ms):>8} "
                     f"{row.cut_off:8.3f} {row.never_ended:6d} {right:>11}")
    return "\n".join(lines)


def side_by_side(clips_dir: Path = CLIPS_DIR, per_label: int | None = None,
                 synthesized: int | None = None, out: Callable[[str], None] = print,
                 endpointers: Sequence[str] | None = None) -> list[Row]:
    started = time.perf_counter()
    answers = clip_answers(clips_dir, per_label) + synthesized_answers(synthesized)
    available = available_endpointers()
    chosen = [n for n in available if endpointers is None or n in endpointers]
    for name in FIXED_SILENCE_MS.keys() | set(LISTENERS) | {SMART_TURN}:
        if name not in available and (endpointers is None or name in endpointers):
            out(f"{name} left out: {why_unavailable(name)}")
    decisions, intents = measure(answers, chosen)
    table = rows(decisions, intents)
    out("\nEndpointing side by side: the same answers, this project's turn listener against "
        "fixed-silence endpointing and Pipecat's Smart Turn model (same speech detector and "
        "onset).")
    out(f"Real yes/no clips from {clips_dir} (Speech Commands v0.02, CC BY 4.0) and espeak-ng "
        f"phrases; gap = end of speech to decision (median, 95th percentile, answers not cut "
        f"off); cut off = ended with >= {CUT_TOLERANCE_MS:.0f} ms of the answer still to come; "
        f"never = not ended {TAIL_S:g} s after. ({len(answers)} answers, "
        f"{time.perf_counter() - started:.0f} s)")
    out(format_rows(table))
    return table


def why_unavailable(name: str) -> str:
    if name == SMART_TURN:
        return smart_turn_available()
    if name == PROJECT_MICRO:
        return micro_vad_available()
    if name == PROJECT_SILERO:
        return silero_available()
    return "Moonshine's model is not installed"


def add_arguments(parser: argparse._ActionsContainer) -> None:
    every = len(PAUSED_PHRASES) * len(SYNTH_PAUSES_MS) * len(SYNTH_RATES) * len(SYNTH_VOICES)
    parser.add_argument("--synthesized", type=int,
                        help=f"only the first N synthesized phrases (default: all {every})")


def add_endpointer_argument(parser: argparse._ActionsContainer) -> None:
    names = [PROJECT, PROJECT_MOONSHINE, PROJECT_CROSS, PROJECT_MICRO, PROJECT_SILERO,
             *FIXED_SILENCE_MS, SMART_TURN]
    parser.add_argument("--endpointers", nargs="+", choices=names, metavar="NAME",
                        help="only these endpointers (default: every one available): "
                        + "; ".join(names))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.endpointing",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=Path, default=CLIPS_DIR)
    parser.add_argument("--per-label", type=int, help="only the first N yes and no clips")
    add_arguments(parser)
    add_endpointer_argument(parser)
    args = parser.parse_args(argv)
    side_by_side(args.clips, args.per_label, args.synthesized, endpointers=args.endpointers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
