"""`python run.py --learn-voice` and `--forget-voice`: the devices and tools behind
assistant/voice_learning.py (microphone and loudspeaker through AudioVoice, pocketsphinx
for hearing, sphinxtrain for learning)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.asr.adaptation import (
    AdaptationUnavailable,
    dictionary_words,
    missing_tools,
    model_dir,
    prepare_model,
    train_transform,
)
from assistant.ports import Heard, Vocabulary
from assistant.voice_learning import (
    Hear,
    Recording,
    Take,
    Train,
    Urgent,
    forget_voice,
    learn_voice,
)
from assistant.words import normalize

if TYPE_CHECKING:
    from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer
    from assistant.dialog_data import Dialogs

URGENT_ACTIONS = ("red_flag", "emergency")
KIOSK_REFUSAL = ("A kiosk does not learn voices: residents share it, and one resident's "
                 "voice must not change how it hears the others.")


class AudioEars:
    """Ears for voice learning: the assistant's own voice and turn listener."""

    def __init__(self, say: Callable[[str], object],
                 listen: Callable[[Vocabulary, float], Heard | None], recording: Recording
                 ) -> None:
        self._say = say
        self._listen = listen
        self.recording = recording

    def say(self, text: str) -> object:
        return self._say(text)

    def record(self, word: str, vocabulary: Vocabulary, seconds: float
               ) -> tuple[Heard | None, bytes]:
        print(f"Listening for: {word}", flush=True)  # what a helper beside the person sees
        self.recording.last_audio = b""
        heard = self._listen(vocabulary, seconds)
        return heard, self.recording.last_audio


def transcript(phrase: str, forms: Callable[[str], list[str]], known: set[str]) -> str | None:
    """The phrase in the pronunciation dictionary's spelling ("i don't know"), or None if a
    word is not in it (sphinxtrain reads the dictionary file, not words added at run time)."""
    out = []
    for word in normalize(phrase).split():
        spelled = [f for f in forms(word) if f in known]
        if not spelled:
            return None
        out.append(spelled[0])
    return " ".join(out)


