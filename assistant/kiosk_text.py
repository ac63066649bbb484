"""The keyboard kiosk (`--text --kiosk`): residents one after another at one terminal.

The waiting state prints how to begin; any line typed (or Start touched on the screen)
starts a session with a fresh dialog machine, and its end clears the screen and drops
whatever was typed ahead, so the next resident finds nothing of the last.
"""

from __future__ import annotations

import argparse
import sys

from assistant.cli_options import session_options
from assistant.clock import make_clock
from assistant.dialog import DialogMachine
from assistant.dialog_data import Dialogs
from assistant.kiosk import (
    Liveness,
    care_from_args,
    finish_alerts,
    session_record,
    state_dir,
    stop_cleanly_on_sigterm,
)
from assistant.screen.view import idle_view
from assistant.session import Care, Session
from assistant.text_voice import TextVoice
from assistant.transcript import Transcript

WAITING = "Kiosk ready: press Enter (or touch Start) to begin."


def run_text_kiosk(args: argparse.Namespace, dialogs: Dialogs) -> int:
    from assistant.cli import start_screen

    def report(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    stop_cleanly_on_sigterm()
    clock = make_clock(args.time_scale)
    liveness = Liveness(state_dir(args))
    crashed = liveness.start()
    base = care_from_args(args, report)
    care = Care(base.alerts, base.place, True, base.idle_seconds, liveness.beat)
    screen = start_screen(args, care)
    voice = TextVoice(clock, touches=screen.touches if screen else None, kiosk=True)
    try:
        if crashed:
            voice.say(dialogs.phrases.prompts.restarted)
        while True:
            print(WAITING, flush=True)
            if screen is not None:
                screen.clear()
                screen.show(idle_view(args.wake_phrase))
            started = None
            while started is None:
                liveness.beat()
                started = voice.wait_to_start(1.0)
            if not started:
                return 0
            transcript = Transcript.to_file(session_record(args.kiosk_records), clock)
            machine = DialogMachine(dialogs, args.emergency_number, kiosk=True)
            try:
                Session(machine, voice, clock, transcript, session_options(args), screen,
                        care).run()
            finally:
                transcript.close()
                voice.forget()
            print("Session ended.", flush=True)
    except KeyboardInterrupt:
        print(flush=True)
        return 0
    finally:
        finish_alerts(care)
        liveness.stopped()
        if screen is not None:
            screen.finished()
            screen.stop()
