"""What really came out of the loudspeaker, transcribed from the recording.

The assistant's own transcript is not evidence that a person heard
something. This decodes the recorded loudspeaker audio with pocketsphinx,
using a grammar of every sentence the dialog can say, so a test can check
that the call-911 guidance (or a count, or a reprompt) was audible.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import numpy.typing as npt
from pocketsphinx import Decoder

from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.routine_plan import plan_routine
from assistant.understanding import normalize


def words_of(text: str) -> str:
    """Lower-case words as the pocketsphinx dictionary spells them (apostrophes kept)."""
    spaced = normalize(re.sub(r"[^\w\s']", " ", text))  # digits spoken, case folded
    apostrophes = {w.replace("'", ""): w for w in re.findall(r"[a-z]+'[a-z]+", text.lower())}
    return " ".join(apostrophes.get(word, word) for word in spaced.split())


def _sentences(text: str) -> list[str]:
    return [s for s in (words_of(part) for part in re.split(r"[.?!:;]", text)) if s]


def dialog_sentences(dialogs: Dialogs, emergency_number: str = "911") -> list[str]:
    """Every sentence the assistant can say, as words."""
    fill = DialogMachine(dialogs, emergency_number).model.fill
    texts: list[str] = [*dialogs.check.greeting.say, *dialogs.emergency.steps,
                        dialogs.emergency.opening, dialogs.emergency.closing,
                        dialogs.emergency.reminder, dialogs.routine.check_in.ask,
                        dialogs.routine.check_in.simpler, dialogs.routine.paused.say]
    for question in dialogs.question_nodes().values():
        texts += [question.ask, question.simpler]
    for node in dialogs.check.nodes.values():
        texts += getattr(node, "say", [])
    prompts = dialogs.phrases.prompts
    texts += [prompts.help_question, prompts.goodbye, prompts.goodbye_safety_net.text,
              prompts.reask_silence, prompts.reask_unclear, prompts.reask_unsure,
              prompts.goodbye_urgent_reminder.text, prompts.help_explain, prompts.always_options]
    texts += [beat.text for beat in plan_routine(dialogs.routine, can_stand=True)]
    sentences: dict[str, None] = {}
    for text in texts:
        for sentence in _sentences(fill(text, options="yes no or not sure", topic="it")):
            sentences[sentence] = None
    return list(sentences)


@cache
def _decoder(grammar: str) -> Decoder:
    decoder = Decoder(loglevel="FATAL", jsgf=False)
    decoder.add_jsgf_string("said", grammar)
    decoder.activate_search("said")
    return decoder


class SpeakerTranscriber:
    """Decodes loudspeaker audio (16 kHz) into the dialog's sentences."""

    def __init__(self, sentences: list[str]) -> None:
        known = set(_decoder_dictionary())
        usable = [s for s in sentences if all(w in known for w in s.split())]
        alternatives = " | ".join(f"( {s} )" for s in usable)
        self.grammar = f"#JSGF V1.0;\ngrammar said;\npublic <said> = <s>+;\n<s> = {alternatives};\n"

    def transcribe(self, samples: npt.ArrayLike) -> str:
        audio = np.asarray(samples, dtype=np.float32)
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
        decoder = _decoder(self.grammar)
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


@cache
def _decoder_dictionary() -> frozenset[str]:
    from pocketsphinx import get_model_path

    words: set[str] = set()
    with open(get_model_path("en-us/cmudict-en-us.dict"), encoding="utf-8") as dictionary:
        for line in dictionary:
            words.add(line.split(" ", 1)[0].split("(", 1)[0])
    return frozenset(words)
