"""Hearing side by side: this project against the alternatives, on the same clips, in one run.

Run: python -m bench --hearing   (or python -m bench.hearing_side; --help for subsets)

The clips are real people (Speech Commands v0.02 test split, Warden 2018,
arXiv:1804.03209, CC BY 4.0: see the LICENSE next to the clips). Every clip is
made into one turn per room and speaker (bench/rooms.py says how, all seeded),
and every recognizer hears exactly the same audio:

* this project: the assistant's own turn listener (assistant.listening.TurnListener:
  speech gate, endpointing, early recognition) with pocketsphinx, its grammar of the
  moment plus the garbage words, and the shipped confidence floor;
* plain JSGF: pocketsphinx with a JSGF grammar of the same phrases and nothing
  else (no garbage words, no confidence floor: whatever it decodes is the answer),
  decoding the whole turn at once (whole-utterance normalisation, the most
  favourable way to run it);
* keyphrase spotting: pocketsphinx's kws search with the same phrases, fed the turn as
  a stream; the first phrase it spots is the answer. Twice: at the library's default
  threshold (kws_threshold 1e-30, out of the box), and at a threshold tuned on other
  clips (KWS_TUNED_THRESHOLD);
* this project with WebRTC noise suppression in front of the recognizer (the
  `webrtc-noise-gain` package, as Home Assistant's voice satellites use it; level
  WEBRTC_NS_LEVEL, no automatic gain): the same turn listener, its speech detector on
  the room as heard, the recognizer on the cleaned audio (cleaned once, in time order,
  from 2 s before the turn, so the suppressor has learned the room);
* this project with SpeexDSP noise suppression in its place (the `speexdsp-ns` package:
  speexdsp's preprocessor at its defaults, denoise only, suppression -15 dB; 10 ms frames),
  in the same place and primed the same way; left out when the package is missing;
* this project + MLLR: the same turn listener and engine, pocketsphinx's model adapted by
  a global MLLR transform (`--mllr PATH`, default models/pocketsphinx-en-us.mllr, made by
  bench/mllr.py; measured in bench/side_by_side.md, not the assistant's default);
  left out when no transform is found;
* this project + microVAD: the same turn listener and pocketsphinx, only its speech
  detector swapped for Home Assistant's neural micro-vad (`pymicro-vad`,
  bench.micro_vad.MicroVad at its shipped threshold); left out when the package is missing;
* this project + Silero VAD: the same, with Silero VAD's ONNX model as the detector
  (bench.silero_vad.SileroVad at its bench setting, run by onnxruntime); left out when
  silero-vad or onnxruntime is missing;
* moonshine tiny: Moonshine's tiny English model (inside the moonshine-voice 0.1.0 wheel)
  through the same turn listener, its transcript of the turn taken only when it is one of
  the phrases (assistant/asr/moonshine_engine.py); left out when the package is missing;
* moonshine + pocketsphinx: the two together as the assistant runs them by default when
  no Vosk model is present (assistant/asr/cross_checked.py), through the same listener;
* Vosk (English) through the same turn listener, when an English Vosk model is
  found the way the assistant finds one (assistant.asr.vosk_models.find_model);
  otherwise its column is left out and the reason printed.

The vocabulary is the 20-phrase yes/no moment of bench.hearing (YES_NO_VOCABULARY).
Figures per cell, each with its number of clips:
  yes/no accuracy: `yes` and `no` clips heard as a phrase meaning that (yes, yeah,
  yep / no, nope), accepted (at or above the floor, for the engines that have one);
  false accepts, other words: `_unknown_` clips taken as any phrase at all;
  false accepts, noise: `_silence_` clips (recorded noise) taken as any phrase;
  real-time factor: CPU time of the turn (detector included) / length of the turn's
  audio.
Ratios are alternative / this project (above 1: the alternative has more of it).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assistant.asr.base import Recognizer, apostrophe_forms, phrase_key, phrase_table
from assistant.ports import Vocabulary
from assistant.vad import SpeechDetector, VoiceActivity
from bench.hearing import (
    CLIPS_DIR,
    DEFAULT_INTENTS,
    FRAME_MS,
    SAMPLE_RATE,
    YES_NO_VOCABULARY,
    Clip,
    Figures,
    Outcome,
    figures,
    heard_in_turn,
    load_clips,
    speaker_half,
)
from bench.micro_vad import MicroVad, micro_vad_available
from bench.rooms import ROOMS, SPEAKERS, Rooms, Turn, known
from bench.silero_vad import SileroVad, silero_available

SIDE_LABELS = ("yes", "no", "_unknown_", "_silence_")
PROJECT = "this project"
PLAIN = "plain JSGF"
KWS_DEFAULT = "kws default"
KWS_TUNED = "kws tuned"
VOSK = "vosk-en"
PROJECT_NS = "this project + WebRTC NS"
PROJECT_SPEEX = "this project + SpeexDSP NS"
PROJECT_MLLR = "this project + MLLR"
PROJECT_MICRO = "this project + microVAD"
PROJECT_SILERO = "this project + Silero VAD"
MOONSHINE = "moonshine tiny"
CROSS_CHECKED = "moonshine + pocketsphinx"
# The same turn listener and engine, only the speech detector swapped:
DETECTORS: dict[str, Callable[[], SpeechDetector]] = {PROJECT_MICRO: MicroVad,
                                                     PROJECT_SILERO: SileroVad}
RECOGNIZERS = (PROJECT, PLAIN, KWS_DEFAULT, KWS_TUNED, PROJECT_NS, PROJECT_SPEEX, PROJECT_MLLR,
               PROJECT_MICRO, PROJECT_SILERO, MOONSHINE, CROSS_CHECKED, VOSK)
GATE_DETECTORS = ("voiced", "micro-vad", "silero")  # --gate: bench.hearing.VAD_CHOICES' names
HALVES = (0, 1)
# Of levels 1, 2 and 4 (no gain; gain 5 dBFS on top changed nothing for the better), 2
# helped most in household noise on the first 20 shared clips of each label.
WEBRTC_NS_LEVEL = 2
NS_CHUNK = SAMPLE_RATE // 100 * 2  # bytes: both suppressors are fed 10 ms at a time
# The keyphrase threshold a user would tune: of 1e-30 (the library's default), 1e-20,
# 1e-10, 1e-5, 1e-3, 0.1, 1, 100, 1e5 and 1e10, the bench's rule (yes/no accuracy - 5 x
# false accepts, bench.hearing.choose_threshold) picked 1e5 on speaker half A of the
# first 20 shared clips of each label, quiet, as recorded (yes/no 0.882, no false
# accepts); on half B: 0.652, no false accepts (1e-30 there: 0.304, every stranger
# and every noise taken for an answer).
KWS_TUNED_THRESHOLD = 1e5
REPO = Path(__file__).resolve().parents[1]


# --- the alternatives -------------------------------------------------------------------


class _Pocketsphinx:
    """A bare pocketsphinx decoder with the bundled US English model."""

    def __init__(self, **settings: Any) -> None:
        import os

        from pocketsphinx import Decoder

        self.decoder = Decoder(lm=None, loglevel="FATAL", logfn=os.devnull,
                               samprate=SAMPLE_RATE, **settings)

    def spelled(self, vocabulary: Vocabulary) -> dict[tuple[str, ...], tuple[str, ...]]:
        """phrase key -> the words as the dictionary spells them (phrases it cannot say left
        out, as the project's engine leaves them out)."""
        out: dict[tuple[str, ...], tuple[str, ...]] = {}
        for key in phrase_table(vocabulary):
            words = []
            for word in key:
                forms = [f for f in apostrophe_forms(word)
                         if self.decoder.lookup_word(f) is not None]
                if not forms:
                    break
                words.append(forms[0])
            else:
                out[key] = tuple(words)
        return out


class PlainGrammar(_Pocketsphinx):
    """pocketsphinx with a JSGF of the phrases only: it always answers one of them."""

    name = PLAIN
    min_confidence = 0.0

    def __init__(self, vocabulary: Vocabulary) -> None:
        super().__init__()
        self.phrases = phrase_table(vocabulary)
        spelled = self.spelled(vocabulary)
        rule = " | ".join(" ".join(words) for words in spelled.values())
        self.decoder.add_jsgf_string("phrases", f"#JSGF V1.0;\ngrammar plain;\n"
                                                f"public <answer> = {rule};\n")
        self.decoder.activate_search("phrases")

    def hear(self, turn: Turn) -> tuple[str, float | None]:
        self.decoder.start_utt()
        self.decoder.process_raw(turn.audio, False, True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        if hyp is None or not hyp.hypstr:
            return "", None
        return self.phrases.get(phrase_key(hyp.hypstr.split()), ""), None


class KeyphraseSpotter(_Pocketsphinx):
    """pocketsphinx keyphrase spotting: the phrases, each at one threshold (None: the
    library's default)."""

    min_confidence = 0.0

    def __init__(self, vocabulary: Vocabulary, threshold: float | None = None) -> None:
        super().__init__()
        self.name = KWS_DEFAULT if threshold is None else KWS_TUNED
        self.phrases = phrase_table(vocabulary)
        self.threshold = (float(self.decoder.config["kws_threshold"]) if threshold is None
                          else threshold)
        spelled = self.spelled(vocabulary)
        lines = "".join(f"{' '.join(words)} /{self.threshold:g}/\n" for words in spelled.values())
        with tempfile.TemporaryDirectory() as scratch:
            listing = Path(scratch) / "keyphrases.txt"
            listing.write_text(lines, encoding="utf-8")
            self.decoder.add_kws("spotting", str(listing))
        self.decoder.activate_search("spotting")

    def hear(self, turn: Turn) -> tuple[str, float | None]:
        chunk = SAMPLE_RATE * 30 // 1000 * 2
        self.decoder.start_utt()
        spotted = ""
        for start in range(0, len(turn.audio), chunk):
            self.decoder.process_raw(turn.audio[start:start + chunk], False, False)
            hyp = self.decoder.hyp()
            if hyp is not None and hyp.hypstr:
                spotted = hyp.hypstr
                break
        self.decoder.end_utt()
        if not spotted:
            return "", None
        key = phrase_key(spotted.split())
        phrase = self.phrases.get(key)
        if phrase is None:  # several spotted at once ("yes yeah"): the first one
            starts = [k for k in self.phrases if key[:len(k)] == k]
            phrase = self.phrases[max(starts, key=len)] if starts else spotted
        return phrase, None


class ThroughTurnListener:
    """A project engine (Recognizer) run as the assistant runs it, by its turn listener."""

    def __init__(self, name: str, recognizer: Recognizer, vocabulary: Vocabulary,
                 detector: Callable[[], SpeechDetector] = VoiceActivity) -> None:
        self.name = name
        self.recognizer = recognizer
        self.min_confidence = recognizer.min_confidence
        self.vocabulary = vocabulary
        self.detector = detector

    def hear(self, turn: Turn) -> tuple[str, float | None]:
        text, confidence, _ = heard_in_turn(self.recognizer, self.vocabulary, turn.audio,
                                            turn.prime, self.min_confidence, self.detector)
        return text, confidence


Suppressor = Callable[[bytes], bytes]  # 10 ms of audio in, 10 ms out, in time order


def webrtc_ns() -> Suppressor:
    """WebRTC noise suppression, level WEBRTC_NS_LEVEL, no automatic gain."""
    from webrtc_noise_gain import AudioProcessor

    processor = AudioProcessor(0, WEBRTC_NS_LEVEL)
    return lambda chunk: bytes(processor.Process10ms(chunk).audio)


def speex_ns() -> Suppressor:
    """SpeexDSP's preprocessor as `speexdsp-ns` sets it up: denoise at speexdsp's defaults
    (-15 dB), no gain, no VAD, no dereverberation."""
    from speexdsp_ns import NoiseSuppression

    state = NoiseSuppression.create(NS_CHUNK // 2, SAMPLE_RATE)
    return lambda chunk: bytes(state.process(chunk))


class Cleaned:
    """A recognizer given a turn's audio after noise suppression, frame for frame.

    The turn listener passes the recognizer the very frames it was fed (and again, when
    it recognizes the whole turn once more); each is looked up in the turn's cleaned
    audio, so the suppressor runs once, in time order, as it would on a microphone.
    """

    def __init__(self, recognizer: Recognizer, suppressor: Callable[[], Suppressor]) -> None:
        self.inner = recognizer
        self.suppressor = suppressor
        self.name = recognizer.name
        self.min_confidence = recognizer.min_confidence
        self.interrupt_floor = recognizer.interrupt_floor
        self.cleaned: dict[bytes, bytes] = {}

    def clean(self, turn: Turn, frame_bytes: int) -> None:
        suppress = self.suppressor()  # a fresh one per turn, primed on the room before it
        both = turn.prime + turn.audio
        out = b"".join(suppress(both[i:i + NS_CHUNK])
                       for i in range(0, len(both) - NS_CHUNK + 1, NS_CHUNK))[len(turn.prime):]
        self.cleaned = {turn.audio[i:i + frame_bytes]: out[i:i + frame_bytes]
                        for i in range(0, len(out) - frame_bytes + 1, frame_bytes)}

    def begin(self, vocabulary: Vocabulary) -> None:
        self.inner.begin(vocabulary)

    def accept(self, pcm: bytes) -> Any:
        return self.inner.accept(self.cleaned.get(pcm, pcm))

    def end(self) -> Any:
        return self.inner.end()


class CleanedTurnListener(ThroughTurnListener):
    def __init__(self, name: str, recognizer: Recognizer, vocabulary: Vocabulary,
                 suppressor: Callable[[], Suppressor] = webrtc_ns) -> None:
        self.cleaning = Cleaned(recognizer, suppressor)
        super().__init__(name, self.cleaning, vocabulary)

    def hear(self, turn: Turn) -> tuple[str, float | None]:
        self.cleaning.clean(turn, SAMPLE_RATE * FRAME_MS // 1000 * 2)
        return super().hear(turn)


class Hearer(Protocol):
    """One way of hearing a turn: the answer and its confidence (None: it has none)."""

    name: str
    min_confidence: float

    def hear(self, turn: Turn) -> tuple[str, float | None]: ...


def english_vosk_model() -> tuple[Path | None, str]:
    """(the English Vosk model the assistant would use, or None and why not)."""
    try:
        import vosk  # noqa: F401 - only checking that it can be imported
    except ImportError as exc:
        return None, f"the vosk package is not installed ({exc})"
    from assistant.asr.vosk_models import ModelNotFound, find_model

    try:
        return find_model(None, REPO / "models"), ""
    except ModelNotFound as exc:
        return None, f"no English Vosk model here ({str(exc).split('.')[0]})"


def make_hearers(names: Sequence[str], vocabulary: Vocabulary,
                 mllr: Path | None = None) -> list[Hearer]:
    hearers: list[Hearer] = []
    for name in names:
        if name == PROJECT:
            from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

            hearers.append(ThroughTurnListener(PROJECT, PocketsphinxRecognizer(partials=False),
                                               vocabulary))
        elif name == PROJECT_NS:
            from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

            hearers.append(CleanedTurnListener(PROJECT_NS, PocketsphinxRecognizer(
                partials=False), vocabulary))
        elif name == PROJECT_SPEEX:
            from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

            hearers.append(CleanedTurnListener(PROJECT_SPEEX, PocketsphinxRecognizer(
                partials=False), vocabulary, speex_ns))
        elif name == PROJECT_MLLR:
            from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

            if mllr is None:
                raise ValueError("no MLLR transform")
            hearers.append(ThroughTurnListener(PROJECT_MLLR, PocketsphinxRecognizer(
                partials=False, mllr=mllr), vocabulary))
        elif name in DETECTORS:
            from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

            hearers.append(ThroughTurnListener(name, PocketsphinxRecognizer(partials=False),
                                               vocabulary, DETECTORS[name]))
        elif name == MOONSHINE:
            from assistant.asr.moonshine_engine import MoonshineRecognizer

            hearers.append(ThroughTurnListener(MOONSHINE, MoonshineRecognizer(), vocabulary))
        elif name == CROSS_CHECKED:
            from assistant.asr.cross_checked import CrossCheckedRecognizer
            from assistant.asr.moonshine_engine import MoonshineRecognizer
            from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

            hearers.append(ThroughTurnListener(CROSS_CHECKED, CrossCheckedRecognizer(
                MoonshineRecognizer(), PocketsphinxRecognizer(partials=False)), vocabulary))
        elif name == PLAIN:
            hearers.append(PlainGrammar(vocabulary))
        elif name == KWS_DEFAULT:
            hearers.append(KeyphraseSpotter(vocabulary))
        elif name == KWS_TUNED:
            hearers.append(KeyphraseSpotter(vocabulary, KWS_TUNED_THRESHOLD))
        elif name == VOSK:
            from assistant.asr.vosk_engine import VoskRecognizer

            path, _ = english_vosk_model()
            if path is None:
                raise ValueError("no English Vosk model")
            hearers.append(ThroughTurnListener(VOSK, VoskRecognizer(path), vocabulary))
        else:
            raise ValueError(f"unknown recognizer {name!r}")
    return hearers


# --- running ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Heard:
    """One recognizer's answer to one turn (light enough to send between processes)."""

    recognizer: str
    room: str
    speaker: str
    index: int  # of the clip in the run's clip list
    text: str
    confidence: float | None
    audio_s: float
    cpu_s: float


_STATE: dict[str, Any] = {}


def _setup(clips: list[Clip], talkers: list[Clip], recognizers: Sequence[str],
           vocabulary: Vocabulary, mllr: Path | None = None) -> None:
    _STATE["clips"] = clips
    _STATE["rooms"] = Rooms(talkers)
    _STATE["hearers"] = make_hearers(recognizers, vocabulary, mllr)


def _work(task: tuple[str, str, list[int]]) -> list[Heard]:
    room, speaker, indices = task
    clips: list[Clip] = _STATE["clips"]
    rooms: Rooms = _STATE["rooms"]
    out = []
    for index in indices:
        turn = rooms.turn(clips[index], room, speaker)
        seconds = len(turn.audio) / (2 * SAMPLE_RATE)
        for hearer in _STATE["hearers"]:
            started = time.process_time()
            text, confidence = hearer.hear(turn)
            spent = time.process_time() - started
            out.append(Heard(hearer.name, room, speaker, index, text, confidence, seconds,
                             spent))
    return out


def run(clips: list[Clip], talkers: list[Clip], recognizers: Sequence[str],
        rooms: Sequence[str], speakers: Sequence[str],
        vocabulary: Vocabulary = YES_NO_VOCABULARY, jobs: int = 1,
        mllr: Path | None = None) -> list[Heard]:
    """Every clip, in every room, said by every speaker, heard by every recognizer.

    `talkers`: every clip of the set, scored or not: the babble's voices, the household
    noise and the second recordings of two-word answers come from them.
    """
    chunk = max(1, math.ceil(len(clips) / max(1, jobs * 2)))
    tasks = [(room, speaker, list(range(i, min(len(clips), i + chunk))))
             for room in rooms for speaker in speakers for i in range(0, len(clips), chunk)]
    if jobs <= 1:
        _setup(clips, talkers, recognizers, vocabulary, mllr)
        return [h for task in tasks for h in _work(task)]
    from multiprocessing import get_context

    with get_context("fork").Pool(jobs, _setup,
                                  (clips, talkers, list(recognizers), vocabulary, mllr)
                                  ) as pool:
        parts = pool.map(_work, tasks, chunksize=1)
    return [h for part in parts for h in part]


@dataclass(frozen=True)
class Cell:
    """The figures of one recognizer in one room with one kind of speaker."""

    figures: Figures
    yes_no_clips: int
    unknown_clips: int
    noise_clips: int
    real_time_factor: float


def cells(heard: Sequence[Heard], clips: Sequence[Clip], floors: Mapping[str, float],
          intents: Mapping[str, tuple[str, ...]] = DEFAULT_INTENTS
          ) -> dict[tuple[str, str, str], Cell]:
    grouped: dict[tuple[str, str, str], list[Heard]] = {}
    for h in heard:
        grouped.setdefault((h.recognizer, h.room, h.speaker), []).append(h)
    out = {}
    for key, group in grouped.items():
        outcomes = [Outcome(clips[h.index], h.text, h.confidence, h.audio_s, h.cpu_s)
                    for h in group]
        labels = [clips[h.index].label for h in group]
        audio = sum(h.audio_s for h in group)
        out[key] = Cell(figures(outcomes, floors.get(key[0], 0.0), intents),
                        sum(label in ("yes", "no") for label in labels),
                        labels.count("_unknown_"), labels.count("_silence_"),
                        sum(h.cpu_s for h in group) / audio if audio else math.nan)
    return out


# --- printing ---------------------------------------------------------------------------

TABLES: tuple[tuple[str, Callable[[Cell], float], Callable[[Cell], int], str], ...] = (
    ("yes/no accuracy", lambda c: c.figures.yes_no_accuracy, lambda c: c.yes_no_clips, "{:.3f}"),
    ("false accepts on other words (_unknown_)", lambda c: c.figures.false_accept_unknown,
     lambda c: c.unknown_clips, "{:.3f}"),
    ("false accepts on noise (_silence_)", lambda c: c.figures.false_accept_silence,
     lambda c: c.noise_clips, "{:.3f}"),
    ("real-time factor (CPU s / audio s)", lambda c: c.real_time_factor,
     lambda c: c.yes_no_clips + c.unknown_clips + c.noise_clips, "{:.4f}"),
)


def ratio(value: float, base: float) -> str:
    if math.isnan(value) or math.isnan(base):
        return "n/a"
    if base == 0:
        return "=" if value == 0 else "inf"
    return f"{value / base:.2f}"


def default_pipeline(recognizers: Sequence[str]) -> str:
    """Of the recognizers measured, the one the assistant starts with here (`--engine auto`,
    assistant/asr/select.py): Vosk with an English model, else Moonshine checked by
    pocketsphinx, else pocketsphinx alone. The tables' ratios are against it."""
    for name in (VOSK, CROSS_CHECKED, PROJECT):
        if name in recognizers:
            return name
    return recognizers[0]


def format_tables(table: Mapping[tuple[str, str, str], Cell], recognizers: Sequence[str],
                  rooms: Sequence[str], speakers: Sequence[str]) -> str:
    """One table per figure: a row per room and speaker, a column per recognizer with its
    clip count, and each alternative's ratio to the assistant's default (the first column)."""
    lines: list[str] = []
    base_name = default_pipeline(recognizers)
    others = [r for r in recognizers if r != base_name]
    width = max(16, len(base_name))
    for title, value, count, fmt in TABLES:
        head = f"{'room':16} {'speaker':12} {base_name:>{width}}"
        for name in others:
            head += f" {name:>16} {'ratio':>6}"
        lines += ["", title + f" (value, clips in brackets; ratio = alternative / "
                  f"{base_name})", head, "-" * len(head)]
        for room in rooms:
            for speaker in speakers:
                base_cell = table.get((base_name, room, speaker))
                base = value(base_cell) if base_cell else math.nan
                row = f"{room:16} {speaker:12} "
                row += (f"{fmt.format(base) + f' ({count(base_cell)})':>{width}}" if base_cell
                        else f"{'n/a':>{width}}")
                for name in others:
                    cell = table.get((name, room, speaker))
                    if cell is None:
                        row += f" {'n/a':>16} {'n/a':>6}"
                        continue
                    shown = fmt.format(value(cell)) + f" ({count(cell)})"
                    row += f" {shown:>16} {ratio(value(cell), base):>6}"
                lines.append(row)
    return "\n".join(lines)


def available_recognizers(wanted: Sequence[str], mllr: Path | None = None
                           ) -> tuple[list[str], list[str]]:
    """(recognizers that can run here, a printed reason for each one left out)."""
    chosen, notes = [], []
    for name in wanted:
        if name == PROJECT_MLLR:
            if mllr is None or not mllr.is_file():
                from bench.mllr import MLLR_FILE

                notes.append(f"MLLR left out: no transform at {mllr or MLLR_FILE} (make one "
                             f"with python -m bench.mllr).")
                continue
            notes.append(f"MLLR: transform {mllr}.")
        if name == PROJECT_NS:
            try:
                import webrtc_noise_gain  # noqa: F401 - only checking that it is there
            except ImportError as exc:
                notes.append(f"WebRTC NS left out: the webrtc-noise-gain package is not "
                             f"installed ({exc}).")
                continue
        if name == PROJECT_SPEEX:
            try:
                import speexdsp_ns  # noqa: F401 - only checking that it is there
            except ImportError as exc:
                notes.append(f"SpeexDSP NS left out: the speexdsp-ns package is not "
                             f"installed ({exc}).")
                continue
        if name == PROJECT_MICRO and micro_vad_available():
            notes.append(f"microVAD left out: {micro_vad_available()}.")
            continue
        if name == PROJECT_SILERO and silero_available():
            notes.append(f"Silero VAD left out: {silero_available()}.")
            continue
        if name in (MOONSHINE, CROSS_CHECKED):
            from assistant.asr.base import AsrSetupError
            from assistant.asr.moonshine_engine import bundled_model

            try:
                bundled_model()
            except AsrSetupError as exc:
                notes.append(f"Moonshine left out: {exc}")
                continue
        if name == VOSK:
            path, why = english_vosk_model()
            if path is None:
                notes.append(f"Vosk (English) left out: {why}.")
                continue
            notes.append(f"Vosk (English): model {path}.")
        chosen.append(name)
    return chosen, notes


def side_by_side(clips_dir: Path = CLIPS_DIR, per_label: int | None = None,
                 rooms: Sequence[str] = ROOMS, speakers: Sequence[str] = SPEAKERS,
                 recognizers: Sequence[str] = RECOGNIZERS, jobs: int = 1,
                 out: Callable[[str], None] = print, half: int | None = None,
                 mllr: Path | None = None) -> dict[tuple[str, str, str], Cell]:
    """Measure and print the side-by-side tables; returns the cells.

    `half`: score only the clips of that speaker half (bench.hearing.speaker_half), for
    instance the half an adaptation was not trained on; the rooms are still built from
    every clip (a clip's babble always comes from the other half). `mllr`: the transform
    of the MLLR column (default: models/pocketsphinx-en-us.mllr, if there).
    """
    from assistant.asr.pocketsphinx_engine import POCKETSPHINX_MIN_CONFIDENCE
    from bench.mllr import shipped_mllr

    scored = load_clips(clips_dir, labels=SIDE_LABELS)
    if half is not None:
        scored = [c for c in scored if speaker_half(c.speaker) == half]
    if per_label is not None:
        scored = first_of_each_label(scored, per_label)
    talkers = load_clips(clips_dir)
    mllr = mllr if mllr is not None else shipped_mllr()
    chosen, notes = available_recognizers(recognizers, mllr)
    out("Hearing side by side. Real voices: Speech Commands v0.02 test clips (Warden 2018), "
        f"CC BY 4.0, from {clips_dir}.")
    rooms_made = Rooms(talkers)
    which = "" if half is None else f", speaker half {half} only"
    out(f"{len(scored)} clips scored ({', '.join(SIDE_LABELS)}{which}); "
        f"{rooms_made.describe()}.")
    out(f"Vocabulary: the {len(YES_NO_VOCABULARY.phrases)}-phrase yes/no moment; this "
        f"project's floor {POCKETSPHINX_MIN_CONFIDENCE:.2f}; kws threshold "
        f"{_kws_threshold():g} (pocketsphinx's default) and {KWS_TUNED_THRESHOLD:g} (tuned).")
    for note in notes:
        out(note)
    started = time.perf_counter()
    heard = run(scored, talkers, chosen, rooms, speakers, jobs=jobs, mllr=mllr)
    floors = {PROJECT: POCKETSPHINX_MIN_CONFIDENCE, PROJECT_NS: POCKETSPHINX_MIN_CONFIDENCE,
              PROJECT_SPEEX: POCKETSPHINX_MIN_CONFIDENCE,
              PROJECT_MLLR: POCKETSPHINX_MIN_CONFIDENCE,
              PROJECT_MICRO: POCKETSPHINX_MIN_CONFIDENCE,
              PROJECT_SILERO: POCKETSPHINX_MIN_CONFIDENCE}
    if MOONSHINE in chosen or CROSS_CHECKED in chosen:
        from assistant.asr.moonshine_engine import MOONSHINE_MIN_CONFIDENCE

        floors[MOONSHINE] = floors[CROSS_CHECKED] = MOONSHINE_MIN_CONFIDENCE
    if VOSK in chosen:
        from assistant.asr.vosk_engine import VOSK_MIN_CONFIDENCE

        floors[VOSK] = VOSK_MIN_CONFIDENCE
    table = cells(heard, scored, floors)
    out(f"({len(heard)} turns heard in {time.perf_counter() - started:.0f} s wall time, "
        f"{jobs} process{'es' if jobs > 1 else ''})")
    out(f"First column: {default_pipeline(chosen)}, what the assistant hears with here "
        f"(--engine auto); \"{PROJECT}\" is pocketsphinx alone through the same turn "
        f"listener (its fallback).")
    out(format_tables(table, chosen, rooms, speakers))
    return table


def gate_in_rooms(clips: Sequence[Clip], talkers: Sequence[Clip],
                  detectors: Mapping[str, Callable[[], SpeechDetector]], rooms: Sequence[str],
                  speakers: Sequence[str] = ("as recorded",), out: Callable[[str], None] = print
                  ) -> dict[tuple[str, str], tuple[float, float, float]]:
    """The speech gate alone (the turn listener's onset and pre-roll), per detector and room:
    (share of spoken turns it opened for, share of noise turns it opened for, microseconds
    per 30 ms frame). Spoken: yes, no, _unknown_; noise: _silence_ (and, with the
    television on, the television alone)."""
    from assistant.listening import Endpointing
    from assistant.vad import SpeechGate, segments

    t = Endpointing()
    made = Rooms(talkers)
    turns = [(room, clip.label, made.turn(clip, room, speaker)) for room in rooms
             for speaker in speakers for clip in clips]
    table = {}
    head = f"{'detector':24} {'room':16} {'speech opened':>13} {'noise opened':>12} {'us/frame':>9}"
    out(head)
    out("-" * len(head))
    for name, make in detectors.items():
        for room in rooms:
            spoken: list[bool] = []
            noise: list[bool] = []
            spent, frames = 0.0, 0
            for where, label, turn in turns:
                if where != room:
                    continue
                started = time.process_time()
                gate = SpeechGate(make(), preroll_ms=t.preroll_ms, onset_ms=t.onset_ms,
                                  frame_ms=t.frame_ms)
                segments(turn.prime, gate)
                gate.reset()
                opened = bool(segments(turn.audio, gate))
                spent += time.process_time() - started
                frames += (len(turn.prime) + len(turn.audio)) // gate.frame_bytes
                (noise if label == "_silence_" else spoken).append(opened)
            row = (sum(spoken) / max(1, len(spoken)), sum(noise) / max(1, len(noise)),
                   1e6 * spent / max(1, frames))
            table[(name, room)] = row
            out(f"{name:24} {room:16} {row[0]:8.3f} ({len(spoken):3d}) {row[1]:7.3f} "
                f"({len(noise):3d}) {row[2]:9.1f}")
    return table


def first_of_each_label(clips: Sequence[Clip], count: int) -> list[Clip]:
    """The first `count` clips of each label, in order."""
    seen: dict[str, int] = {}
    out = []
    for clip in clips:
        seen[clip.label] = seen.get(clip.label, 0) + 1
        if seen[clip.label] <= count:
            out.append(clip)
    return out


def _kws_threshold() -> float:
    from pocketsphinx import Config

    return float(Config()["kws_threshold"])


def add_arguments(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--clips", type=Path, default=CLIPS_DIR,
                        help="folder with manifest.csv (default: the shared Speech Commands "
                             "clips; the tests use tests/clips/speech_commands)")
    parser.add_argument("--per-label", type=int, help="only the first N clips of each label")
    parser.add_argument("--rooms", nargs="+", default=list(ROOMS), metavar="ROOM",
                        help=f"subset of: {', '.join(ROOMS)}")
    parser.add_argument("--speakers", nargs="+", default=list(SPEAKERS), metavar="SPEAKER",
                        help=f"subset of: {', '.join(SPEAKERS)}".replace("%", "%%"))
    parser.add_argument("--recognizers", nargs="+", default=list(RECOGNIZERS), metavar="NAME",
                        help=f"subset of: {', '.join(RECOGNIZERS)}")
    parser.add_argument("--jobs", type=int, default=1, help="processes (one engine set each)")
    parser.add_argument("--half", type=int, choices=HALVES,
                        help="score only this speaker half (bench.hearing.speaker_half), e.g. "
                             "the one an adaptation was not trained on")
    parser.add_argument("--mllr", type=Path,
                        help="MLLR transform for the '" + PROJECT_MLLR + "' column (default: "
                             "models/pocketsphinx-en-us.mllr if there; make one with python "
                             "-m bench.mllr)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hearing_side",
                                     description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--gate", action="store_true",
                        help="only the speech gate: how often each speech detector opens it "
                             "for speech and for noise, per room (VoiceActivity, micro-vad, "
                             "Silero VAD)")
    parser.add_argument("--detectors", nargs="+", default=list(GATE_DETECTORS),
                        metavar="NAME", help="with --gate: only the detectors whose names "
                                             f"begin so (default: {' '.join(GATE_DETECTORS)})")
    args = parser.parse_args(argv)
    if args.gate:
        scored = load_clips(args.clips, labels=SIDE_LABELS)
        if args.half is not None:
            scored = [c for c in scored if speaker_half(c.speaker) == args.half]
        if args.per_label is not None:
            scored = first_of_each_label(scored, args.per_label)
        from bench.hearing import vad_choices

        chosen = {k: v for k, v in vad_choices().items() if k.startswith(tuple(args.detectors))}
        print(f"Speech gate alone, {len(scored)} clips, speakers {', '.join(args.speakers)}:")
        gate_in_rooms(scored, load_clips(args.clips), chosen, known(args.rooms, ROOMS, "room"),
                      known(args.speakers, SPEAKERS, "speaker"))
        return 0
    side_by_side(args.clips, args.per_label, known(args.rooms, ROOMS, "room"),
                 known(args.speakers, SPEAKERS, "speaker"),
                 known(args.recognizers, RECOGNIZERS, "recognizer"), args.jobs,
                 half=args.half, mllr=args.mllr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
