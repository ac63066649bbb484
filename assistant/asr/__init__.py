"""Offline speech recognition behind one small interface (see assistant.asr.base).

Engines: Vosk (preferred when a model is present) and pocketsphinx (always
available offline). `make_recognizer` picks one; nothing heavy is imported
until it is called.
"""

from assistant.asr.base import (
    AsrSetupError,
    Hypothesis,
    Recognizer,
    RecognizerUnavailable,
    spoken_words,
)
from assistant.asr.select import make_recognizer

__all__ = [
    "AsrSetupError",
    "Hypothesis",
    "Recognizer",
    "RecognizerUnavailable",
    "make_recognizer",
    "spoken_words",
]
