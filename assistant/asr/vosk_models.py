"""Finding (or, with network, fetching) a Vosk model without ever stopping the program.

The vosk package can look models up by name or language itself, but on a
miss it prints a line and calls ``sys.exit(1)`` (``Model(model_name=...)``,
``Model(lang=...)``, ``get_model_by_name``, ``get_model_by_lang``), and it
waits up to 10 s on the network. None of that is acceptable at the start of
an assistant for someone who may need it in an emergency, so lookup is done
here and Vosk only ever gets an explicit ``model_path``.

Lookup order:
  1. an explicit path (``--model PATH``);
  2. ``$VOSK_MODEL_PATH`` (a model directory, or a directory holding models);
  3. the repository's ``models/`` directory;
  4. the directories Vosk itself searches (``vosk.MODEL_DIRS``:
     /usr/share/vosk, ~/AppData/Local/vosk, ~/.cache/vosk).
If none holds a model and the model server answers within a second or two,
the small English model is downloaded into ``models/``, verified and unpacked;
otherwise `ModelNotFound` says exactly what to download and where to put it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from assistant.asr.base import AsrSetupError

DEFAULT_MODEL = "vosk-model-small-en-us-0.15"  # about 40 MB, US English, runs on a Raspberry Pi
REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")  # present in every Vosk model
ENGLISH_MODEL = re.compile(r"vosk-model(-small)?-en-us")  # the pattern Vosk uses for lang="en-us"
REACHABILITY_TIMEOUT_S = 1.5
DOWNLOAD_TIMEOUT_S = 20.0  # per network read, not for the whole download

# Copies of the vosk package's constants, used when it cannot be imported.
_MODEL_PRE_URL = "https://alphacephei.com/vosk/models/"
_MODEL_LIST_URL = _MODEL_PRE_URL + "model-list.json"


class ModelNotFound(AsrSetupError):
    """No usable Vosk model; the message says what to download and where to put it."""


def model_urls() -> tuple[str, str]:
    """(prefix of model zip URLs, URL of the model list), as the vosk package builds them."""
    try:
        import vosk
    except ImportError:
        return _MODEL_PRE_URL, _MODEL_LIST_URL
    return getattr(vosk, "MODEL_PRE_URL", _MODEL_PRE_URL), getattr(vosk, "MODEL_LIST_URL",
                                                                      _MODEL_LIST_URL)


def vosk_search_dirs() -> list[Path]:
    """Vosk's own model directories (without $VOSK_MODEL_PATH, which is looked at earlier)."""
    try:
        import vosk

        dirs = list(vosk.MODEL_DIRS)
    except ImportError:
        dirs = [Path("/usr/share/vosk"), Path.home() / "AppData/Local/vosk",
                Path.home() / ".cache/vosk"]
    env = os.environ.get("VOSK_MODEL_PATH")
    return [Path(d) for d in dirs if d is not None and str(d) != env]


def is_model_dir(path: Path) -> bool:
    """Whether `path` looks like an unpacked Vosk model."""
    return path.is_dir() and all((path / f).is_file() for f in REQUIRED_FILES)


def model_in(directory: Path) -> Path | None:
    """`directory` itself if it is a model, else its best English model subdirectory."""
    if is_model_dir(directory):
        return directory
    if not directory.is_dir():
        return None
    try:
        children = sorted(directory.iterdir())
    except OSError:
        return None
    models = [c for c in children if ENGLISH_MODEL.match(c.name) and is_model_dir(c)]
    preferred = [m for m in models if m.name == DEFAULT_MODEL]
    chosen = preferred or models
    return chosen[0] if chosen else None


def find_model(explicit: str | Path | None, models_dir: Path,
               env: Mapping[str, str] | None = None,
               search_dirs: list[Path] | None = None) -> Path:
    """The model to use, by the lookup order in the module doc; raises ModelNotFound."""
    environ = os.environ if env is None else env
    if explicit:
        path = Path(explicit).expanduser()
        found = model_in(path)
        if found is None:
            raise ModelNotFound(
                f"{path} is not a Vosk model: it should contain "
                f"{' and '.join(REQUIRED_FILES)}. {missing_model_message(models_dir)}")
        return found
    places: list[Path] = []
    if environ.get("VOSK_MODEL_PATH"):
        places.append(Path(environ["VOSK_MODEL_PATH"]).expanduser())
    places.append(models_dir)
    places.extend(vosk_search_dirs() if search_dirs is None else search_dirs)
    for place in places:
        found = model_in(place)
        if found is not None:
            return found
    raise ModelNotFound(missing_model_message(models_dir, places))


def missing_model_message(models_dir: Path, searched: list[Path] | None = None) -> str:
    """Plain instructions: which file, from where, unpacked into which folder."""
    prefix, _ = model_urls()
    where = f" Looked in: {', '.join(str(p) for p in searched)}." if searched else ""
    return (f"No Vosk speech model found.{where} Download {prefix}{DEFAULT_MODEL}.zip "
            f"(about 40 MB), unzip it into {models_dir}/ so that "
            f"{models_dir / DEFAULT_MODEL / REQUIRED_FILES[0]} exists, "
            f"or pass --model PATH / set VOSK_MODEL_PATH.")


def network_reachable(url: str | None = None, timeout: float = REACHABILITY_TIMEOUT_S) -> bool:
    """Whether the model server accepts a connection within `timeout` seconds.

    Name lookup has no timeout of its own, so the whole check runs in a daemon
    thread that is abandoned when time is up: start-up never hangs on it.
    """
    host = urlparse(url or model_urls()[1]).hostname or "alphacephei.com"
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="vosk-reachability", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


