"""Voice mode: the dialog machine heard and spoken through real audio devices.

`AudioVoice` is the `Voice` port on a microphone, a loudspeaker, a synthesizer
and a recognizer. Device faults never end a session: the problem is printed,
written to the transcript and spoken where possible, and the session waits
for the device to come back. With a screen, answers touched on it are taken
alongside what is heard (whichever comes first), also while the microphone is
lost, and the screen shows which device is missing; with a page open, a lost
loudspeaker no longer holds the conversation up: the captions stand in for it.
`run_voice` keeps the assistant available all day: after a session it listens
quietly for the wake phrase (or a touch of Start on the screen).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant.asr.base import Recognizer
from assistant.cli_options import session_options
from assistant.clock import RealClock, make_clock
from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.listening import UNINTELLIGIBLE, Endpointing, TurnListener
from assistant.ports import Clock, Heard, Screen, Spoken, Touches, Vocabulary, VoiceChange
from assistant.screen.view import idle_view
from assistant.session import Care, Session, device_alert
from assistant.transcript import Error, Transcript
from assistant.words import normalize

if TYPE_CHECKING:
    from assistant.audio import Loudspeaker, Microphone
    from assistant.tts import Speech, Synthesizer
    from assistant.vad import SpeechDetector

REPO_ROOT = Path(__file__).resolve().parent.parent
READ_TIMEOUT_S = 0.2
MICROPHONE_LOST = "I can't hear you: the microphone stopped working. I'll wait until it is back."
# A loudspeaker that comes back (a cable pushed in, a USB speaker re-enumerated) is given a
# moment before the last line is said again: its first half second is often not yet audible.
SPEAKER_SETTLE_S = 0.5
DEFAULT_REPLY_PAUSE_S = 0.3  # on top of the system's own delay: the brief's 0.6-1.5 s sweet spot


class AudioVoice:
    """Speak with barge-in, listen with endpointing, survive device faults."""

    hears_during_waits = True

    def __init__(self, mic: Microphone, speaker: Loudspeaker, synthesizer: Synthesizer,
                 recognizer: Recognizer,
                 vad: SpeechDetector, clock: Clock, report: Callable[[str], None],
                 endpointing: Endpointing | None = None, reply_pause: float = DEFAULT_REPLY_PAUSE_S,
                 min_confidence: float = 0.0, touches: Touches | None = None,
                 screen: Screen | None = None,
                 device_lost: Callable[[Literal["microphone", "loudspeaker"]], None] | None = None,
                 ) -> None:
        self.mic = mic
        self.speaker = speaker
        self.synthesizer = synthesizer
        self.recognizer = recognizer
        self.vad = vad
        self.clock = clock
        self.report = report
        self.endpointing = endpointing or Endpointing()
        self.reply_pause = reply_pause
        self.min_confidence = min_confidence
        self.touches = touches
        self.screen = screen
        self.device_lost = device_lost  # a kiosk tells staff it is deaf or mute
        self._answer_ended: float | None = None
        self._mic_lost = False
        self._speaker_lost = False

    # --- speaking ----------------------------------------------------------------------

    def say(self, text: str, interruptible_by: Vocabulary | None = None) -> Spoken:
        audio = self.synthesizer.synthesize(text)
        if self._answer_ended is not None:
            wait = self._answer_ended + self.reply_pause - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._answer_ended = None
        from assistant.audio import AudioDeviceError

        while True:
            try:
                spoken = self._play(audio, interruptible_by)
            except AudioDeviceError as exc:
                if self.screen is not None and self.screen.watched():
                    return self._shown_not_said(text, exc)
                self.report(f"The loudspeaker is not working ({exc}). Assistant said: {text}")
                self._device("loudspeaker", False)
                self.speaker.wait_for_device()
                self._device("loudspeaker", True)
                self.report("The loudspeaker is back. Repeating the last prompt.")
                time.sleep(SPEAKER_SETTLE_S)
                continue
            if self._speaker_lost:
                self._speaker_lost = False
                self._device("loudspeaker", True)
                self.report("The loudspeaker is back.")
            return spoken

    def _shown_not_said(self, text: str, exc: Exception) -> Spoken:
        """The loudspeaker is gone but a page is open: its caption stands in for the line,
        and the conversation goes on by the screen (each line is tried aloud again)."""
        if not self._speaker_lost:
            self._speaker_lost = True
            self.report(f"The loudspeaker is not working ({exc}); going on with the screen. "
                        f"Assistant said: {text}")
            self._device("loudspeaker", False)
        now = self.clock.now()
        return Spoken(now, now)

    def _play(self, audio: Speech, interruptible_by: Vocabulary | None) -> Spoken:
        offset = self.clock.now() - time.monotonic()
        self.speaker.play(audio)
        heard = self._barge_in(interruptible_by) if interruptible_by else None
        if heard is not None:
            self.speaker.stop()
        started, ended, _ = self.speaker.wait()
        return Spoken(started + offset, ended + offset, heard)

    def _barge_in(self, vocabulary: Vocabulary) -> Heard | None:
        """While speaking, only the interrupt phrases ("stop", "help") are listened for,
        and any answer touched on the screen (a touch is never an accident of the room).

        A word begun as the prompt ends is heard out: the next prompt waits for it
        rather than dropping a "help" that straddles two sentences. A phrase heard less
        surely than an answer would be (down to the engine's interrupt floor) still stops
        the prompt, and goes to the dialog with its confidence, which asks about it (or
        pauses the routine and asks) rather than talking on over a possible "stop".
        """
        interrupts = Vocabulary(vocabulary.interrupt_phrases)
        if not interrupts.phrases:
            return self._touched_while_playing()
        floor = min(self.recognizer.interrupt_floor, self.min_confidence)
        listener = self._listener(interrupts, floor)
        self._drain_mic()
        while self.speaker.playing() or listener.speaking:
            touched = self._touched()
            if touched is not None:
                return touched
            frame = self._read_mic_quietly()
            if frame is None:
                if self.speaker.playing() or not listener.speaking:
                    continue
                heard: Heard | None = listener.finish()  # the microphone stalled mid-word
            else:
                heard = listener.feed(frame)
            if heard is not None and self._accepted(heard, floor):
                self._answer_ended = time.monotonic()
                return heard
        return None

    def _touched_while_playing(self) -> Heard | None:
        if self.touches is None:
            return None
        while self.speaker.playing():
            touched = self.touches.wait(0.03)
            if touched is not None:
                return touched
        return None

    def _touched(self) -> Heard | None:
        return self.touches.take() if self.touches is not None else None

    def _device(self, name: Literal["microphone", "loudspeaker"], working: bool) -> None:
        if self.screen is not None:
            self.screen.device(name, working)
        if not working and self.device_lost is not None:
            try:
                self.device_lost(name)
            except Exception as exc:  # noqa: BLE001 - the voice goes on whatever alerts do
                self.report(f"could not raise the device alert: {exc}")

    def change_voice(self, change: VoiceChange) -> None:
        self.synthesizer.change(change)

    # --- listening ----------------------------------------------------------------------

    def listen(self, vocabulary: Vocabulary, seconds: float,
               stop: Callable[[], bool] | None = None) -> Heard | None:
        """Listen for up to `seconds` of real time (monotonic: never the session's clock);
        `stop` is asked between frames while nobody is speaking."""
        from assistant.audio import AudioDeviceError

        until = time.monotonic() + seconds
        listener = self._listener(vocabulary)
        self._drain_mic()
        while True:
            touched = self._touched()
            if touched is not None:
                return touched
            try:
                frame = self.mic.read(READ_TIMEOUT_S)
            except AudioDeviceError as exc:
                lost = time.monotonic()
                touched = self._microphone_lost(exc)
                if touched is not None:
                    return touched
                until += time.monotonic() - lost  # waiting for the device is not silence
                listener = self._listener(vocabulary)
                continue
            if frame is not None:
                heard = listener.feed(frame)
                if heard is not None:
                    self._answer_ended = time.monotonic()
                    return heard  # the machine treats a low confidence as unclear
            if not listener.speaking and (time.monotonic() >= until or (
                    stop is not None and stop())):
                return None

    def _listener(self, vocabulary: Vocabulary, floor: float | None = None) -> TurnListener:
        return TurnListener(self.recognizer, self.vad, vocabulary, self.endpointing,
                            self.min_confidence if floor is None else floor)

    def _accepted(self, heard: Heard, floor: float | None = None) -> bool:
        if heard.text == UNINTELLIGIBLE:
            return False
        floor = self.min_confidence if floor is None else floor
        return heard.confidence is None or heard.confidence >= floor

    def _microphone_lost(self, exc: Exception) -> Heard | None:
        """Say so once, then wait for the microphone to come back; an answer touched on the
        screen meanwhile is returned (the microphone is still missing: the screen says so)."""
        from assistant.audio import AudioDeviceError

        if not self._mic_lost:
            self._mic_lost = True
            self.report(f"{MICROPHONE_LOST} ({exc})")
            self._device("microphone", False)
            try:
                self._play(self.synthesizer.synthesize(MICROPHONE_LOST), None)
            except Exception as speak_exc:  # noqa: BLE001 - the printed message is the fallback
                self.report(f"could not speak the microphone message: {speak_exc}")
        if self.touches is None:
            self.mic.reopen_when_available()
        else:
            while True:
                try:
                    self.mic.reopen_when_available(poll_s=0.25, timeout=0.25)
                    break
                except AudioDeviceError:
                    touched = self.touches.wait(0.25)
                    if touched is not None:
                        return touched
        self._mic_lost = False
        self._device("microphone", True)
        self.report("The microphone is back.")
        return None

    def _drain_mic(self) -> None:
        with contextlib.suppress(Exception):  # a failing mic is handled where it is read
            self.mic.drain()

    def _read_mic_quietly(self) -> bytes | None:
        try:
            return self.mic.read(0.05)
        except Exception:  # noqa: BLE001 - barge-in is best effort; listen() handles faults
            return None

    def wait_for_phrase(self, phrase: str, beat: Callable[[], None] | None = None) -> None:
        """Idle until the wake phrase is said: cheap, and deaf to other speech (with a
        supervisor watching, `beat` is called as it listens)."""
        vocabulary = Vocabulary((phrase,))
        wanted = normalize(phrase)
        def beating() -> bool:
            if beat is not None:
                beat()
            return False  # only the wake phrase ends the wait

        while True:
            heard = self.listen(vocabulary, float("inf"), stop=beating)
            if heard is not None and self._accepted(heard) and normalize(heard.text) == wanted:
                return


def _reporter(transcript_holder: list[Transcript]) -> Callable[[str], None]:
    def report(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
        if transcript_holder:
            transcript_holder[0].write(Error(message))

    return report


def run_voice(args: argparse.Namespace, dialogs: Dialogs) -> int:
    """Hold conversations by voice until interrupted (or one, with --once)."""
    from assistant.asr.base import AsrSetupError
    from assistant.asr.select import make_recognizer
    from assistant.audio import AudioSetupError, Loudspeaker, Microphone, resolve_device
    from assistant.tts import Synthesizer, TtsSetupError
    from assistant.vad import VoiceActivity as Vad

    holder: list[Transcript] = []
    report = _reporter(holder)
    try:
        synthesizer = Synthesizer(rate=args.rate, volume=args.volume, voice=args.voice)
        mic = Microphone(resolve_device(args.input_device, "input"), block_ms=30)
        speaker = Loudspeaker(resolve_device(args.output_device, "output"))
        recognizer = make_recognizer(args.engine, args.model, REPO_ROOT / "models", report,
                                     learned_voice=_learned_voice(args))
    except (AudioSetupError, TtsSetupError, AsrSetupError) as exc:
        print(str(exc), file=sys.stderr, flush=True)
        return 3
    clock = make_clock(args.time_scale) if args.time_scale != 1 else RealClock()
    reply_pause = DEFAULT_REPLY_PAUSE_S if args.reply_pause is None else args.reply_pause
    from assistant.cli import open_records, remember_preferences, start_screen
    from assistant.kiosk import (
        Liveness,
        care_from_args,
        finish_alerts,
        session_record,
        state_dir,
        stop_cleanly_on_sigterm,
    )
    from assistant.session import Care

    if args.kiosk:
        stop_cleanly_on_sigterm()
    liveness = Liveness(state_dir(args)) if args.kiosk else None
    crashed = liveness.start() if liveness is not None else False
    base = care_from_args(args, report)
    care = Care(base.alerts, base.place, base.kiosk, base.idle_seconds,
                liveness.beat if liveness is not None else None)
    screen = start_screen(args, care)
    records = open_records(args)
    preferences = records if remember_preferences(args) else None
    voice = AudioVoice(mic, speaker, synthesizer, recognizer, Vad(), clock, report,
                       Endpointing(sure_confidence=dialogs.words.policy.sure_confidence),
                       reply_pause=reply_pause, min_confidence=recognizer.min_confidence,
                       touches=screen.touches if screen else None, screen=screen,
                       device_lost=lambda name: _device_alert(care, name, report))
    prefetch = threading.Thread(  # off the start-up path: a restarted kiosk apologises first
        target=lambda: synthesizer.prefetch(_prompts(dialogs, args)), daemon=True)
    prefetch.start()
    mic.open()
    if crashed:
        voice.say(dialogs.phrases.prompts.restarted)
    try:
        while True:
            if args.kiosk:  # nothing of the last resident: voice, screen, typed-ahead input
                synthesizer.reset()
                if screen is not None:
                    screen.clear()
            if not args.once:
                print(f"Listening for the wake phrase: \"{args.wake_phrase}\"", flush=True)
                if screen is not None:
                    screen.show(idle_view(args.wake_phrase))
                voice.wait_for_phrase(args.wake_phrase, care.beat)
            record = session_record(args.kiosk_records) if args.kiosk else args.transcript
            transcript = Transcript.to_file(record, clock)
            holder[:] = [transcript]
            machine = DialogMachine(dialogs, args.emergency_number,
                                    min_confidence=recognizer.min_confidence, kiosk=args.kiosk,
                                    name=args.name)
            Session(machine, voice, clock, transcript, session_options(args), screen,
                    care, log=records, preferences=preferences).run()
            transcript.close()
            holder.clear()
            if args.once:
                return 0
    except KeyboardInterrupt:
        return 0
    finally:
        finish_alerts(care)
        if liveness is not None:
            liveness.stopped()
        mic.close()
        if records is not None:
            records.close()
        if screen is not None:
            screen.finished()
            screen.stop()


def _learned_voice(args: argparse.Namespace) -> Path | None:
    """The voice learned at home (--learn-voice), unless this is a kiosk or it is turned off."""
    from assistant.voice_learning import learned_voice

    if args.kiosk or not getattr(args, "learned_voice", True):
        return None
    return learned_voice(Path(args.data_dir))


def _device_alert(care: Care, name: Literal["microphone", "loudspeaker"],
                  report: Callable[[str], None]) -> None:
    alert = device_alert(care, name)
    if alert is not None:
        report(f"Alert {alert.id} raised: {alert.reason}")


def _prompts(dialogs: Dialogs, args: argparse.Namespace) -> list[str]:
    """The fixed prompts, synthesized ahead so the first replies start at once."""
    machine = DialogMachine(dialogs, args.emergency_number, name=args.name)
    first = machine.start(0.0).says
    fill = machine.model.fill
    texts = [*first, *(fill(q.ask) for q in dialogs.question_nodes().values())]
    texts += [fill(t) for t in dialogs.emergency.steps]
    if args.kiosk or args.alert_mqtt:  # an acknowledgement is said the moment it comes
        prompts = dialogs.phrases.prompts
        texts += [prompts.staff_know if args.kiosk else prompts.caregiver_knows]
    return texts