def pocketsphinx_trainer(forms: Callable[[str], list[str]]) -> Train:
    """Learning with sphinxtrain; the model folder it needs is prepared once."""
    known = dictionary_words(model_dir() / "cmudict-en-us.dict")
    prepared: list[Path] = []

    def train(takes: Sequence[Take], out: Path, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        if not prepared:
            prepared.append(prepare_model(model_dir() / "en-us", work.parent / "prepared"))
        recordings = []
        for index, take in enumerate(takes):
            words = transcript(take.word, forms, known)
            if words is not None:
                recordings.append((f"take{index}", take.audio, words))
        train_transform(recordings, out, work, prepared[0])

    return train


def pocketsphinx_hearer(words: Sequence[str], usual: PocketsphinxRecognizer | None = None
                        ) -> Hear:
    """What pocketsphinx (with a learned voice, or without) hears in a take, if at least as
    surely as the dialog needs ("" otherwise). Each transform's engine is loaded once;
    `usual`: the engine already loaded without one, to hear with rather than load again."""
    from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

    vocabulary = Vocabulary(tuple(words))
    engines: dict[Path | None, PocketsphinxRecognizer] = {}
    if usual is not None:
        engines[None] = usual

    def hear(transform: Path | None, take: Take) -> str:
        engine = engines.get(transform)
        if engine is None:
            engine = engines[transform] = PocketsphinxRecognizer(partials=False, mllr=transform)
        engine.begin(vocabulary)
        engine.accept(take.audio)
        result = engine.end()
        return result.text if (result.confidence or 0.0) >= engine.min_confidence else ""

    return hear


def dialog_urgency(dialogs: Dialogs, emergency_number: str) -> tuple[Urgent, tuple[str, ...]]:
    """(urgent, phrases): the dialog's own judgement of words said instead of the one asked
    for, and the phrases of its first question that tell of an emergency ("chest pain",
    "call 911", ...), to be listened for all along.

    A moment of the check is the judge, so "no chest pain" is no emergency and "I can't
    breathe" is one, exactly as in a check; what it tells of is taken as said, whatever the
    recognizer's confidence (doubt never lowers urgency)."""
    from assistant.dialog import DialogMachine

    judge = DialogMachine(dialogs, emergency_number)
    opening = judge.start(0.0).listening
    # Only the phrases that tell of an emergency: the rest ("repeat that", "dunno") would
    # compete with the words asked for, and a take heard as one of them is a take lost.
    phrases = tuple(p for p in (opening.vocabulary.phrases if opening is not None else ())
                    if judge.understand(p)[1].action in URGENT_ACTIONS)

    def urgent(heard: Heard, asked: str) -> list[str]:
        machine = DialogMachine(dialogs, emergency_number)
        machine.start(0.0)
        _, decision = machine.understand(heard.text)
        if decision.action not in URGENT_ACTIONS:
            return []
        _, meant = machine.understand(asked)
        if (meant.action, meant.why) == (decision.action, decision.why):
            return []  # asked to say "call 911", heard as "911": the word, said; asked again
        turn = machine.hear(Heard(heard.text, None, heard.source), 0.0)
        return turn.says if machine.disposition == "emergency" else []

    return urgent, phrases


def run_learn_voice(args: argparse.Namespace, dialogs: Dialogs) -> int:
    """Learn the voice of the person at home, by voice; returns the exit status."""
    from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer
    from assistant.audio import AudioSetupError, Loudspeaker, Microphone, resolve_device
    from assistant.clock import RealClock
    from assistant.tts import Synthesizer, TtsSetupError
    from assistant.vad import VoiceActivity
    from assistant.voice_mode import AudioVoice

    if args.kiosk:
        print(KIOSK_REFUSAL, file=sys.stderr, flush=True)
        return 2
    if args.text:
        print("Learning a voice needs the microphone: leave out --text.", file=sys.stderr,
              flush=True)
        return 2
    missing = missing_tools()
    if missing:
        print(f"Learning a voice needs {', '.join(missing)}: run scripts/setup-system.sh "
              f"(Debian's sphinxtrain, sphinxbase-utils and pocketsphinx).",
              file=sys.stderr, flush=True)
        return 3
    lines = dialogs.phrases.voice_learning

    def report(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        synthesizer = Synthesizer(rate=args.rate, volume=args.volume, voice=args.voice)
        mic = Microphone(resolve_device(args.input_device, "input"), block_ms=30)
        speaker = Loudspeaker(resolve_device(args.output_device, "output"))
    except (AudioSetupError, TtsSetupError) as exc:
        print(str(exc), file=sys.stderr, flush=True)
        return 3
    engine = PocketsphinxRecognizer(notify=report, partials=False)
    recording = Recording(engine)
    voice = AudioVoice(mic, speaker, synthesizer, recording, VoiceActivity(), RealClock(),
                       report, min_confidence=0.0)
    ears = AudioEars(voice.say, voice.listen, recording)
    urgent, phrases = dialog_urgency(dialogs, args.emergency_number)
    mic.open()
    try:
        check = learn_voice(ears, lines, Path(args.data_dir),
                            pocketsphinx_trainer(engine.dictionary_forms),
                            pocketsphinx_hearer(lines.words, engine), report, urgent, phrases)
    except (AdaptationUnavailable, KeyboardInterrupt) as exc:
        report(f"Voice learning stopped: {exc}")
        return 1
    finally:
        mic.close()
    return 0 if check is not None and check.keep else 1


def run_forget_voice(args: argparse.Namespace) -> int:
    if forget_voice(Path(args.data_dir)):
        print(f"The learned voice and its recordings were deleted from {args.data_dir}.")
    else:
        print(f"No learned voice in {args.data_dir}.")
    return 0
