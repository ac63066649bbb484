"""The household's configuration file (TOML), merged under the command line.

Every command-line option has a key of the same name without its dashes
(`--emergency-number 112` is `emergency-number = "112"`), derived here from the
argparse parser, so an option added later gets its key without a change here.
The command line wins over the file, the file over the built-in defaults. The
file is checked before anything starts: bad TOML, an unknown key, a value of
the wrong type and an impossible value each get their own message naming the
key, and the assistant does not start on a file it does not understand.
"""

from __future__ import annotations

import argparse
import difflib
import os
import tomllib
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP = "leg-assistant"
# Options that do something once and exit (or name the file itself): no key in the file.
NOT_IN_FILE = frozenset({"help", "config", "print_config", "diagram", "list_devices",
                         "learn_voice", "forget_voice"})
TOML_TYPES: dict[type, tuple[type, ...]] = {
    bool: (bool,), int: (int,), float: (int, float), str: (str,),
}
TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number",
              str: "text in quotes"}


class ConfigError(Exception):
    """The configuration file cannot be used; the message says where and why."""


def config_home() -> Path:
    """$XDG_CONFIG_HOME/leg-assistant (default ~/.config/leg-assistant)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP


def data_home() -> Path:
    """$XDG_DATA_HOME/leg-assistant (default ~/.local/share/leg-assistant)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP


def default_config_path() -> Path:
    return config_home() / "config.toml"


@dataclass(frozen=True)
class Key:
    """One key of the file: the option it stands for and what it accepts."""

    name: str  # as written in the file: "emergency-number"
    action: argparse.Action

    @property
    def dest(self) -> str:
        return self.action.dest

    def expected(self) -> type:
        """The TOML type the value must have, read from the option itself."""
        action = self.action
        if action.nargs == 0:  # store_true, store_false, --x/--no-x
            return bool
        convert = action.type
        if convert is None:
            return str
        if convert in (int, float, str):
            return typing.cast(type, convert)
        returned = typing.get_type_hints(convert).get("return", str)
        return returned if returned in TYPE_WORDS else str

    def check(self, value: Any, origin: str) -> Any:
        """The value as the option would hold it; ConfigError when it cannot be."""
        expected = self.expected()
        kind_ok = isinstance(value, TOML_TYPES[expected]) and not (
            expected is not bool and isinstance(value, bool))
        if not kind_ok:
            raise ConfigError(f"{origin}: '{self.name}' must be {TYPE_WORDS[expected]}, "
                              f"not {_shown(value)}.")
        if self.action.nargs == 0:
            return value
        convert: Callable[[str], Any] | None = self.action.type  # type: ignore[assignment]
        try:
            held = convert(str(value)) if convert is not None else value
        except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
            raise ConfigError(f"{origin}: '{self.name}' = {_shown(value)} is impossible: "
                              f"{exc}.") from exc
        if isinstance(held, str) and held.startswith("~") and self.action.metavar in (
                "PATH", "DIR"):
            held = str(Path(held).expanduser())  # "~/records" as the shell would read it
        choices = self.action.choices
        if choices is not None and held not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{origin}: '{self.name}' = {_shown(value)} is impossible: "
                              f"it must be one of {listed}.")
        return held


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value)


def file_keys(parser: argparse.ArgumentParser) -> dict[str, Key]:
    """Every option of the parser that may be set in the file, by its key."""
    keys: dict[str, Key] = {}
    for action in parser._actions:  # argparse has no public list of its actions
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs or action.dest in NOT_IN_FILE or action.dest == argparse.SUPPRESS:
            continue
        name = longs[0][2:]
        keys[name] = Key(name, action)
    return keys


def read_file(path: Path, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The file's settings by option name (dest), checked; ConfigError if any is wrong."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"The configuration file {path} cannot be read: "
                          f"{exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"The configuration file {path} is not UTF-8 text.") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The configuration file {path} is not valid TOML: {exc}. "
                          "Keys are written like: emergency-number = \"911\"") from exc
    keys = file_keys(parser)
    settings: dict[str, Any] = {}
    for name, value in data.items():
        key = keys.get(name) or keys.get(name.replace("_", "-"))
        if key is None:
            near = difflib.get_close_matches(name, keys, n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise ConfigError(f"{path}: unknown key '{name}'.{hint} Known keys: "
                              f"{', '.join(sorted(keys))}.")
        settings[key.dest] = key.check(value, str(path))
    return settings


@dataclass
class Settings:
    """The options in force, and where each came from."""

    args: argparse.Namespace
    file: Path | None
    sources: dict[str, str] = field(default_factory=dict)  # dest -> "command line", ...

    def describe(self, parser: argparse.ArgumentParser) -> str:
        """What `--print-config` prints: every setting, its value and its origin."""
        from assistant.kiosk import recorded_options  # no password, no token on screen

        lines = [f"Configuration file: {self.file or 'none (built-in defaults)'}"]
        keys = file_keys(parser)
        width = max(len(k) for k in keys)
        shown = recorded_options(vars(self.args))
        for name, key in sorted(keys.items()):
            value = shown.get(key.dest)
            lines.append(f"  {name:<{width}} = {_toml(value):<28} "
                         f"# {self.sources.get(key.dest, 'default')}")
        return "\n".join(lines)


def _toml(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _given_on_command_line(build: Callable[[], argparse.ArgumentParser],
                           argv: Sequence[str]) -> argparse.Namespace:
    """Only what was typed: the same parser with every default suppressed."""
    quiet = build()
    for action in quiet._actions:
        action.default = argparse.SUPPRESS
    return quiet.parse_args(list(argv))


def load_settings(build: Callable[[], argparse.ArgumentParser],
                  argv: Sequence[str]) -> tuple[argparse.ArgumentParser, Settings]:
    """Parse the command line over the configuration file over the defaults.

    The file is `--config PATH` (which must exist), else config.toml in the XDG
    configuration folder when there is one, else none.
    """
    given = vars(_given_on_command_line(build, argv))
    parser = build()
    path: Path | None = None
    if "config" in given:
        path = Path(given["config"]).expanduser()
        if not path.is_file():
            raise ConfigError(f"The configuration file {path} (--config) does not exist.")
    elif default_config_path().is_file():
        path = default_config_path()
    from_file = read_file(path, parser) if path is not None else {}
    parser.set_defaults(**from_file)
    args = parser.parse_args(list(argv))
    sources = {dest: f"config file {path}" for dest in from_file}
    sources |= {dest: "command line" for dest in given}
    return parser, Settings(args, path, sources)
