"""The configuration file: found, checked, merged under the command line, and shown.

Each kind of bad file must say what is wrong and where, differently, so a caregiver
editing it can fix it; and nothing starts on a file that is not understood.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.cli import build_parser, main
from assistant.config import ConfigError, file_keys, load_settings


@pytest.fixture(autouse=True)
def own_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG folders of the test's own: the real user's files are never read."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def problem(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(build_parser, ["--config", str(path)])
    return str(caught.value)


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    message = problem(tmp_path, 'wake-phrase = "hello helper"\nrate = 130\nvolume = \n')
    assert "not valid TOML" in message and "line 3" in message
    assert str(tmp_path / "config.toml") in message


def test_an_unknown_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    message = problem(tmp_path, 'emergency-numbr = "112"\n')
    assert "unknown key 'emergency-numbr'" in message
    assert "Did you mean 'emergency-number'?" in message


def test_a_value_of_the_wrong_type_says_what_is_expected(tmp_path: Path) -> None:
    assert "'rate' must be a whole number, not '130'" in problem(tmp_path, 'rate = "130"\n')
    assert "'emergency-number' must be text in quotes, not 911" in problem(
        tmp_path, "emergency-number = 911\n")
    assert "'text' must be true or false, not 'yes'" in problem(tmp_path, 'text = "yes"\n')
    assert "'screen-port' must be a whole number, not true" in problem(
        tmp_path, "screen-port = true\n")


def test_an_impossible_value_says_why(tmp_path: Path) -> None:
    message = problem(tmp_path, 'emergency-number = "call my son"\n')
    assert "'emergency-number' = 'call my son' is impossible" in message
    assert "not a phone number" in message
    assert "is impossible" in problem(tmp_path, "screen-port = 70000\n")
    assert "must be one of 'auto', 'vosk', 'moonshine', 'pocketsphinx'" in problem(
        tmp_path, 'engine = "whisper"\n')
    assert "not a first name" in problem(tmp_path, 'name = "R2-D2"\n')
    assert "cannot be negative" in problem(tmp_path, "time-scale = -1\n")


def test_each_kind_of_bad_file_has_its_own_message(tmp_path: Path) -> None:
    messages = [problem(tmp_path, text) for text in (
        "rate = = 1\n", "speed = 1\n", 'rate = "fast"\n', "time-scale = -2\n")]
    kinds = ["not valid TOML", "unknown key", "must be", "is impossible"]
    for message, kind in zip(messages, kinds, strict=True):
        assert kind in message
        assert all(other not in message for other in kinds if other != kind), message


def test_command_line_over_file_over_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, 'emergency-number = "112"\nrate = 130\nname = "Margaret"\n'
                 'keep-records = false\n')
    _, defaults = load_settings(build_parser, [])
    assert defaults.args.emergency_number == "911" and defaults.args.rate is None
    assert defaults.args.keep_records is True and defaults.file is None
    _, settings = load_settings(build_parser, ["--config", str(path), "--rate", "170"])
    args = settings.args
    assert args.emergency_number == "112"  # the file over the default
    assert args.rate == 170  # the command line over the file
    assert args.name == "Margaret" and args.keep_records is False
    assert args.wake_phrase == "hello helper"  # neither: the default
    assert settings.sources["rate"] == "command line"
    assert settings.sources["emergency_number"] == f"config file {path}"
    _, again = load_settings(build_parser, ["--config", str(path), "--keep-records"])
    assert again.args.keep_records is True


def test_the_xdg_file_is_read_without_config(own_folders: Path) -> None:
    folder = own_folders / "config" / "leg-assistant"
    folder.mkdir(parents=True)
    write(folder, 'wake-phrase = "hello there"\n')
    _, settings = load_settings(build_parser, [])
    assert settings.args.wake_phrase == "hello there"
    assert settings.file == folder / "config.toml"


def test_a_missing_config_file_is_said(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(build_parser, ["--config", str(tmp_path / "nope.toml")])


def test_options_added_later_get_keys_without_a_change_to_the_config_module(
        tmp_path: Path) -> None:
    def with_more() -> argparse.ArgumentParser:
        parser = build_parser()
        parser.add_argument("--hearing-aid-mode", action="store_true")
        parser.add_argument("--caption-lines", type=int, default=4)
        return parser

    assert {"hearing-aid-mode", "caption-lines", "emergency-number", "data-dir"} <= set(
        file_keys(with_more()))
    path = write(tmp_path, 'hearing-aid-mode = true\ncaption-lines = 6\n')
    _, settings = load_settings(with_more, ["--config", str(path)])
    assert settings.args.hearing_aid_mode is True and settings.args.caption_lines == 6
    bad = write(tmp_path, 'caption-lines = "six"\n', "bad.toml")
    with pytest.raises(ConfigError, match="'caption-lines' must be"):
        load_settings(with_more, ["--config", str(bad)])


def test_the_kiosk_and_alert_options_are_keys_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'kiosk = true\nplace = "Maple Lounge kiosk"\nidle-minutes = 5\n'
                 'alert-mqtt = "mqtt://broker.local:1883/care"\n')
    _, settings = load_settings(build_parser, ["--config", str(path)])
    args = settings.args
    assert args.kiosk and args.place == "Maple Lounge kiosk" and args.idle_minutes == 5.0
    assert args.alert_mqtt == "mqtt://broker.local:1883/care"
    bad = write(tmp_path, 'idle-minutes = 0\n', "bad.toml")
    with pytest.raises(ConfigError, match="idle-minutes"):
        load_settings(build_parser, ["--config", str(bad)])


def test_every_option_but_the_one_off_actions_has_a_key() -> None:
    parser = build_parser()
    options = {o[2:] for a in parser._actions for o in a.option_strings if o.startswith("--")}
    one_off = {"help", "config", "print-config", "diagram", "list-devices", "learn-voice",
               "forget-voice"}
    keys = set(file_keys(parser))
    assert keys == {o for o in options if o not in one_off and not o.startswith("no-")}


def test_print_config_shows_each_setting_and_where_it_came_from(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, 'emergency-number = "112"\n')
    assert main(["--config", str(path), "--rate", "140", "--print-config"]) == 0
    out = capsys.readouterr().out
    lines = {line.split("=")[0].strip(): line for line in out.splitlines() if "=" in line}
    assert '"112"' in lines["emergency-number"] and f"config file {path}" in lines[
        "emergency-number"]
    assert "140" in lines["rate"] and "command line" in lines["rate"]
    assert '"hello helper"' in lines["wake-phrase"] and "default" in lines["wake-phrase"]
    assert "data-dir" in lines and "keep-records" in lines and "name" in lines
    assert "Remembered: nothing yet" in out


def test_print_config_says_what_is_remembered(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.history import History
    from assistant.ports import VoiceChange

    kept = History.open(tmp_path / "records")
    kept.remember(VoiceChange(rate_steps=-1))
    kept.remember(VoiceChange(rate_steps=-1))
    kept.close()
    path = write(tmp_path, 'data-dir = "~/records"\n')
    assert main(["--config", str(path), "--data-dir", str(tmp_path / "records"),
                 "--print-config"]) == 0
    out = capsys.readouterr().out
    assert "speed 2 steps slower, volume as configured" in out
    _, settings = load_settings(build_parser, ["--config", str(path)])
    assert settings.args.data_dir == str(Path.home() / "records")  # ~ as the shell reads it


def test_the_assistant_does_not_start_on_a_bad_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, 'volume = "loud"\n')
    run: Callable[[list[str]], int] = main
    assert run(["--config", str(path), "--text"]) == 2
    err = capsys.readouterr().err
    assert "The assistant cannot start" in err and "'volume' must be a number" in err


def test_the_readme_example_is_a_good_file(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    _, settings = load_settings(build_parser, ["--config", str(write(tmp_path, example))])
    assert settings.args.emergency_number == "112" and settings.args.name == "Margaret"
    from_file = [v for v in settings.sources.values() if v.startswith("config file")]
    assert len(from_file) == example.count(" = ")


def test_print_config_never_shows_the_broker_password_or_the_staff_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, 'alert-mqtt = "mqtt://kiosk:s3cret@broker.local:1883/care"\n')
    assert main(["--config", str(path), "--staff-token", "t0ken", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "t0ken" not in out
    assert "mqtt://kiosk:***@broker.local:1883/care" in out


def test_a_kiosk_remembers_no_preferences_and_keeps_no_history(tmp_path: Path) -> None:
    from assistant.cli import open_records, remember_preferences

    home = build_parser().parse_args(["--data-dir", str(tmp_path / "home")])
    kiosk = build_parser().parse_args(["--kiosk", "--data-dir", str(tmp_path / "kiosk")])
    assert remember_preferences(home) and not remember_preferences(kiosk)
    assert open_records(kiosk) is None and not (tmp_path / "kiosk").exists()
    records = open_records(home)
    assert records is not None
    records.close()