class _Response(Protocol):
    """The part of requests.Response used here (tests pass a fake)."""

    headers: Mapping[str, str]

    def raise_for_status(self) -> None: ...

    def iter_content(self, chunk_size: int) -> Iterator[bytes]: ...

    def json(self) -> Any: ...


class Session(Protocol):
    def get(self, url: str, *, timeout: float, stream: bool = False) -> _Response: ...


def _default_session() -> Session:
    import requests

    session: Session = requests.Session()  # type: ignore[assignment]  # a wider get()
    return session


def model_entry(session: Session, name: str) -> dict[str, Any]:
    """The model list's entry for `name` (url, size, md5), or a bare one if the list fails."""
    prefix, list_url = model_urls()
    bare: dict[str, Any] = {"name": name, "url": f"{prefix}{name}.zip"}
    try:
        response = session.get(list_url, timeout=REACHABILITY_TIMEOUT_S * 4)
        response.raise_for_status()
        for entry in response.json():
            if entry.get("name") == name:
                return {**bare, **entry}
    except (OSError, ValueError, AttributeError, TypeError):  # requests' errors are OSErrors
        pass  # the zip URL is known anyway; size and checksum are then just not checked
    return bare


def verify_model_zip(path: Path, name: str) -> None:
    """Raise ModelNotFound unless `path` is an intact zip holding model `name` safely.

    Checks the CRC of every member, that the model's required files are there,
    and that no member would unpack outside the target folder.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise ModelNotFound(f"The downloaded file {path} is not a valid zip ({exc}).") from exc
    if bad is not None:
        raise ModelNotFound(f"The downloaded file {path} is damaged (first bad member: {bad}).")
    for member in members:
        parts = Path(member).parts
        if member.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise ModelNotFound(f"The downloaded file {path} has an unsafe member: {member}")
    missing = [f for f in REQUIRED_FILES if f"{name}/{f}" not in members]
    if missing:
        raise ModelNotFound(f"The downloaded file {path} is not the model {name}: "
                            f"missing {', '.join(missing)}.")


def download_model(models_dir: Path, name: str = DEFAULT_MODEL, session: Session | None = None,
                   progress: bool = True) -> Path:
    """Download, verify and unpack model `name` into models_dir; return its directory.

    Size and MD5 are checked when the model list gives them. Unpacking goes to
    a temporary folder first, so an interrupted download never leaves a
    half-model that a later start would take for a real one.
    """
    session = session or _default_session()
    entry = model_entry(session, name)
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = models_dir / f"{name}.zip.part"
    digest = hashlib.md5(usedforsecurity=False)
    received = 0
    try:
        response = session.get(entry["url"], timeout=DOWNLOAD_TIMEOUT_S, stream=True)
        response.raise_for_status()
        total = int(response.headers.get("content-length") or entry.get("size") or 0) or None
        with open(partial, "wb") as out, _ProgressBar(total, name, progress) as bar:
            for chunk in response.iter_content(chunk_size=1 << 16):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar(len(chunk))
    except Exception as exc:  # any network or disk failure means: no model (re-raised)
        partial.unlink(missing_ok=True)
        raise ModelNotFound(f"Downloading {entry['url']} failed ({exc}). "
                            f"{missing_model_message(models_dir)}") from exc
    try:
        size = entry.get("size")
        if isinstance(size, int) and size > 0 and received != size:
            raise ModelNotFound(f"Downloaded {received} bytes of {entry['url']}, "
                                f"expected {size}.")
        md5 = entry.get("md5")
        if isinstance(md5, str) and re.fullmatch(r"[0-9a-f]{32}", md5) and \
                digest.hexdigest() != md5:
            raise ModelNotFound(f"The download of {entry['url']} is corrupt (MD5 mismatch).")
        verify_model_zip(partial, name)
        return unpack_model(partial, models_dir, name)
    except ModelNotFound as exc:
        raise ModelNotFound(f"{exc} {missing_model_message(models_dir)}") from exc
    finally:
        partial.unlink(missing_ok=True)


def unpack_model(archive: Path, models_dir: Path, name: str) -> Path:
    """Unpack a verified model zip into models_dir/name, atomically."""
    target = models_dir / name
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".unpacking-") as scratch:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(scratch)
        unpacked = Path(scratch) / name
        if not is_model_dir(unpacked):
            raise ModelNotFound(f"{archive} did not unpack into a Vosk model.")
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)
    return target


class _ProgressBar:
    """A tqdm progress bar on the terminal (tqdm comes with vosk), or nothing."""

    def __init__(self, total: int | None, name: str, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                                 desc=f"{name}.zip")
            except ImportError:
                self._bar = None

    def __enter__(self) -> Callable[[int], None]:
        return self._bar.update if self._bar is not None else (lambda n: None)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def ensure_model(explicit: str | Path | None, models_dir: Path,
                 notify: Callable[[str], None] = print, download: bool = True,
                 env: Mapping[str, str] | None = None, search_dirs: list[Path] | None = None,
                 reachable: Callable[[], bool] = network_reachable,
                 session: Session | None = None) -> Path:
    """A model directory: found locally, else downloaded when the network answers.

    An explicit path that is not a model is an error, never silently replaced.
    """
    try:
        return find_model(explicit, models_dir, env, search_dirs)
    except ModelNotFound as missing:
        if explicit or not download:
            raise
        if not reachable():
            raise ModelNotFound(f"{missing} (The model server cannot be reached, so it was "
                                f"not downloaded automatically.)") from None
    notify(f"Downloading the speech model {DEFAULT_MODEL} (about 40 MB) into {models_dir} ...")
    path = download_model(models_dir, DEFAULT_MODEL, session)
    notify(f"Speech model ready: {path}")
    return path
