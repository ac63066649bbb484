"""Dialog files as YAML with line numbers, so every problem names its file and line.

A clinician's typo must stop the start with a message that says where it is:
the YAML is composed once, the line of any key path can be looked up, a key
written twice is an error, and `yes` / `no` stay words (YAML 1.2 booleans).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DialogError(Exception):
    """A dialog file is broken; the message says where and what."""


# libyaml's parser when PyYAML has it (5x faster than the pure Python one: the dialogs load
# at every start), with the same safe constructor and resolver either way.
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ClinicianLoader(_BASE):  # type: ignore[valid-type,misc]
    """YAML 1.2 booleans: a phrase written `yes` or `no` stays a word."""


ClinicianLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ClinicianLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)


def parse(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DialogError(f"{path}: file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogError(f"{path}: cannot be read ({exc})") from None
    loader = ClinicianLoader(text)  # a safe loader
    try:
        tree = loader.get_single_node()  # composed once: the lines, then the data from it
        data = loader.construct_document(tree) if tree is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise DialogError(f"{path}{where}: not valid YAML: {exc.problem}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise DialogError(f"{path}: expected a mapping of keys at the top level")
    duplicates = duplicate_keys(tree)
    if duplicates:
        raise DialogError("\n".join(
            f"{path}, line {key.start_mark.line + 1}: '{key.value}' is written twice "
            "(the second would silently replace the first)" for key in duplicates
        ))
    return data, tree


def duplicate_keys(node: yaml.Node | None) -> list[yaml.Node]:
    """A copied question left with the same name would hide the first one: find such keys."""
    found: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                found.append(key)
            seen.add(key.value)
            found += duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += duplicate_keys(item)
    return found


def line_of(tree: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a key path through the composed YAML to the line it sits on."""
    node = tree
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            key = next((k for k, _ in node.value if k.value == str(part)), None)
            if match is None:
                continue  # a discriminator tag or a missing key: stay on the parent
            line = key.start_mark.line + 1 if key is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(
            node.value
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def describe(error: dict[str, Any]) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        return f"unknown key '{loc[-1]}'"
    if kind == "missing":
        return f"'{loc[-1]}' is missing"
    if kind == "too_short":
        return "must not be empty"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.startswith("literal_error"):
        return f"{message} (got {error.get('input')!r})"
    return message


Parsed = dict[Path, tuple[Any, yaml.Node | None]]


def validate(model: type[M], path: Path, parsed: Parsed) -> tuple[M, yaml.Node | None]:
    data, tree = parsed[path] = parse(path)
    try:
        return model.model_validate(data), tree
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if p not in ("question", "message", "str"))
            line = line_of(tree, loc)
            place = " > ".join(str(p) for p in loc) or "top level"
            where = f", line {line}" if line else ""
            problems.append(f"{path}{where} ({place}): {describe(dict(error))}")
        raise DialogError("\n".join(dict.fromkeys(problems))) from None


class Problems:
    """Problems found across files, each with its file, line and key path."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: Path, tree: yaml.Node | None, loc: tuple[Any, ...], what: str) -> None:
        line = line_of(tree, loc)
        where = f", line {line}" if line else ""
        self.items.append(f"{path}{where} ({' > '.join(map(str, loc))}): {what}")

    def raise_any(self) -> None:
        if self.items:
            raise DialogError("\n".join(dict.fromkeys(self.items)))
