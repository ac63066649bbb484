"""Command line: text mode, voice mode, the flow diagram, and device listing; the options
may be set in a configuration file (assistant.config); `run.py report` and `run.py history`
are the caregiver's commands over the records (assistant.records_cli)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.asr.select import ENGINES
from assistant.cli_options import session_options
from assistant.clock import make_clock
from assistant.config import ConfigError, data_home, load_settings
from assistant.dialog import DialogMachine
from assistant.dialog_data import DEFAULT_DIALOG_DIR, DialogError, Dialogs, load_dialogs
from assistant.session import Session
from assistant.text_voice import TextVoice
from assistant.transcript import Transcript

if TYPE_CHECKING:
    from assistant.history import History
    from assistant.screen.server import ScreenServer
    from assistant.session import Care

REPO_ROOT = Path(__file__).resolve().parent.parent


def emergency_number(value: str) -> str:
    if not re.fullmatch(r"\+?\d{2,6}", value.strip()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a phone number such as 911 or 112")
    return value.strip()


def time_scale(value: str) -> float:
    scale = float(value)
    if scale < 0:
        raise argparse.ArgumentTypeError("the time scale cannot be negative")
    return scale


def port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0 to 65535; 0: any free one)")
    return number


def first_name(value: str) -> str:
    name = " ".join(value.split())
    if not re.fullmatch(r"[^\W\d_]+(?:[ '\-][^\W\d_]+)*", name) or len(name) > 30:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a first name (letters, up to 30, such as Margaret)")
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Offline voice assistant for leg weakness: a symptom check with call-911 "
        "guidance, and a timed seated-exercise routine. Guidance only, never a diagnosis.",
    )
    mode = parser.add_argument_group("mode")
    mode.add_argument("--text", action="store_true", help="type answers instead of speaking")
    mode.add_argument("--diagram", metavar="PATH",
                      help="draw the dialog flow (.png/.svg/.pdf/.dot) and exit")
    mode.add_argument("--list-devices", action="store_true", help="list audio devices and exit")
    mode.add_argument("--once", action="store_true", help="voice mode: one session, then exit")
    session = parser.add_argument_group("session")
    session.add_argument("--time-scale", type=time_scale, default=1.0, metavar="X",
                         help="multiply every wait (1 real time, 0 no waiting)")
    session.add_argument("--emergency-number", type=emergency_number, default="911", metavar="N")
    session.add_argument("--transcript", metavar="PATH", help="write the session as JSON lines")
    session.add_argument("--dialogs", metavar="DIR", default=str(DEFAULT_DIALOG_DIR),
                         help="folder of dialog files")
    voice = parser.add_argument_group("voice")
    voice.add_argument("--engine", choices=ENGINES, default="auto")
    voice.add_argument("--model", metavar="PATH", help="Vosk model folder")
    voice.add_argument("--input-device", metavar="NAME|INDEX")
    voice.add_argument("--output-device", metavar="NAME|INDEX")
    voice.add_argument("--rate", type=int, metavar="WPM", help="speaking rate (default about 150)")
    voice.add_argument("--volume", type=float, metavar="0..1", help="speaking volume")
    voice.add_argument("--voice", metavar="ID", help="synthesizer voice")
    voice.add_argument("--wake-phrase", default="hello helper", metavar="PHRASE")
    voice.add_argument("--learn-voice", action="store_true",
                       help="learn the voice of the person at home (asks for a few words "
                            "twice; kept only if it then hears them better), then exit")
    voice.add_argument("--forget-voice", action="store_true",
                       help="delete the learned voice and its recordings, then exit")
    voice.add_argument("--learned-voice", action=argparse.BooleanOptionalAction, default=True,
                       help="hear with the voice learned by --learn-voice, if there is one "
                            "(pocketsphinx; never at a kiosk)")
    screen = parser.add_argument_group("screen")
    screen.add_argument("--screen", action="store_true",
                        help="show large captions and touch answers in a local web page")
    screen.add_argument("--screen-host", default="127.0.0.1", metavar="HOST",
                        help="address the page is served on (default 127.0.0.1: this device only)")
    screen.add_argument("--screen-port", type=port, default=8765, metavar="PORT")
    voice.add_argument("--reply-pause", type=float, default=None, metavar="SECONDS",
                       help="pause before replying (pacing for older listeners)")
    home = parser.add_argument_group("household (also in the configuration file)")
    home.add_argument("--config", metavar="PATH",
                      help="configuration file (default: $XDG_CONFIG_HOME/leg-assistant/"
                      "config.toml when it exists)")
    home.add_argument("--print-config", action="store_true",
                      help="show every setting in force and where it came from, and exit")
    home.add_argument("--name", type=first_name, metavar="FIRST_NAME",
                      help="the person's first name, said in a few prompts")
    home.add_argument("--data-dir", metavar="DIR", default=str(data_home()),
                      help="where preferences and the history of sessions are kept")
    home.add_argument("--keep-records", action=argparse.BooleanOptionalAction, default=True,
                      help="keep the history of sessions and remembered preferences "
                      "(--no-keep-records: nothing is written to the data folder)")
    add_kiosk_options(parser)
    return parser


def minutes(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("the idle time is a number of minutes above 0")
    return number


def add_kiosk_options(parser: argparse.ArgumentParser) -> None:
    from assistant.kiosk import DEFAULT_IDLE_MINUTES, check_alert_url

    kiosk = parser.add_argument_group("kiosk and alerts")
    kiosk.add_argument("--kiosk", action="store_true",
                       help="a shared room: one resident per session, nothing of the last one "
                       "kept, no transcript (see --kiosk-records)")
    kiosk.add_argument("--place", metavar="NAME",
                       help='what staff are told, e.g. "Maple Lounge kiosk"')
    kiosk.add_argument("--alert-mqtt", type=check_alert_url, metavar="URL",
                       help="send alerts to staff (kiosk) or a caregiver (home): "
                       "mqtt://[user:password@]host:port/topic-prefix (mqtts:// for TLS; "
                       "the password may come from $LEG_ASSISTANT_MQTT_PASSWORD)")
    kiosk.add_argument("--idle-minutes", type=minutes, metavar="N",
                       help="end a session nobody answers after N minutes (kiosk default "
                       f"{DEFAULT_IDLE_MINUTES:g}); the emergency guidance never times out")
    kiosk.add_argument("--alert-outbox", metavar="DIR",
                       help="where alerts wait until delivered (default "
                       "~/.local/state/leg-assistant/alert-outbox)")
    kiosk.add_argument("--kiosk-records", metavar="DIR",
                       help="kiosk: write each session's record to this staff-only folder "
                       "(made mode 0700); never audio")
    kiosk.add_argument("--staff-token", metavar="TOKEN",
                       default=os.environ.get("LEG_ASSISTANT_STAFF_TOKEN"),
                       help="with --screen: the /staff page (open alerts, Acknowledge) asks "
                       "for this token; none set, no staff page ($LEG_ASSISTANT_STAFF_TOKEN)")


def load_or_explain(folder: str) -> Dialogs | None:
    try:
        return load_dialogs(folder)
    except DialogError as exc:
        print("The assistant cannot start: a dialog file has a problem.\n" + str(exc),
              file=sys.stderr, flush=True)
        return None


def start_screen(args: argparse.Namespace, care: Care | None = None) -> ScreenServer | None:
    """The page beside the session (--screen), already serving; None without --screen.
    With alerts and a staff token, /staff lists the open alerts."""
    if not args.screen:
        return None
    from assistant.alerts import MqttAlerts
    from assistant.screen.server import ScreenServer

    alerts = care.alerts if care is not None else None
    staff = alerts if isinstance(alerts, MqttAlerts) and args.staff_token else None
    screen = ScreenServer(args.screen_host, args.screen_port, staff, args.staff_token)
    try:
        url = screen.start()
    except OSError as exc:
        raise SystemExit(f"The screen cannot start on {screen.url}: {exc}") from exc
    print(f"Screen: open {url} in a browser on this device.", file=sys.stderr, flush=True)
    if args.screen_host not in ("127.0.0.1", "localhost", "::1"):
        print(f"Screen: served on {args.screen_host}: anyone who can reach it can see the "
              "conversation and answer it (there is no password).", file=sys.stderr, flush=True)
    return screen


def open_records(args: argparse.Namespace) -> History | None:
    """The history and remembered preferences in --data-dir; None with --no-keep-records,
    or when the file cannot be used (said, and the session goes on without it)."""
    if not args.keep_records or args.kiosk:  # a kiosk keeps nothing of its residents here
        return None
    from assistant.history import History, HistoryError

    try:
        return History.open(args.data_dir)
    except (HistoryError, OSError) as exc:
        print(f"{exc} The session goes on without keeping a history.", file=sys.stderr,
              flush=True)
        return None


def remember_preferences(args: argparse.Namespace) -> bool:
    """Whether "slower", "louder"... carry over to the next session: the one switch for it
    (a shared device must not, since the next person is someone else)."""
    return bool(args.keep_records) and not args.kiosk


def run_text(args: argparse.Namespace, dialogs: Dialogs) -> int:
    from assistant.kiosk import care_from_args, finish_alerts

    clock = make_clock(args.time_scale)
    care = care_from_args(args, lambda message: print(message, file=sys.stderr, flush=True))
    screen = start_screen(args, care)
    transcript = Transcript.to_file(args.transcript, clock)
    records = open_records(args)
    machine = DialogMachine(dialogs, args.emergency_number, name=args.name)
    voice = TextVoice(clock, touches=screen.touches if screen else None)
    session = Session(machine, voice, clock, transcript, session_options(args), screen, care,
                      log=records, preferences=records if remember_preferences(args) else None)
    try:
        session.run()
    except KeyboardInterrupt:
        print(flush=True)  # the session said its safety-net line and wrote it down
    finally:
        finish_alerts(care)
        session.record_alert_news()  # delivered while the assistant was closing
        transcript.close()
        if records is not None:
            records.close()
        if screen is not None:
            screen.finished()
            screen.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["report"], ["history"]):
        from assistant.records_cli import run_records

        return run_records(argv)
    try:
        parser, settings = load_settings(build_parser, argv)
    except ConfigError as exc:
        print(f"The assistant cannot start: {exc}", file=sys.stderr, flush=True)
        return 2
    args = settings.args
    if args.print_config:
        print(settings.describe(parser))
        if remember_preferences(args):
            from assistant.history import describe_remembered

            print(describe_remembered(args.data_dir))
        return 0
    if args.list_devices:
        from assistant.audio import list_devices

        print(list_devices())
        return 0
    dialogs = load_or_explain(args.dialogs)
    if dialogs is None:
        return 2
    if args.diagram:
        from assistant.diagram import draw_dialog

        print(f"Wrote {draw_dialog(dialogs, args.diagram, args.emergency_number)}")
        return 0
    if args.kiosk and args.transcript:
        print("A kiosk keeps no transcript (residents share it): use --kiosk-records DIR for "
              "a staff-only folder.", file=sys.stderr, flush=True)
        return 2
    if args.forget_voice:
        from assistant.voice_learning_mode import run_forget_voice

        return run_forget_voice(args)
    if args.learn_voice:
        from assistant.voice_learning_mode import run_learn_voice

        return run_learn_voice(args, dialogs)
    if args.text and args.kiosk:
        from assistant.kiosk_text import run_text_kiosk

        return run_text_kiosk(args, dialogs)
    if args.text:
        return run_text(args, dialogs)
    from assistant.voice_mode import run_voice

    return run_voice(args, dialogs)


if __name__ == "__main__":
    sys.exit(main())
