"""Choosing the speech recognizer at start-up, and saying plainly why when falling back.

``auto`` prefers Vosk (much more accurate on real voices) when a model is
available locally or can be fetched right now; otherwise Moonshine's tiny English
model (installed with the assistant, inside its wheel) checked by pocketsphinx
(assistant/asr/cross_checked.py: measured better than pocketsphinx alone in every room,
with fewer false accepts); and pocketsphinx alone, which ships its own English model,
when Moonshine cannot start. Every fallback is announced through `notify` with why, so
a carer setting the assistant up knows how to improve it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from assistant.asr.base import AsrSetupError, Recognizer, RecognizerUnavailable

Engine = Literal["auto", "vosk", "moonshine", "pocketsphinx"]
ENGINES: tuple[str, ...] = ("auto", "vosk", "moonshine", "pocketsphinx")


def make_recognizer(engine: Engine | str, model_path: str | None, models_dir: Path,
                    notify: Callable[[str], None], download: bool = True,
                    learned_voice: Path | None = None) -> Recognizer:
    """The recognizer to use; raises AsrSetupError with a plain message when none can start.

    engine: "vosk" (fails if no model), "moonshine" (checked by pocketsphinx),
    "pocketsphinx", or "auto" (Vosk when a model is available, else Moonshine, else
    pocketsphinx, with a notice). `model_path` is
    --model; `download=False` never touches the network. `learned_voice`: the transform
    learned for the person at home (assistant/voice_learning.py), used by pocketsphinx.
    """
    if engine not in ENGINES:
        raise AsrSetupError(
            f"Unknown speech engine {engine!r}: choose one of {', '.join(ENGINES)}.")
    if engine == "pocketsphinx":
        return _pocketsphinx(notify, learned_voice)
    if engine == "vosk":
        return _vosk(model_path, models_dir, notify, download)
    if engine == "moonshine":
        return _moonshine(notify, learned_voice)
    try:
        return _vosk(model_path, models_dir, notify, download)
    except AsrSetupError as vosk_problem:
        try:
            recognizer = _moonshine(notify, learned_voice)
        except AsrSetupError as moonshine_problem:
            try:
                recognizer = _pocketsphinx(notify, learned_voice)
            except AsrSetupError as sphinx_problem:
                raise AsrSetupError(f"No speech recognizer can start. {vosk_problem} "
                                    f"{moonshine_problem} {sphinx_problem}") from sphinx_problem
            notify(f"Using the simpler pocketsphinx recognizer, which understands fewer "
                   f"voices. {vosk_problem} {moonshine_problem}")
            return recognizer
        notify(f"Using Moonshine's small English model, checked by pocketsphinx. "
               f"{vosk_problem}")
        return recognizer


def _vosk(model_path: str | None, models_dir: Path, notify: Callable[[str], None],
          download: bool) -> Recognizer:
    try:
        import vosk  # noqa: F401 - only checking that it can be imported
    except ImportError as exc:
        raise RecognizerUnavailable(
            f"The vosk package is not installed ({exc}); "
            f"install it with: pip install vosk") from exc
    from assistant.asr.vosk_engine import VoskRecognizer
    from assistant.asr.vosk_models import ensure_model

    path = ensure_model(model_path, models_dir, notify=notify, download=download)
    return VoskRecognizer(path, notify=notify)


def _moonshine(notify: Callable[[str], None], learned_voice: Path | None = None
               ) -> Recognizer:
    """Moonshine checked by pocketsphinx (with the learned voice, if any)."""
    from assistant.asr.cross_checked import CrossCheckedRecognizer
    from assistant.asr.moonshine_engine import MoonshineRecognizer

    return CrossCheckedRecognizer(MoonshineRecognizer(), _pocketsphinx(notify, learned_voice),
                                  notify)


def _pocketsphinx(notify: Callable[[str], None], learned_voice: Path | None = None
                  ) -> Recognizer:
    try:
        import pocketsphinx  # noqa: F401 - only checking that it can be imported
    except ImportError as exc:
        raise RecognizerUnavailable(
            f"The pocketsphinx package is not installed ({exc}); "
            f"install it with: pip install pocketsphinx") from exc
    from assistant.asr.pocketsphinx_engine import PocketsphinxRecognizer

    # The turn listener recognizes at pauses, so the live pass (partials) would be wasted CPU.
    if learned_voice is not None:
        try:
            recognizer = PocketsphinxRecognizer(notify=notify, partials=False, mllr=learned_voice)
        except Exception as exc:  # noqa: BLE001 - pocketsphinx raises a bare RuntimeError
            notify(f"The learned voice ({learned_voice}) could not be loaded ({exc}); "
                   f"listening the usual way. Run --learn-voice again to learn it anew.")
        else:
            notify("Listening with the voice learned for this household (--no-learned-voice "
                   "to hear without it).")
            return recognizer
    return PocketsphinxRecognizer(notify=notify, partials=False)
